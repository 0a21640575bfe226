// The per-head steps of the forward pass shared by both kernel sets (model.ts with the TypeScript
// kernels, wasmForward.ts with the WebAssembly ones): splitting and merging heads, the relative
// position bias, and the step view's trace.
import { norm } from '../math/elementwise';
import { matmulTransposedB } from '../math/matmul';
import type { Gpt2Trace } from './model';

/**
 * Copies head h out of the fused projection, pre-scaling q so the scores need no extra pass.
 * Shapes: qkv [T, 3D] (q | k | v, heads side by side in each) -> q [T, dHead], k [T, dHead], vT [dHead, T].
 */
export function splitHead(
  qkv: Float32Array,
  T: number,
  D: number,
  h: number,
  dHead: number,
  scale: number,
  q: Float32Array,
  k: Float32Array,
  vT: Float32Array,
): void {
  for (let t = 0; t < T; t++) {
    const qStart = t * 3 * D + h * dHead;
    const kStart = qStart + D;
    const vStart = kStart + D;
    for (let c = 0; c < dHead; c++) {
      q[t * dHead + c] = qkv[qStart + c] * scale;
      k[t * dHead + c] = qkv[kStart + c];
      vT[c * T + t] = qkv[vStart + c];
    }
  }
}

/** The relative position bias of head h for a T-token input, by offset. Shapes: table [H, 2P-1] -> [2T-1]. */
export function relativeBiasFor(table: Float32Array, h: number, P: number, T: number): Float32Array {
  const zeroOffset = h * (2 * P - 1) + P - 1; // table index of s - t = 0
  return table.subarray(zeroOffset - (T - 1), zeroOffset + T);
}

export function newTrace(at: { layer: number; head: number; query: number }, T: number, H: number, D: number, dHead: number): Gpt2Trace {
  return {
    ...at,
    scale: 1,
    q: new Float32Array(dHead),
    k: new Float32Array(T * dHead),
    v: new Float32Array(T * dHead),
    weights: new Float32Array(T),
    headOutputs: new Float32Array(H * dHead),
    headWrites: new Float32Array(H * D),
    attentionBias: new Float32Array(D),
    attentionOutput: new Float32Array(D),
    residual: [],
    lensLogits: [],
  };
}

/** Copies the traced head's q, k, v (unscaled, from the fused projection), bias and attention row. */
export function recordHead(trace: Gpt2Trace, qkv: Float32Array, probs: Float32Array, bias: Float32Array | undefined, T: number, D: number, h: number, dHead: number, scale: number): void {
  trace.scale = scale;
  for (let t = 0; t < T; t++) {
    const qStart = t * 3 * D + h * dHead; // qkv [T, 3D]: q | k | v
    trace.k.set(qkv.subarray(qStart + D, qStart + D + dHead), t * dHead);
    trace.v.set(qkv.subarray(qStart + 2 * D, qStart + 2 * D + dHead), t * dHead);
    if (t === trace.query) trace.q.set(qkv.subarray(qStart, qStart + dHead));
  }
  trace.weights.set(probs.subarray(trace.query * T, (trace.query + 1) * T));
  if (bias) trace.bias = bias.slice(T - 1 - trace.query, 2 * T - 1 - trace.query); // [T]: offsets s - query
}

/**
 * Splits the attention sublayer's output of the query into the heads' shares: W_O reads the
 * concatenation, so out = Σ_h headOutput_h · W_O[h·dHead .. (h+1)·dHead, :] + b_O.
 * Shapes: merged [T, D], weightT [D, D] (out, in) -> headWrites [H, D].
 */
export function recordWrites(trace: Gpt2Trace, merged: Float32Array, weightT: Float32Array, bias: Float32Array, projected: Float32Array, D: number, H: number, dHead: number): void {
  const row = trace.query * D;
  trace.headOutputs.set(merged.subarray(row, row + D));
  trace.attentionBias.set(bias);
  trace.attentionOutput.set(projected.subarray(row, row + D));
  for (let h = 0; h < H; h++) {
    for (let o = 0; o < D; o++) {
      let sum = 0;
      for (let c = 0; c < dHead; c++) sum += merged[row + h * dHead + c] * weightT[o * D + h * dHead + c];
      trace.headWrites[h * D + o] = sum;
    }
  }
}

/** Writes one head's output into its columns of the concatenation. Shapes: headOut [T, dHead] -> merged [T, D]. */
export function mergeHead(headOut: Float32Array, T: number, D: number, h: number, dHead: number, merged: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const target = t * D + h * dHead;
    const source = t * dHead;
    for (let c = 0; c < dHead; c++) merged[target + c] = headOut[source + c];
  }
}

/** The query's residual-stream norms before the block, of the attention's write and after it: what a block's trace records before its MLP. */
export interface BlockNorms {
  before: number;
  attention: number;
  afterAttention: number;
}

/**
 * Records block `layer` at the traced query once its MLP has run: the residual norms (the MLP's
 * write `projected` and the stream `x` after it, [T, D] each) and the logit lens (the final norm,
 * `finalNorm` of one row, and the unembedding lmHead [V, D] applied to this block's stream).
 */
export function recordResidual(trace: Gpt2Trace, layer: number, norms: BlockNorms, x: Float32Array, projected: Float32Array, D: number, finalNorm: (row: Float32Array, out: Float32Array) => void, lmHead: Float32Array, V: number): void {
  const row = trace.query * D;
  trace.residual.push({ layer, ...norms, mlp: norm(projected, row, D), after: norm(x, row, D) });
  const lensHidden = new Float32Array(D);
  finalNorm(x.subarray(row, row + D), lensHidden); // [1, D]
  const lensLogits = new Float32Array(V);
  matmulTransposedB(lensHidden, lmHead, lensLogits, 1, V, D); // [1, D] x [V, D]ᵀ -> [1, V]
  trace.lensLogits.push(lensLogits);
}
