import * as assert from 'node:assert/strict';
import { headView, meanOfHeadRows, meanOfHeads, tokenRows, topAttended } from '../../src/core/attentionViews';
import { seededRandom } from '../../src/core/random';
import { tokenAtOffset } from '../../src/core/tokenSpans';
import { topPredictions } from '../../src/core/predictions';

/** att[((l*H + h)*T + t)*T + s] = a value that encodes its own indices, so slices are checkable. */
function indexedTensor(L: number, H: number, T: number): Float32Array {
  const att = new Float32Array(L * H * T * T);
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let s = 0; s < T; s++) {
    att[((l * H + h) * T + t) * T + s] = l * 1000 + h * 100 + t * 10 + s;
  }
  return att;
}

describe('attention views', () => {
  const dims = [2, 3, 4, 4] as const;
  const att = indexedTensor(2, 3, 4);

  it('headView returns the [T, T] block of one layer and head', () => {
    const view = headView(att, dims, 1, 2);
    assert.equal(view.length, 16);
    assert.equal(view[0], 1200);
    assert.equal(view[2 * 4 + 3], 1223);
  });

  it('meanOfHeadRows is the float64 sum over heads in head order, divided by H and rounded once, for any H', () => {
    const random = seededRandom(12);
    for (const H of [1, 2, 3, 4, 5, 8, 9, 12]) {
      const Tk = 37;
      const stride = 41; // heads further apart than a row: the stride is honoured
      const source = new Float32Array(3 + H * stride);
      for (let i = 0; i < source.length; i++) source[i] = random() ** 3;
      const out = new Float32Array(Tk + 2).fill(-1);
      meanOfHeadRows(source, 3, stride, H, Tk - 5, out, 2, new Float64Array(Tk));
      for (let s = 0; s < Tk - 5; s++) {
        let sum = 0;
        for (let h = 0; h < H; h++) sum += source[3 + h * stride + s];
        assert.equal(out[2 + s], Math.fround(sum / H), `H ${H} column ${s}`);
      }
      assert.deepEqual([out[0], out[1], out[Tk - 3]], [-1, -1, -1], 'nothing written outside [outOffset, outOffset + count)');
    }
  });

  it('meanOfHeads averages the heads of a layer elementwise', () => {
    const mean = meanOfHeads(att, dims, 1);
    // heads contribute 0, 100, 200 -> mean 100
    assert.equal(mean[1 * 4 + 2], 1000 + 100 + 12);
  });

  it('tokenRows gathers one query row from every head: [H, T]', () => {
    const rows = tokenRows(att, dims, 0, 3);
    assert.deepEqual(Array.from(rows), [30, 31, 32, 33, 130, 131, 132, 133, 230, 231, 232, 233]);
  });

  it('handles rectangular cross-attention maps [L, H, Tq, Tk]', () => {
    // 2 layers, 2 heads, 3 target queries x 5 source keys; value encodes (l, h, t, s).
    const [L, H, Tq, Tk] = [2, 2, 3, 5];
    const cross = new Float32Array(L * H * Tq * Tk);
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let t = 0; t < Tq; t++) for (let s = 0; s < Tk; s++) {
      cross[((l * H + h) * Tq + t) * Tk + s] = l * 1000 + h * 100 + t * 10 + s;
    }
    const crossDims = [L, H, Tq, Tk] as const;
    const view = headView(cross, crossDims, 1, 1);
    assert.equal(view.length, Tq * Tk);
    assert.equal(view[2 * Tk + 4], 1124);
    assert.equal(meanOfHeads(cross, crossDims, 0)[1 * Tk + 3], 50 + 13);
    assert.deepEqual(Array.from(tokenRows(cross, crossDims, 1, 2)), [1020, 1021, 1022, 1023, 1024, 1120, 1121, 1122, 1123, 1124]);
    assert.throws(() => tokenRows(cross, crossDims, 0, 3), RangeError, 'query index beyond Tq');
  });

  it('rejects layers, heads and tokens out of range', () => {
    assert.throws(() => headView(att, dims, 2, 0), RangeError);
    assert.throws(() => headView(att, dims, 0, 3), RangeError);
    assert.throws(() => meanOfHeads(att, dims, -1), RangeError);
    assert.throws(() => tokenRows(att, dims, 0, 4), RangeError);
  });

  it('topAttended orders by weight, breaks ties by position and skips zeros', () => {
    assert.deepEqual(topAttended([0.1, 0.4, 0, 0.4, 0.1], 3), [
      { token: 1, weight: 0.4 },
      { token: 3, weight: 0.4 },
      { token: 0, weight: 0.1 },
    ]);
    assert.deepEqual(topAttended([0, 0, 1], 5), [{ token: 2, weight: 1 }]);
  });
});

describe('tokenAtOffset', () => {
  // "ab" "" "cd" " e": an empty span (continuation bytes) between two tokens
  const spans = [{ start: 0, end: 2 }, { start: 2, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 6 }];
  it('finds the token holding each offset and none outside', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((offset) => tokenAtOffset(spans, offset)), [0, 0, 2, 2, 3, 3]);
    assert.equal(tokenAtOffset(spans, 6), undefined);
    assert.equal(tokenAtOffset(spans, -1), undefined);
    assert.equal(tokenAtOffset([], 0), undefined);
  });
});

describe('topPredictions', () => {
  it('returns softmax probabilities of the k largest logits, largest first', () => {
    const logits = new Float32Array([0, Math.log(3), Math.log(2), 0]);
    const top = topPredictions(logits, 2, (id) => `t${id}`);
    assert.deepEqual(top.map((p) => p.id), [1, 2]);
    assert.ok(Math.abs(top[0].probability - 3 / 7) < 1e-6);
    assert.ok(Math.abs(top[1].probability - 2 / 7) < 1e-6);
    assert.equal(top[0].token, 't1');
  });
});
