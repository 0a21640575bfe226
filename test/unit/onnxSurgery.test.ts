// Graph surgery on the fixture models of test/fixtures/onnx (made by tools/fixtures/make_onnx_fixtures.py):
// the attention found inside each graph, run in onnxruntime, must equal PyTorch's for the same input.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { InputError, ModelLoadError } from '../../src/core/errors';
import { explicitAttentionOutputs, findAttention, kvGroupOf, looksCausal } from '../../src/core/onnx/attentionFinder';
import { type ExposeOptions, type ExposedModel, exposeAttention, exposeModelFile, noAttentionMessage } from '../../src/core/onnx/exposeAttention';
import { siteLayout } from '../../src/core/onnx/siteTensors';
import { detectFusedAttention, fusedAttentionMessage } from '../../src/core/onnx/fusedOps';
import { type GraphInput, graphInputs, planInputs, toOrtFeeds } from '../../src/core/onnx/inputs';
import { DataType, type ModelProto, type NodeProto, decodeModel, encodeModel, readModelFile } from '../../src/core/onnx/onnxModel';
import { seededRandom } from '../../src/core/random';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { maxAbsDifference } from '../support/compare';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');

interface ReferenceSite { kind: string; layer: number; causal: boolean; heads: number; kvHeads?: number; dims: number[]; data: number[] }
interface Reference { text: string; input_ids: number[]; decoder_input_ids?: number[]; target?: string; sites: ReferenceSite[] }

function fixtureDir(name: string): string {
  // Tests run from dist/test/unit (bundled) or from the sources; find the fixtures either way.
  for (const candidate of [FIXTURES, path.join(process.cwd(), 'test', 'fixtures', 'onnx')]) {
    if (fs.existsSync(path.join(candidate, name))) return path.join(candidate, name);
  }
  throw new Error(`Fixture ${name} not found.`);
}

function reference(name: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(fixtureDir(name), 'reference.json'), 'utf8')) as Reference;
}

async function exposeFixture(name: string, options: ExposeOptions = {}): Promise<ExposedModel> {
  const dir = fixtureDir(name);
  return exposeAttention(fs.readFileSync(path.join(dir, 'model.onnx')), { modelDir: dir, ...options });
}

async function runExposed(exposed: ExposedModel, ref: Reference): Promise<InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(exposed.bytes, exposed.sessionOptions);
  try {
    return await session.run(toOrtFeeds(ort, planInputs(exposed.inputs, ref.input_ids, { decoderIds: ref.decoder_input_ids })));
  } finally {
    await session.release();
  }
}


/** Batch 0 of a site's tensor as [H, T, S]: [1, H, T, S] and BART's [1*H, T, S] share that layout. */
function headMaps(tensor: Tensor): { dims: number[]; data: Float32Array } {
  const { heads, queries, keys } = siteLayout(tensor.dims);
  return { dims: [heads, queries, keys], data: tensor.data as Float32Array };
}

const SURGERY_FIXTURES = ['gpt2-plain', 'gpt2-explicit', 'bert-tiny', 'encdec-tiny', 'gqa-tiny', 'gqa-hf-view', 'external-data'];

describe('ONNX graph surgery: attention equals PyTorch', () => {
  for (const name of SURGERY_FIXTURES) {
    it(`${name}: every exposed Softmax matches the reference to 1e-5, with kinds, order and heads`, async () => {
      const ref = reference(name);
      const exposed = await exposeFixture(name);
      assert.equal(exposed.sites.length, ref.sites.length);
      const results = await runExposed(exposed, ref);
      exposed.sites.forEach((site, i) => {
        const expected = ref.sites[i];
        assert.deepEqual([site.kind, site.layerIndex, site.causal, site.heads], [expected.kind, expected.layer, expected.causal, expected.heads], `site ${i} (${site.output})`);
        assert.equal(site.kvHeads, expected.kvHeads);
        const { dims, data } = headMaps(results[site.output] as Tensor);
        assert.deepEqual(dims, expected.dims);
        const difference = maxAbsDifference(data, expected.data);
        assert.ok(difference < 1e-5, `site ${i} (${site.output}) differs by ${difference}`);
        assert.equal(looksCausal(data, dims), expected.causal, `site ${i} causality seen in the weights`);
      });
    });
  }

  it('gpt2-plain by surgery gives the same attention as gpt2-explicit\'s own attentions output (1e-6)', async () => {
    const ref = reference('gpt2-plain');
    const explicitModel = await exposeFixture('gpt2-explicit');
    assert.deepEqual(explicitModel.explicit, ['attentions']);
    const stacked = (await runExposed(explicitModel, ref)).attentions as Tensor;
    const [L, B, H, T] = stacked.dims;
    assert.deepEqual([L, B, H], [2, 1, 4]);
    const plain = await exposeFixture('gpt2-plain');
    assert.deepEqual(plain.explicit, []);
    const results = await runExposed(plain, ref);
    plain.sites.forEach((site, layer) => {
      const exposedData = (results[site.output] as Tensor).data as Float32Array;
      const explicitData = (stacked.data as Float32Array).subarray(layer * H * T * T, (layer + 1) * H * T * T);
      assert.ok(maxAbsDifference(exposedData, explicitData) <= 1e-6, `layer ${layer}`);
    });
  });

  it('labels the encoder–decoder sites with the inputs their queries and keys come from', async () => {
    const { sites } = await exposeFixture('encdec-tiny');
    const cross = sites.filter((site) => site.kind === 'cross');
    assert.equal(cross.length, 2);
    for (const site of cross) {
      assert.ok(site.queryInputs.includes('decoder_input_ids'));
      assert.ok(!site.keyValueInputs.includes('decoder_input_ids'), 'cross K/V come from the encoder only');
    }
    const encoder = sites.filter((site) => site.kind === 'encoder-self');
    for (const site of encoder) assert.ok(!site.queryInputs.includes('decoder_input_ids'));
  });

  it('finds causal masks in the graph: a tril constant (GPT-2), a Trilu (GQA), a position comparison (Marian)', async () => {
    const evidence = async (name: string) => (await exposeFixture(name)).sites.filter((site) => site.kind === 'decoder-self').map((site) => site.causalEvidence);
    assert.deepEqual(await evidence('gpt2-plain'), ['triangular-constant', 'triangular-constant']);
    assert.deepEqual(await evidence('gqa-tiny'), ['trilu', 'trilu']);
    assert.deepEqual(await evidence('encdec-tiny'), ['position-comparison', 'position-comparison']);
    assert.deepEqual((await exposeFixture('bert-tiny')).sites.map((site) => site.causalEvidence), [undefined, undefined]);
  });

  it('labels every GQA query head with its KV group', async () => {
    const { sites } = await exposeFixture('gqa-tiny');
    for (const site of sites) {
      assert.deepEqual([site.heads, site.kvHeads], [4, 2]);
      assert.deepEqual([0, 1, 2, 3].map((h) => kvGroupOf(h, site.heads!, site.kvHeads!)), [0, 0, 1, 1]);
    }
  });

  it('infers GQA K/V heads from the graph alone when heads are shaped with view(B, T, -1, D) and there is no config.json', async () => {
    // transformers' Llama states no head count in its Reshapes: heads = projection width / head size (q 32/8, k 16/8).
    assert.equal(fs.existsSync(path.join(fixtureDir('gqa-hf-view'), 'config.json')), false);
    const { sites } = await exposeFixture('gqa-hf-view');
    assert.equal(sites.length, 2);
    for (const site of sites) assert.deepEqual([site.heads, site.kvHeads], [4, 2], site.output);
    const backend = new OnnxBackend(fixtureDir('gqa-hf-view'));
    try {
      const result = await backend.run(reference('gqa-hf-view').text, {});
      assert.equal(result.groups[0].kvHeads, 2, 'the K/V-group labels reach the result');
    } finally {
      backend.dispose();
    }
  });

  it('keeps the model bytes and appends outputs only (no re-encoding) when there is no external data', async () => {
    const original = fs.readFileSync(path.join(fixtureDir('bert-tiny'), 'model.onnx'));
    const exposed = await exposeFixture('bert-tiny');
    assert.equal(exposed.externalData, 'none');
    assert.ok(Buffer.from(exposed.bytes.subarray(0, original.length)).equals(original));
    // onnxruntime merges the appended graph into the original one, as protobuf parsers must.
    const session = await ort.InferenceSession.create(exposed.bytes);
    assert.deepEqual(session.outputNames, ['last_hidden_state', ...exposed.sites.map((site) => site.output)]);
    await session.release();
  });

  it('numbers layers by data flow even when the stored node order is not topological', () => {
    const model = decodeModel(fs.readFileSync(path.join(fixtureDir('encdec-tiny'), 'model.onnx')));
    const byKind = (sites: ReturnType<typeof findAttention>['sites']) => sites.map((site) => `${site.kind} ${site.layerIndex} ${site.output}`).sort();
    const expected = byKind(findAttention(model).sites);
    model.graph!.node = [...model.graph!.node!].reverse();
    assert.deepEqual(byKind(findAttention(decodeModel(encodeModel(model))).sites), expected);
  });

  it('refuses a graph that reads a tensor nothing produces', () => {
    const model = decodeModel(fs.readFileSync(path.join(fixtureDir('bert-tiny'), 'model.onnx')));
    model.graph!.node = [...model.graph!.node!].reverse();
    model.graph!.node[0].input = ['nobody_makes_this'];
    assert.throws(() => findAttention(model), (error: Error) => error instanceof ModelLoadError && /nobody_makes_this/.test(error.message));
  });
});

/**
 * A hand-made graph: x [N, T, D] -> q, k, v by identity projections; P = Softmax(q·kᵀ) -> P·v; plus a
 * Softmax over `logits` that is not attention. `softmaxAxis` undefined leaves the opset's default.
 */
function syntheticModel(opset: number, softmaxAxis: number | undefined, extraNodes: NodeProto[] = []): ModelProto {
  const [N, T, D] = [2, 3, 4];
  const floatInput = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } });
  const identity = (name: string) => ({ name, dims: [D, D], dataType: DataType.FLOAT, floatData: Array.from({ length: D * D }, (_, i) => (i % (D + 1) === 0 ? 1 : 0)) });
  const axis = softmaxAxis === undefined ? [] : [{ name: 'axis', type: 2, i: softmaxAxis }];
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'synthetic',
      input: [floatInput('x', [N, T, D]), floatInput('logits', [N, 5])],
      initializer: [identity('wq'), identity('wk'), identity('wv')],
      node: [
        { opType: 'MatMul', input: ['x', 'wq'], output: ['q'] },
        { opType: 'MatMul', input: ['x', 'wk'], output: ['k'] },
        { opType: 'MatMul', input: ['x', 'wv'], output: ['v'] },
        { opType: 'Transpose', input: ['k'], output: ['kt'], attribute: [{ name: 'perm', type: 7, ints: [0, 2, 1] }] },
        { opType: 'MatMul', input: ['q', 'kt'], output: ['scores'] },
        { opType: 'Softmax', input: ['scores'], output: ['p'], attribute: axis, name: 'attention_softmax' },
        { opType: 'MatMul', input: ['p', 'v'], output: ['o'] },
        { opType: 'Softmax', input: ['logits'], output: ['probs'], attribute: [{ name: 'axis', type: 2, i: -1 }] },
        ...extraNodes,
      ],
      output: [floatInput('o', [N, T, D]), floatInput('probs', [N, 5])],
    },
  };
}

describe('ONNX attention finder on hand-made graphs', () => {
  it('finds only the Softmax that feeds P·V, and its probabilities are softmax(q·kᵀ)', async () => {
    const bytes = encodeModel(syntheticModel(14, -1));
    const exposed = await exposeAttention(bytes);
    assert.deepEqual(exposed.sites.map((site) => [site.output, site.kind, site.causal, site.nodeName]), [['p', 'encoder-self', false, 'attention_softmax']]);
    assert.deepEqual([exposed.sites[0].queryInputs, exposed.sites[0].keyValueInputs], [['x'], ['x']]);
    const random = seededRandom(7);
    const x = Float32Array.from({ length: 2 * 3 * 4 }, () => random() * 2 - 1);
    const session = await ort.InferenceSession.create(exposed.bytes);
    const results = await session.run({ x: new ort.Tensor('float32', x, [2, 3, 4]), logits: new ort.Tensor('float32', new Float32Array(10), [2, 5]) });
    await session.release();
    const p = results.p.data as Float32Array;
    // [T, D] x [D, T] -> [T, T] per batch n, then a softmax over each row.
    for (let n = 0; n < 2; n++) {
      for (let t = 0; t < 3; t++) {
        const scores = [0, 1, 2].map((s) => {
          let dot = 0;
          for (let d = 0; d < 4; d++) dot += x[(n * 3 + t) * 4 + d] * x[(n * 3 + s) * 4 + d];
          return dot;
        });
        const total = scores.reduce((sum, score) => sum + Math.exp(score), 0);
        scores.forEach((score, s) => assert.ok(Math.abs(p[(n * 3 + t) * 3 + s] - Math.exp(score) / total) < 1e-6));
      }
    }
  });

  it('ignores a Softmax over the wrong axis (opset 12 defaults to axis 1) and explains when nothing is found', async () => {
    const exposed = await exposeAttention(encodeModel(syntheticModel(12, undefined)));
    assert.deepEqual(exposed.sites, []);
    assert.match(noAttentionMessage(exposed, 'tiny') ?? '', /tiny has no attention outputs and no attention Softmax/);
    assert.equal(findAttention(syntheticModel(12, 2)).sites.length, 1);
  });

  it('counts Softmax nodes hidden in If subgraphs and says why they cannot be shown', async () => {
    const branch = { name: 'branch', node: [{ opType: 'Softmax', input: ['x'], output: ['y'] }], output: [{ name: 'y' }] };
    const model = syntheticModel(14, 1, [{ opType: 'If', input: ['flag'], output: ['z'], attribute: [{ name: 'then_branch', type: 5, g: branch }, { name: 'else_branch', type: 5, g: branch }] }]);
    model.graph!.input!.push({ name: 'flag', type: { tensorType: { elemType: DataType.BOOL, shape: { dim: [] } } } });
    const exposed = await exposeAttention(encodeModel(model));
    assert.equal(exposed.softmaxInSubgraphs, 2);
    assert.match(noAttentionMessage(exposed) ?? '', /inside If\/Loop subgraphs \(2 Softmax nodes\)/);
  });
});

describe('ONNX external data', () => {
  it('loads model.onnx.data by inlining it, or by pointing onnxruntime at the folder', async () => {
    const ref = reference('external-data');
    const fromFile = await exposeModelFile(path.join(fixtureDir('external-data'), 'model.onnx'));
    assert.equal(fromFile.externalData, 'inline');
    assert.equal(fromFile.sites.length, 2);
    for (const mode of ['inline', 'reference'] as const) {
      const exposed = await exposeFixture('external-data', { externalData: mode });
      assert.equal(exposed.externalData, mode);
      const results = await runExposed(exposed, ref);
      assert.ok(maxAbsDifference((results[exposed.sites[0].output] as Tensor).data as Float32Array, ref.sites[0].data) < 1e-5, mode);
    }
  });

  it('says which external data file is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-onnx-external-'));
    fs.copyFileSync(path.join(fixtureDir('external-data'), 'model.onnx'), path.join(dir, 'model.onnx'));
    await assert.rejects(
      exposeAttention(fs.readFileSync(path.join(dir, 'model.onnx')), { modelDir: dir, externalData: 'inline' }),
      (error: Error) => error instanceof ModelLoadError && /model\.onnx\.data, which is missing/.test(error.message),
    );
    await assert.rejects(exposeAttention(fs.readFileSync(path.join(dir, 'model.onnx'))), (error: Error) => error instanceof ModelLoadError && /external data/.test(error.message));
  });
});

describe('ONNX models that cannot be inspected', () => {
  it('names a fused attention operator and explains how to re-export', async () => {
    const { model } = await readModelFile(path.join(fixtureDir('fused-tiny'), 'model.onnx'));
    assert.equal(detectFusedAttention(model), 'com.microsoft.MultiHeadAttention');
    assert.deepEqual(findAttention(model).sites, []);
    const message = fusedAttentionMessage('com.microsoft.MultiHeadAttention');
    assert.match(message, /com\.microsoft\.MultiHeadAttention/);
    assert.match(message, /attn_implementation="eager"/);
    const exposed = await exposeFixture('fused-tiny');
    assert.equal(exposed.fusedOperator, 'com.microsoft.MultiHeadAttention');
    for (const name of ['gpt2-plain', 'bert-tiny', 'encdec-tiny', 'gqa-tiny']) {
      assert.equal(detectFusedAttention(decodeModel(fs.readFileSync(path.join(fixtureDir(name), 'model.onnx')))), undefined, name);
    }
  });

  it('rejects random bytes, truncated files and missing files with a ModelLoadError', async () => {
    const random = seededRandom(42);
    const original = fs.readFileSync(path.join(fixtureDir('gpt2-plain'), 'model.onnx'));
    const corrupt: Array<[string, Uint8Array]> = [
      ['random', Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256))],
      ['truncated', original.subarray(0, Math.floor(original.length / 2))],
      ['cut short', original.subarray(0, 100)],
      ['empty', new Uint8Array(0)],
      ['text', new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n')],
    ];
    for (const [label, bytes] of corrupt) {
      await assert.rejects(exposeAttention(bytes, { source: 'broken/model.onnx' }),
        (error: Error) => error instanceof ModelLoadError && /broken\/model\.onnx is not a valid ONNX model/.test(error.message), label);
    }
    await assert.rejects(readModelFile('/definitely/not/here/model.onnx'), (error: Error) => error instanceof ModelLoadError && /not found/.test(error.message));
    await assert.rejects(exposeModelFile('/definitely/not/here/model.onnx'), (error: Error) => error instanceof ModelLoadError && /not found/.test(error.message));
    assert.throws(() => siteLayout([2, 4, 5, 5], 'attn'), (error: Error) => error instanceof ModelLoadError && /attn has shape \[2, 4, 5, 5\]/.test(error.message));
  });
});

describe('ONNX inputs', () => {
  const input = (name: string, elemType: number, dims: GraphInput['dims']): GraphInput => ({ name, elemType, dims });

  it('reads names, element types and shapes from the graph', async () => {
    const gqa = (await exposeFixture('gqa-tiny')).inputs;
    assert.deepEqual(gqa.map((graphInput) => [graphInput.name, graphInput.elemType]), [
      ['input_ids', DataType.INT32], ['past_key_values.0.key', DataType.FLOAT], ['past_key_values.0.value', DataType.FLOAT],
      ['past_key_values.1.key', DataType.FLOAT], ['past_key_values.1.value', DataType.FLOAT],
    ]);
    assert.deepEqual(gqa[1].dims, ['batch', 2, 'past_sequence', 8]);
    const bert = graphInputs(decodeModel(fs.readFileSync(path.join(fixtureDir('bert-tiny'), 'model.onnx'))));
    assert.deepEqual(bert.map((graphInput) => graphInput.name), ['input_ids', 'attention_mask', 'token_type_ids']);
  });

  it('fills ids, masks, types, positions, decoder ids and an empty past', () => {
    const feeds = planInputs([
      input('input_ids', DataType.INT32, ['batch', 'sequence']),
      input('attention_mask', DataType.INT64, ['batch', 'sequence']),
      input('token_type_ids', DataType.INT64, ['batch', 'sequence']),
      input('position_ids', DataType.INT64, ['batch', 'sequence']),
      input('decoder_input_ids', DataType.INT64, ['batch', 'target']),
      input('past_key_values.0.key', DataType.FLOAT16, ['batch', 2, 'past', 8]),
      input('use_cache_branch', DataType.BOOL, [1]),
    ], [5, 6, 7], { decoderIds: [0, 9] });
    const byName = new Map(feeds.map((feed) => [feed.name, feed]));
    assert.deepEqual(Array.from(byName.get('input_ids')!.data as Int32Array), [5, 6, 7]);
    assert.equal(byName.get('input_ids')!.type, 'int32');
    assert.deepEqual(byName.get('input_ids')!.dims, [1, 3]);
    assert.deepEqual(Array.from(byName.get('attention_mask')!.data as BigInt64Array, Number), [1, 1, 1]);
    assert.deepEqual(Array.from(byName.get('token_type_ids')!.data as BigInt64Array, Number), [0, 0, 0]);
    assert.deepEqual(Array.from(byName.get('position_ids')!.data as BigInt64Array, Number), [0, 1, 2]);
    assert.deepEqual(Array.from(byName.get('decoder_input_ids')!.data as BigInt64Array, Number), [0, 9]);
    assert.deepEqual(byName.get('decoder_input_ids')!.dims, [1, 2]);
    assert.deepEqual([byName.get('past_key_values.0.key')!.dims, byName.get('past_key_values.0.key')!.type], [[1, 2, 0, 8], 'float16']);
    assert.deepEqual([byName.get('use_cache_branch')!.type, Array.from(byName.get('use_cache_branch')!.data as Uint8Array)], ['bool', [0]]);
  });

  it('lists every input it cannot fill, and explains fixed past lengths, fixed sequence lengths and missing decoder ids', () => {
    assert.throws(() => planInputs([input('input_ids', DataType.INT64, ['b', 's']), input('pixel_values', DataType.FLOAT, undefined), input('encoder_hidden_states', DataType.FLOAT, undefined)], [1]),
      (error: Error) => error instanceof ModelLoadError && /cannot fill: pixel_values, encoder_hidden_states\./.test(error.message));
    assert.throws(() => planInputs([input('past_key_values.0.key', DataType.FLOAT, [1, 2, 16, 8])], [1]),
      (error: Error) => error instanceof ModelLoadError && /past_key_values\.0\.key.*\[1, 2, 16, 8\].*past length be 0/.test(error.message));
    assert.throws(() => planInputs([input('input_ids', DataType.INT64, [1, 8])], [1, 2, 3]),
      (error: Error) => error instanceof InputError && /exactly 8 tokens/.test(error.message));
    assert.throws(() => planInputs([input('decoder_input_ids', DataType.INT64, ['b', 't'])], [1, 2]),
      (error: Error) => error instanceof InputError && /decoder_input_ids/.test(error.message));
  });
});

describe('attention outputs and causality', () => {
  it('orders explicit attention outputs: stacked first, then per group and layer', () => {
    assert.deepEqual(
      explicitAttentionOutputs(['logits', 'cross_attentions.1', 'attentions.10', 'attentions.2', 'decoder_attentions', 'present.0.key', 'encoder_attentions.0', 'attentions']),
      ['attentions', 'attentions.2', 'attentions.10', 'encoder_attentions.0', 'decoder_attentions', 'cross_attentions.1'],
    );
  });

  it('sees causality in weights, with or without a past', () => {
    // [T=2, S=3] with a past of one key: query 0 may see keys 0..1, query 1 keys 0..2.
    assert.equal(looksCausal([0.5, 0.5, 0, 0.2, 0.3, 0.5], [2, 3]), true);
    assert.equal(looksCausal([0.5, 0.4, 0.1, 0.2, 0.3, 0.5], [2, 3]), false);
    assert.equal(looksCausal([1, 0, 0.5, 0.5], [1, 2, 2]), true);
  });
});

describe('fixture tokenizers', () => {
  for (const name of ['gpt2-plain', 'bert-tiny', 'encdec-tiny', 'gqa-tiny']) {
    it(`${name}: tokenizer.json turns the reference text into the reference ids`, async () => {
      const ref = reference(name);
      const tokenizer = await TextTokenizer.fromFile(fixtureDir(name));
      assert.deepEqual(tokenizer.encode(ref.text).map((token) => token.id), ref.input_ids);
    });
  }
});
