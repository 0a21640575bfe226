// Fully connected layers. Hugging Face GPT-2 stores them as Conv1D with weight [in, out]
// (y = x·W + b); the model transposes each weight once at load time to [out, in] and runs
// linearTransposed, whose kernel is several times faster.

import { matmul, matmulTransposedB } from './matmul';

/**
 * y = x · weight + bias with the Conv1D layout.
 * Shapes: x [rows, inDim], weight [inDim, outDim], bias [outDim] -> out [rows, outDim].
 */
export function linear(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | undefined,
  out: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  matmul(x, weight, out, rows, inDim, outDim);
  if (bias === undefined) return;
  for (let row = 0; row < rows; row++) {
    const offset = row * outDim;
    for (let col = 0; col < outDim; col++) out[offset + col] += bias[col];
  }
}

/**
 * y = x · weightTᵀ + bias, the weight stored transposed (torch.nn.Linear layout).
 * Shapes: x [rows, inDim], weightT [outDim, inDim], bias [outDim] -> out [rows, outDim].
 */
export function linearTransposed(
  x: Float32Array,
  weightT: Float32Array,
  bias: Float32Array | undefined,
  out: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  matmulTransposedB(x, weightT, out, rows, outDim, inDim, bias);
}
