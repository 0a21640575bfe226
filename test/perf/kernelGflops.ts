// GFLOP/s of the WebAssembly kernels against the TypeScript reference, in CPU time of this thread
// (process.cpuUsage, so a busy machine's waiting is not counted): the linear layers' gemm on the
// shapes of the default model and of a 4096-position model, and one causal attention head.
// Run: node scripts/kernel-gflops.js (pin a core: taskset -c 1 node scripts/kernel-gflops.js).
import { linearTransposed } from '../../src/core/math/linear';
import { blockRowsFor, scoreStride } from '../../src/core/math/wasm/attentionJob';
import { KernelArena, roundUp8, uploadPackedWeight, uploadPaddedBias } from '../../src/core/math/wasm/kernelArena';
import { loadBundledKernels } from '../../src/core/math/wasm/kernelModule';
import { createRng } from '../support/randomGpt2';

const rng = createRng(7);
const random = (n: number) => Float32Array.from({ length: n }, () => rng() - 0.5);

/** Best CPU milliseconds of `repeats` calls. */
function cpuMs(body: () => void, repeats: number): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    body();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

const arena = new KernelArena(loadBundledKernels());
const k = arena.kernels;
const gflops = (flop: number, ms: number) => (flop / ms / 1e6).toFixed(1);

for (const [rows, inDim, outDim] of [[128, 128, 384], [512, 128, 512], [512, 512, 128], [4096, 256, 768], [4096, 1024, 256]]) {
  const mark = arena.mark();
  const weightT = random(outDim * inDim);
  const bias = random(outDim);
  const x = random(rows * inDim);
  const w = uploadPackedWeight(arena, weightT, outDim, inDim);
  const b = uploadPaddedBias(arena, bias);
  const input = arena.upload(x);
  const out = arena.reserve(rows * outDim);
  const flop = 2 * rows * inDim * outDim;
  const wasm = cpuMs(() => k.gemm(input, inDim * 4, w, inDim, inDim, b, out, outDim * 4, rows, outDim, 1), 7);
  const reference = rows <= 512 ? cpuMs(() => linearTransposed(x, weightT, bias, new Float32Array(rows * outDim), rows, inDim, outDim), 3) : NaN;
  console.log(`linear [${rows}, ${inDim}] -> [${rows}, ${outDim}]: wasm ${gflops(flop, wasm)} GFLOP/s (${wasm.toFixed(2)} ms)` + (rows <= 512 ? `, TypeScript ${gflops(flop, reference)} GFLOP/s` : ''));
  arena.release(mark);
}

for (const [T, dHead] of [[512, 32], [2048, 32], [4096, 32]]) {
  const mark = arena.mark();
  const D = 2 * dHead;
  const stride = scoreStride(T);
  const blockRows = blockRowsFor(T);
  const qkv = arena.upload(random(T * 3 * D));
  const kPack = arena.reserve(roundUp8(T) * dHead);
  const vPack = arena.reserve(roundUp8(dHead) * T);
  const block = arena.reserve(blockRows * stride);
  const out = arena.reserve(T * dHead);
  const ms = cpuMs(() => {
    k.packHead(qkv, T, D, 0, dHead, kPack, vPack);
    for (let r0 = 0; r0 < T; r0 += blockRows) k.attentionRows(qkv, T, D, 0, dHead, 0.125, kPack, vPack, r0, Math.min(T, r0 + blockRows), block, stride * 4, out, dHead * 4);
  }, 5);
  // Useful work only: q·k and weights·values over the lower triangle.
  const flop = 2 * 2 * ((T * (T + 1)) / 2) * dHead;
  console.log(`causal attention head T=${T} d_head=${dHead}: ${ms.toFixed(1)} ms, ${gflops(flop, ms)} GFLOP/s (lower triangle; softmax included)`);
  arena.release(mark);
}
