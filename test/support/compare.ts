// Comparing attention (or logits) with a reference, element by element.
import * as assert from 'node:assert/strict';

/** Largest |actual[i] - expected[i]| over the first expected.length elements (0 for none). */
export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

/** Fails unless |actual[i] - expected[i]| <= absolute + relative·|expected[i]| everywhere; names the first index that is not. */
export function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, absolute: number, relative: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (!(difference <= absolute + relative * Math.abs(expected[i]))) {
      assert.fail(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${difference})`);
    }
  }
}
