// The compiled WebAssembly kernels (wasm/kernels.ts), loaded synchronously from the bytes esbuild
// inlined into the bundle. Compiling fails where WebAssembly or its 128-bit SIMD is missing; the
// caller then falls back to the TypeScript kernels (kernelChoice.ts).
import kernelBytes from '../../../../out/wasm/kernels.wasm';

/** A compiled WebAssembly.Module of the kernels (opaque: the project's lib has no WebAssembly types). */
export interface KernelModule {
  readonly compiledKernels: unique symbol;
}

/** WebAssembly.Memory, as far as the arena uses it. */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The parts of the WebAssembly API used here. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => KernelModule;
  Instance: new (module: KernelModule, imports: object) => { exports: unknown };
}

/** Returns the compiled module, or throws why it cannot (no WebAssembly, no SIMD). Injectable for tests. */
export type KernelModuleLoader = () => KernelModule;

let compiled: KernelModule | undefined;

function webAssembly(): WebAssemblyApi {
  const api = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!api) throw new Error('this JavaScript engine has no WebAssembly');
  return api;
}

/** Compiles the bundled kernels once per thread; throws where WebAssembly or its SIMD is missing. */
export const loadBundledKernels: KernelModuleLoader = () => {
  compiled ??= new (webAssembly().Module)(kernelBytes);
  return compiled;
};

/** The kernels' exports (wasm/kernels.ts); every buffer argument is a byte address in `memory`. */
export interface KernelExports {
  memory: KernelMemory;
  heapBase(): number;
  packColumns(src: number, srcStride: number, inner: number, cols: number, dst: number): void;
  packRows(src: number, srcStride: number, inner: number, cols: number, dst: number): void;
  gemm(a: number, lda: number, b: number, panelInner: number, inner: number, bias: number, out: number, ldc: number, rows: number, cols: number, scale: number): void;
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

export function instantiateKernels(module: KernelModule): KernelExports {
  return new (webAssembly().Instance)(module, {}).exports as KernelExports;
}
