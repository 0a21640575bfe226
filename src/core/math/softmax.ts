// Row-wise softmax, with an optional causal mask applied on the way.

/**
 * In place, each row becomes exp(x - max) / Σ exp(x - max). When causal, row t keeps only
 * columns s <= t and every s > t is set to exactly 0 (the -inf of the mask, after exp).
 * Shapes: scores [rows, cols] -> scores [rows, cols]; causal needs rows <= cols.
 */
export function softmaxRows(scores: Float32Array, rows: number, cols: number, causal: boolean): void {
  // The exponentials stay in float64 until the division, so each weight is rounded to float32 once:
  // softmax([ln 3, 0, 0]) stores exactly float32(0.6), float32(0.2), float32(0.2).
  const exps = new Float64Array(cols);
  for (let row = 0; row < rows; row++) {
    const offset = row * cols;
    const visible = causal ? row + 1 : cols;
    let max = -Infinity;
    for (let col = 0; col < visible; col++) if (scores[offset + col] > max) max = scores[offset + col];
    let sum = 0;
    for (let col = 0; col < visible; col++) {
      const e = Math.exp(scores[offset + col] - max);
      exps[col] = e;
      sum += e;
    }
    for (let col = 0; col < visible; col++) scores[offset + col] = exps[col] / sum;
    scores.fill(0, offset + visible, offset + cols);
  }
}

/**
 * The additive causal mask as a matrix: 0 where s <= t, -Infinity where s > t.
 * Shape: -> [T, T]. The model never builds it (softmaxRows masks on the fly); it documents and
 * tests the convention.
 */
export function causalMask(seqLen: number): Float32Array {
  const mask = new Float32Array(seqLen * seqLen);
  for (let t = 0; t < seqLen; t++) mask.fill(-Infinity, t * seqLen + t + 1, (t + 1) * seqLen);
  return mask;
}
