// The export guide with the REAL transformers: tiny random-weight checkpoints built from configs
// (tools/export/tiny_checkpoints.py: GPT-2, a Llama-style grouped-query model, a head-less BERT base
// model, T5; no download), exported by tools/export/hf_to_model_folder.py and read back by the ONNX
// backend, whose attention must equal PyTorch's eager attention.
//
// Runs in the `export-hf` stage of `npm test` (scripts/test.js), which makes the virtual environment
// with tools/export/venv.sh and passes its python as EXPORT_PYTHON; without it the suite is skipped.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import type { AttentionResult } from '../../src/core/types';
import { maxAbsDifference } from '../support/compare';
import { bundledModelDir, repoRoot } from '../support/heldout';

const root = repoRoot();
const exportDir = path.join(root, 'tools', 'export');
const bundledTokenizer = path.join(bundledModelDir(), 'tokenizer.json');
const TEXT = 'The cat sat on the mat because it was tired.';
const TARGET = 'A tired cat sat.';
const TOLERANCE = 1e-4;
/** Known-harmless warnings the exporter hides, and what a wrongly chosen head prints. */
const NOISE = /TracerWarning|aten::index|MISSING|newly initiali[sz]ed/;

interface Reference {
  input_ids: number[];
  decoder_input_ids?: number[];
  attentions?: number[][];
  encoder_attentions?: number[][];
  decoder_attentions?: number[][];
  cross_attentions?: number[][];
}

function run(python: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const done = spawnSync(python, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  if (done.error) throw done.error;
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}

function worst(attention: Float32Array, layers: number[][] | undefined): number {
  assert.ok(layers, 'PyTorch returned this attention');
  const expected = layers.flat();
  assert.equal(attention.length, expected.length, 'as many weights as PyTorch');
  return maxAbsDifference(attention, expected);
}

describe('export guide with real transformers: tiny checkpoints exported and shown as PyTorch computes them', function () {
  this.timeout(300_000);
  const python = process.env.EXPORT_PYTHON;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-hf-'));
  const checkpoints = path.join(work, 'checkpoints');
  const folders = path.join(work, 'folders');
  const backends: OnnxBackend[] = [];
  const exported = new Map<string, { stdout: string; stderr: string; seconds: number }>();

  const reference = (name: string) => JSON.parse(fs.readFileSync(path.join(checkpoints, name, 'reference.json'), 'utf8')) as Reference;
  const open = async (dir: string, target?: string): Promise<AttentionResult> => {
    const backend = new OnnxBackend(dir);
    backends.push(backend);
    return backend.run(TEXT, target === undefined ? {} : { target });
  };

  before(async function () {
    if (!python) this.skip();
    const tokenizer = await TextTokenizer.fromFile(bundledTokenizer);
    const ids = tokenizer.encode(TEXT).map((token) => token.id);
    // The backend's typed target: the decoder start (T5: 0), then the target's tokens without special ones.
    const decoderIds = [0, ...tokenizer.encode(TARGET).filter((token) => token.label === undefined).map((token) => token.id)];
    const made = run(python!, [path.join(exportDir, 'tiny_checkpoints.py'), checkpoints, '--tokenizer', bundledTokenizer,
      '--ids', ids.join(','), '--decoder-ids', decoderIds.join(',')]);
    assert.equal(made.status, 0, made.stderr);
    for (const name of ['gpt2', 'llama-gqa', 'bert-base', 't5']) {
      const started = Date.now();
      const ran = run(python!, [path.join(exportDir, 'hf_to_model_folder.py'), path.join(checkpoints, name), path.join(folders, name),
        ...(name === 'llama-gqa' ? ['--check'] : [])]);
      assert.equal(ran.status, 0, `${name}: ${ran.stderr}`);
      exported.set(name, { stdout: ran.stdout, stderr: ran.stderr, seconds: (Date.now() - started) / 1000 });
    }
  });
  after(() => {
    backends.forEach((backend) => backend.dispose());
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('exports without the known-harmless TracerWarnings and aten::index warning, and without MISSING weights', () => {
    for (const [name, { stderr }] of exported) assert.doesNotMatch(stderr, NOISE, `${name} printed:\n${stderr}`);
  });

  it('GPT-2: causal self-attention equal to PyTorch eager to 1e-4, named after its folder', async () => {
    const result = await open(path.join(folders, 'gpt2'));
    const ref = reference('gpt2');
    assert.deepEqual(result.tokens.map((token) => token.id), ref.input_ids);
    assert.equal(result.causal, true);
    assert.equal(result.model.name, 'gpt2', 'the folder\'s name, not config.json\'s _name_or_path');
    const difference = worst(result.attention, ref.attentions);
    assert.ok(difference <= TOLERANCE, `attention differs from PyTorch by ${difference}`);
  });

  it('Llama-style GQA: attention equal to PyTorch, --check passes, and 2 K/V heads for 4 query heads even without config.json', async () => {
    const { stdout } = exported.get('llama-gqa')!;
    assert.match(stdout, /max \|attention difference\| \S+ over 2 tensors/);
    const folder = path.join(folders, 'llama-gqa');
    const ref = reference('llama-gqa');
    const withConfig = await open(folder);
    assert.deepEqual(withConfig.dims.slice(0, 2), [2, 4]);
    assert.equal(withConfig.groups[0].kvHeads, 2);
    const difference = worst(withConfig.attention, ref.attentions);
    assert.ok(difference <= TOLERANCE, `attention differs from PyTorch by ${difference}`);

    const bare = path.join(work, 'llama-gqa-no-config');
    fs.mkdirSync(bare);
    for (const file of ['model.onnx', 'tokenizer.json']) fs.copyFileSync(path.join(folder, file), path.join(bare, file));
    const fromGraph = await open(bare);
    assert.equal(fromGraph.groups[0].kvHeads, 2, 'K/V heads inferred from the graph (K projection width / head size)');
    assert.equal(fromGraph.causal, true);
    assert.ok(worst(fromGraph.attention, ref.attentions) <= TOLERANCE);
  });

  it('BERT base model (no head): --task auto exports it as an encoder, bidirectional attention equal to PyTorch', async () => {
    const { stdout, stderr } = exported.get('bert-base')!;
    assert.match(stderr, /loading \S+ as encoder with eager attention/);
    assert.match(stdout, /outputs: last_hidden_state\n/);
    const result = await open(path.join(folders, 'bert-base'));
    assert.equal(result.model.kind, 'encoder');
    assert.equal(result.causal, false);
    assert.equal(result.predictions, undefined);
    const difference = worst(result.attention, reference('bert-base').attentions);
    assert.ok(difference <= TOLERANCE, `attention differs from PyTorch by ${difference}`);
  });

  it('T5: encoder, masked decoder and cross attention (relative position bias) equal to PyTorch over a typed target', async () => {
    const ref = reference('t5');
    const result = await open(path.join(folders, 't5'), TARGET);
    assert.equal(result.model.kind, 'encoder-decoder');
    assert.deepEqual(result.target?.tokens.map((token) => token.id), ref.decoder_input_ids);
    const byName = new Map(result.groups.map((group) => [group.name, group]));
    const expected = { encoder: ref.encoder_attentions, decoder: ref.decoder_attentions, cross: ref.cross_attentions };
    for (const [group, layers] of Object.entries(expected)) {
      const shown = byName.get(group as 'encoder');
      assert.ok(shown, `a ${group} group`);
      const difference = worst(shown.attention, layers);
      assert.ok(difference <= TOLERANCE, `${group} attention differs from PyTorch by ${difference}`);
    }
  });

  it('reports export times', () => {
    for (const [name, { seconds }] of exported) console.log(`      ${name}: exported in ${seconds.toFixed(1)} s`);
  });
});
