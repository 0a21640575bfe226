// Floating-point operations of one GPT-2 forward pass as the built-in block computes it, counted
// analytically (a multiply-add is 2 FLOPs), for GFLOP/s as a share of the machine's matmul peak.
// Softmax, LayerNorm, GELU and the embeddings are left out: they are O(T·D) or O(H·T²) without the
// D factor, a few per cent at most.

export interface ModelShape {
  layers: number;
  heads: number;
  dModel: number;
  vocabSize: number;
}

/**
 * Per layer: Q, K, V and the output projection (8·T·D²), the MLP's two matmuls (16·T·D²), and causal
 * attention on the lower triangle only: scores and weights·values are each D·T(T+1)/2 multiply-adds
 * over all heads. Plus the language-model head for the last position only (2·D·V).
 */
export function forwardFlops(shape: ModelShape, T: number): number {
  const D = shape.dModel;
  const linear = 24 * T * D * D; // [T, D] x [D, 3D], [T, D] x [D, D], [T, D] x [D, 4D], [T, 4D] x [4D, D]
  const attention = 2 * D * T * (T + 1); // (Q·Kᵀ and weights·V) on the causal triangle, all heads
  return shape.layers * (linear + attention) + 2 * D * shape.vocabSize;
}
