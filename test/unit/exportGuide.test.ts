// The export guide's script (tools/export): its command line without its Python dependencies, its
// torch-only core on tiny models whose folders the ONNX backend must show exactly as PyTorch
// computed them, and the whole command run end to end with stand-ins for transformers (no download
// is possible here) and for the onnxruntime wheel (tools/export/testing/, backed by onnxruntime-node).
// Parts that need torch and onnx in Python are skipped, and reported as skipped, where no python3 has them.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { inspectModelFolder } from '../../src/core/modelFolder';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import type { AttentionResult } from '../../src/core/types';
import { bundledModelDir, repoRoot } from '../support/heldout';
import { maxAbsDifference } from '../support/compare';

const root = repoRoot();
const exportDir = path.join(root, 'tools', 'export');
const script = path.join(exportDir, 'hf_to_model_folder.py');
const bundledTokenizer = path.join(bundledModelDir(), 'tokenizer.json');
const TEXT = 'The cat sat on the mat because it was tired.';
const TARGET = 'A tired cat sat.';
const INSTALL_HINT = 'python3 -m pip install torch transformers onnx onnxruntime';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runPython(python: string, args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const done = spawnSync(python, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1', ...env },
  });
  if (done.error) throw done.error;
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}

/** Debian's python3 first (it has python3-torch and python3-onnx where installed), then PATH's. */
function pythons(): string[] {
  return ['/usr/bin/python3', 'python3'].filter((python) => spawnSync(python, ['--version']).status === 0);
}

const hasModules = (python: string, modules: string) => spawnSync(python, ['-c', `import ${modules}`]).status === 0;

const createdDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

after(() => createdDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

interface Reference {
  task: string;
  input_ids: number[];
  decoder_input_ids: number[] | null;
  graph: { inputs: string[]; outputs: string[]; softmax: number; fused: string[] };
  /** Per output group, per layer: batch 0's [H * Tq * Tk] weights from PyTorch. */
  attentions: Record<string, number[][]>;
  heads: number;
}

const readReference = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;

/** max |a - b| between a flat [L, H, Tq, Tk] tensor and the reference's layers laid end to end. */
function maxDifference(attention: Float32Array, layers: number[][]): number {
  const expected = layers.flat();
  assert.equal(attention.length, expected.length, 'same number of weights as PyTorch');
  return maxAbsDifference(attention, expected);
}

describe('export guide: hf_to_model_folder.py without its dependencies', () => {
  const candidates = pythons();
  before(function () {
    if (candidates.length === 0) this.skip();
  });

  it('prints its usage for --help even with no site-packages at all', () => {
    // -S hides every installed package: --help must not import torch, onnx or transformers.
    const ran = runPython(candidates[0], ['-S', script, '--help']);
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stdout, /^usage: hf_to_model_folder\.py/);
    assert.match(ran.stdout, /CHECKPOINT OUT_DIR/);
    for (const option of ['--task {auto,causal-lm,masked-lm,seq2seq,encoder}', '--attention-outputs', '--opset', '--max-length N', '--check']) {
      assert.ok(ran.stdout.includes(option), `--help mentions ${option}`);
    }
    assert.match(ran.stdout, /attn_implementation="eager"/, 'the help explains eager attention');
  });

  it('exits 3 naming every missing package, with the install command, and writes nothing', () => {
    const out = path.join(tempDir('export-guide-'), 'folder');
    const ran = runPython(candidates[0], ['-S', script, 'gpt2', out]);
    assert.equal(ran.status, 3, ran.stderr);
    assert.match(ran.stderr, /not installed: torch, onnx, transformers\./);
    assert.ok(ran.stderr.includes(INSTALL_HINT));
    assert.equal(fs.existsSync(out), false);
  });

  it('in this environment: exits 3 for a missing transformers, or reads a local checkpoint folder when it is installed', () => {
    const python = candidates[0];
    const checkpoint = tempDir('export-guide-empty-checkpoint-');
    const out = path.join(tempDir('export-guide-'), 'folder');
    const ran = runPython(python, [script, checkpoint, out]);
    if (!hasModules(python, 'transformers')) {
      assert.equal(ran.status, 3, ran.stderr);
      assert.match(ran.stderr, /not installed: (torch, )?(onnx, )?transformers\./);
      assert.ok(ran.stderr.includes(INSTALL_HINT));
    } else if (hasModules(python, 'torch, onnx')) {
      // Everything is there: the empty folder is refused before any loading, as not a checkpoint.
      assert.equal(ran.status, 4, ran.stderr);
      assert.ok(ran.stderr.includes(`${checkpoint} has no config.json`), ran.stderr);
    } else {
      assert.equal(ran.status, 3, ran.stderr);
      assert.doesNotMatch(ran.stderr, /transformers\./, 'transformers is installed and not reported missing');
    }
    assert.equal(fs.existsSync(out), false);
  });
});

describe('export guide: torch-only export core on tiny models, read by the ONNX backend', function () {
  this.timeout(90_000);
  const python = pythons().find((candidate) => hasModules(candidate, 'torch, onnx'));
  const out = tempDir('export-guide-core-');
  const backends: OnnxBackend[] = [];
  let sourceIds: number[] = [];
  let decoderIds: number[] = [];
  const startId = 4095;

  const open = (name: string) => {
    const backend = new OnnxBackend(path.join(out, name));
    backends.push(backend);
    return backend;
  };

  before(async function () {
    if (!python) this.skip();
    const tokenizer = await TextTokenizer.fromFile(bundledTokenizer);
    sourceIds = tokenizer.encode(TEXT).map((token) => token.id);
    // The backend's typed target: the start token, then the target's tokens without special ones.
    decoderIds = [startId, ...tokenizer.encode(TARGET).filter((token) => token.label === undefined).map((token) => token.id)];
    const ran = runPython(python!, [path.join(exportDir, 'selftest.py'), out, '--tokenizer', bundledTokenizer,
      '--ids', sourceIds.join(','), '--decoder-ids', decoderIds.join(',')]);
    assert.equal(ran.status, 0, ran.stderr);
  });
  after(() => backends.forEach((backend) => backend.dispose()));

  async function runSingle(name: string): Promise<{ result: AttentionResult; reference: Reference; source: string }> {
    const backend = open(name);
    const result = await backend.run(TEXT, {});
    const reference = readReference(path.join(out, name));
    assert.deepEqual(result.tokens.map((token) => token.id), reference.input_ids, 'the folder tokenizes like the reference');
    return { result, reference, source: await backend.attentionSource() };
  }

  it('a GPT-2 exported with --attention-outputs shows PyTorch\'s attention from its `attentions` output, as a causal decoder', async () => {
    const { result, reference, source } = await runSingle('gpt2-explicit');
    assert.deepEqual(reference.graph.outputs, ['logits', 'attentions']);
    assert.equal(source, 'explicit outputs');
    assert.deepEqual(result.dims, [2, 2, sourceIds.length, sourceIds.length]);
    assert.equal(result.causal, true);
    assert.equal(result.model.kind, 'decoder');
    assert.ok(result.predictions && result.predictions.length > 0, 'a decoder with logits guesses the next token');
    const worst = maxDifference(result.attention, reference.attentions.attentions);
    assert.ok(worst <= 1e-5, `attention differs from PyTorch by ${worst}`);
  });

  it('the same GPT-2 exported without attention outputs shows the same attention through graph surgery', async () => {
    const { result, reference, source } = await runSingle('gpt2-surgery');
    assert.deepEqual(reference.graph.outputs, ['logits']);
    assert.equal(reference.graph.softmax, 2);
    assert.equal(source, 'graph surgery');
    assert.equal(result.causal, true);
    const worst = maxDifference(result.attention, reference.attentions.attentions);
    assert.ok(worst <= 1e-5, `attention differs from PyTorch by ${worst}`);
    const twin = await open('gpt2-explicit').run(TEXT, {});
    let apart = 0;
    for (let i = 0; i < twin.attention.length; i++) apart = Math.max(apart, Math.abs(twin.attention[i] - result.attention[i]));
    assert.ok(apart <= 1e-6, `surgery and explicit outputs differ by ${apart}`);
  });

  it('a bidirectional encoder takes attention_mask and token_type_ids and shows as an encoder', async () => {
    const { result, reference, source } = await runSingle('encoder-surgery');
    assert.deepEqual(reference.graph.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.equal(source, 'graph surgery');
    assert.equal(result.causal, false);
    assert.equal(result.model.kind, 'encoder');
    assert.equal(result.predictions, undefined, 'an encoder makes no next-token guess');
    const worst = maxDifference(result.attention, reference.attentions.attentions);
    assert.ok(worst <= 1e-5, `attention differs from PyTorch by ${worst}`);
  });

  for (const [name, source] of [['seq2seq-explicit', 'explicit outputs'], ['seq2seq-surgery', 'graph surgery']] as const) {
    it(`an encoder-decoder (${source}) shows encoder, masked decoder and cross attention over a typed target`, async () => {
      const reference = readReference(path.join(out, name));
      assert.deepEqual(reference.graph.inputs, ['input_ids', 'attention_mask', 'decoder_input_ids', 'decoder_attention_mask']);
      const config = JSON.parse(fs.readFileSync(path.join(out, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config.decoder_start_token_id, startId);
      const backend = open(name);
      const result = await backend.run(TEXT, { target: TARGET });
      assert.equal(await backend.attentionSource(), source);
      assert.equal(result.model.kind, 'encoder-decoder');
      assert.deepEqual(result.target?.tokens.map((token) => token.id), decoderIds);
      const [S, Tt] = [sourceIds.length, decoderIds.length];
      const byName = new Map(result.groups.map((group) => [group.name, group]));
      const expected = { encoder: ['encoder_attentions', [S, S], false], decoder: ['decoder_attentions', [Tt, Tt], true], cross: ['cross_attentions', [Tt, S], false] } as const;
      for (const [group, [key, [Tq, Tk], causal]] of Object.entries(expected)) {
        const shown = byName.get(group as 'encoder');
        assert.ok(shown, `a ${group} group`);
        assert.deepEqual(shown.dims, [2, 2, Tq, Tk]);
        assert.equal(shown.causal, causal, `${group} causal flag`);
        const worst = maxDifference(shown.attention, reference.attentions[key]);
        assert.ok(worst <= 1e-5, `${group} attention differs from PyTorch by ${worst}`);
      }
    });
  }
});

describe('export guide: hf_to_model_folder.py end to end with stand-ins for transformers and onnxruntime', function () {
  this.timeout(90_000);
  const python = pythons().find((candidate) => hasModules(candidate, 'torch, onnx'));
  const out = tempDir('export-guide-cli-');
  const backends: OnnxBackend[] = [];
  // tools/export/testing: a fake `transformers` serving selftest.py's tiny models (seeded as selftest
  // seeds them) and an `onnxruntime` that runs the graph with onnxruntime-node.
  const cli = (args: string[], mode = '') => runPython(python!, [script, ...args], {
    PYTHONPATH: path.join(exportDir, 'testing'),
    FAKE_TRANSFORMERS_TOKENIZER: bundledTokenizer,
    FAKE_TRANSFORMERS_MODE: mode,
    NODE_BINARY: process.execPath,
  });

  before(function () {
    if (!python) this.skip();
  });
  after(() => backends.forEach((backend) => backend.dispose()));

  it('exports a causal LM (from a transformers too old for attn_implementation), --check passes, and the folder opens', async () => {
    const folder = path.join(out, 'gpt2');
    const ran = cli(['tiny-gpt2', folder, '--check'], 'old');
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stderr, /has no attn_implementation \(added in 4\.36\)/);
    assert.deepEqual(fs.readdirSync(folder).sort(), ['config.json', 'model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    assert.match(ran.stdout, /attention: found by graph surgery \(2 Softmax nodes\)/);
    const attentionCheck = /max \|attention difference\| (\S+) over 2 tensors/.exec(ran.stdout);
    const logitsCheck = /max \|logits difference\| (\S+)/.exec(ran.stdout);
    assert.ok(attentionCheck && logitsCheck, ran.stdout);
    assert.ok(Number(attentionCheck[1]) <= 1e-5 && Number(logitsCheck[1]) <= 1e-4, ran.stdout);

    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.n_layer, 2);
    assert.deepEqual(config.attention_inspector_export, {
      script: 'tools/export/hf_to_model_folder.py', checkpoint: 'tiny-gpt2', task: 'causal-lm', attention_outputs: false, attention_mask: true, opset: 17,
      torch: (config.attention_inspector_export as Record<string, unknown>).torch, transformers: '0.0.fake',
    });
    assert.equal(inspectModelFolder(folder).name, 'gpt2', 'the model is named after its folder, not config.json\'s _name_or_path');
    const backend = new OnnxBackend(folder);
    backends.push(backend);
    const result = await backend.run(TEXT, {});
    assert.equal(result.causal, true);
    assert.deepEqual(result.dims, [2, 2, result.tokens.length, result.tokens.length]);
    let rowsSumToOne = true;
    const T = result.tokens.length;
    for (let row = 0; row < result.attention.length / T; row++) {
      let sum = 0;
      for (let s = 0; s < T; s++) sum += result.attention[row * T + s];
      rowsSumToOne &&= Math.abs(sum - 1) < 1e-5;
    }
    assert.ok(rowsSumToOne, 'every attention row is a distribution');
  });

  it('exports an encoder-decoder with --attention-outputs, --max-length and --no-attention-mask, taking the decoder start from the generation config', async () => {
    const folder = path.join(out, 'seq2seq');
    const ran = cli(['tiny-seq2seq', folder, '--attention-outputs', '--max-length', '40', '--no-attention-mask', '--check']);
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stdout, /inputs: {2}input_ids, decoder_input_ids\n/);
    assert.match(ran.stdout, /outputs: logits, encoder_attentions\.0, encoder_attentions\.1, decoder_attentions\.0, decoder_attentions\.1, cross_attentions\.0, cross_attentions\.1/);
    assert.match(ran.stdout, /check on 40 tokens: max \|attention difference\| \S+ over 6 tensors/);
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.decoder_start_token_id, 0);
    assert.equal(config.eos_token_id, 1);
    assert.equal(config.max_position_embeddings, 40);
    const backend = new OnnxBackend(folder);
    backends.push(backend);
    const result = await backend.run(TEXT, { target: TARGET });
    assert.equal(result.target?.tokens[0].id, 0, 'decoding starts from decoder_start_token_id');
    assert.deepEqual(result.groups.map((group) => group.name), ['encoder', 'decoder', 'cross']);
  });

  it('refuses, with exit 4 and the reason, a model without eager attention or without a fast tokenizer', () => {
    const sdpa = cli(['tiny-gpt2', path.join(out, 'sdpa')], 'sdpa');
    assert.equal(sdpa.status, 4, sdpa.stderr);
    assert.match(sdpa.stderr, /attention implementation 'sdpa', not 'eager'/);
    const slow = cli(['tiny-gpt2', path.join(out, 'slow')], 'slow-tokenizer');
    assert.equal(slow.status, 4, slow.stderr);
    assert.match(slow.stderr, /has no fast tokenizer/);
    assert.equal(fs.existsSync(path.join(out, 'sdpa', 'model.onnx')) || fs.existsSync(path.join(out, 'slow', 'model.onnx')), false);
  });

  it('--check exits 5 and points at the fixed-length troubleshooting when the graph froze the traced length', () => {
    const ran = cli(['tiny-gpt2', path.join(out, 'frozen'), '--check'], 'fixed-length');
    assert.equal(ran.status, 5, ran.stderr);
    assert.match(ran.stderr, /could not run the exported model on \d+ tokens \(it was traced on \d+\)/);
    assert.match(ran.stderr, /'fixed sequence length' in tools\/export\/README\.md/);
  });
});
