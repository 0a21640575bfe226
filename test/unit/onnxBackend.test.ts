// The ONNX backend on the surgery fixtures: models without attention outputs show the same
// attention as their PyTorch reference, encoders are bidirectional, encoder–decoders give three
// labelled groups over a typed or generated target, and what cannot be shown (fused attention,
// corrupt files) says why.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { ModelLoadError } from '../../src/core/errors';
import { exposeModelFile } from '../../src/core/onnx/exposeAttention';
import { repoRoot } from '../support/heldout';
import { maxAbsDifference } from '../support/compare';

const fixture = (name: string) => path.join(repoRoot(), 'test', 'fixtures', 'onnx', name);

interface Reference {
  text: string;
  input_ids: number[];
  target?: string;
  decoder_input_ids?: number[];
  sites: { kind: string; layer: number; causal: boolean; heads: number; dims: number[]; data: number[] }[];
}

function reference(name: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(fixture(name), 'reference.json'), 'utf8')) as Reference;
}

/** max |a - b| between the backend's [L, H, T, T] and the reference's per-layer [H, T, T] sites. */
function maxDifference(attention: Float32Array, sites: Reference['sites']): number {
  const expected = sites.flatMap((site) => site.data);
  assert.equal(expected.length, attention.length, 'the reference covers every layer');
  return maxAbsDifference(attention, expected);
}

describe('ONNX backend with graph surgery', () => {
  const backends: OnnxBackend[] = [];
  const open = (dir: string) => {
    const backend = new OnnxBackend(dir);
    backends.push(backend);
    return backend;
  };
  after(() => backends.forEach((backend) => backend.dispose()));

  it('shows a GPT-2 exported without attention outputs exactly like the PyTorch reference and like its explicit twin', async () => {
    const ref = reference('gpt2-plain');
    const plain = open(fixture('gpt2-plain'));
    const result = await plain.run(ref.text, { maxTokens: 512 });
    assert.deepEqual(result.tokens.map((token) => token.id), ref.input_ids);
    assert.equal(await plain.attentionSource(), 'graph surgery');
    assert.equal(result.causal, true);
    assert.equal(result.model.kind, 'decoder');
    assert.ok(maxDifference(result.attention, ref.sites) <= 1e-5);

    const explicit = open(fixture('gpt2-explicit'));
    const twin = await explicit.run(ref.text, { maxTokens: 512 });
    assert.equal(await explicit.attentionSource(), 'explicit outputs');
    assert.deepEqual(twin.dims, result.dims);
    const worst = maxAbsDifference(result.attention, twin.attention);
    assert.ok(worst <= 1e-6, `surgery and explicit outputs differ by ${worst}`);
  });

  it('shows a BERT-style encoder as bidirectional, with [CLS] and [SEP] labelled', async () => {
    const ref = reference('bert-tiny');
    const result = await open(fixture('bert-tiny')).run(ref.text, { maxTokens: 512 });
    assert.deepEqual(result.tokens.map((token) => token.id), ref.input_ids);
    assert.equal(result.causal, false);
    assert.equal(result.model.kind, 'encoder');
    assert.equal(result.predictions, undefined, 'an encoder makes no next-token guess');
    assert.equal(result.tokens[0].label, '[CLS]');
    assert.equal(result.tokens.at(-1)?.label, '[SEP]');
    assert.deepEqual(result.dims, [2, 2, ref.input_ids.length, ref.input_ids.length]);
    assert.ok(maxDifference(result.attention, ref.sites) <= 1e-5);
  });

  it('shows grouped-query attention per query head', async () => {
    const ref = reference('gqa-tiny');
    const result = await open(fixture('gqa-tiny')).run(ref.text, { maxTokens: 512 });
    assert.equal(result.dims[1], ref.sites[0].heads);
    assert.ok(maxDifference(result.attention, ref.sites) <= 1e-5);
    // Four query heads read two K/V heads: the group says so, so the panel can label heads with their KV group.
    assert.equal(result.groups[0].kvHeads, 2);
  });

  it('loads a model whose weights are in an external data file', async () => {
    const ref = reference('external-data');
    const result = await open(fixture('external-data')).run(ref.text, { maxTokens: 512 });
    assert.ok(maxDifference(result.attention, ref.sites) <= 1e-5);
  });

  it('shows an encoder–decoder as three groups over source and typed target, equal to the PyTorch reference', async () => {
    const ref = reference('encdec-tiny');
    const result = await open(fixture('encdec-tiny')).run(ref.text, { target: ref.target });
    assert.equal(result.model.kind, 'encoder-decoder');
    assert.deepEqual(result.tokens.map((token) => token.id), ref.input_ids);
    assert.ok(result.target && !result.target.generated);
    assert.deepEqual(result.target.tokens.map((token) => token.id), ref.decoder_input_ids, 'decoder input = start token + target without </s>');
    assert.equal(result.target.tokens[0].label, '<pad>');
    assert.deepEqual(result.groups.map((group) => [group.name, group.kind, group.queries, group.keys, group.causal]), [
      ['encoder', 'self', 'source', 'source', false],
      ['decoder', 'masked-self', 'target', 'target', true],
      ['cross', 'cross', 'target', 'source', false],
    ]);
    const S = ref.input_ids.length;
    const Tt = ref.decoder_input_ids!.length;
    const kindOf: Record<string, string> = { encoder: 'encoder-self', decoder: 'decoder-self', cross: 'cross' };
    for (const group of result.groups) {
      const sites = ref.sites.filter((site) => site.kind === kindOf[group.name]).sort((a, b) => a.layer - b.layer);
      assert.deepEqual(group.dims, [sites.length, 4, group.queries === 'source' ? S : Tt, group.keys === 'source' ? S : Tt]);
      assert.ok(maxDifference(group.attention, sites) <= 1e-5, `${group.name} matches PyTorch`);
    }
    assert.equal(result.attention, result.groups[0].attention, 'the top-level attention is the encoder group');
  });

  it('decodes greedily when no target is given, and says so', async () => {
    const backend = open(fixture('encdec-tiny'));
    const result = await backend.run('one two three', {});
    const target = result.target!;
    assert.equal(target.generated, true);
    assert.equal(target.tokens[0].id, 0, 'decoding starts from decoder_start_token_id');
    assert.ok(target.tokens.length >= 1 && target.tokens.length <= 33);
    // The groups are those of the final run, whose decoder input is the whole target.
    assert.equal(result.groups[1].dims[2], target.tokens.length);
    assert.equal(result.groups[2].dims[3], result.tokens.length);
    // Typing the generated text back in gives the same decoder input and attention.
    if (target.tokens.length > 1) {
      const typed = await backend.run('one two three', { target: target.text });
      assert.deepEqual(typed.target!.tokens.map((token) => token.id), target.tokens.map((token) => token.id));
      assert.deepEqual(typed.groups[2].attention, result.groups[2].attention);
    }
    await assert.rejects(backend.run('one two three', { target: '   ' }), /target text is empty/);
  });

  it('explains what it cannot show: fused attention, corrupt files', async () => {
    await assert.rejects(open(fixture('fused-tiny')).run('hello', {}), (error: Error) => {
      const script = /tools\/export\/[\w.]+\.py/.exec(error.message)?.[0];
      // The message points at the export script, and that script is really there.
      return error instanceof ModelLoadError && /MultiHeadAttention/.test(error.message) && /eager/.test(error.message) &&
        script !== undefined && fs.existsSync(path.join(repoRoot(), script));
    });

    const corrupt = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-corrupt-onnx-'));
    fs.copyFileSync(path.join(fixture('gpt2-plain'), 'tokenizer.json'), path.join(corrupt, 'tokenizer.json'));
    fs.writeFileSync(path.join(corrupt, 'model.onnx'), Buffer.from('this is not a protobuf model, just some text that ends abruptly'));
    const backend = open(corrupt);
    await assert.rejects(backend.run('hello', {}), (error: Error) => error instanceof ModelLoadError && error.message.includes('model.onnx'));
    // The failure is not cached: after the file is fixed, the same backend loads it.
    fs.copyFileSync(path.join(fixture('gpt2-plain'), 'model.onnx'), path.join(corrupt, 'model.onnx'));
    const fixed = await backend.run('Hello', {});
    assert.equal(fixed.causal, true);
  });
});

describe('the shipped encoder–decoder demo (media/models/dates)', () => {
  it('turns a date into ISO form by greedy decoding, and its cross-attention links each output to the source', async () => {
    const backend = new OnnxBackend(path.join(repoRoot(), 'media', 'models', 'dates'));
    try {
      const result = await backend.run('the 5th of March, 2021', {});
      assert.equal(result.target?.text, '2021-03-05');
      const cross = result.groups.find((group) => group.name === 'cross')!;
      const [L, H, Tq, Tk] = cross.dims;
      assert.deepEqual([Tq, Tk], [result.target!.tokens.length, result.tokens.length]);
      // Row t of the decoder predicts target token t + 1, so the row before the month's last digit
      // ("2021-0|3") should look at "March" and the row before the day's last digit ("2021-03-0|5")
      // at "5": averaged over layer 0's heads, each is the row's strongest source token.
      const strongestSource = (row: number) => {
        const mean = new Float32Array(Tk);
        for (let h = 0; h < H; h++) for (let s = 0; s < Tk; s++) mean[s] += cross.attention[((0 * H + h) * Tq + row) * Tk + s] / H;
        return result.tokens[mean.indexOf(Math.max(...mean))].text;
      };
      const ids = result.target!.tokens;
      assert.equal(ids[7].text, '3');
      assert.equal(ids[10].text, '5');
      assert.equal(strongestSource(6), 'March');
      assert.equal(strongestSource(9), '5');
      assert.ok(L >= 1);
    } finally {
      backend.dispose();
    }
  });

  it('is found by surgery: encoder self, masked decoder self and cross attention in every layer', async () => {
    const exposed = await exposeModelFile(path.join(repoRoot(), 'media', 'models', 'dates', 'model.onnx'));
    const kinds = exposed.sites.map((site) => `${site.kind}${site.layerIndex}${site.causal ? '*' : ''}`);
    assert.deepEqual(kinds.filter((kind) => kind.startsWith('encoder')), ['encoder-self0', 'encoder-self1']);
    assert.deepEqual(kinds.filter((kind) => kind.startsWith('decoder')), ['decoder-self0*', 'decoder-self1*']);
    assert.deepEqual(kinds.filter((kind) => kind.startsWith('cross')), ['cross0', 'cross1']);
    assert.equal(exposed.fusedOperator, undefined);
    for (const site of exposed.sites.filter((s) => s.kind === 'cross')) {
      assert.ok(site.keyValueInputs.includes('input_ids') && !site.keyValueInputs.includes('decoder_input_ids'), 'cross K/V come from the encoder');
      assert.ok(site.queryInputs.includes('decoder_input_ids'), 'cross Q comes from the decoder');
    }
  });
});
