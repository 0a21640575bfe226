// One instance of the WebAssembly kernels with its own linear memory, handed out as a bump
// allocator: reserve() returns byte addresses the kernels take; view() gives a Float32Array over
// them. Growing the memory detaches earlier views, so a caller reserves everything first, then
// takes its views.
import { instantiateKernels, type KernelExports, type KernelModule } from './kernelModule';

const PAGE_BYTES = 65536;
/** Addresses are aligned to a cache line, so every buffer starts on a 16-byte vector boundary. */
const ALIGN = 64;

export class KernelArena {
  readonly kernels: KernelExports;
  private top: number;

  constructor(module: KernelModule) {
    this.kernels = instantiateKernels(module);
    this.top = this.kernels.heapBase();
  }

  /** Reserves room for `floats` float32 values; returns its byte address. */
  reserve(floats: number): number {
    const at = Math.ceil(this.top / ALIGN) * ALIGN;
    const end = at + floats * 4;
    const memory = this.kernels.memory;
    if (end > memory.buffer.byteLength) {
      const pages = Math.ceil((end - memory.buffer.byteLength) / PAGE_BYTES);
      try {
        memory.grow(pages);
      } catch {
        throw new RangeError(`the WebAssembly kernels cannot grow their memory to ${Math.ceil(end / 2 ** 20)} MB`);
      }
    }
    this.top = end;
    return at;
  }

  /** Copies values into a new reservation; returns its byte address. */
  upload(values: Float32Array): number {
    const at = this.reserve(values.length);
    this.view(at, values.length).set(values);
    return at;
  }

  /** Where the next reservation starts; release(mark) frees everything reserved after it. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** [floats] float32 values at byte address `at`; valid until the memory next grows. */
  view(at: number, floats: number): Float32Array {
    return new Float32Array(this.kernels.memory.buffer, at, floats);
  }
}

/** Rounds n up to the kernels' panel width (8 columns). */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Uploads a weight stored [out, in] (torch.nn.Linear layout) packed for the kernels' gemm:
 * B[k, c] = weightT[c, k] in panels of 8 columns. Shapes: weightT [out, in] -> [ceil(out/8)][in][8].
 */
export function uploadPackedWeight(arena: KernelArena, weightT: Float32Array, outDim: number, inDim: number): number {
  const packed = arena.reserve(roundUp8(outDim) * inDim);
  const raw = arena.upload(weightT.subarray(0, outDim * inDim));
  arena.kernels.packRows(raw, inDim * 4, inDim, outDim, packed);
  arena.release(raw); // the raw copy sits after the packed one: free it
  return packed;
}

/** Uploads a bias padded with zeros to a multiple of 8 (gemm reads whole panels). Shape: [n] -> [ceil(n/8)·8]. */
export function uploadPaddedBias(arena: KernelArena, bias: Float32Array): number {
  const at = arena.reserve(roundUp8(bias.length));
  const view = arena.view(at, roundUp8(bias.length));
  view.fill(0);
  view.set(bias);
  return at;
}
