// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): how much
// each input token reaches each output token through all layers, counting the residual stream.
// Per layer the heads are averaged and the residual is added as half the mass:
//   Â_l = rownorm(0.5·I + 0.5·mean_h A_l,h)            [T, T]
//   rollout = Â_{L-1} · … · Â_1 · Â_0                  [T, T]: row i = output token i at the top,
//                                                                column j = input token j
// Every Â_l is row-stochastic, so every row of the rollout sums to 1.
import { InputError } from '../errors';
import { meanOfHeads, type AttentionDims } from '../attentionViews';

/** Â_l of one layer: [L, H, T, T] -> [T, T] (float64), 0.5·I + 0.5·(mean over heads), rows renormalised. */
export function residualLayerAttention(attention: Float32Array, dims: AttentionDims, layer: number): Float64Array {
  const T = dims[2];
  const mean = meanOfHeads(attention, dims, layer); // [T, T]
  const augmented = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    let sum = 0;
    for (let j = 0; j < T; j++) {
      const value = 0.5 * mean[i * T + j] + (i === j ? 0.5 : 0);
      augmented[i * T + j] = value;
      sum += value;
    }
    for (let j = 0; j < T; j++) augmented[i * T + j] /= sum;
  }
  return augmented;
}

/** [T, T] · [T, K] -> [T, K], row-major, float64. */
function matmul(a: Float64Array, b: Float64Array, T: number, K: number): Float64Array {
  const out = new Float64Array(T * K);
  for (let i = 0; i < T; i++) {
    for (let k = 0; k < T; k++) {
      const weight = a[i * T + k];
      if (weight === 0) continue;
      for (let j = 0; j < K; j++) out[i * K + j] += weight * b[k * K + j];
    }
  }
  return out;
}

function checkSelf(dims: AttentionDims, what: string): void {
  const [L, , Tq, Tk] = dims;
  if (Tq !== Tk) throw new InputError(`${what} needs self-attention (queries and keys the same tokens), got [${dims.join(', ')}].`);
  if (L < 1 || Tq < 1) throw new InputError(`${what} needs at least one layer and one token.`);
}

/** Rollout in float64: [L, H, T, T] -> [T, T]. */
function rollout64(attention: Float32Array, dims: AttentionDims): Float64Array {
  checkSelf(dims, 'Attention rollout');
  const [L, , T] = dims;
  let product = residualLayerAttention(attention, dims, 0);
  for (let l = 1; l < L; l++) product = matmul(residualLayerAttention(attention, dims, l), product, T, T);
  return product;
}

/** Attention rollout of one self-attention group: [L, H, T, T] -> [T, T], rows sum to 1. */
export function attentionRollout(attention: Float32Array, dims: AttentionDims): Float32Array {
  return Float32Array.from(rollout64(attention, dims));
}

/**
 * Encoder–decoder models: how much each source token reaches each target token, composing
 *   decoder rollout R_dec [Tt, Tt] (masked self-attention, 0.5·I + 0.5·A per layer as above)
 *   · cross C [Tt, Ts] (cross-attention averaged over all layers and heads, no residual: the keys are another sequence)
 *   · encoder rollout R_enc [Ts, Ts]
 * = R_dec · C · R_enc -> [Tt, Ts]. Each factor is row-stochastic, so each row sums to 1. This is the
 * usual simplification: it treats the decoder as reading the encoder's last layer once, through the
 * mean cross-attention, rather than tracing each layer's cross-attention and its residual separately.
 */
export function crossAttentionRollout(
  encoder: { attention: Float32Array; dims: AttentionDims },
  decoder: { attention: Float32Array; dims: AttentionDims },
  cross: { attention: Float32Array; dims: AttentionDims },
): Float32Array {
  const [CL, CH, Tt, Ts] = cross.dims;
  if (encoder.dims[2] !== Ts || decoder.dims[2] !== Tt) {
    throw new InputError(`Cross rollout: cross-attention [${cross.dims.join(', ')}] does not match encoder [${encoder.dims.join(', ')}] and decoder [${decoder.dims.join(', ')}].`);
  }
  const crossMean = new Float64Array(Tt * Ts); // [Tt, Ts]
  for (let m = 0; m < CL * CH; m++) {
    for (let i = 0; i < Tt * Ts; i++) crossMean[i] += cross.attention[m * Tt * Ts + i] / (CL * CH);
  }
  const decoderRollout = rollout64(decoder.attention, decoder.dims); // [Tt, Tt]
  const encoderRollout = rollout64(encoder.attention, encoder.dims); // [Ts, Ts]
  const crossThenEncoder = new Float64Array(Tt * Ts); // C · R_enc: [Tt, Ts] · [Ts, Ts]
  for (let i = 0; i < Tt; i++) {
    for (let k = 0; k < Ts; k++) {
      const weight = crossMean[i * Ts + k];
      for (let j = 0; j < Ts; j++) crossThenEncoder[i * Ts + j] += weight * encoderRollout[k * Ts + j];
    }
  }
  return Float32Array.from(matmul(decoderRollout, crossThenEncoder, Tt, Ts));
}
