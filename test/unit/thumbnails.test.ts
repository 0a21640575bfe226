// The model view's thumbnails (src/shared/replies.ts): every head pooled to at most size × size
// block means, checked against means computed here cell by cell; masked blocks of causal maps.
import * as assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../src/shared/protocol';
import { answerRequest, binStart, poolThumbnails, thumbnailBin } from '../../src/shared/replies';
import { seededRandom } from '../../src/core/random';

/** Causal softmax-like rows: row t has weights on keys 0..t summing to 1, zeros after. */
function causalAttention(L: number, H: number, T: number, random: () => number): Float32Array {
  const a = new Float32Array(L * H * T * T);
  for (let m = 0; m < L * H; m++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      const row = (m * T + t) * T;
      for (let s = 0; s <= t; s++) sum += a[row + s] = random() + 0.01;
      for (let s = 0; s <= t; s++) a[row + s] /= sum;
    }
  }
  return a;
}

describe('thumbnails (poolThumbnails, requestThumbnails)', () => {
  it('blocks partition the tokens and thumbnailBin finds the block of every token', () => {
    for (const [T, n] of [[7, 3], [512, 32], [33, 32], [5, 5], [100, 1], [31, 32]] as const) {
      const blocks = Math.min(T, n);
      assert.equal(binStart(0, T, blocks), 0);
      assert.equal(binStart(blocks, T, blocks), T);
      for (let t = 0; t < T; t++) {
        const bin = thumbnailBin(t, T, blocks);
        assert.ok(binStart(bin, T, blocks) <= t && t < binStart(bin + 1, T, blocks), `T=${T} n=${blocks} token ${t} in block ${bin}`);
      }
    }
  });

  it('is the mean of each block of a full (bidirectional) map, per layer and head, at most size × size', () => {
    const [L, H, Tq, Tk] = [2, 3, 10, 7];
    const random = seededRandom(3);
    const attention = Float32Array.from({ length: L * H * Tq * Tk }, () => random());
    const { rows, columns, data } = poolThumbnails(attention, [L, H, Tq, Tk], 4, false);
    assert.deepEqual([rows, columns, data.length], [4, 4, L * H * 16]);
    // Rows of 10 in 4 blocks: [0,2) [2,5) [5,7) [7,10); columns of 7: [0,1) [1,3) [3,5) [5,7).
    const rowEdges = [0, 2, 5, 7, 10];
    const columnEdges = [0, 1, 3, 5, 7];
    for (let m = 0; m < L * H; m++) {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let sum = 0;
          let count = 0;
          for (let t = rowEdges[i]; t < rowEdges[i + 1]; t++) 
            for (let s = columnEdges[j]; s < columnEdges[j + 1]; s++) {
              sum += attention[(m * Tq + t) * Tk + s];
              count++;
            }
          assert.ok(Math.abs(data[m * 16 + i * 4 + j] - sum / count) < 1e-6, `map ${m} block ${i},${j}`);
        }
      }
    }
  });

  it('a causal map: wholly masked blocks are NaN, the diagonal blocks average their allowed cells, each pooled row keeps its mass', () => {
    const [L, H, T] = [1, 2, 12];
    const attention = causalAttention(L, H, T, seededRandom(9));
    const { rows, columns, data } = poolThumbnails(attention, [L, H, T, T], 4, true);
    assert.deepEqual([rows, columns], [4, 4]);
    for (let m = 0; m < L * H; m++) {
      for (let i = 0; i < 4; i++) {
        let rowMass = 0;
        for (let j = 0; j < 4; j++) {
          const value = data[m * 16 + i * 4 + j];
          if (j > i) {
            assert.ok(Number.isNaN(value), `block ${i},${j} lies in the future`);
            continue;
          }
          let sum = 0;
          let count = 0;
          for (let t = 3 * i; t < 3 * i + 3; t++) 
            for (let s = 3 * j; s < 3 * j + 3 && s <= t; s++) {
              sum += attention[(m * T + t) * T + s];
              count++;
            }
          assert.equal(count, j === i ? 6 : 9);
          assert.ok(Math.abs(value - sum / count) < 1e-6, `map ${m} block ${i},${j}`);
          rowMass += sum;
        }
        // The three query rows of this block each sum to 1.
        assert.ok(Math.abs(rowMass - 3) < 1e-5);
      }
    }
  });

  it('short maps are not pooled (one block per token); the size is bounded by the parser', () => {
    const attention = causalAttention(1, 1, 5, seededRandom(1));
    const { rows, columns, data } = poolThumbnails(attention, [1, 1, 5, 5], 32, false);
    assert.deepEqual([rows, columns], [5, 5]);
    assert.deepEqual(Array.from(data), Array.from(attention));
    assert.equal(parseWebviewMessage({ type: 'requestThumbnails', sessionId: 1, group: 0, size: 65 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestThumbnails', sessionId: 1, group: 0, size: 0 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestThumbnails', sessionId: 1, group: 0, size: 2.5 }), undefined);
  });

  it('requestThumbnails answers [L, H, rows, columns] float32 for the group; the group\'s causal flag masks', () => {
    const [L, H, T] = [2, 2, 40];
    const attention = causalAttention(L, H, T, seededRandom(4));
    const reply = answerRequest({ type: 'requestThumbnails', sessionId: 7, group: 0, size: 32 }, { sessionId: 7, groups: [{ attention, dims: [L, H, T, T], causal: true }] });
    assert.ok(reply);
    assert.deepEqual([reply.type, reply.rows, reply.columns, reply.size, reply.data.byteLength], ['thumbnails', 32, 32, 32, L * H * 32 * 32 * 4]);
    const data = new Float32Array(reply.data);
    assert.ok(Number.isNaN(data[31]), 'the top right block of layer 0 head 0 is masked');
    assert.ok(data[0] > 0);
    assert.equal(answerRequest({ type: 'requestThumbnails', sessionId: 6, group: 0, size: 32 }, { sessionId: 7, groups: [{ attention, dims: [L, H, T, T] }] }), undefined);
  });
});
