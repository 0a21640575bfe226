// Comparing attention (or logits) with a reference, element by element.

/** Largest |actual[i] - expected[i]| over the first expected.length elements (0 for none). */
export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}
