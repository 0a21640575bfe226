// Layer normalisation over the last axis, as torch.nn.LayerNorm: biased variance, eps inside the root.

/**
 * out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight + bias, row by row.
 * Shapes: x [rows, dim], weight [dim], bias [dim] -> out [rows, dim] (out may be x).
 */
export function layerNorm(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  out: Float32Array,
  rows: number,
  dim: number,
  epsilon: number,
): void {
  for (let row = 0; row < rows; row++) {
    const offset = row * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += x[offset + i];
    const mean = sum / dim;
    // Two passes rather than E[x²] - mean²: the residual stream can sit far from zero, where the
    // one-pass formula cancels catastrophically.
    let squares = 0;
    for (let i = 0; i < dim; i++) {
      const centred = x[offset + i] - mean;
      squares += centred * centred;
    }
    const inverseStd = 1 / Math.sqrt(squares / dim + epsilon);
    for (let i = 0; i < dim; i++) out[offset + i] = (x[offset + i] - mean) * inverseStd * weight[i] + bias[i];
  }
}
