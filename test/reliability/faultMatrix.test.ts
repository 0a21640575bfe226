// The bad-input and fault matrix of issue 10, against the core as the extension host runs it: one
// BackendRegistry for every case (as the host keeps one), each bad model folder or input must give a
// clear error that names the culprit within seconds, the process must stay within a memory bound,
// and the next run on a good model must work. Runs as its own `npm test` stage with a 3 s tokenizer
// time limit (ATTENTION_INSPECTOR_TOKENIZE_TIMEOUT_MS).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackendRegistry } from '../../src/core/backends/backendRegistry';
import { describeError } from '../../src/core/errors';
import type { BackendChoice, RunOptions } from '../../src/core/types';
import { repoRoot } from '../support/heldout';
import { tinyModelFolder } from '../support/tinyModel';

/** A case: how to make the bad folder (or input), how to run it, what the error must say. */
interface FaultCase {
  name: string;
  make(scratch: string, good: { tiny: string; onnx: string }): { dir: string; text?: string; backend?: BackendChoice; options?: RunOptions };
  /** The error message must match (it names the culprit). */
  error: RegExp;
}

/** The memory the whole process may grow by over the matrix (attention of the good runs included). */
const MEMORY_BOUND_MB = 600;
const CASE_SECONDS = 20;

function copyOf(from: string, scratch: string, name: string): string {
  const dir = path.join(scratch, name);
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function replaceWithLink(dir: string, file: string, target: string): void {
  fs.rmSync(path.join(dir, file), { force: true });
  fs.symlinkSync(target, path.join(dir, file));
}

const CASES: FaultCase[] = [
  {
    name: 'model.safetensors linked to /dev/zero (built-in)',
    make: (scratch, good) => {
      const dir = copyOf(good.tiny, scratch, 'zero-safetensors');
      replaceWithLink(dir, 'model.safetensors', '/dev/zero');
      return { dir, backend: 'builtin' };
    },
    error: /model\.safetensors.* a device/,
  },
  {
    name: 'model.onnx linked to /dev/zero (ONNX worker)',
    make: (scratch, good) => {
      const dir = copyOf(good.onnx, scratch, 'zero-onnx');
      replaceWithLink(dir, 'model.onnx', '/dev/zero');
      return { dir, backend: 'onnx' };
    },
    error: /model\.onnx.* a device/,
  },
  {
    name: 'tokenizer.json linked to a named pipe',
    make: (scratch, good) => {
      const dir = copyOf(good.tiny, scratch, 'fifo-tokenizer');
      const fifo = path.join(scratch, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      replaceWithLink(dir, 'tokenizer.json', fifo);
      return { dir, backend: 'builtin' };
    },
    error: /tokenizer\.json.* a pipe/,
  },
  {
    name: 'config.json in a symlink loop',
    make: (scratch, good) => {
      const dir = copyOf(good.tiny, scratch, 'loop-config');
      replaceWithLink(dir, 'config.json', 'loop-b');
      fs.symlinkSync('config.json', path.join(dir, 'loop-b'));
      return { dir, backend: 'builtin' };
    },
    error: /config\.json.*link loop/,
  },
  {
    name: 'truncated model.safetensors',
    make: (scratch, good) => {
      const dir = copyOf(good.tiny, scratch, 'short-safetensors');
      const file = path.join(dir, 'model.safetensors');
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
      return { dir, backend: 'builtin' };
    },
    error: /model\.safetensors/,
  },
  {
    name: 'random bytes as model.onnx',
    make: (scratch, good) => {
      const dir = copyOf(good.onnx, scratch, 'garbage-onnx');
      fs.writeFileSync(path.join(dir, 'model.onnx'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251)));
      return { dir, backend: 'onnx' };
    },
    error: /model\.onnx/,
  },
  {
    name: 'ONNX external data linked to a file outside the folder',
    make: (scratch) => {
      const dir = copyOf(path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'external-data'), scratch, 'escaping-data');
      const outside = path.join(scratch, 'outside.data');
      fs.renameSync(path.join(dir, 'model.onnx.data'), outside);
      fs.symlinkSync(outside, path.join(dir, 'model.onnx.data'));
      return { dir, backend: 'onnx' };
    },
    error: /outside the model folder/,
  },
  {
    name: 'a tokenizer pattern that backtracks without end (built-in: a worker thread of the host)',
    make: (scratch, good) => {
      const dir = copyOf(good.tiny, scratch, 'redos-builtin');
      poisonTokenizer(dir);
      return { dir, backend: 'builtin', text: 'a'.repeat(40) + '!' };
    },
    error: /tokenizer\.json took longer than 3 s/,
  },
  {
    name: 'a tokenizer pattern that backtracks without end (ONNX worker process)',
    make: (scratch, good) => {
      const dir = copyOf(good.onnx, scratch, 'redos-onnx');
      poisonTokenizer(dir);
      return { dir, backend: 'onnx', text: 'a'.repeat(40) + '!' };
    },
    error: /tokenizer\.json took longer than 3 s/,
  },
  {
    name: 'a selection far over the memory budget, when cutting is not allowed',
    // The default model (4 layers × 4 heads, 512 positions): 4 MiB hold 256² · 64 bytes.
    make: () => ({ dir: path.join(repoRoot(), 'media', 'models', 'default'), backend: 'builtin', text: 'word '.repeat(4000), options: { maxTokens: 512, memoryBudgetMB: 4, failIfTooLong: true } }),
    error: /more than the budget of 4 MB .*at most 256 tokens fit/,
  },
];

function poisonTokenizer(dir: string): void {
  const file = path.join(dir, 'tokenizer.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false }, json.pre_tokenizer] };
  fs.writeFileSync(file, JSON.stringify(json));
}

describe('reliability: the bad-input and fault matrix', function () {
  this.timeout(180_000);
  const registry = new BackendRegistry();
  let scratch: string;
  let good: { tiny: string; onnx: string };
  let baselineMB = 0;

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-faults-'));
    good = { tiny: await tinyModelFolder(), onnx: path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain') };
    // Warm both backends once so the memory bound measures the faults, not first-time loading.
    await registry.get(good.tiny, 'builtin').run('warm up', {});
    await registry.get(good.onnx, 'onnx').run('warm up', {});
    baselineMB = process.memoryUsage().rss / 2 ** 20;
  });

  after(() => {
    registry.dispose();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  for (const fault of CASES) {
    it(`${fault.name}: a clear error within ${CASE_SECONDS} s, bounded memory, and the next run works`, async () => {
      const { dir, text = 'the quick brown fox', backend = 'auto', options = {} } = fault.make(scratch, good);
      const started = Date.now();
      let message = '';
      try {
        await registry.get(dir, backend).run(text, { maxTokens: 512, ...options });
        assert.fail('the run should have failed');
      } catch (error) {
        message = describeError(error);
      }
      const seconds = (Date.now() - started) / 1000;
      assert.match(message, fault.error);
      assert.doesNotMatch(message, /^(TypeError|RangeError|Error):/, `an expected failure, not a bug: ${message}`);
      assert.ok(seconds < CASE_SECONDS, `took ${seconds} s`);
      // The same registry (as the host keeps it) runs a good model right after.
      const next = await registry.get(backend === 'onnx' ? good.onnx : good.tiny, backend === 'onnx' ? 'onnx' : 'builtin').run('the quick brown fox', {});
      assert.ok(next.tokens.length > 0);
      const grownMB = process.memoryUsage().rss / 2 ** 20 - baselineMB;
      assert.ok(grownMB < MEMORY_BOUND_MB, `the process grew by ${grownMB.toFixed(0)} MB (bound ${MEMORY_BOUND_MB} MB)`);
    });
  }
});
