import * as assert from 'node:assert/strict';
import { meanOfHeads } from '../../src/core/attentionViews';
import { decodeCells, MEAN_OF_HEADS, poolHeadWindow, quantizeWeights, type CellWindow } from '../../src/core/attentionWindow';
import { seededRandom } from '../../src/core/random';
import { answerRequest } from '../../src/shared/replies';
import { naiveMaxPool, naiveWeight } from '../support/naivePooling';

/** [L, H, Tq, Tk] of random softmax-like rows; causal (Tq = Tk) puts exact zeros after each query. */
function randomAttention(dims: [number, number, number, number], causal: boolean, seed: number): Float32Array {
  const [L, H, Tq, Tk] = dims;
  const random = seededRandom(seed);
  const attention = new Float32Array(L * H * Tq * Tk);
  for (let map = 0; map < L * H; map++) {
    for (let t = 0; t < Tq; t++) {
      const last = causal ? t : Tk - 1;
      let sum = 0;
      const row = (map * Tq + t) * Tk;
      for (let s = 0; s <= last; s++) sum += attention[row + s] = Math.exp(4 * random());
      for (let s = 0; s <= last; s++) attention[row + s] /= sum;
    }
  }
  return attention;
}

/** The spec's step: ceil(cells / max) when the window is larger than max, else exact. */
const stepOf = (cells: number, max: number | undefined) => (max === undefined || cells <= max ? 1 : Math.ceil(cells / max));

/**
 * causal: pooled with the causal flag, which reads only cells on or below the diagonal; the naive
 * reference reads `reference` (default: the same attention), every cell.
 */
function assertMatchesNaive(attention: Float32Array, dims: [number, number, number, number], layer: number, head: number, window: CellWindow, maxRows?: number, maxCols?: number, causal = false, reference = attention): void {
  const pooled = poolHeadWindow(attention, dims, layer, head, window, maxRows, maxCols, causal);
  const rowStep = stepOf(window.row1 - window.row0, maxRows);
  const colStep = stepOf(window.col1 - window.col0, maxCols);
  const expected = naiveMaxPool(reference, dims, layer, head, window, rowStep, colStep);
  const label = `layer ${layer} head ${head} window ${JSON.stringify(window)} max ${maxRows}×${maxCols}${causal ? ' causal' : ''}`;
  assert.deepEqual([pooled.rowStep, pooled.colStep, pooled.rows, pooled.cols], [rowStep, colStep, expected.length, expected[0].length], label);
  assert.deepEqual(pooled.window, window);
  if (maxRows !== undefined) assert.ok(pooled.rows <= maxRows, label);
  if (maxCols !== undefined) assert.ok(pooled.cols <= maxCols, label);
  for (let i = 0; i < pooled.rows; i++) {
    for (let j = 0; j < pooled.cols; j++) {
      const got = pooled.data[i * pooled.cols + j];
      const want = expected[i][j];
      // One head: the max of float32 weights, exactly; the mean: float32 sums against float64 ones.
      if (head >= 0) assert.equal(got, Math.fround(want), `${label} cell ${i},${j}`);
      else assert.ok(Math.abs(got - want) <= 1e-6, `${label} cell ${i},${j}: ${got} vs ${want}`);
    }
  }
}

describe('attention windows pooled for the panel (src/core/attentionWindow.ts)', () => {
  it('max-pools random maps of odd sizes like a naive max over each block, one head and the mean, windows at the edges', () => {
    const dims: [number, number, number, number] = [2, 3, 37, 53];
    const attention = randomAttention(dims, false, 11);
    const windows: CellWindow[] = [
      { row0: 0, row1: 37, col0: 0, col1: 53 },
      { row0: 0, row1: 1, col0: 52, col1: 53 },
      { row0: 36, row1: 37, col0: 0, col1: 53 },
      { row0: 5, row1: 30, col0: 17, col1: 53 },
      { row0: 0, row1: 37, col0: 50, col1: 53 },
      { row0: 13, row1: 14, col0: 3, col1: 4 },
    ];
    const sizes: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [1, 1],
      [5, 7],
      [7, 5],
      [36, 52],
      [37, 53],
      [1000, 3],
      [4, undefined],
    ];
    for (const layer of [0, 1]) {
      for (const head of [0, 2, MEAN_OF_HEADS]) {
        for (const window of windows) for (const [maxRows, maxCols] of sizes) assertMatchesNaive(attention, dims, layer, head, window, maxRows, maxCols);
      }
    }
  });

  it('a block the causal diagonal crosses is the max of its allowed cells; a wholly masked block is 0', () => {
    const dims: [number, number, number, number] = [1, 2, 41, 41];
    const attention = randomAttention(dims, true, 5);
    for (const head of [0, 1, MEAN_OF_HEADS]) {
      for (const causal of [false, true]) {
        assertMatchesNaive(attention, dims, 0, head, { row0: 0, row1: 41, col0: 0, col1: 41 }, 6, 6, causal);
        assertMatchesNaive(attention, dims, 0, head, { row0: 3, row1: 40, col0: 2, col1: 41 }, 4, 9, causal);
        assertMatchesNaive(attention, dims, 0, head, { row0: 0, row1: 12, col0: 20, col1: 41 }, 3, 3, causal); // wholly above the diagonal
        assertMatchesNaive(attention, dims, 0, head, { row0: 30, row1: 41, col0: 25, col1: 33 }, undefined, undefined, causal);
      }
    }
    const pooled = poolHeadWindow(attention, dims, 0, 1, { row0: 0, row1: 41, col0: 0, col1: 41 }, 6, 6); // blocks of 7 × 7
    assert.equal(pooled.rowStep, 7);
    assert.equal(pooled.data[0 * pooled.cols + 1], 0, 'rows 0..6, keys 7..13: all in the future');
    let allowed = 0;
    for (let t = 7; t < 14; t++) for (let s = 7; s <= t; s++) allowed = Math.max(allowed, naiveWeight(attention, dims, 0, 1, t, s));
    assert.equal(pooled.data[1 * pooled.cols + 1], Math.fround(allowed), 'the diagonal block: the max of its allowed cells');
  });

  it('causal pooling and causal layer means never read the cells above the diagonal', () => {
    const dims: [number, number, number, number] = [2, 3, 29, 29];
    const attention = randomAttention(dims, true, 8);
    // Garbage where the mask is: a causal read of any of it would show up as 7 (or NaN) in the result.
    const poisoned = attention.slice();
    for (let map = 0; map < 6; map++) for (let t = 0; t < 29; t++) for (let s = t + 1; s < 29; s++) poisoned[(map * 29 + t) * 29 + s] = s % 2 ? 7 : NaN;
    for (const head of [0, 2, MEAN_OF_HEADS]) {
      for (const [maxRows, maxCols] of [[undefined, undefined], [5, 5], [29, 4], [1, 1]] as const) {
        assertMatchesNaive(poisoned, dims, 1, head, { row0: 0, row1: 29, col0: 0, col1: 29 }, maxRows, maxCols, true, attention);
        assertMatchesNaive(poisoned, dims, 1, head, { row0: 4, row1: 19, col0: 10, col1: 27 }, maxRows, maxCols, true, attention);
      }
    }
    const mean = meanOfHeads(poisoned, dims, 1, true);
    for (let t = 0; t < 29; t++) {
      for (let s = 0; s < 29; s++) {
        let sum = 0;
        for (let h = 0; h < 3; h++) sum += attention[((3 + h) * 29 + t) * 29 + s];
        assert.ok(Math.abs(mean[t * 29 + s] - sum / 3) <= 1e-7, `mean cell ${t},${s}: ${mean[t * 29 + s]} vs ${sum / 3}`);
      }
    }
  });

  it('keeps a single sharp weight at its block in a sea of small ones', () => {
    const T = 1000;
    const dims: [number, number, number, number] = [1, 1, T, T];
    const attention = new Float32Array(T * T).fill(1e-4);
    attention[613 * T + 271] = 1;
    const pooled = poolHeadWindow(attention, dims, 0, 0, undefined, 96, 96); // blocks of 11 × 11
    assert.equal(pooled.rowStep, 11);
    const sharp = Math.floor(613 / 11) * pooled.cols + Math.floor(271 / 11);
    assert.equal(pooled.data[sharp], 1);
    assert.equal(pooled.data.filter((v) => v === 1).length, 1);
    assert.ok(pooled.data.every((v, i) => i === sharp || Math.abs(v - 1e-4) < 1e-9));
  });

  it('an exact window equals the slice of the head or of meanOfHeads, bit for bit', () => {
    const dims: [number, number, number, number] = [2, 4, 19, 23];
    const attention = randomAttention(dims, false, 3);
    const mean = meanOfHeads(attention, dims, 1);
    const window = { row0: 4, row1: 17, col0: 9, col1: 23 };
    const exact = poolHeadWindow(attention, dims, 1, MEAN_OF_HEADS, window);
    assert.deepEqual([exact.rowStep, exact.colStep, exact.rows, exact.cols], [1, 1, 13, 14]);
    for (let t = window.row0; t < window.row1; t++) {
      for (let s = window.col0; s < window.col1; s++) assert.equal(exact.data[(t - window.row0) * exact.cols + (s - window.col0)], mean[t * 23 + s]);
    }
  });

  it('refuses layers, heads, windows and sizes outside the tensor with a clear RangeError', () => {
    const dims: [number, number, number, number] = [1, 2, 8, 6];
    const attention = new Float32Array(96);
    const pool = (layer: number, head: number, window?: CellWindow, maxRows?: number) => () => poolHeadWindow(attention, dims, layer, head, window, maxRows);
    assert.throws(pool(1, 0), /layer 1 is outside 0\.\.0/);
    assert.throws(pool(0, 2), /head 2 is outside 0\.\.1/);
    assert.throws(pool(0, -2), /head -2 is outside/);
    assert.throws(pool(0, 0, { row0: 0, row1: 9, col0: 0, col1: 6 }), /window rows 0\.\.9, columns 0\.\.6 lies outside the 8 × 6 map/);
    assert.throws(pool(0, 0, { row0: 0, row1: 8, col0: 0, col1: 7 }), /lies outside the 8 × 6 map/);
    assert.throws(pool(0, 0, { row0: -1, row1: 8, col0: 0, col1: 6 }), /starts before the first token/);
    assert.throws(pool(0, 0, { row0: 3, row1: 3, col0: 0, col1: 6 }), /is empty/);
    assert.throws(pool(0, 0, { row0: 0, row1: 2.5, col0: 0, col1: 6 }), /not an integer/);
    assert.throws(pool(0, 0, undefined, 0), /maxRows 0 is not a positive integer/);
  });

  it('quantises weights in [0, 1] to within half a level: 0.5 / 255 (uint8) and 0.5 / 65535 (uint16)', () => {
    const random = seededRandom(9);
    const weights = new Float32Array(20000);
    for (let i = 0; i < weights.length; i++) weights[i] = i % 5 === 0 ? random() ** 8 : random();
    weights.set([0, 1, 1e-9, 0.5 / 255, 0.5 / 65535, 1 - 1e-7, 254.5 / 255], 0);
    for (const [encoding, levels] of [['uint8', 255], ['uint16', 65535]] as const) {
      const quantised = quantizeWeights(weights, encoding);
      assert.equal(quantised.byteLength, weights.length * (encoding === 'uint8' ? 1 : 2));
      const { values, unit } = decodeCells(quantised.buffer as ArrayBuffer, encoding);
      let worst = 0;
      for (let i = 0; i < weights.length; i++) worst = Math.max(worst, Math.abs(values[i] * unit - weights[i]));
      assert.ok(worst <= 0.5 / levels + 1e-12, `${encoding}: worst error ${worst}`);
      assert.equal(values[0] * unit, 0);
      assert.equal(values[1] * unit, 1);
    }
  });
});

describe('requestHead answered from a window (src/shared/replies.ts)', () => {
  const dims: [number, number, number, number] = [1, 2, 300, 300];
  const attention = randomAttention(dims, true, 21);
  const source = { sessionId: 7, groups: [{ attention, dims, causal: true }] };
  const base = { type: 'requestHead', sessionId: 7, group: 0, layer: 0 } as const;

  it('pools to at most maxRows × maxCols, quantised as asked, the bytes a heatmap of that many pixels needs', () => {
    for (const [encoding, bytes] of [['uint8', 1], ['uint16', 2], ['float32', 4]] as const) {
      const reply = answerRequest({ ...base, head: 1, maxRows: 64, maxCols: 50, encoding }, source)!;
      assert.deepEqual([reply.rows, reply.cols, reply.rowStep, reply.colStep, reply.encoding], [60, 50, 5, 6, encoding]);
      assert.deepEqual(reply.window, { row0: 0, row1: 300, col0: 0, col1: 300 });
      assert.ok(reply.data.byteLength <= 64 * 50 * bytes);
      assert.equal(reply.data.byteLength, reply.rows * reply.cols * bytes);
      const { values, unit } = decodeCells(reply.data, reply.encoding);
      const expected = naiveMaxPool(attention, dims, 0, 1, reply.window, 5, 6);
      const tolerance = encoding === 'float32' ? 0 : 0.5 / (encoding === 'uint8' ? 255 : 65535) + 1e-9;
      for (let i = 0; i < reply.rows; i++) for (let j = 0; j < reply.cols; j++) assert.ok(Math.abs(values[i * reply.cols + j] * unit - expected[i][j]) <= tolerance + 1e-7);
    }
  });

  it('sends exact cells as float32 whatever encoding was asked, and a plain request exactly as before', () => {
    const window = { row0: 100, row1: 140, col0: 20, col1: 90 };
    const exact = answerRequest({ ...base, head: MEAN_OF_HEADS, window, maxRows: 800, maxCols: 800, encoding: 'uint8' }, source)!;
    assert.deepEqual([exact.rows, exact.cols, exact.rowStep, exact.colStep, exact.encoding], [40, 70, 1, 1, 'float32']);
    const mean = meanOfHeads(attention, dims, 0);
    const data = new Float32Array(exact.data);
    for (let t = 100; t < 140; t++) for (let s = 20; s < 90; s++) assert.equal(data[(t - 100) * 70 + (s - 20)], mean[t * 300 + s]);
    const plain = answerRequest({ ...base, head: 0 }, source)!;
    assert.deepEqual([plain.rows, plain.cols, plain.rowStep, plain.colStep, plain.encoding, plain.data.byteLength], [300, 300, 1, 1, 'float32', 300 * 300 * 4]);
    assert.deepEqual(new Float32Array(plain.data), attention.subarray(0, 90000));
  });

  it('a window outside the map is a RangeError that says so', () => {
    assert.throws(() => answerRequest({ ...base, head: 0, window: { row0: 0, row1: 301, col0: 0, col1: 10 } }, source), /lies outside the 300 × 300 map/);
  });
});
