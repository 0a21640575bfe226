// The ONNX backend in a child process: same results as in-process, same error classes, and a
// crash, a hang or a cancellation costs the child only; the next run gets a fresh one.
// Needs dist/onnxWorker.js (node esbuild.js); this bundle finds it in the dist/ folder above it.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ONNX_IN_PROCESS_ENV, defaultBackendFactory } from '../../src/core/backends/backendRegistry';
import { IsolatedOnnxBackend } from '../../src/core/backends/isolated/isolatedOnnxBackend';
import { locateWorkerScript } from '../../src/core/backends/isolated/workerScript';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { AttentionInspectorError, CancelledError, ModelLoadError, TooManyTokensError } from '../../src/core/errors';
import type { CancellationSignal } from '../../src/core/types';
import { bundledModelDir } from '../support/heldout';

const TEXT = 'def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

/** A killed child is a zombie until Node reaps it, which takes a turn of the event loop or two. */
async function waitUntilGone(pid: number, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (isAlive(pid)) {
    assert.ok(Date.now() < deadline, `process ${pid} is still alive ${withinMs} ms after it should have stopped`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A signal that flips to cancelled after `ms`. */
function cancelAfter(ms: number): CancellationSignal {
  const at = Date.now() + ms;
  return {
    get isCancellationRequested() {
      return Date.now() >= at;
    },
  };
}

/** Not cancelled when the request is made (the first look), cancelled from then on. */
function cancelledOnceAsked(): CancellationSignal {
  let looks = 0;
  return {
    get isCancellationRequested() {
      return looks++ > 0;
    },
  };
}

/** Deterministic bytes (mulberry32), so the corrupt model is the same on every run. */
function seededBytes(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

/** A model folder holding the bundled tokenizer and, when given, these bytes as model.onnx. */
function folderWithModelBytes(bytes: Uint8Array | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isolation-test-'));
  fs.copyFileSync(path.join(bundledModelDir(), 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  if (bytes) fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  return dir;
}

describe('isolated ONNX backend (onnxruntime-node in a child process)', function () {
  this.timeout(30000);
  const dir = bundledModelDir();
  const disposeLater: (IsolatedOnnxBackend | OnnxBackend)[] = [];
  const removeLater: string[] = [];
  after(() => {
    for (const backend of disposeLater) backend.dispose();
    for (const folder of removeLater) fs.rmSync(folder, { recursive: true, force: true });
  });
  function isolated(options: ConstructorParameters<typeof IsolatedOnnxBackend>[2] = {}, modelDir = dir): IsolatedOnnxBackend {
    const backend = new IsolatedOnnxBackend(modelDir, path.basename(modelDir), options);
    disposeLater.push(backend);
    return backend;
  }

  describe('on the bundled model', () => {
    const backend = isolated();

    it('starts no process before the first request', () => {
      assert.equal(backend.workerPid, undefined);
    });

    it('gives exactly the in-process result: attention, tokens, dims, causal, logits, predictions', async () => {
      const inProcess = new OnnxBackend(dir, path.basename(dir));
      disposeLater.push(inProcess);
      const expected = await inProcess.run(TEXT, { maxTokens: 64 });
      const actual = await backend.run(TEXT, { maxTokens: 64 });
      assert.ok(actual.attention instanceof Float32Array, 'attention crosses as a Float32Array');
      assert.ok(actual.lastLogits instanceof Float32Array, 'lastLogits crosses as a Float32Array');
      const [L, H, T] = actual.dims;
      assert.ok(T > 10, `the text has ${T} tokens`);
      assert.equal(actual.attention.length, L * H * T * T);
      assert.ok(actual.predictions && actual.predictions.length > 0);
      // Everything but the wall time, compared element by element.
      assert.deepEqual({ ...actual, elapsedMs: 0 }, { ...expected, elapsedMs: 0 });
      assert.deepEqual(await backend.describe(), await inProcess.describe());
    });

    it('keeps the child across runs, so the model loads once', async () => {
      const pid = backend.workerPid;
      assert.ok(pid !== undefined && isAlive(pid));
      const [a, b] = await Promise.all([backend.run('hello world', { maxTokens: 64 }), backend.run(TEXT, { maxTokens: 8 })]);
      assert.equal(a.text, 'hello world');
      assert.equal(b.tokens.length, 8, 'concurrent runs each get their own answer');
      assert.ok(b.truncatedFrom !== undefined && b.truncatedFrom > 8);
      assert.equal(backend.workerPid, pid);
    });

    it('brings TooManyTokensError back as that class, with tokenCount and maxTokens', async () => {
      const pid = backend.workerPid;
      const error = await backend.run(TEXT, { maxTokens: 4, failIfTooLong: true }).then(
        () => assert.fail('a run over the limit must be refused'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof TooManyTokensError, `got ${String(error)}`);
      assert.equal(error.maxTokens, 4);
      assert.ok(error.tokenCount > 4);
      assert.equal(error.message, new TooManyTokensError(error.tokenCount, 4).message);
      assert.equal(error.name, 'TooManyTokensError');
      assert.equal(backend.workerPid, pid, 'an error thrown in the child is no reason to restart it');
    });

    it('refuses the debug requests unless the child was started for tests', async () => {
      const pid = backend.workerPid;
      await assert.rejects(backend.debugRequest('debugCrash'), /test hook/);
      assert.equal(backend.workerPid, pid);
    });
  });

  describe('model folders that cannot load', () => {
    it('a folder without model.onnx gives ModelLoadError, and the child lives on', async () => {
      const folder = folderWithModelBytes(undefined);
      removeLater.push(folder);
      const backend = isolated({}, folder);
      await assert.rejects(backend.run('hello', {}), (error: Error) => error instanceof ModelLoadError && /model\.onnx/.test(error.message));
      const pid = backend.workerPid;
      assert.ok(pid !== undefined && isAlive(pid));
      await assert.rejects(backend.describe(), ModelLoadError);
      assert.equal(backend.workerPid, pid);
    });

    it('a corrupt model.onnx gives ModelLoadError naming the file, and the backend keeps answering', async () => {
      const folder = folderWithModelBytes(seededBytes(4096, 7));
      removeLater.push(folder);
      const backend = isolated({}, folder);
      await assert.rejects(
        backend.run('hello', {}),
        (error: Error) => error instanceof ModelLoadError && error.message.includes(path.join(folder, 'model.onnx')),
      );
      await assert.rejects(backend.run('hello again', {}), ModelLoadError);
      assert.ok(isAlive(backend.workerPid!));
    });
  });

  describe('crashes, hangs and cancellation', () => {
    it('a native crash rejects the pending request with the signal, and the next run gets a new child', async () => {
      const backend = isolated({ debugHooks: true });
      const before = await backend.run('hello', {});
      const pid = backend.workerPid!;
      const error = await backend.debugRequest('debugCrash').then(
        () => assert.fail('the crash must reject the request'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof AttentionInspectorError, `got ${String(error)}`);
      const how = process.platform === 'win32' ? 'exit code \\d+' : 'signal SIGABRT';
      assert.match(error.message, new RegExp(`^onnxruntime stopped unexpectedly \\(${how}\\) while running model default .*; the next run starts a fresh process\\.`));
      await waitUntilGone(pid);
      const after = await backend.run('hello', {});
      assert.notEqual(backend.workerPid, pid);
      assert.deepEqual(after.attention, before.attention);
    });

    it('a run past the time limit is stopped with a message saying so, and the next run works', async () => {
      const backend = isolated({ debugHooks: true, timeoutMs: 3000 });
      await backend.run('warm up', {});
      const pid = backend.workerPid!;
      const started = Date.now();
      await assert.rejects(
        backend.debugRequest('debugHang'),
        (error: Error) =>
          error instanceof AttentionInspectorError &&
          !(error instanceof CancelledError) &&
          /^onnxruntime took longer than 3 s running model default .* and was stopped; the next run starts a fresh process\.$/.test(error.message),
      );
      assert.ok(Date.now() - started < 6000, 'stopped close to the limit');
      await waitUntilGone(pid);
      const result = await backend.run('hello', {});
      assert.equal(result.text, 'hello');
      assert.notEqual(backend.workerPid, pid);
    });

    it('cancelling a request the child is stuck on kills it at once; the next run works', async () => {
      const backend = isolated({ debugHooks: true });
      await backend.run('warm up', {});
      const pid = backend.workerPid!;
      const started = Date.now();
      await assert.rejects(backend.debugRequest('debugHang', cancelAfter(200)), CancelledError);
      assert.ok(Date.now() - started < 2000, 'cancelled within a couple of polls, not at the time limit');
      await waitUntilGone(pid);
      assert.equal((await backend.run('hello', {})).text, 'hello');
    });

    it('a run cancelled after it was sent ends with CancelledError, and the next run works', async () => {
      const backend = isolated();
      await backend.run('warm up', {});
      // Killed at the first poll, or, if the answer comes first, the answer is dropped.
      await assert.rejects(backend.run(TEXT, { maxTokens: 256 }, cancelledOnceAsked()), CancelledError);
      assert.equal((await backend.run('hello', {})).text, 'hello');
    });

    it('a queued request cancelled before its turn leaves the busy child alone; dispose() kills it and leaves no process', async () => {
      const backend = isolated({ debugHooks: true });
      await backend.run('hello', {});
      const pid = backend.workerPid!;
      const hang = backend.debugRequest('debugHang');
      await assert.rejects(backend.run('queued', {}, cancelledOnceAsked()), CancelledError);
      assert.equal(backend.workerPid, pid);
      assert.ok(isAlive(pid));
      backend.dispose();
      await assert.rejects(hang, CancelledError);
      assert.equal(backend.workerPid, undefined);
      await waitUntilGone(pid);
    });
  });

  describe('the backend registry', () => {
    it(`gives the isolated backend for onnx, and the in-process one with ${ONNX_IN_PROCESS_ENV}=1`, () => {
      const saved = process.env[ONNX_IN_PROCESS_ENV];
      try {
        delete process.env[ONNX_IN_PROCESS_ENV];
        const isolatedOne = defaultBackendFactory('onnx', dir, 'default');
        disposeLater.push(isolatedOne as IsolatedOnnxBackend);
        assert.ok(isolatedOne instanceof IsolatedOnnxBackend);
        process.env[ONNX_IN_PROCESS_ENV] = '1';
        const inProcess = defaultBackendFactory('onnx', dir, 'default');
        disposeLater.push(inProcess as OnnxBackend);
        assert.ok(inProcess instanceof OnnxBackend);
        assert.equal(inProcess.name, 'onnx');
      } finally {
        if (saved === undefined) delete process.env[ONNX_IN_PROCESS_ENV];
        else process.env[ONNX_IN_PROCESS_ENV] = saved;
      }
    });
  });

  describe('locating dist/onnxWorker.js', () => {
    it('walks up from a test bundle to the nearest dist/onnxWorker.js, and says clearly when there is none', () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'isolation-worker-'));
      removeLater.push(root);
      const testBundleDir = path.join(root, 'dist', 'test', 'unit');
      fs.mkdirSync(testBundleDir, { recursive: true });
      assert.throws(() => locateWorkerScript(testBundleDir), (error: Error) => error instanceof AttentionInspectorError && /onnxWorker\.js is missing/.test(error.message));
      fs.writeFileSync(path.join(root, 'dist', 'onnxWorker.js'), '');
      assert.equal(locateWorkerScript(testBundleDir), path.join(root, 'dist', 'onnxWorker.js'));
      assert.equal(locateWorkerScript(path.join(root, 'dist')), path.join(root, 'dist', 'onnxWorker.js'));
      assert.equal(locateWorkerScript(root), path.join(root, 'dist', 'onnxWorker.js'), 'from the repository root too');
    });
  });
});
