// The compiled WebAssembly kernels (wasm/kernels.ts), loaded synchronously from the bytes esbuild
// inlined into the bundle. Compiling fails where WebAssembly or its 128-bit SIMD is missing; the
// caller then falls back to the TypeScript kernels (kernelChoice.ts).
import kernelBytes from '../../../../out/wasm/kernels.wasm';

/** Returns the compiled module, or throws why it cannot (no WebAssembly, no SIMD). Injectable for tests. */
export type KernelModuleLoader = () => WebAssembly.Module;

let compiled: WebAssembly.Module | undefined;

/** Compiles the bundled kernels once per thread. */
export const loadBundledKernels: KernelModuleLoader = () => {
  if (compiled) return compiled;
  if (typeof WebAssembly !== 'object') throw new Error('this JavaScript engine has no WebAssembly');
  compiled = new WebAssembly.Module(kernelBytes);
  return compiled;
};

/** The kernels' exports (wasm/kernels.ts); every buffer argument is a byte address in `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  packColumns(src: number, srcStride: number, inner: number, cols: number, dst: number): void;
  packRows(src: number, srcStride: number, inner: number, cols: number, dst: number): void;
  gemm(a: number, lda: number, b: number, inner: number, bias: number, out: number, ldc: number, rows: number, cols: number, scale: number): void;
  expValues(x: number, out: number, n: number): void;
  packHead(qkv: number, T: number, D: number, h: number, dHead: number, kPack: number, vPack: number): void;
  attentionRows(
    qkv: number, T: number, D: number, h: number, dHead: number, scale: number,
    kPack: number, vPack: number, r0: number, r1: number,
    probs: number, probsStride: number, out: number, outStride: number,
  ): void;
  layerNorm(x: number, weight: number, bias: number, out: number, rows: number, dim: number, epsilon: number): void;
  geluTanh(data: number, n: number): void;
  addInPlace(target: number, addend: number, n: number): void;
}

export function instantiateKernels(module: WebAssembly.Module): KernelExports {
  return new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
}
