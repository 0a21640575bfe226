// Attention stays where it was computed (core/heldAttention.ts): the ONNX child keeps a held run's
// tensors and answers the panel's queries there. The answers must equal what the full tensor of an
// in-process run gives (computed here with plain loops and the core's analysis functions on that
// tensor), only answers may cross the process boundary (counted with v8.serialize, the size of
// Node's 'advanced' IPC serialization), a released run is gone from the child, one child serves
// every run, and a crashed child loses nothing: the next query runs the text again in a fresh one.
// Needs dist/onnxWorker.js (node esbuild.js).
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import { headRolesOf } from '../../src/core/analysis/headRoles';
import { attentionRollout } from '../../src/core/analysis/rollout';
import { poolThumbnails } from '../../src/core/attentionQueries';
import { poolHeadWindow } from '../../src/core/attentionWindow';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { IsolatedOnnxBackend } from '../../src/core/backends/isolated/isolatedOnnxBackend';
import type { WorkerToParent } from '../../src/core/backends/isolated/workerProtocol';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { MemoryBudgetError } from '../../src/core/errors';
import { materializeResult, runHeld, type HeldAttention } from '../../src/core/heldAttention';
import type { AttentionResult } from '../../src/core/types';
import { maxAbsDifference } from '../support/compare';
import { bundledModelDir, repoRoot } from '../support/heldout';
import { writeRandomGpt2Folder } from '../support/randomGpt2';

const TEXT = 'def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n# attention stays where it was computed\n';
/** ONNX runs of the same model on the same input agree to this (same onnxruntime, another process). */
const TOLERANCE = 1e-6;

/** [Tq, Tk] of one head, read with explicit offsets from the full tensor. */
function headOf(run: AttentionResult, layer: number, head: number): Float32Array {
  const [, H, Tq, Tk] = run.dims;
  const out = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq * Tk; i++) out[i] = run.attention[(layer * H + head) * Tq * Tk + i];
  return out;
}

/** [Tq, Tk]: the mean over the heads of one layer. */
function meanOf(run: AttentionResult, layer: number): Float32Array {
  const [, H, Tq, Tk] = run.dims;
  const out = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq * Tk; i++) {
    let sum = 0;
    for (let h = 0; h < H; h++) sum += run.attention[(layer * H + h) * Tq * Tk + i];
    out[i] = sum / H;
  }
  return out;
}

/** [H, Tk]: query row `t` of every head of a layer. */
function rowsOf(run: AttentionResult, layer: number, t: number): Float32Array {
  const [, H, Tq, Tk] = run.dims;
  const out = new Float32Array(H * Tk);
  for (let h = 0; h < H; h++) for (let s = 0; s < Tk; s++) out[h * Tk + s] = run.attention[((layer * H + h) * Tq + t) * Tk + s];
  return out;
}

function close(actual: Float32Array | undefined, expected: Float32Array, what: string, tolerance = TOLERANCE): void {
  assert.ok(actual, `${what}: no answer`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  // NaN (a wholly masked thumbnail block) must be NaN on both sides.
  for (let i = 0; i < expected.length; i++) if (Number.isNaN(expected[i])) assert.ok(Number.isNaN(actual[i]), `${what}[${i}] should be NaN`);
  const finite = (values: Float32Array) => values.map((value) => (Number.isNaN(value) ? 0 : value));
  const worst = maxAbsDifference(finite(actual), finite(expected));
  assert.ok(worst <= tolerance, `${what}: differs by ${worst}`);
}

/** A head answer's cells, which must be exact float32. */
function exact(answer: { encoding: string; data: Float32Array | Uint16Array | Uint8Array } | undefined): Float32Array | undefined {
  if (!answer) return undefined;
  assert.equal(answer.encoding, 'float32');
  assert.ok(answer.data instanceof Float32Array);
  return answer.data;
}

/** Every kind of query, answered by `held`, against the full tensor of `reference`. */
async function assertAnswersMatch(held: HeldAttention, reference: AttentionResult, tolerance = TOLERANCE): Promise<void> {
  const [L, H, T] = reference.dims;
  // Preparing a layer's mean (the host's prefetch) answers nothing itself; the mean below is then read from the cache.
  assert.deepEqual(await held.query({ kind: 'prepareLayerMean', group: 0, layer: L - 1 }), { kind: 'prepareLayerMean' });
  await assert.rejects(held.query({ kind: 'prepareLayerMean', group: 0, layer: L }), RangeError);
  for (let layer = 0; layer < L; layer++) {
    for (let head = 0; head < H; head++) close(exact(await held.query({ kind: 'head', group: 0, layer, head })), headOf(reference, layer, head), `head ${layer}.${head}`, tolerance);
    close(exact(await held.query({ kind: 'head', group: 0, layer, head: 'mean' })), meanOf(reference, layer), `mean of layer ${layer}`, tolerance);
    for (const token of [0, Math.floor(T / 2), T - 1]) close((await held.query({ kind: 'tokenRows', group: 0, layer, token }))?.data, rowsOf(reference, layer, token), `rows ${layer}@${token}`, tolerance);
  }
  // A pooled window (the zoomable heatmap's request) is pooled next to the tensor too.
  const window = { row0: 1, row1: T, col0: 0, col1: T - 1 };
  const pooledHead = await held.query({ kind: 'head', group: 0, layer: L - 1, head: H - 1, shape: { window, maxRows: 4, maxCols: 4 } });
  const expectedPooled = poolHeadWindow(reference.attention, reference.dims, L - 1, H - 1, window, 4, 4);
  assert.deepEqual([pooledHead?.rows, pooledHead?.cols, pooledHead?.rowStep, pooledHead?.colStep], [expectedPooled.rows, expectedPooled.cols, expectedPooled.rowStep, expectedPooled.colStep]);
  close(exact(pooledHead), expectedPooled.data, 'pooled window', tolerance);
  const thumbnails = await held.query({ kind: 'thumbnails', group: 0, size: 8 });
  const pooled = poolThumbnails(reference.attention, reference.dims, 8, reference.causal);
  assert.deepEqual([thumbnails?.rows, thumbnails?.columns], [pooled.rows, pooled.columns]);
  close(thumbnails?.data, pooled.data, 'thumbnails', tolerance);
  const roles = await held.query({ kind: 'roles', group: 0 });
  const expectedRoles = headRolesOf(reference.attention, [L, H, T], reference.tokens.map((token) => token.id));
  assert.equal(roles?.roles?.length, expectedRoles.length);
  roles?.roles?.forEach((scores, index) => {
    for (const [role, value] of Object.entries(expectedRoles[index])) {
      const got = (scores as unknown as Record<string, number>)[role];
      assert.ok(typeof value !== 'number' || Math.abs(got - value) <= 1e-4, `role ${role} of head ${index}: ${got} vs ${value}`);
    }
  });
  close((await held.query({ kind: 'aggregate', group: 0, method: 'rollout', flowMaxTokens: 48 }))?.data, attentionRollout(reference.attention, reference.dims), 'rollout', 1e-5);
  assert.equal(await held.query({ kind: 'head', group: 5, layer: 0, head: 0 }), undefined, 'a group the run does not have');
  await assert.rejects(held.query({ kind: 'head', group: 0, layer: L, head: 0 }), RangeError);
}

/** Bytes of a message as Node's 'advanced' IPC serialization sends it. */
const wireBytes = (message: unknown) => v8.serialize(message).byteLength;

describe('held attention: answered where it was computed', function () {
  this.timeout(120000);

  for (const [name, dir] of [
    ['default model (graph surgery or its own outputs)', bundledModelDir()],
    ['gpt2-explicit fixture (one stacked attentions output)', path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-explicit')],
    ['gpt2-plain fixture (graph surgery)', path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain')],
  ] as const) {
    it(`${name}: the ONNX child answers every query like the in-process tensor`, async () => {
      const inProcess = new OnnxBackend(dir, 'reference');
      const child = new IsolatedOnnxBackend(dir, 'held');
      try {
        const reference = await inProcess.run(TEXT, { maxTokens: 48 });
        const held = await child.runHeld(TEXT, { maxTokens: 48 });
        assert.deepEqual(held.result.tokens, reference.tokens);
        assert.deepEqual(held.result.dims, reference.dims);
        assert.ok(!('attention' in held.result), 'the summary carries no tensor');
        await assertAnswersMatch(held.attention, reference);
        const materialized = await materializeResult(held);
        close(materialized.attention, reference.attention, 'materialized attention');
      } finally {
        inProcess.dispose();
        child.dispose();
      }
    });
  }

  for (const [name, dir] of [
    ['default model', bundledModelDir()],
    ['gpt2-explicit fixture (stacked output)', path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-explicit')],
    ['gpt2-plain fixture (surgery)', path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain')],
  ] as const) {
    it(`${name}: after the warm-up, onnxruntime writes the attention into the run's own tensor, equal to a run that lets it allocate`, async () => {
      const warm = new OnnxBackend(dir, 'warm');
      try {
        assert.equal(warm.preallocates, false);
        await warm.warmUp();
        assert.equal(warm.preallocates, true, 'the one-token warm-up run taught the shapes of the outputs');
        const before = warm.preallocatedRuns;
        for (const maxTokens of [7, 33]) {
          const bound = await warm.run(TEXT, { maxTokens });
          const fresh = new OnnxBackend(dir, 'fresh');
          try {
            const reference = await fresh.run(TEXT, { maxTokens });
            assert.deepEqual(bound.dims, reference.dims);
            close(bound.attention, reference.attention, `attention at ${maxTokens} tokens`, 0);
            close(bound.groups[0].attention, reference.attention, 'the group shares it', 0);
          } finally {
            fresh.dispose();
          }
        }
        assert.equal(warm.preallocatedRuns - before, 2, 'both runs were written into their own tensor');
      } finally {
        warm.dispose();
      }
    });
  }

  it('random GPT-2 on the built-in block: the in-process handle answers like the run it holds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'held-random-'));
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(bundledModelDir(), 'tokenizer.json'), 'utf8'));
    await writeRandomGpt2Folder(dir, { seed: 12, layers: 2, heads: 3, dModel: 24, positions: 64, tokenizerJson, weightScale: 0.5 });
    const backend = new BuiltinBackend(dir, 'random');
    try {
      const reference = await backend.run(TEXT, { maxTokens: 40 });
      const held = await runHeld(backend, TEXT, { maxTokens: 40 });
      await assertAnswersMatch(held.attention, reference);
      held.attention.release();
      assert.equal(await held.attention.query({ kind: 'head', group: 0, layer: 0, head: 0 }), undefined, 'a released run answers nothing');
      await assert.rejects(held.attention.materialize(), /released/);
    } finally {
      backend.dispose();
    }
  });

  it('only answers cross the process boundary: a held run and a head are far smaller than the tensor', async () => {
    const received: WorkerToParent[] = [];
    const child = new IsolatedOnnxBackend(bundledModelDir(), 'counted', { observeMessage: (message) => received.push(message) });
    try {
      const text = TEXT.repeat(12);
      const held = await child.runHeld(text, { maxTokens: 256 });
      const [L, H, T] = held.result.dims;
      const tensorBytes = L * H * T * T * 4;
      const heldReply = received.find((message) => message.type === 'held')!;
      assert.ok(wireBytes(heldReply) < tensorBytes / 4, `the held run's reply is ${wireBytes(heldReply)} bytes, the tensor ${tensorBytes}`);
      received.length = 0;
      await held.attention.query({ kind: 'head', group: 0, layer: 0, head: 0 });
      assert.equal(received.length, 1);
      const headBytes = wireBytes(received[0]);
      assert.ok(headBytes >= T * T * 4 && headBytes < T * T * 4 + 1024, `a head is ${T}×${T} floats; ${headBytes} bytes crossed`);
    } finally {
      child.dispose();
    }
  });

  it('one child serves the warm-up and every run; a released run is gone from it', async () => {
    const received: WorkerToParent[] = [];
    const child = new IsolatedOnnxBackend(bundledModelDir(), 'reused', { observeMessage: (message) => received.push(message) });
    try {
      await child.warmUp();
      const pid = child.workerPid;
      assert.ok(pid !== undefined, 'warmUp starts the child');
      const first = await child.runHeld(TEXT, { maxTokens: 32 });
      const second = await child.runHeld(TEXT.toUpperCase(), { maxTokens: 32 });
      assert.equal(child.workerPid, pid, 'runs reuse the warm child');
      first.attention.release();
      received.length = 0;
      // The handle answers nothing any more, without asking the child; the child itself no longer holds the run.
      assert.equal(await first.attention.query({ kind: 'head', group: 0, layer: 0, head: 0 }), undefined);
      assert.equal(received.length, 0, 'nothing was asked of the child');
      const handle = (first.attention as unknown as { handle: number }).handle;
      assert.deepEqual(await child.queryHeld(handle, { kind: 'head', group: 0, layer: 0, head: 0 }), { answer: undefined, missing: true });
      received.length = 0;
      await second.attention.query({ kind: 'head', group: 0, layer: 0, head: 0 });
      assert.deepEqual(received.map((message) => message.type), ['answer'], 'the second run was kept');
      assert.equal(child.workerPid, pid);
    } finally {
      child.dispose();
    }
  });

  it('a crashed child is restarted and loses nothing: queries about a held run are answered after it', async () => {
    const child = new IsolatedOnnxBackend(bundledModelDir(), 'crashing', { debugHooks: true });
    const inProcess = new OnnxBackend(bundledModelDir(), 'reference');
    try {
      const held = await child.runHeld(TEXT, { maxTokens: 32 });
      const pid = child.workerPid;
      await assert.rejects(child.debugRequest('debugCrash'), /onnxruntime stopped unexpectedly .*the next run starts a fresh process/s);
      const reference = await inProcess.run(TEXT, { maxTokens: 32 });
      await assertAnswersMatch(held.attention, reference);
      assert.notEqual(child.workerPid, pid, 'a fresh child answered');
    } finally {
      child.dispose();
      inProcess.dispose();
    }
  });

  it('memory budget of a held run: two copies of the attention (onnxruntime\'s and ours), none cloned to the host', async () => {
    const child = new IsolatedOnnxBackend(bundledModelDir(), 'budget');
    try {
      const { layers, heads } = await child.describe();
      const fits = Math.floor(Math.sqrt(2 ** 20 / (2 * layers * heads * 4)));
      const long = TEXT.repeat(40);
      const cut = await child.runHeld(long, { maxTokens: 4096, memoryBudgetMB: 1 });
      assert.equal(cut.result.tokens.length, fits);
      await assert.rejects(child.runHeld(long, { maxTokens: 4096, memoryBudgetMB: 1, failIfTooLong: true }), (error: Error) => error instanceof MemoryBudgetError && error.maxTokens === fits);
    } finally {
      child.dispose();
    }
  });
});
