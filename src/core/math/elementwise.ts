// Small element-wise helpers of the residual stream.

/** target[i] += addend[i]. Shapes: [n] + [n] -> [n]. */
export function addInPlace(target: Float32Array, addend: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
}

/**
 * Token embedding lookup plus (optionally) learned position embeddings.
 * Shapes: ids [T], tokenEmbedding [V, D], positionEmbedding [P >= T, D] -> out [T, D].
 */
export function embed(
  ids: ArrayLike<number>,
  tokenEmbedding: Float32Array,
  positionEmbedding: Float32Array | undefined,
  dim: number,
  out: Float32Array,
): void {
  for (let t = 0; t < ids.length; t++) {
    const row = t * dim;
    const tokenRow = ids[t] * dim;
    for (let c = 0; c < dim; c++) out[row + c] = tokenEmbedding[tokenRow + c];
    if (positionEmbedding !== undefined) for (let c = 0; c < dim; c++) out[row + c] += positionEmbedding[row + c];
  }
}

/** Euclidean norm of x[offset .. offset + length), summed in float64. */
export function norm(x: Float32Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = offset; i < offset + length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum);
}
