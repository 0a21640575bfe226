// The backends the bench times, behind one interface: each runs one input of exact length T and
// says how long it took (ms). Built-in and ONNX backends are timed around AttentionBackend.run
// (tokenization in the tokenizer thread included, as the extension pays it); PyTorch reports its own
// time for tokenizing and the forward pass (see torch_eager.py).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { IsolatedOnnxBackend } from '../../src/core/backends/isolated/isolatedOnnxBackend';
import { runHeld, type HeldAttention } from '../../src/core/heldAttention';
import type { AttentionBackend, RunOptions } from '../../src/core/types';
import { within } from './deadline';
import { availableBytes } from './memory';
import type { BenchInput } from './inputs';
import type { TorchEager } from './torchEager';

export type ContenderKey = 'builtin-wasm' | 'builtin-typescript' | 'onnx-in-process' | 'onnx-child' | 'pytorch-eager';

export const CONTENDER_LABELS: Record<ContenderKey, string> = {
  'builtin-wasm': 'built-in (WASM)',
  'builtin-typescript': 'built-in (TypeScript)',
  'onnx-in-process': 'onnxruntime in-process',
  'onnx-child': 'ONNX child process',
  'pytorch-eager': 'PyTorch eager',
};

export interface Contender {
  key: ContenderKey;
  /**
   * Memory a run adds at its peak, as a multiple of the attention's L·H·T²·4 bytes: a cautious guess
   * at first, then what the previous size measured (a size that does not fit is skipped).
   */
  memoryFactor: number;
  /** The backend's own processes (ONNX child, Python), whose memory counts too. */
  pids(): number[];
  /** One run of exactly input.tokens tokens; resolves with its milliseconds. */
  run(input: BenchInput, timeoutMs: number): Promise<number>;
  dispose(): void;
}

/** A contender that could not be made, and why (printed as a notice). */
export interface Unavailable {
  key: ContenderKey;
  reason: string;
}

/** Large enough for L·H·T·T floats at 4096 tokens; the bench checks free memory itself. */
const RUN_OPTIONS: RunOptions = { memoryBudgetMB: 65536 };

/**
 * held: run as the panel does (runHeld: the attention stays where it was computed, in the ONNX
 * child, and is released after the run) instead of bringing the whole result here.
 */
function backendContender(key: ContenderKey, backend: AttentionBackend, memoryFactor: number, pids: () => number[] = () => [], held = false): Contender {
  return {
    key,
    memoryFactor,
    pids,
    async run(input, timeoutMs) {
      const options = { ...RUN_OPTIONS, maxTokens: input.tokens };
      const started = performance.now();
      const run: Promise<{ result: { tokens: unknown[] }; attention?: HeldAttention }> = held ? runHeld(backend, input.text, options) : backend.run(input.text, options).then((result) => ({ result }));
      const { result, attention } = await within(run, timeoutMs, `${CONTENDER_LABELS[key]} at ${input.tokens} tokens`);
      const elapsed = performance.now() - started;
      attention?.release();
      if (result.tokens.length !== input.tokens) throw new Error(`${CONTENDER_LABELS[key]} ran ${result.tokens.length} tokens, not ${input.tokens}`);
      return elapsed;
    },
    dispose: () => backend.dispose(),
  };
}

type KernelChoice = 'wasm' | 'typescript';

/**
 * The built-in block on the given kernels. Asking for 'wasm' where WebAssembly SIMD cannot load is a
 * ModelLoadError (kernelChoice.ts): that contender is then reported unavailable with the reason.
 */
async function builtinWithKernels(dir: string, kernels: KernelChoice): Promise<Contender | Unavailable> {
  const key: ContenderKey = kernels === 'wasm' ? 'builtin-wasm' : 'builtin-typescript';
  const backend = new BuiltinBackend(dir, { kernels });
  try {
    await backend.describe();
  } catch (error) {
    backend.dispose();
    return { key, reason: `not available: ${error instanceof Error ? error.message : String(error)}` };
  }
  return backendContender(key, backend, 2);
}

function torchContender(torch: TorchEager): Contender {
  let mismatched = false;
  return {
    key: 'pytorch-eager',
    memoryFactor: 3,
    pids: () => (torch.pid === undefined ? [] : [torch.pid]),
    async run(input, timeoutMs) {
      const { ms, tokensMatch } = await torch.run(input.text, input.ids, timeoutMs);
      if (!tokensMatch && !mismatched) {
        mismatched = true;
        console.error(`notice: Python's tokenizers gave other ids than ours at ${input.tokens} tokens; PyTorch ran our ids (its tokenization is still timed)`);
      }
      return ms;
    },
    dispose: () => undefined, // the process is shared across models; the bench closes it
  };
}

/** Every contender for one model folder: made, or unavailable with the reason. */
export async function contendersFor(dir: string, torch: TorchEager | undefined, torchSkipped: string | undefined): Promise<(Contender | Unavailable)[]> {
  const list: (Contender | Unavailable)[] = [await builtinWithKernels(dir, 'wasm'), await builtinWithKernels(dir, 'typescript')];
  if (fs.existsSync(path.join(dir, 'model.onnx'))) {
    // onnxruntime's output plus the result's copy, and its arena; the child holds the same and sends nothing big here.
    // Both are warmed first, as the panel opening warms the child (the first run pays no start-up).
    const inProcess = new OnnxBackend(dir);
    await inProcess.warmUp().catch(() => undefined); // a model that cannot load says so at its first run
    list.push(backendContender('onnx-in-process', inProcess, 4));
    const child = new IsolatedOnnxBackend(dir, path.basename(dir), { timeoutMs: 600_000 });
    await child.warmUp().catch(() => undefined);
    list.push(backendContender('onnx-child', child, 5, () => (child.workerPid === undefined ? [] : [child.workerPid]), true));
  } else {
    const reason = 'no model.onnx in the model folder';
    list.push({ key: 'onnx-in-process', reason }, { key: 'onnx-child', reason });
  }
  if (torch) {
    await torch.load(dir);
    list.push(torchContender(torch));
  } else list.push({ key: 'pytorch-eager', reason: torchSkipped ?? 'skipped' });
  return list;
}

/** Whether a run of `contender` fits in available memory, with 1 GiB and a fifth to spare for everything else. */
export function fitsInMemory(contender: Contender, attentionBytes: number): boolean {
  const available = availableBytes() ?? os.freemem();
  return contender.memoryFactor * attentionBytes + 2 ** 30 < 0.8 * available;
}

export const isContender = (entry: Contender | Unavailable): entry is Contender => 'run' in entry;
