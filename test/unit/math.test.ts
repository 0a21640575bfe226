// The maths of the built-in transformer against hand-worked values, naive re-implementations
// and the activation tables computed by tools/reference/gpt2_reference.py with Python's math module.
import * as assert from 'node:assert/strict';
import { activationFunction, ACTIVATION_NAMES, applyActivation, erf, type ActivationName } from '../../src/core/math/activations';
import { attentionProbabilities, scaledDotProductAttention, weightedValues } from '../../src/core/math/attention';
import { layerNorm } from '../../src/core/math/layerNorm';
import { linear, linearTransposed } from '../../src/core/math/linear';
import { causalScores, causalWeightedValues, matmul, matmulTransposedB, transpose } from '../../src/core/math/matmul';
import { causalMask, softmaxRows } from '../../src/core/math/softmax';
import { createRng } from '../support/randomGpt2';
import referenceJson from '../fixtures/gpt2-reference.json';

const fixture = referenceJson as unknown as { activations: Record<string, { x: number[]; y: number[] }> };

function randomArray(rng: () => number, length: number, scale = 1): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = (rng() * 2 - 1) * scale;
  return data;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label = ''): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (!(difference <= tolerance)) assert.fail(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${difference} > ${tolerance})`);
  }
}

/** The textbook triple loop, [rows, inner] x [inner, cols]. */
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += a[r * inner + k] * b[k * cols + c];
      out.push(sum);
    }
  }
  return out;
}

/** Softmax(q kᵀ · scale) · v written out with nested arrays. */
function naiveAttention(q: Float32Array, k: Float32Array, v: Float32Array, T: number, dK: number, dV: number, causal: boolean) {
  const probs: number[][] = [];
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const scores: number[] = [];
    for (let s = 0; s < T; s++) {
      let dot = 0;
      for (let c = 0; c < dK; c++) dot += q[t * dK + c] * k[s * dK + c];
      scores.push(causal && s > t ? -Infinity : dot / Math.sqrt(dK));
    }
    const max = Math.max(...scores);
    const exps = scores.map((x) => Math.exp(x - max));
    const total = exps.reduce((a, b) => a + b, 0);
    probs.push(exps.map((e) => e / total));
    out.push(Array.from({ length: dV }, (_, c) => probs[t].reduce((sum, p, s) => sum + p * v[s * dV + c], 0)));
  }
  return { probs: probs.flat(), out: out.flat() };
}

describe('matrix products', () => {
  const rng = createRng(7);

  it('matmulTransposedB matches the triple loop for every tile remainder, with and without bias', () => {
    for (const rows of [1, 3, 4, 5, 9]) {
      for (const cols of [1, 2, 3, 7]) {
        for (const inner of [1, 2, 6]) {
          const a = randomArray(rng, rows * inner);
          const b = randomArray(rng, inner * cols); // [inner, cols]
          const bias = randomArray(rng, cols);
          const out = new Float32Array(rows * cols);
          matmulTransposedB(a, transpose(b, inner, cols), out, rows, cols, inner);
          const expected = naiveMatmul(a, b, rows, inner, cols);
          assertClose(out, expected, 1e-6, `${rows}x${inner}x${cols}`);
          matmulTransposedB(a, transpose(b, inner, cols), out, rows, cols, inner, bias);
          assertClose(out, expected.map((value, i) => value + bias[i % cols]), 1e-6, `${rows}x${inner}x${cols}+bias`);
        }
      }
    }
  });

  it('matmul (i-k-j) and transpose agree with the triple loop', () => {
    const a = randomArray(rng, 5 * 3);
    const b = randomArray(rng, 3 * 4);
    const out = new Float32Array(5 * 4);
    matmul(a, b, out, 5, 3, 4);
    assertClose(out, naiveMatmul(a, b, 5, 3, 4), 1e-6, 'matmul');
    assert.deepEqual(Array.from(transpose(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)), [1, 4, 2, 5, 3, 6]);
  });

  it('linear uses the Conv1D [in, out] layout: y = x·W + b', () => {
    // x = [[1, 2]], W = [[1, 2, 3], [4, 5, 6]] -> x·W = [9, 12, 15]
    const out = new Float32Array(3);
    linear(Float32Array.from([1, 2]), Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([0.5, -1, 0]), out, 1, 2, 3);
    assert.deepEqual(Array.from(out), [9.5, 11, 15]);
  });

  it('linearTransposed with the transposed weight gives the same result as linear', () => {
    const rows = 11, inDim = 9, outDim = 13;
    const x = randomArray(rng, rows * inDim);
    const weight = randomArray(rng, inDim * outDim);
    const bias = randomArray(rng, outDim);
    const viaLinear = new Float32Array(rows * outDim);
    const viaTransposed = new Float32Array(rows * outDim);
    linear(x, weight, bias, viaLinear, rows, inDim, outDim);
    linearTransposed(x, transpose(weight, inDim, outDim), bias, viaTransposed, rows, inDim, outDim);
    assertClose(viaTransposed, viaLinear, 1e-6, 'linear');
  });

  it('the causal kernels match the full products below the diagonal', () => {
    for (const T of [1, 4, 6, 13]) {
      const dK = 5;
      const q = randomArray(rng, T * dK);
      const k = randomArray(rng, T * dK);
      const full = new Float32Array(T * T);
      const causal = new Float32Array(T * T);
      matmulTransposedB(q, k, full, T, T, dK);
      causalScores(q, k, causal, T, dK);
      for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) assert.equal(causal[t * T + s], full[t * T + s]);

      const probs = new Float32Array(T * T); // lower-triangular, zeros above the diagonal
      for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) probs[t * T + s] = rng();
      const vT = randomArray(rng, dK * T);
      const expected = new Float32Array(T * dK);
      const actual = new Float32Array(T * dK);
      matmulTransposedB(probs, vT, expected, T, dK, T);
      causalWeightedValues(probs, vT, actual, T, dK);
      assertClose(actual, expected, 1e-6, `causal values T=${T}`);
    }
  });
});

describe('layerNorm', () => {
  it('normalises [1, 2, 3] to [-√1.5, 0, √1.5] and then applies weight and bias', () => {
    const out = new Float32Array(3);
    layerNorm(Float32Array.from([1, 2, 3]), Float32Array.from([1, 1, 1]), Float32Array.from([0, 0, 0]), out, 1, 3, 0);
    assertClose(out, [-Math.sqrt(1.5), 0, Math.sqrt(1.5)], 1e-6, 'plain');
    layerNorm(Float32Array.from([1, 2, 3]), Float32Array.from([2, 1, 0.5]), Float32Array.from([1, 0, -1]), out, 1, 3, 0);
    assertClose(out, [1 - 2 * Math.sqrt(1.5), 0, -1 + 0.5 * Math.sqrt(1.5)], 1e-6, 'affine');
  });

  it('puts epsilon inside the square root and treats rows independently', () => {
    // Row [0, 2]: mean 1, variance 1 -> (x - 1) / sqrt(1 + 3) = [-0.5, 0.5]. Row [5, 5]: all zero.
    const out = new Float32Array(4);
    layerNorm(Float32Array.from([0, 2, 5, 5]), Float32Array.from([1, 1]), Float32Array.from([0, 0]), out, 2, 2, 3);
    assertClose(out, [-0.5, 0.5, 0, 0], 1e-7, 'eps');
  });

  it('stays accurate far from zero (no E[x²] - mean² cancellation)', () => {
    const out = new Float32Array(2);
    layerNorm(Float32Array.from([10000, 10000.5]), Float32Array.from([1, 1]), Float32Array.from([0, 0]), out, 1, 2, 1e-5);
    const expected = 0.25 / Math.sqrt(0.0625 + 1e-5);
    assertClose(out, [-expected, expected], 1e-5, 'offset');
  });
});

describe('softmax and the causal mask', () => {
  it('turns scores [ln 3, 0, 0] into [0.6, 0.2, 0.2]', () => {
    const scores = Float32Array.from([Math.log(3), 0, 0]);
    softmaxRows(scores, 1, 3, false);
    assertClose(scores, [0.6, 0.2, 0.2], 1e-7, 'softmax');
  });

  it('does not overflow on large scores, and every row sums to 1', () => {
    const scores = Float32Array.from([1000, 1001, 1002, -1000, -1001, -1002]);
    softmaxRows(scores, 2, 3, false);
    const e = [1, Math.E, Math.E ** 2].map((x) => x / (1 + Math.E + Math.E ** 2));
    assertClose(scores, [...e, ...e.slice().reverse()], 1e-7, 'large');
  });

  it('causal rows put exactly 0 above the diagonal, whatever the scores there', () => {
    const T = 4;
    const scores = Float32Array.from({ length: T * T }, (_, i) => (i % 5) - 2 + (i === 3 ? 1e30 : 0));
    softmaxRows(scores, T, T, true);
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let s = 0; s < T; s++) {
        if (s > t) assert.equal(scores[t * T + s], 0, `(${t}, ${s})`);
        sum += scores[t * T + s];
      }
      assert.ok(Math.abs(sum - 1) < 1e-6, `row ${t} sums to ${sum}`);
    }
    assert.equal(scores[0], 1);
  });

  it('causalMask is 0 on and below the diagonal and -Infinity above', () => {
    assert.deepEqual(Array.from(causalMask(3)), [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
  });
});

describe('scaled dot-product attention', () => {
  // The seed example: three one-dimensional tokens 我 = [1], 爱 = [2], 你 = [3].
  // V = x·W_V + b_V with W_V = 1, b_V = -0.2 gives values [0.8, 1.8, 2.8].
  const x = Float32Array.from([1, 2, 3]); // [T = 3, d_model = 1]
  const values = new Float32Array(3);
  linear(x, Float32Array.from([1]), Float32Array.from([-0.2]), values, 3, 1, 1);

  it('the seed example: rows [0.6,0.2,0.2] / [0.2,0.6,0.2] / [0.2,0.2,0.6] give 1.4 / 1.8 / 2.2', () => {
    assertClose(values, [0.8, 1.8, 2.8], 1e-6, 'V');
    const probs = Float32Array.from([0.6, 0.2, 0.2, 0.2, 0.6, 0.2, 0.2, 0.2, 0.6]);
    const out = new Float32Array(3);
    weightedValues(probs, values /* [dV = 1, T] equals [T, 1] */, 3, 1, false, out);
    assertClose(out, [1.4, 1.8, 2.2], 1e-6, 'weighted sums');
  });

  it('the seed example end to end: queries and keys chosen so that softmax gives those rows', () => {
    // With one-hot keys and queries ln(3)·√3·e_t (d_k = 3), score(t, s) = ln 3 when s = t, else 0.
    const dK = 3;
    const k = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const q = k.map((one) => one * Math.log(3) * Math.sqrt(dK));
    const { probs, out } = scaledDotProductAttention(q, k, values, 3, dK, 1, { causal: false });
    assertClose(probs, [0.6, 0.2, 0.2, 0.2, 0.6, 0.2, 0.2, 0.2, 0.6], 1e-6, 'probs');
    assertClose(out, [1.4, 1.8, 2.2], 1e-6, 'out');

    // Causally masked, 我 sees only itself, 爱 weighs [3, 1] / 4, 你 sees all three as before.
    const masked = scaledDotProductAttention(q, k, values, 3, dK, 1, { causal: true });
    assertClose(masked.probs, [1, 0, 0, 0.25, 0.75, 0, 0.2, 0.2, 0.6], 1e-6, 'causal probs');
    assertClose(masked.out, [0.8, 0.25 * 0.8 + 0.75 * 1.8, 2.2], 1e-6, 'causal out');
  });

  it('matches a naive implementation, causal or not; rows sum to 1; the future is exactly 0', () => {
    const rng = createRng(11);
    for (const T of [1, 2, 5, 8, 13]) {
      for (const causal of [false, true]) {
        const dK = 6, dV = 3;
        const q = randomArray(rng, T * dK, 2);
        const k = randomArray(rng, T * dK, 2);
        const v = randomArray(rng, T * dV);
        const { probs, out } = scaledDotProductAttention(q, k, v, T, dK, dV, { causal });
        const expected = naiveAttention(q, k, v, T, dK, dV, causal);
        assertClose(probs, expected.probs, 1e-6, `probs T=${T} causal=${causal}`);
        assertClose(out, expected.out, 1e-6, `out T=${T} causal=${causal}`);
        for (let t = 0; t < T; t++) {
          let sum = 0;
          for (let s = 0; s < T; s++) sum += probs[t * T + s];
          assert.ok(Math.abs(sum - 1) < 1e-6, `row ${t} sums to ${sum}`);
          if (causal) for (let s = t + 1; s < T; s++) assert.equal(probs[t * T + s], 0);
        }
      }
    }
  });

  it('honours an explicit scale', () => {
    const q = Float32Array.from([1, 2]);
    const k = Float32Array.from([1, 0, 0, 1]);
    const probs = new Float32Array(4);
    attentionProbabilities(Float32Array.from([...q, ...q]), Float32Array.from(k), 2, 2, 0.5, false, probs);
    // scores row = [1, 2] · 0.5 = [0.5, 1]
    const e = 1 / (1 + Math.exp(0.5));
    assertClose(probs, [e, 1 - e, e, 1 - e], 1e-7, 'scale');
  });

  it('without a mask, swapping two tokens swaps the rows and columns of the attention and the outputs', () => {
    const rng = createRng(5);
    const T = 6, dK = 4, dV = 2;
    const q = randomArray(rng, T * dK, 2);
    const k = randomArray(rng, T * dK, 2);
    const v = randomArray(rng, T * dV);
    const [i, j] = [1, 4];
    const order = [0, 1, 2, 3, 4, 5];
    [order[i], order[j]] = [order[j], order[i]];
    const permuteRows = (data: Float32Array, width: number) => {
      const out = new Float32Array(data.length);
      order.forEach((from, to) => out.set(data.subarray(from * width, from * width + width), to * width));
      return out;
    };
    const original = scaledDotProductAttention(q, k, v, T, dK, dV, { causal: false });
    const swapped = scaledDotProductAttention(permuteRows(q, dK), permuteRows(k, dK), permuteRows(v, dV), T, dK, dV, { causal: false });
    for (let t = 0; t < T; t++) {
      for (let s = 0; s < T; s++) {
        assert.ok(Math.abs(swapped.probs[t * T + s] - original.probs[order[t] * T + order[s]]) < 1e-6, `(${t}, ${s})`);
      }
    }
    assertClose(swapped.out, permuteRows(original.out, dV), 1e-6, 'out');
    assert.ok(Math.abs(original.probs[i * T + i] - original.probs[j * T + j]) > 1e-3, 'the swap is not a no-op');
  });
});

describe('activations', () => {
  it('erf agrees with Python\'s math.erf to 1e-14', () => {
    const known: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
      [2.9, 0.9999589021219005], [3, 0.9999779095030014], [3.5, 0.9999992569016276], [4, 0.9999999845827421],
      [-1.5, -0.9661051464753108], [7, 1],
    ];
    for (const [x, y] of known) assert.ok(Math.abs(erf(x) - y) < 1e-14, `erf(${x}) = ${erf(x)}, expected ${y}`);
    assert.ok(Number.isNaN(erf(NaN)));
  });

  for (const name of ACTIVATION_NAMES) {
    it(`${name} matches the Python reference table`, () => {
      const table = fixture.activations[name];
      assert.ok(table, `the fixture tabulates ${name}`);
      const fn = activationFunction(name as ActivationName);
      table.x.forEach((x, i) => {
        const tolerance = 1e-9 * Math.max(1, Math.abs(table.y[i]));
        assert.ok(Math.abs(fn(x) - table.y[i]) <= tolerance, `${name}(${x}) = ${fn(x)}, expected ${table.y[i]}`);
      });
      const data = Float32Array.from(table.x);
      applyActivation(name as ActivationName, data);
      assertClose(data, table.y, 2e-6, `${name} in place`); // float32 storage of values up to 20
    });
  }

  it('gelu_new is the tanh approximation, within 1e-3 of the exact gelu', () => {
    for (let x = -5; x <= 5; x += 0.125) {
      assert.ok(Math.abs(activationFunction('gelu_new')(x) - activationFunction('gelu')(x)) < 1e-3, `x = ${x}`);
    }
    assert.notEqual(activationFunction('gelu_new')(1), activationFunction('gelu')(1));
  });
});
