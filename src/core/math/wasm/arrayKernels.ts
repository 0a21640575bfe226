// The WebAssembly kernels over ordinary Float32Arrays, one call at a time: each call copies its
// inputs into a kernel arena and its result back. The model keeps its tensors inside the arena
// (wasmForward.ts); these serve the tests (against the TypeScript reference) and the GFLOP/s probe.
import { KernelArena, roundUp8, uploadPackedWeight, uploadPaddedBias } from './kernelArena';
import type { KernelModule } from './kernelModule';
import { copyLowerTriangle, scoreStride } from './attentionJob';

export class ArrayKernels {
  constructor(private readonly arena: KernelArena) {}

  static create(module: KernelModule): ArrayKernels {
    return new ArrayKernels(new KernelArena(module));
  }

  /** out = x · weightTᵀ + bias. Shapes: x [rows, inDim], weightT [outDim, inDim], bias [outDim] -> out [rows, outDim]. */
  linear(x: Float32Array, weightT: Float32Array, bias: Float32Array | undefined, rows: number, inDim: number, outDim: number): Float32Array {
    return this.scoped(() => {
      const w = uploadPackedWeight(this.arena, weightT, outDim, inDim);
      const b = bias ? uploadPaddedBias(this.arena, bias) : 0;
      const input = this.arena.upload(x.subarray(0, rows * inDim));
      const out = this.arena.reserve(rows * outDim);
      this.arena.kernels.gemm(input, inDim * 4, w, inDim, inDim, b, out, outDim * 4, rows, outDim, 1);
      return this.arena.view(out, rows * outDim).slice();
    });
  }

  /** LayerNorm per row. Shapes: x [rows, dim], weight [dim], bias [dim] -> [rows, dim]. */
  layerNorm(x: Float32Array, weight: Float32Array, bias: Float32Array, rows: number, dim: number, epsilon: number): Float32Array {
    return this.scoped(() => {
      const input = this.arena.upload(x.subarray(0, rows * dim));
      const w = this.arena.upload(weight);
      const b = this.arena.upload(bias);
      this.arena.kernels.layerNorm(input, w, b, input, rows, dim, epsilon);
      return this.arena.view(input, rows * dim).slice();
    });
  }

  /** gelu_new element-wise. Shape: [n] -> [n]. */
  geluTanh(x: Float32Array): Float32Array {
    return this.scoped(() => {
      const data = this.arena.upload(x);
      this.arena.kernels.geluTanh(data, x.length);
      return this.arena.view(data, x.length).slice();
    });
  }

  /** e^x with the kernels' polynomial. Shape: [n] -> [n]. */
  exp(x: Float32Array): Float32Array {
    return this.scoped(() => {
      const n = Math.ceil(x.length / 4) * 4;
      const input = this.arena.reserve(n);
      this.arena.view(input, n).set(x);
      const out = this.arena.reserve(n);
      this.arena.kernels.expValues(input, out, n);
      return this.arena.view(out, x.length).slice();
    });
  }

  /**
   * Causal attention of head h read from a fused projection, rows in blocks of `blockRows`.
   * Shapes: qkv [T, 3D] (q | k | v) -> probs [T, T] (zeros above the diagonal), out [T, dHead].
   */
  causalAttention(qkv: Float32Array, T: number, D: number, h: number, dHead: number, scale: number, blockRows = 64): { probs: Float32Array; out: Float32Array } {
    return this.scoped(() => {
      const k = this.arena.kernels;
      const input = this.arena.upload(qkv.subarray(0, T * 3 * D));
      const kPack = this.arena.reserve(roundUp8(T) * dHead);
      const vPack = this.arena.reserve(roundUp8(dHead) * T);
      const stride = scoreStride(T);
      const block = this.arena.reserve(blockRows * stride);
      const out = this.arena.reserve(T * dHead);
      const probs = new Float32Array(T * T);
      k.packHead(input, T, D, h, dHead, kPack, vPack);
      for (let r0 = 0; r0 < T; r0 += blockRows) {
        const r1 = Math.min(T, r0 + blockRows);
        k.attentionRows(input, T, D, h, dHead, scale, kPack, vPack, r0, r1, block, stride * 4, out, dHead * 4);
        copyLowerTriangle(this.arena.view(block, blockRows * stride), stride, r0, r1, T, probs, 0);
      }
      return { probs, out: this.arena.view(out, T * dHead).slice() };
    });
  }

  private scoped<R>(body: () => R): R {
    const mark = this.arena.mark();
    try {
      return body();
    } finally {
      this.arena.release(mark);
    }
  }
}
