// The second thread's jobs (kernelWorkerMain.ts), on the WebAssembly kernels, through shared
// memory: causal attention of a range of heads, straight from a fused projection into the shared
// [L, H, T, T] output; and a linear layer over a range of rows, its weight packed once per key.
import { roundUp8, uploadPackedWeight, uploadPaddedBias, type KernelArena } from './kernelArena';

export type WorkerJob = AttentionJob | LinearJob;

export interface LinearJob {
  kind: 'linear';
  id: number;
  /** Names the weight across jobs: weightT and bias come with the first job of a key only. */
  key: string;
  /** [outDim, inDim] (torch.nn.Linear layout). */
  weightT?: Float32Array;
  bias?: Float32Array;
  /** [rows, inDim] on a SharedArrayBuffer. */
  input: Float32Array;
  /** [rows, outDim] on a SharedArrayBuffer: input · weightTᵀ + bias. */
  output: Float32Array;
  rows: number;
  inDim: number;
  outDim: number;
}

/** Packed weights a thread keeps between linear jobs, by key: byte addresses in its arena. */
export type PackedWeights = Map<string, { weight: number; bias: number }>;

export function runLinearJob(arena: KernelArena, packed: PackedWeights, job: LinearJob): void {
  const { rows, inDim, outDim } = job;
  let entry = packed.get(job.key);
  if (!entry) {
    if (!job.weightT) throw new Error(`the weight ${job.key} was never sent`);
    // Outside any job's scratch: the packed weight stays for the next jobs.
    entry = { weight: uploadPackedWeight(arena, job.weightT, outDim, inDim), bias: job.bias ? uploadPaddedBias(arena, job.bias) : 0 };
    packed.set(job.key, entry);
  }
  const mark = arena.mark();
  try {
    const input = arena.upload(job.input.subarray(0, rows * inDim));
    const output = arena.reserve(rows * outDim);
    arena.kernels.gemm(input, inDim * 4, entry.weight, inDim, inDim, entry.bias, output, outDim * 4, rows, outDim, 1); // [rows, inDim] -> [rows, outDim]
    job.output.set(arena.view(output, rows * outDim));
  } finally {
    arena.release(mark);
  }
}

export interface AttentionJob {
  kind: 'attention';
  id: number;
  /** [T, 3D] the layer's fused q | k | v projection (a copy the job may read while the caller waits). */
  qkv: Float32Array;
  /** [L, H, T, T] the pass's attention output, on a SharedArrayBuffer, zeros where not yet written. */
  attention: Float32Array;
  /** [T, D] where the job writes its heads' outputs (columns h·dHead ..), on a SharedArrayBuffer. */
  merged: Float32Array;
  layer: number;
  heads: [number, number];
  T: number;
  D: number;
  H: number;
  scale: number;
}

export type AttentionReply = { id: number; error?: string };

/** Query rows per kernel call: a [rows, T] block of scores stays within about 1 MB. */
export function blockRowsFor(T: number): number {
  return Math.max(4, Math.min(256, Math.floor(262_144 / scoreStride(T) / 4) * 4));
}

/**
 * Floats from one row of a block of scores to the next: T rounded up to whole panels, plus 16, so
 * that rows a power of two apart (T = 4096: 16 KB) do not fall into the same cache sets.
 */
export function scoreStride(T: number): number {
  return roundUp8(T) + 16;
}

export function runAttentionJob(arena: KernelArena, job: AttentionJob): void {
  const { T, D, H, layer, scale } = job;
  const dHead = D / H;
  const k = arena.kernels;
  const mark = arena.mark();
  try {
    const stride = scoreStride(T);
    const blockRows = blockRowsFor(T);
    const qkv = arena.upload(job.qkv.subarray(0, T * 3 * D));
    const kPack = arena.reserve(roundUp8(T) * dHead);
    const vPack = arena.reserve(roundUp8(dHead) * T);
    const block = arena.reserve(blockRows * stride);
    const out = arena.reserve(T * dHead);
    const blockView = arena.view(block, blockRows * stride);
    const outView = arena.view(out, T * dHead);
    for (let h = job.heads[0]; h < job.heads[1]; h++) {
      k.packHead(qkv, T, D, h, dHead, kPack, vPack);
      const offset = (layer * H + h) * T * T;
      for (let r0 = 0; r0 < T; r0 += blockRows) {
        const r1 = Math.min(T, r0 + blockRows);
        k.attentionRows(qkv, T, D, h, dHead, scale, kPack, vPack, r0, r1, block, stride * 4, out, dHead * 4);
        copyLowerTriangle(blockView, stride, r0, r1, T, job.attention, offset);
      }
      for (let t = 0; t < T; t++) job.merged.set(outView.subarray(t * dHead, (t + 1) * dHead), t * D + h * dHead); // [T, dHead] -> merged[:, h·dHead ..]
    }
  } finally {
    arena.release(mark);
  }
}

/**
 * Copies rows [r0, r1) of a block of probabilities into a head's [T, T] map, only s <= t: the
 * target starts zeroed, so the rows keep their exact zeros above the diagonal.
 * Shapes: block [r1 - r0, stride] -> target[offset + t·T + s] for s <= t.
 */
export function copyLowerTriangle(block: Float32Array, stride: number, r0: number, r1: number, T: number, target: Float32Array, offset: number): void {
  for (let t = r0; t < r1; t++) {
    const from = (t - r0) * stride;
    target.set(block.subarray(from, from + t + 1), offset + t * T);
  }
}
