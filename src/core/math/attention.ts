// Scaled dot-product attention for one head: softmax(q·kᵀ · scale [+ causal mask]) · v.

import { causalScores, causalWeightedValues, matmulTransposedB, transpose } from './matmul';
import { softmaxRows } from './softmax';

export interface AttentionOptions {
  /** Mask the future: query t sees only keys s <= t. */
  causal: boolean;
  /** Multiplies the scores before the softmax; default 1/√dK. */
  scale?: number;
}

/**
 * One head of attention, computed from scratch buffers the caller owns.
 * Shapes: q [T, dK], k [T, dK], v [T, dV] -> probs [T, T] (each row sums to 1), out [T, dV].
 */
export function scaledDotProductAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  seqLen: number,
  dK: number,
  dV: number,
  options: AttentionOptions,
  probs: Float32Array = new Float32Array(seqLen * seqLen),
  out: Float32Array = new Float32Array(seqLen * dV),
): { probs: Float32Array; out: Float32Array } {
  const scale = options.scale ?? 1 / Math.sqrt(dK);
  attentionProbabilities(q, k, seqLen, dK, scale, options.causal, probs);
  weightedValues(probs, transpose(v, seqLen, dV), seqLen, dV, options.causal, out);
  return { probs, out };
}

/**
 * probs = softmax(q·kᵀ · scale + relativeBias), causal or not.
 * relativeBias (optional) holds one term per offset s - t, at [(s - t) + T - 1].
 * Shapes: q [T, dK], k [T, dK], relativeBias [2T - 1] -> probs [T, T].
 */
export function attentionProbabilities(
  q: Float32Array,
  k: Float32Array,
  seqLen: number,
  dK: number,
  scale: number,
  causal: boolean,
  probs: Float32Array,
  relativeBias?: Float32Array,
): void {
  if (causal) causalScores(q, k, probs, seqLen, dK);
  else matmulTransposedB(q, k, probs, seqLen, seqLen, dK);
  if (scale !== 1) for (let i = 0; i < seqLen * seqLen; i++) probs[i] *= scale;
  if (relativeBias) addRelativeBias(probs, relativeBias, seqLen);
  softmaxRows(probs, seqLen, seqLen, causal);
}

/** scores[t, s] += bias[(s - t) + T - 1]. Shapes: scores [T, T], bias [2T - 1] -> scores [T, T]. */
export function addRelativeBias(scores: Float32Array, bias: Float32Array, seqLen: number): void {
  for (let t = 0; t < seqLen; t++) {
    for (let s = 0; s < seqLen; s++) scores[t * seqLen + s] += bias[s - t + seqLen - 1];
  }
}

/**
 * out = probs · v, with v given transposed so the sum over keys runs along contiguous memory.
 * When causal, probs[t, s] must be 0 for s > t (attentionProbabilities guarantees it).
 * Shapes: probs [T, T], vT [dV, T] -> out [T, dV].
 */
export function weightedValues(probs: Float32Array, vT: Float32Array, seqLen: number, dV: number, causal: boolean, out: Float32Array): void {
  if (causal) causalWeightedValues(probs, vT, out, seqLen, dV);
  else matmulTransposedB(probs, vT, out, seqLen, dV, seqLen);
}
