// The built-in GPT-2 on the WebAssembly kernels ('wasm') against the same model on the TypeScript
// reference kernels ('typescript'): attention [L, H, T, T], final hidden states and logits, on the
// bundled default model and on random GPT-2s (test/support/randomGpt2.ts), at 16, 128 and 512
// tokens; the step view's trace and ablation; the heads the kernels leave to TypeScript
// (non-causal, relative position bias); the second thread; and the fallback when WebAssembly
// cannot load.
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { parseGpt2Config } from '../../src/core/gpt2/config';
import { Gpt2Model, type Gpt2Output } from '../../src/core/gpt2/model';
import { ModelLoadError } from '../../src/core/errors';
import type { KernelOptions } from '../../src/core/math/wasm/kernelChoice';
import { repoRoot } from '../support/heldout';
import { createRng, randomGpt2Tensors } from '../support/randomGpt2';
import { assertNear } from '../support/compare';

const defaultModelDir = () => path.join(repoRoot(), 'media', 'models', 'default');
const SINGLE_THREAD: KernelOptions = { threadMinTokens: Infinity };

function randomIds(seed: number, T: number, vocabSize: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: T }, () => Math.floor(rng() * vocabSize));
}

/** A random GPT-2 (Hugging Face names, Conv1D layouts) built in memory; `extra` adds or replaces tensors. */
function randomModel(
  shape: { seed: number; layers: number; heads: number; dModel: number; positions: number; vocabSize: number; weightScale?: number },
  options: KernelOptions,
  config: Record<string, unknown> = {},
  extra: Record<string, Float32Array> = {},
): Gpt2Model {
  const tensors = new Map<string, Float32Array>();
  for (const [name, tensor] of randomGpt2Tensors(shape)) tensors.set(name, tensor.data);
  for (const [name, data] of Object.entries(extra)) tensors.set(name, data);
  const parsed = parseGpt2Config({ n_layer: shape.layers, n_head: shape.heads, n_embd: shape.dModel, n_positions: shape.positions, vocab_size: shape.vocabSize, ...config });
  return Gpt2Model.fromTensors(parsed, tensors, options);
}

/** Largest |x| of an array, for tolerances relative to a tensor's scale. */
function maxAbs(values: Float32Array): number {
  let max = 0;
  for (const value of values) max = Math.max(max, Math.abs(value));
  return max;
}

/**
 * wasm against typescript: probabilities within 1e-5 absolute; hidden states and logits within
 * 1e-4 of their tensor's largest magnitude (float32 sums against float64 sums, through every layer).
 */
function assertSameOutputs(wasm: Gpt2Output, reference: Gpt2Output, label: string): void {
  assertNear(wasm.attention, reference.attention, 1e-5, 0, `${label} attention`);
  assertNear(wasm.hidden, reference.hidden, 1e-4 * maxAbs(reference.hidden), 0, `${label} hidden`);
  assertNear(wasm.lastLogits, reference.lastLogits, 1e-4 * maxAbs(reference.lastLogits), 0, `${label} logits`);
}

/** Every row of every [T, T] map sums to 1 and is exactly 0 above the diagonal. */
function assertCausalRows(attention: Float32Array, T: number, label: string): void {
  for (let map = 0; map < attention.length / (T * T); map++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let s = 0; s < T; s++) {
        const p = attention[(map * T + t) * T + s];
        if (s > t && p !== 0) assert.fail(`${label}: map ${map} row ${t} has ${p} at key ${s} above the diagonal`);
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-5) assert.fail(`${label}: map ${map} row ${t} sums to ${sum}`);
    }
  }
}

describe('The built-in GPT-2 on WebAssembly kernels equals the TypeScript reference', function () {
  this.timeout(300_000);

  it('the bundled default model at 16, 128 and 512 tokens', async () => {
    const wasm = await Gpt2Model.fromFolder(defaultModelDir(), { kernels: 'wasm', ...SINGLE_THREAD });
    const reference = await Gpt2Model.fromFolder(defaultModelDir(), { kernels: 'typescript' });
    assert.equal(wasm.kernels, 'wasm');
    assert.equal(reference.kernels, 'typescript');
    for (const T of [16, 128, Math.min(512, wasm.config.nPositions)]) {
      const ids = randomIds(T, T, wasm.config.vocabSize);
      const fast = await wasm.forward(ids);
      assertSameOutputs(fast, await reference.forward(ids), `default T=${T}`);
      assertCausalRows(fast.attention, T, `default T=${T}`);
    }
  });

  it('random GPT-2s with odd shapes (d_head not a multiple of 8, T = 1, T not a multiple of 4)', async () => {
    const shapes = [
      { seed: 1, layers: 2, heads: 3, dModel: 36, positions: 600, vocabSize: 301, weightScale: 0.2 },
      { seed: 2, layers: 3, heads: 4, dModel: 64, positions: 600, vocabSize: 97, weightScale: 0.1 },
    ];
    for (const shape of shapes) {
      const wasm = randomModel(shape, { kernels: 'wasm', ...SINGLE_THREAD });
      const reference = randomModel(shape, { kernels: 'typescript' });
      for (const T of [1, 7, 16, 129, 512]) {
        const ids = randomIds(100 + T, T, shape.vocabSize);
        const fast = await wasm.forward(ids);
        assertSameOutputs(fast, await reference.forward(ids), `random seed ${shape.seed} T=${T}`);
        assertCausalRows(fast.attention, T, `random seed ${shape.seed} T=${T}`);
      }
    }
  });

  it('the step view trace and ablated heads, without positions too', async () => {
    const shape = { seed: 3, layers: 3, heads: 4, dModel: 32, positions: 64, vocabSize: 50, weightScale: 0.2 };
    const wasm = randomModel(shape, { kernels: 'wasm', ...SINGLE_THREAD });
    const reference = randomModel(shape, { kernels: 'typescript' });
    const ids = randomIds(9, 23, shape.vocabSize);
    for (const usePositionEmbeddings of [true, false]) {
      const options = { usePositionEmbeddings, ablate: [{ layer: 0, head: 1 }, { layer: 2, head: 3 }], trace: { layer: 1, head: 2, query: 17 } };
      const fast = await wasm.forward(ids, options);
      const slow = await reference.forward(ids, options);
      assertSameOutputs(fast, slow, `ablated, positions ${usePositionEmbeddings}`);
      const a = fast.trace;
      const b = slow.trace;
      assert.ok(a && b);
      assert.equal(a.scale, b.scale);
      for (const key of ['q', 'k', 'v', 'weights', 'headOutputs', 'headWrites', 'attentionBias', 'attentionOutput'] as const) {
        assertNear(a[key], b[key], 1e-4 * Math.max(1, maxAbs(b[key])), 0, `trace ${key}`);
      }
      assert.equal(a.residual.length, b.residual.length);
      for (const [l, norms] of a.residual.entries()) {
        for (const key of ['before', 'attention', 'afterAttention', 'mlp', 'after'] as const) {
          assert.ok(Math.abs(norms[key] - b.residual[l][key]) <= 1e-4 * Math.max(1, b.residual[l][key]), `residual ${l} ${key}`);
        }
        assertNear(a.lensLogits[l], b.lensLogits[l], 1e-4 * maxAbs(b.lensLogits[l]), 0, `lens ${l}`);
      }
    }
  });

  it('non-causal heads, the relative position bias, layer_norm false and other activations take the TypeScript steps with the same results', async () => {
    const shape = { seed: 4, layers: 2, heads: 2, dModel: 16, positions: 40, vocabSize: 30, weightScale: 0.3 };
    const rng = createRng(44);
    const bias = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);
    const P = shape.positions;
    const variants: { label: string; config: Record<string, unknown>; extra?: Record<string, Float32Array> }[] = [
      { label: 'non-causal', config: { causal: false } },
      { label: 'relative bias', config: {}, extra: { 'h.0.attn.relative_position_bias': bias(2 * (2 * P - 1)), 'h.1.attn.relative_position_bias': bias(2 * (2 * P - 1)) } },
      { label: 'layer_norm false, relu', config: { layer_norm: false, activation_function: 'relu' } },
      { label: 'gelu (erf), scale by layer', config: { activation_function: 'gelu', scale_attn_by_inverse_layer_idx: true } },
    ];
    for (const { label, config, extra } of variants) {
      const wasm = randomModel(shape, { kernels: 'wasm', ...SINGLE_THREAD }, config, extra);
      const reference = randomModel(shape, { kernels: 'typescript' }, config, extra);
      for (const T of [1, 13, 40]) {
        const ids = randomIds(T, T, shape.vocabSize);
        assertSameOutputs(await wasm.forward(ids), await reference.forward(ids), `${label} T=${T}`);
      }
    }
  });

  it('the second thread gives exactly the single-thread results, and concurrent passes do not disturb each other', async () => {
    const shape = { seed: 5, layers: 2, heads: 5, dModel: 40, positions: 300, vocabSize: 70, weightScale: 0.2 };
    const threaded = randomModel(shape, { kernels: 'wasm', threadMinTokens: 1 });
    const single = randomModel(shape, { kernels: 'wasm', ...SINGLE_THREAD });
    try {
      for (const T of [2, 61, 300]) {
        const ids = randomIds(T + 1, T, shape.vocabSize);
        const options = { ablate: [{ layer: 1, head: 4 }], trace: { layer: 1, head: 3, query: T - 1 } };
        const [a, b] = await Promise.all([threaded.forward(ids, options), threaded.forward(ids.slice().reverse(), options)]);
        const one = await single.forward(ids, options);
        assert.ok(a.attention.buffer instanceof SharedArrayBuffer, 'the threaded pass shares its attention output');
        assert.deepEqual(a.attention, one.attention, `T=${T} attention`);
        assert.deepEqual(a.hidden, one.hidden, `T=${T} hidden`);
        assert.deepEqual(a.lastLogits, one.lastLogits, `T=${T} logits`);
        assert.deepEqual(a.trace?.weights, one.trace?.weights, `T=${T} trace`);
        assert.deepEqual(b.attention, (await single.forward(ids.slice().reverse(), options)).attention, `T=${T} concurrent pass`);
      }
    } finally {
      threaded.dispose();
    }
  });

  it('a cancelled threaded pass stops cleanly, a pass running beside it is undisturbed, and the next one works', async () => {
    const shape = { seed: 6, layers: 3, heads: 4, dModel: 32, positions: 200, vocabSize: 40 };
    const model = randomModel(shape, { kernels: 'wasm', threadMinTokens: 1 });
    const reference = randomModel(shape, { kernels: 'typescript' });
    try {
      const ids = randomIds(6, 200, shape.vocabSize);
      const other = randomIds(7, 150, shape.vocabSize);
      // Checks: before the pass, at layer 0's start, after its first head (the worker holds the other half): cancel there.
      let checks = 0;
      const signal = { get isCancellationRequested() { return ++checks > 2; } };
      const [cancelled, beside] = await Promise.allSettled([model.forward(ids, { cancellation: signal }), model.forward(other)]);
      assert.equal(cancelled.status, 'rejected');
      assert.match(String((cancelled as PromiseRejectedResult).reason), /cancel/i);
      assert.equal(checks, 3, 'cancelled after the first head of layer 0');
      assert.equal(beside.status, 'fulfilled');
      assertSameOutputs((beside as PromiseFulfilledResult<Gpt2Output>).value, await reference.forward(other), 'the pass beside the cancelled one');
      assertSameOutputs(await model.forward(ids), await reference.forward(ids), 'after cancellation');
    } finally {
      model.dispose();
    }
  });
});

describe('Kernel selection', () => {
  const failingLoader = () => {
    throw new Error('simulated: no WebAssembly SIMD');
  };

  it("'auto' falls back to TypeScript when WebAssembly cannot load, and says so", async () => {
    const model = await Gpt2Model.fromFolder(defaultModelDir(), { loadKernels: failingLoader });
    assert.equal(model.kernels, 'typescript');
    assert.match(model.kernelDescription, /TypeScript.*simulated: no WebAssembly SIMD/);
    const ids = randomIds(1, 12, model.config.vocabSize);
    const reference = await Gpt2Model.fromFolder(defaultModelDir(), { kernels: 'typescript' });
    assert.deepEqual((await model.forward(ids)).attention, (await reference.forward(ids)).attention);
  });

  it("'auto' uses WebAssembly where it loads; the backend's description names the kernels", async () => {
    const auto = new BuiltinBackend(defaultModelDir(), 'default');
    const typescript = new BuiltinBackend(defaultModelDir(), { kernels: 'typescript' });
    const fallback = new BuiltinBackend(defaultModelDir(), { kernels: 'auto', loadKernels: failingLoader });
    try {
      assert.equal((await auto.describe()).kernels, 'WebAssembly SIMD');
      assert.equal((await auto.describe()).name, 'default');
      assert.equal((await typescript.describe()).kernels, 'TypeScript');
      assert.equal((await typescript.describe()).name, 'default');
      assert.match((await fallback.describe()).kernels ?? '', /^TypeScript \(WebAssembly SIMD unavailable: simulated/);
    } finally {
      auto.dispose();
      typescript.dispose();
      fallback.dispose();
    }
  });

  it("'wasm' requested where it cannot load is a clear error", async () => {
    await assert.rejects(Gpt2Model.fromFolder(defaultModelDir(), { kernels: 'wasm', loadKernels: failingLoader }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.message, /WebAssembly SIMD kernels were requested \(kernels "wasm"\) but cannot load here: simulated: no WebAssembly SIMD/);
      return true;
    });
    const backend = new BuiltinBackend(defaultModelDir(), { kernels: 'wasm', loadKernels: failingLoader });
    await assert.rejects(backend.describe(), /kernels "wasm"/);
    backend.dispose();
  });
});
