// The layer mean (MEAN_HEAD) is cached next to the held tensor (attentionQueries.layerMeanOf): the
// cached answers must equal the mean computed from the heads (test/support/naivePooling.ts, float64
// sums), whole or pooled, and a second request must read the cache, not the heads again.
import * as assert from 'node:assert/strict';
import { answerHead, layerMeanOf, type HeldGroup } from '../../src/core/attentionQueries';
import { poolHeadWindow, MEAN_OF_HEADS } from '../../src/core/attentionWindow';
import { InProcessAttention } from '../../src/core/heldAttention';
import { naiveMaxPool, naiveWeight } from '../support/naivePooling';
import { randomCausalAttention } from '../support/randomAttention';

const dims: [number, number, number, number] = [3, 4, 37, 37];

const randomTensor = (seed: number) => randomCausalAttention(dims, seed);

describe('layer means cached next to the held tensor', () => {
  it('answers the whole mean equal to the mean of the heads', () => {
    const group: HeldGroup = { attention: randomTensor(1), dims, causal: true };
    for (let layer = 0; layer < dims[0]; layer++) {
      for (let round = 0; round < 2; round++) {
        const answer = answerHead({ kind: 'head', group: 0, layer, head: 'mean' }, group);
        assert.equal(answer.data.length, dims[2] * dims[3]);
        for (let t = 0; t < dims[2]; t++) {
          for (let s = 0; s < dims[3]; s++) {
            assert.ok(Math.abs(answer.data[t * dims[3] + s] - naiveWeight(group.attention, dims, layer, -1, t, s)) < 1e-6, `layer ${layer} (${t}, ${s})`);
          }
        }
      }
    }
  });

  it('pools windows of the cached mean exactly as the uncached pooling of the heads', () => {
    const group: HeldGroup = { attention: randomTensor(2), dims, causal: true };
    const window = { row0: 3, row1: 35, col0: 1, col1: 30 };
    for (const [maxRows, maxCols] of [[5, 7], [32, 29], [undefined, 4]] as const) {
      const answer = answerHead({ kind: 'head', group: 0, layer: 1, head: 'mean', shape: { window, maxRows, maxCols } }, group);
      const uncached = poolHeadWindow(group.attention, dims, 1, MEAN_OF_HEADS, window, maxRows, maxCols);
      assert.deepEqual(Array.from(answer.data), Array.from(uncached.data));
      const naive = naiveMaxPool(group.attention, dims, 1, -1, window, answer.rowStep, answer.colStep).flat();
      assert.equal(naive.length, answer.data.length);
      naive.forEach((value, i) => assert.ok(Math.abs(answer.data[i] - value) < 1e-6, `cell ${i}`));
    }
  });

  it('reads the cache on a second request: the heads are not summed again', async () => {
    const attention = randomTensor(3);
    const held = new InProcessAttention({ groups: [{ kind: 'self', queries: 'source', keys: 'source', attention, dims } as never], tokens: [] });
    const first = await held.query({ kind: 'head', group: 0, layer: 2, head: 'mean' });
    assert.ok(first);
    const expected = Array.from(first.data);
    // Change the heads behind the cache's back: a recomputed mean would see the change, the cached one does not.
    attention.fill(0.5, 2 * dims[1] * dims[2] * dims[3]);
    const pooled = await held.query({ kind: 'head', group: 0, layer: 2, head: 'mean', shape: { maxRows: 37, maxCols: 37 } });
    const whole = await held.query({ kind: 'head', group: 0, layer: 2, head: 'mean' });
    assert.deepEqual(Array.from(whole!.data), expected);
    assert.deepEqual(Array.from(pooled!.data), expected);
    // The answer owns its data: writing to it does not reach the cache.
    whole!.data.fill(0);
    assert.deepEqual(Array.from(layerMeanOf({ attention, dims }, 2)), expected);
  });

  it('answers nothing once the run is released', async () => {
    const held = new InProcessAttention({ groups: [{ kind: 'self', queries: 'source', keys: 'source', attention: randomTensor(4), dims } as never], tokens: [] });
    assert.ok(await held.query({ kind: 'head', group: 0, layer: 0, head: 'mean' }));
    held.release();
    assert.equal(await held.query({ kind: 'head', group: 0, layer: 0, head: 'mean' }), undefined);
  });
});
