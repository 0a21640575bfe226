// The machine's one-core fp32 matmul peak: onnxruntime-node (MLAS kernels) with one intra-op thread
// on a MatMul-only ONNX graph written here, [N, N] x [N, N]. The best of several runs is the peak.
import { DataType, encodeModel, type ModelProto } from '../../src/core/onnx/onnxModel';
import { within } from './deadline';

type Ort = typeof import('onnxruntime-node');

function matmulModel(N: number): Uint8Array {
  const square = (name: string) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: N }, { dimValue: N }] } } } });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'attention-inspector bench',
    graph: { name: 'matmul', node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['C'] }], input: [square('A'), square('B')], output: [square('C')] },
  };
  return encodeModel(model);
}

export interface PeakMeasurement {
  gflops: number;
  method: string;
}

/** GFLOP/s of the fastest of `runs` N×N×N products on one thread (after two warm-up runs). */
export async function measureMatmulPeak(N: number, runs: number): Promise<PeakMeasurement> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as Ort;
  const session = await ort.InferenceSession.create(matmulModel(N), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  try {
    const a = new Float32Array(N * N).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const b = new Float32Array(N * N).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
    const feeds = { A: new ort.Tensor('float32', a, [N, N]), B: new ort.Tensor('float32', b, [N, N]) };
    let best = Infinity;
    for (let i = 0; i < runs + 2; i++) {
      const started = performance.now();
      await within(session.run(feeds), 60_000, `the ${N}×${N} matmul`);
      const elapsed = performance.now() - started;
      if (i >= 2) best = Math.min(best, elapsed);
    }
    return { gflops: (2 * N * N * N) / (best / 1000) / 1e9, method: `onnxruntime-node MatMul ${N}×${N}×${N} fp32, intra_op_num_threads 1, best of ${runs}` };
  } finally {
    await session.release();
  }
}
