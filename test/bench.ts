// npm run bench: median inference time of the built-in block and of onnxruntime-node on the bundled
// model at 16, 128 and 512 held-out tokens, measured in one run so the ratio is fair.
import { BuiltinBackend } from '../src/core/backends/builtinBackend';
import { OnnxBackend } from '../src/core/backends/onnxBackend';
import type { AttentionBackend } from '../src/core/types';
import { bundledModelDir, heldOutSamples } from './support/heldout';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);

async function medianMs(backend: AttentionBackend, text: string, tokens: number): Promise<number> {
  await backend.run(text, { maxTokens: tokens }); // warm-up: loading and first-run allocation
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await backend.run(text, { maxTokens: tokens });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const dir = bundledModelDir();
  const builtin = new BuiltinBackend(dir);
  const onnx = new OnnxBackend(dir);
  const info = await builtin.describe();
  const text = heldOutSamples().map((sample) => sample.text).join('\n');
  console.log(`Model ${dir}: ${info.layers} layers × ${info.heads} heads, d_model ${info.dModel}, vocab ${info.vocabSize}; median of ${REPEATS} runs (tokenization included)`);
  console.log('| tokens | built-in (ms) | onnxruntime-node (ms) | built-in / onnx |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const tokens of [16, 128, 512]) {
    const a = await medianMs(builtin, text, tokens);
    const b = await medianMs(onnx, text, tokens);
    console.log(`| ${tokens} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} |`);
  }
  builtin.dispose();
  onnx.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
