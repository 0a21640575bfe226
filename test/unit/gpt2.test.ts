// The built-in GPT-2 against values computed independently (tools/reference/gpt2_reference.py:
// numpy float64, cross-checked with PyTorch), plus the invariants attention must satisfy, input
// checks, cancellation, and loading model folders (good and broken).
import * as assert from 'node:assert/strict';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, InputError, ModelLoadError } from '../../src/core/errors';
import { parseGpt2Config, type Gpt2Config } from '../../src/core/gpt2/config';
import { Gpt2Model, type Gpt2Output } from '../../src/core/gpt2/model';
import { writeSafetensors, type WritableTensor } from '../../src/core/safetensors';
import referenceJson from '../fixtures/gpt2-reference.json';
import { createRng, randomGpt2Tensors, writeRandomGpt2Folder } from '../support/randomGpt2';

interface ReferenceModel {
  config: Record<string, unknown>;
  tensors: Record<string, { shape: number[]; data: number[] }>;
}
interface ReferenceCase {
  model: string;
  ids: number[];
  usePositionEmbeddings: boolean;
  attentionShape: number[];
  attention: number[];
  hiddenShape: number[];
  hidden: number[];
  lastLogits: number[];
}
const reference = referenceJson as unknown as { models: Record<string, ReferenceModel>; cases: ReferenceCase[] };

const TOLERANCE = 1e-5;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (!(difference <= tolerance)) assert.fail(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${difference} > ${tolerance})`);
  }
}

function referenceTensors(model: ReferenceModel): Map<string, Float32Array> {
  return new Map(Object.entries(model.tensors).map(([name, tensor]) => [name, Float32Array.from(tensor.data)]));
}

function assertMatchesReference(output: Gpt2Output, expected: ReferenceCase, label: string): void {
  assertClose(output.attention, expected.attention, TOLERANCE, `${label} attention`);
  assertClose(output.hidden, expected.hidden, TOLERANCE, `${label} hidden`);
  assertClose(output.lastLogits, expected.lastLogits, TOLERANCE, `${label} lastLogits`);
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ai-gpt2-test-'));
}

/** Writes config.json + model.safetensors; `rename` maps each HF name to the name stored in the file. */
async function writeFolder(
  dir: string,
  config: object,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  rename: (name: string) => string = (name) => name,
  extra: [string, WritableTensor][] = [],
): Promise<void> {
  const file = new Map<string, WritableTensor>();
  for (const [name, tensor] of tensors) file.set(rename(name), { dtype: 'F32', ...tensor });
  for (const [name, tensor] of extra) file.set(name, tensor);
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  await fs.writeFile(path.join(dir, 'model.safetensors'), writeSafetensors(file));
}

function withShapes(model: ReferenceModel): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(Object.entries(model.tensors).map(([name, tensor]) => [name, { shape: tensor.shape, data: Float32Array.from(tensor.data) }]));
}

/** A random GPT-2 with weights large enough for sharp, position-dependent attention. */
function sharpModel(options: { seed: number; layers: number; heads: number; dModel: number; positions: number; vocabSize: number }): Gpt2Model {
  const config = parseGpt2Config({
    n_layer: options.layers, n_head: options.heads, n_embd: options.dModel, n_positions: options.positions, vocab_size: options.vocabSize,
  });
  const tensors = randomGpt2Tensors({ ...options, weightScale: 0.4 });
  return Gpt2Model.fromTensors(config, new Map([...tensors].map(([name, tensor]) => [name, tensor.data])));
}

describe('GPT-2 config.json', () => {
  it('reads the GPT2Config keys and fills in GPT-2 defaults', () => {
    const config = parseGpt2Config({ vocab_size: 50257, n_positions: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_inner: null });
    assert.deepEqual(config, {
      nLayer: 12, nHead: 12, nEmbd: 768, nPositions: 1024, vocabSize: 50257, nInner: 3072, layerNormEpsilon: 1e-5,
      activationFunction: 'gelu_new', scaleAttnWeights: true, scaleAttnByInverseLayerIdx: false, tieWordEmbeddings: true,
      causal: true, layerNorm: true,
    } satisfies Gpt2Config);
  });

  it('reads the teaching extensions "causal" and "layer_norm"', () => {
    const config = parseGpt2Config({ vocab_size: 4, n_positions: 8, n_embd: 1, n_head: 1, n_layer: 1, causal: false, layer_norm: false });
    assert.equal(config.causal, false);
    assert.equal(config.layerNorm, false);
  });

  it('falls back to n_ctx and reads n_inner, epsilon and the activation', () => {
    const config = parseGpt2Config({ vocab_size: 5, n_ctx: 7, n_embd: 6, n_head: 3, n_layer: 1, n_inner: 10, layer_norm_epsilon: 1e-6, activation_function: 'relu' });
    assert.equal(config.nPositions, 7);
    assert.equal(config.nInner, 10);
    assert.equal(config.layerNormEpsilon, 1e-6);
    assert.equal(config.activationFunction, 'relu');
  });

  const invalid: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /must hold a JSON object/],
    ['a missing key', { vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 3 }, /lacks "n_layer"/],
    ['a non-integer', { vocab_size: 5, n_positions: 7, n_embd: 6.5, n_head: 3, n_layer: 1 }, /"n_embd" must be a positive integer, not 6\.5/],
    ['a zero', { vocab_size: 0, n_positions: 7, n_embd: 6, n_head: 3, n_layer: 1 }, /"vocab_size" must be a positive integer, not 0/],
    ['heads that do not divide the width', { vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 4, n_layer: 1 }, /"n_embd" \(6\) must be divisible by "n_head" \(4\)/],
    ['an unknown activation', { vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 3, n_layer: 1, activation_function: 'swish' }, /"activation_function" "swish" is not supported.*gelu_new/],
    ['a bad epsilon', { vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 3, n_layer: 1, layer_norm_epsilon: -1 }, /"layer_norm_epsilon" must be a positive number/],
    ['a non-boolean causal', { vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 3, n_layer: 1, causal: 'no' }, /"causal" must be true or false/],
    ['another architecture', { model_type: 'llama', vocab_size: 5, n_positions: 7, n_embd: 6, n_head: 3, n_layer: 1 }, /model_type "llama".*only GPT-2/],
  ];
  for (const [what, json, pattern] of invalid) {
    it(`rejects ${what} with a ModelLoadError naming the key`, () => {
      assert.throws(() => parseGpt2Config(json, 'my/config.json'), (error: unknown) => {
        assert.ok(error instanceof ModelLoadError);
        assert.match(error.message, /my\/config\.json/);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }
});

describe('GPT-2 forward pass against the independent reference', () => {
  for (const [index, expected] of reference.cases.entries()) {
    const label = `case ${index} (${expected.model}, T=${expected.ids.length}, positions ${expected.usePositionEmbeddings ? 'on' : 'off'})`;
    it(`${label} agrees to 1e-5 via fromTensors`, async () => {
      const model = reference.models[expected.model];
      const gpt2 = Gpt2Model.fromTensors(parseGpt2Config(model.config), referenceTensors(model));
      const output = await gpt2.forward(expected.ids, { usePositionEmbeddings: expected.usePositionEmbeddings });
      assert.deepEqual(expected.attentionShape, [gpt2.config.nLayer, gpt2.config.nHead, expected.ids.length, expected.ids.length]);
      assert.deepEqual(expected.hiddenShape, [expected.ids.length, gpt2.config.nEmbd]);
      assertMatchesReference(output, expected, label);
    });
  }

  for (const prefix of ['', 'transformer.']) {
    it(`agrees after a safetensors round trip through fromFolder (names ${prefix ? 'with' : 'without'} "transformer.")`, async () => {
      const dir = await tempDir();
      try {
        for (const modelName of Object.keys(reference.models)) {
          const model = reference.models[modelName];
          await writeFolder(dir, model.config, withShapes(model), (name) => prefix + name);
          const gpt2 = await Gpt2Model.fromFolder(dir);
          for (const expected of reference.cases.filter((c) => c.model === modelName)) {
            const output = await gpt2.forward(expected.ids, { usePositionEmbeddings: expected.usePositionEmbeddings });
            assertMatchesReference(output, expected, `${modelName} ${expected.ids.join(',')}`);
          }
        }
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('ignores the attn.bias / masked_bias buffers and a tied lm_head.weight', async () => {
    const dir = await tempDir();
    try {
      const model = reference.models.small;
      const tensors = withShapes(model);
      const P = model.config.n_positions as number;
      await writeFolder(dir, model.config, tensors, (name) => `transformer.${name}`, [
        ['transformer.h.0.attn.bias', { dtype: 'F32', shape: [1, 1, P, P], data: new Float32Array(P * P) }],
        ['transformer.h.0.attn.masked_bias', { dtype: 'F32', shape: [], data: Float32Array.from([-1e4]) }],
        ['lm_head.weight', { dtype: 'F32', ...tensors.get('wte.weight')! }],
      ]);
      const expected = reference.cases[0];
      assertMatchesReference(await (await Gpt2Model.fromFolder(dir)).forward(expected.ids), expected, 'with buffers');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('uses lm_head.weight for the logits when tie_word_embeddings is false', async () => {
    const model = reference.models.small;
    const tensors = referenceTensors(model);
    const V = model.config.vocab_size as number;
    const D = model.config.n_embd as number;
    const head = new Float32Array(V * D);
    const rng = createRng(3);
    for (let i = 0; i < head.length; i++) head[i] = rng() - 0.5;
    tensors.set('lm_head.weight', head);
    const gpt2 = Gpt2Model.fromTensors(parseGpt2Config({ ...model.config, tie_word_embeddings: false }), tensors);
    const expected = reference.cases[0];
    const output = await gpt2.forward(expected.ids);
    assertClose(output.hidden, expected.hidden, TOLERANCE, 'hidden is unaffected');
    const last = expected.hidden.slice(-D);
    const logits = Array.from({ length: V }, (_, v) => last.reduce((sum, h, c) => sum + h * head[v * D + c], 0));
    assertClose(output.lastLogits, logits, TOLERANCE, 'untied logits');
  });
});

describe('GPT-2 attention invariants', () => {
  const T = 13;
  const model = sharpModel({ seed: 21, layers: 3, heads: 4, dModel: 16, positions: 32, vocabSize: 40 });
  const rng = createRng(99);
  const ids = Array.from({ length: T }, () => Math.floor(rng() * 40));

  it('every row sums to 1 and every entry above the diagonal is exactly 0', async () => {
    const { attention } = await model.forward(ids);
    assert.equal(attention.length, 3 * 4 * T * T);
    for (let lh = 0; lh < 3 * 4; lh++) {
      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let s = 0; s < T; s++) {
          const value = attention[(lh * T + t) * T + s];
          if (s > t) assert.equal(value, 0, `layer·head ${lh}, (${t}, ${s})`);
          else assert.ok(value >= 0);
          sum += value;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `layer·head ${lh}, row ${t} sums to ${sum}`);
      }
      assert.equal(attention[lh * T * T], 1, 'the first token can only attend to itself');
    }
  });

  it('without position embeddings, swapping two tokens swaps their columns in the rows after both', async () => {
    const [i, j] = [2, 7];
    const swappedIds = ids.slice();
    [swappedIds[i], swappedIds[j]] = [swappedIds[j], swappedIds[i]];
    assert.notEqual(ids[i], ids[j]);
    const swapColumn = (s: number) => (s === i ? j : s === j ? i : s);
    const L = 3, H = 4;

    const original = await model.forward(ids, { usePositionEmbeddings: false });
    const swapped = await model.forward(swappedIds, { usePositionEmbeddings: false });
    // Layer 0 scores depend only on token identities, so a query after both positions (t > j) is
    // the same token looking at the same bag of keys, two of them exchanged. (Deeper layers mix in what the tokens
    // between i and j saw of each other under the causal mask, so they are not a permutation.)
    for (let h = 0; h < H; h++) {
      for (let t = j + 1; t < T; t++) {
        for (let s = 0; s <= t; s++) {
          const a = swapped.attention[(h * T + t) * T + s];
          const b = original.attention[(h * T + t) * T + swapColumn(s)];
          assert.ok(Math.abs(a - b) < 1e-6, `head ${h}, (${t}, ${s}): ${a} vs ${b}`);
        }
      }
    }
    // Rows before both swapped tokens see an unchanged prefix, in every layer.
    for (let lh = 0; lh < L * H; lh++) {
      for (let t = 0; t < i; t++) {
        for (let s = 0; s < T; s++) assert.ok(Math.abs(swapped.attention[(lh * T + t) * T + s] - original.attention[(lh * T + t) * T + s]) < 1e-6);
      }
    }

    // With position embeddings the model can tell where each token stands: no longer a permutation.
    const originalWithPositions = await model.forward(ids);
    const swappedWithPositions = await model.forward(swappedIds);
    let largest = 0;
    for (let t = j + 1; t < T; t++) {
      for (let s = 0; s <= t; s++) {
        largest = Math.max(largest, Math.abs(swappedWithPositions.attention[t * T + s] - originalWithPositions.attention[t * T + swapColumn(s)]));
      }
    }
    assert.ok(largest > 1e-3, `positions should break the symmetry (largest difference ${largest})`);
  });

  it('without position embeddings, a run of one repeated token attends uniformly in every layer and head', async () => {
    const repeated = new Array(9).fill(5);
    const { attention } = await model.forward(repeated, { usePositionEmbeddings: false });
    const n = repeated.length;
    for (let lh = 0; lh < 3 * 4; lh++) {
      for (let t = 0; t < n; t++) for (let s = 0; s <= t; s++) assert.ok(Math.abs(attention[(lh * n + t) * n + s] - 1 / (t + 1)) < 1e-6);
    }
    const withPositions = await model.forward(repeated);
    assert.ok(Math.abs(withPositions.attention[(0 * n + 8) * n + 0] - 1 / 9) > 1e-3, 'positions make the rows non-uniform');
  });

  it('is causal end to end: a prefix gives the same attention and hidden states, also when products run in slices', async () => {
    // D = 128, inner 512, T = 300: the MLP products exceed one slice, so the pass yields mid-product.
    const big = sharpModel({ seed: 4, layers: 1, heads: 4, dModel: 128, positions: 300, vocabSize: 50 });
    const long = Array.from({ length: 300 }, (_, t) => (t * 7 + 3) % 50);
    const prefix = long.slice(0, 37);
    const full = await big.forward(long);
    const short = await big.forward(prefix);
    const [H, Tl, Ts, D] = [4, long.length, prefix.length, 128];
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < Ts; t++) {
        for (let s = 0; s < Ts; s++) {
          assert.ok(Math.abs(full.attention[(h * Tl + t) * Tl + s] - short.attention[(h * Ts + t) * Ts + s]) < 1e-6, `head ${h}, (${t}, ${s})`);
        }
      }
    }
    assertClose(full.hidden.subarray(0, Ts * D), short.hidden, 1e-5, 'hidden');
  });
});

describe('GPT-2 input checks and cancellation', () => {
  const model = sharpModel({ seed: 8, layers: 3, heads: 2, dModel: 8, positions: 10, vocabSize: 12 });

  const bad: [string, number[], RegExp][] = [
    ['no tokens', [], /no tokens/],
    ['more tokens than n_positions', new Array(11).fill(1), /11 tokens.*at most 10 \(n_positions\)/],
    ['an id past the vocabulary', [1, 12], /Token 1 has id 12.*0 to 11/],
    ['a negative id', [-1], /id -1/],
    ['a fractional id', [1.5], /id 1\.5/],
  ];
  for (const [what, ids, pattern] of bad) {
    it(`rejects ${what} with an InputError`, async () => {
      await assert.rejects(model.forward(ids), (error: unknown) => {
        assert.ok(error instanceof InputError, String(error));
        assert.match(error.message, pattern);
        return true;
      });
    });
  }

  it('accepts exactly n_positions tokens and typed arrays of ids', async () => {
    const output = await model.forward(Int32Array.from({ length: 10 }, (_, t) => t));
    assert.equal(output.attention.length, 3 * 2 * 10 * 10);
    assert.equal(output.lastLogits.length, 12);
  });

  it('throws CancelledError when cancelled before or during the run', async () => {
    await assert.rejects(model.forward([1, 2, 3], { cancellation: { isCancellationRequested: true } }), CancelledError);
    let polls = 0;
    const cancelledAfterTwoPolls = { get isCancellationRequested() { return ++polls > 2; } };
    await assert.rejects(model.forward([1, 2, 3], { cancellation: cancelledAfterTwoPolls }), CancelledError);
  });

  it('yields to the event loop during a run, so a cancel request from outside is honoured', async () => {
    const signal = { isCancellationRequested: false };
    const run = model.forward([1, 2, 3, 4], { cancellation: signal });
    setImmediate(() => (signal.isCancellationRequested = true));
    await assert.rejects(run, CancelledError);

    let otherWorkRan = false;
    const finished = model.forward([1, 2, 3, 4]).then(() => otherWorkRan);
    setImmediate(() => (otherWorkRan = true));
    assert.equal(await finished, true, 'a macrotask queued after the call ran before the forward pass finished');
  });
});

describe('GPT-2 model folders', () => {
  let dir: string;
  beforeEach(async () => (dir = await tempDir()));
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  const small = reference.models.small;

  async function assertFolderError(pattern: RegExp): Promise<void> {
    await assert.rejects(Gpt2Model.fromFolder(dir), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  }

  it('explains a missing config.json or model.safetensors', async () => {
    await assertFolderError(/config\.json not found/);
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(small.config));
    await assertFolderError(/model\.safetensors not found/);
  });

  it('explains a config.json that is not JSON', async () => {
    await fs.writeFile(path.join(dir, 'config.json'), '{ "n_layer": 2,');
    await assertFolderError(/config\.json is not valid JSON/);
  });

  it('explains a truncated model.safetensors', async () => {
    await writeFolder(dir, small.config, withShapes(small));
    const file = path.join(dir, 'model.safetensors');
    const bytes = await fs.readFile(file);
    await fs.writeFile(file, bytes.subarray(0, bytes.length - 100));
    await assertFolderError(/model\.safetensors is not a valid safetensors file: .*outside the/);
  });

  it('names a missing tensor and its expected shape', async () => {
    const tensors = withShapes(small);
    tensors.delete('h.1.mlp.c_fc.weight');
    await writeFolder(dir, small.config, tensors, (name) => `transformer.${name}`);
    await assertFolderError(/no tensor "h\.1\.mlp\.c_fc\.weight" \(nor "transformer\.h\.1\.mlp\.c_fc\.weight"\); expected shape \[8, 32\]/);
  });

  it('names a tensor whose shape disagrees with config.json', async () => {
    const tensors = withShapes(small);
    tensors.set('h.0.attn.c_attn.weight', { shape: [24, 8], data: tensors.get('h.0.attn.c_attn.weight')!.data });
    await writeFolder(dir, small.config, tensors);
    await assertFolderError(/"h\.0\.attn\.c_attn\.weight" has shape \[24, 8\], but config\.json implies \[8, 24\]/);
  });

  it('rejects an lm_head.weight whose shape differs from wte', async () => {
    await writeFolder(dir, small.config, withShapes(small), undefined, [['lm_head.weight', { dtype: 'F32', shape: [8, 20], data: new Float32Array(160) }]]);
    await assertFolderError(/"lm_head\.weight" has shape \[8, 20\].*\[20, 8\] \(it is tied to wte\.weight\)/);
  });

  it('rejects weights in an unsupported dtype', async () => {
    const tensors = withShapes(small);
    const wte = tensors.get('wte.weight')!;
    tensors.delete('wte.weight');
    await writeFolder(dir, small.config, tensors, undefined, [['wte.weight', { dtype: 'I32', shape: wte.shape, bytes: new Uint8Array(wte.data.length * 4) }]]);
    await assertFolderError(/"wte\.weight" .* has dtype I32/);
  });

  it('loads half-precision weights (within float16 rounding of the float32 results)', async () => {
    const tensors = new Map<string, WritableTensor>();
    for (const [name, tensor] of withShapes(small)) {
      const half = new Uint8Array(tensor.data.length * 2);
      tensor.data.forEach((value, i) => {
        const bits = toHalfBits(value);
        half[2 * i] = bits & 0xff;
        half[2 * i + 1] = bits >> 8;
      });
      tensors.set(name, { dtype: 'F16', shape: tensor.shape, bytes: half });
    }
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(small.config));
    await fs.writeFile(path.join(dir, 'model.safetensors'), writeSafetensors(tensors));
    const expected = reference.cases[0];
    const output = await (await Gpt2Model.fromFolder(dir)).forward(expected.ids);
    assertClose(output.attention, expected.attention, 5e-3, 'f16 attention');
    assertClose(output.lastLogits, expected.lastLogits, 2e-2, 'f16 logits');
  });

  it('writeRandomGpt2Folder writes a loadable, deterministic folder sized by the tokenizer', async () => {
    const tokenizerJson = { model: { type: 'BPE', vocab: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`t${i}`, i])) }, added_tokens: [{ id: 30, content: '<|endoftext|>' }] };
    const options = { seed: 5, layers: 2, heads: 2, dModel: 8, positions: 16, tokenizerJson };
    await writeRandomGpt2Folder(dir, options);
    const gpt2 = await Gpt2Model.fromFolder(dir);
    assert.equal(gpt2.config.vocabSize, 31);
    assert.deepEqual([gpt2.config.nLayer, gpt2.config.nHead, gpt2.config.nEmbd, gpt2.config.nPositions], [2, 2, 8, 16]);
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'tokenizer.json'), 'utf-8')), tokenizerJson);
    const output = await gpt2.forward([0, 30, 7]);
    assert.equal(output.lastLogits.length, 31);

    const again = await tempDir();
    try {
      await writeRandomGpt2Folder(again, options);
      assert.ok((await fs.readFile(path.join(dir, 'model.safetensors'))).equals(await fs.readFile(path.join(again, 'model.safetensors'))));
      await writeRandomGpt2Folder(again, { ...options, seed: 6 });
      assert.ok(!(await fs.readFile(path.join(dir, 'model.safetensors'))).equals(await fs.readFile(path.join(again, 'model.safetensors'))));
    } finally {
      await fs.rm(again, { recursive: true, force: true });
    }
  });
});

/** float32 -> IEEE half bits, round to nearest (normal range only; the fixture's weights are all in it). */
function toHalfBits(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log2(magnitude));
  const fraction = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  return fraction === 1024 ? sign | ((exponent + 16) << 10) : sign | ((exponent + 15) << 10) | fraction;
}
