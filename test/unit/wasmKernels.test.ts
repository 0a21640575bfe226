// The WebAssembly SIMD kernels (wasm/kernels.ts) against the TypeScript reference kernels
// (src/core/math), on random shapes including odd ones: T not a multiple of 4 or 8, inner sizes
// not a multiple of 4, T = 1. The reference sums in float64; the kernels in float32.
import * as assert from 'node:assert/strict';
import { geluTanh } from '../../src/core/math/activations';
import { attentionProbabilities, weightedValues } from '../../src/core/math/attention';
import { layerNorm } from '../../src/core/math/layerNorm';
import { linearTransposed } from '../../src/core/math/linear';
import { transpose } from '../../src/core/math/matmul';
import { ArrayKernels } from '../../src/core/math/wasm/arrayKernels';
import { loadBundledKernels } from '../../src/core/math/wasm/kernelModule';
import { assertNear } from '../support/compare';
import { createRng } from '../support/randomGpt2';

function randomArray(rng: () => number, length: number, scale = 1, shift = 0): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = (rng() * 2 - 1) * scale + shift;
  return data;
}

describe('WebAssembly kernels equal the TypeScript reference', () => {
  const kernels = ArrayKernels.create(loadBundledKernels());
  const rng = createRng(1234);

  it('matmul with bias (x · Wᵀ + b, W stored [out, in]) on odd and even shapes', () => {
    for (const [rows, inDim, outDim] of [[1, 1, 1], [1, 7, 5], [3, 13, 9], [4, 8, 8], [5, 33, 17], [17, 64, 24], [33, 129, 70], [64, 128, 384]]) {
      const x = randomArray(rng, rows * inDim);
      const weightT = randomArray(rng, outDim * inDim, 0.5);
      const bias = randomArray(rng, outDim);
      const expected = new Float32Array(rows * outDim);
      linearTransposed(x, weightT, bias, expected, rows, inDim, outDim);
      assertNear(kernels.linear(x, weightT, bias, rows, inDim, outDim), expected, 1e-5, 1e-5, `linear ${rows}x${inDim}->${outDim}`);
      const noBias = new Float32Array(rows * outDim);
      linearTransposed(x, weightT, undefined, noBias, rows, inDim, outDim);
      assertNear(kernels.linear(x, weightT, undefined, rows, inDim, outDim), noBias, 1e-5, 1e-5, `linear without bias ${rows}x${inDim}->${outDim}`);
    }
  });

  it('fused causal attention: probabilities within 1e-5, rows sum to 1, exact zeros above the diagonal, outputs within 1e-5', () => {
    for (const [T, H, dHead, blockRows] of [[1, 1, 4, 64], [2, 2, 3, 4], [5, 3, 8, 4], [13, 2, 7, 8], [37, 4, 16, 12], [64, 2, 32, 64], [130, 4, 32, 32], [257, 2, 64, 64]]) {
      const D = H * dHead;
      // Scores of a few units, as in trained models; one row with a dominant key tests the exp's range.
      const qkv = randomArray(rng, T * 3 * D, 2);
      const scale = 1 / Math.sqrt(dHead);
      for (let h = 0; h < H; h++) {
        const q = new Float32Array(T * dHead);
        const k = new Float32Array(T * dHead);
        const v = new Float32Array(T * dHead);
        for (let t = 0; t < T; t++) {
          for (let c = 0; c < dHead; c++) {
            q[t * dHead + c] = qkv[t * 3 * D + h * dHead + c] * scale;
            k[t * dHead + c] = qkv[t * 3 * D + D + h * dHead + c];
            v[t * dHead + c] = qkv[t * 3 * D + 2 * D + h * dHead + c];
          }
        }
        const expectedProbs = new Float32Array(T * T);
        attentionProbabilities(q, k, T, dHead, 1, true, expectedProbs);
        const expectedOut = new Float32Array(T * dHead);
        weightedValues(expectedProbs, transpose(v, T, dHead), T, dHead, true, expectedOut);

        const { probs, out } = kernels.causalAttention(qkv, T, D, h, dHead, scale, blockRows);
        const label = `T=${T} H=${H} dHead=${dHead} head ${h}`;
        assertNear(probs, expectedProbs, 1e-5, 0, `${label} probabilities`);
        assertNear(out, expectedOut, 1e-5, 1e-5, `${label} outputs`);
        for (let t = 0; t < T; t++) {
          let sum = 0;
          for (let s = 0; s < T; s++) {
            const p = probs[t * T + s];
            if (s > t) assert.equal(p, 0, `${label}: probs[${t}, ${s}] above the diagonal`);
            sum += p;
          }
          assert.ok(Math.abs(sum - 1) < 1e-5, `${label}: row ${t} sums to ${sum}`);
        }
      }
    }
  });

  it('the softmax keeps a dominant key at 1 and the others at their tiny weights', () => {
    const T = 9;
    const D = 4;
    const qkv = new Float32Array(T * 3 * D);
    for (let t = 0; t < T; t++) {
      qkv.fill(1, t * 3 * D, t * 3 * D + D); // q = 1
      qkv[t * 3 * D + D] = t === 4 ? 60 : -60; // key 4 dominates every query that sees it
    }
    const { probs } = kernels.causalAttention(qkv, T, D, 0, D, 1);
    const q = new Float32Array(T * D).fill(1);
    const k = new Float32Array(T * D);
    for (let t = 0; t < T; t++) k[t * D] = t === 4 ? 60 : -60;
    const expected = new Float32Array(T * T);
    attentionProbabilities(q, k, T, D, 1, true, expected);
    assertNear(probs, expected, 1e-6, 0, 'dominant key');
  });

  it('exp within 3e-7 relative over the softmax range', () => {
    const x = new Float32Array(2001);
    for (let i = 0; i < x.length; i++) x[i] = -80 + (i * 80) / 2000;
    const got = kernels.exp(x);
    for (let i = 0; i < x.length; i++) {
      const expected = Math.exp(x[i]);
      assert.ok(Math.abs(got[i] - expected) <= 3e-7 * expected, `exp(${x[i]}) = ${got[i]}, expected ${expected}`);
    }
  });

  it('GELU (tanh) within 1e-6 absolute + 1e-5 relative, also where tanh saturates', () => {
    for (const n of [1, 3, 4, 7, 1001]) {
      const x = randomArray(rng, n, 12);
      if (n > 4) x.set([0, -0, 1e-8, -30, 30]);
      assertNear(kernels.geluTanh(x), x.map(geluTanh), 1e-6, 1e-5, `gelu n=${n}`);
    }
  });

  it('LayerNorm on rows far from zero, dims not a multiple of 4', () => {
    for (const [rows, dim] of [[1, 1], [1, 3], [3, 5], [7, 64], [5, 130], [2, 768]]) {
      const x = randomArray(rng, rows * dim, 3, 40);
      const weight = randomArray(rng, dim, 1, 1);
      const bias = randomArray(rng, dim);
      const expected = new Float32Array(rows * dim);
      layerNorm(x, weight, bias, expected, rows, dim, 1e-5);
      assertNear(kernels.layerNorm(x, weight, bias, rows, dim, 1e-5), expected, 1e-5, 1e-5, `layerNorm ${rows}x${dim}`);
    }
  });
});
