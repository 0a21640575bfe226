import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { base64ToFloat32, groupAttention, type JsonReport } from '../../src/cli/format';
import { CHUNK_FLOATS } from '../../src/cli/jsonStream';
import { readSafetensors } from '../../src/core/safetensors';
import { buildByteLevelBpeTokenizer } from '../support/bpeTokenizer';
import { writeRandomGpt2Folder } from '../support/randomGpt2';
import { main } from '../../src/cli/main';
import { repoRoot } from '../support/heldout';
import { tinyModelFolder } from '../support/tinyModel';
import { maxAbsDifference } from '../support/compare';

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
  return { code, stdout, stderr };
}

describe('CLI', () => {
  let model: string;
  before(async () => {
    model = await tinyModelFolder();
  });

  it('--json prints [L,H,T,T] attention whose rows sum to 1, zeros above the diagonal, and spans that rebuild the text', async () => {
    const text = 'the quick brown fox';
    const { code, stdout, stderr } = await runCli(['run', '--text', text, '--model', model, '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as JsonReport;
    const [L, H, T, T2] = report.attention.dims;
    assert.deepEqual([L, H], [2, 4]);
    assert.equal(T, report.tokens.length);
    assert.equal(T2, T);
    assert.equal(report.attention.dtype, 'float32');
    assert.equal(report.model.causal, true);
    assert.equal(report.tokens.map((token) => text.slice(token.start, token.end)).join(''), text);
    const att = base64ToFloat32(report.attention.data);
    assert.equal(att.length, L * H * T * T);
    for (let m = 0; m < L * H; m++) {
      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let s = 0; s < T; s++) {
          const weight = att[(m * T + t) * T + s];
          if (s > t) assert.equal(weight, 0);
          sum += weight;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `row sum ${sum}`);
      }
    }
  });

  it('--json for an encoder–decoder carries the target tokens and three groups, each with its dims and kind', async () => {
    const dates = path.join(repoRoot(), 'media', 'models', 'dates');
    const text = 'March 5, 2021';
    const { code, stdout, stderr } = await runCli(['run', '--text', text, '--model', dates, '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as JsonReport;
    assert.equal(report.model.kind, 'encoder-decoder');
    const target = report.target!;
    assert.equal(target.generated, true);
    assert.equal(target.text, '2021-03-05');
    assert.equal(target.tokens[0].label, '<pad>');
    assert.equal(target.tokens.slice(1).map((token) => target.text.slice(token.start, token.end)).join(''), target.text);
    const S = report.tokens.length;
    const Tt = target.tokens.length;
    assert.deepEqual(report.groups.map((group) => [group.name, group.kind, group.queries, group.keys]), [
      ['encoder', 'self', 'source', 'source'],
      ['decoder', 'masked-self', 'target', 'target'],
      ['cross', 'cross', 'target', 'source'],
    ]);
    for (const group of report.groups) {
      const [L, H, Tq, Tk] = group.dims;
      assert.deepEqual([Tq, Tk], [group.queries === 'source' ? S : Tt, group.keys === 'source' ? S : Tt]);
      const att = groupAttention(report, report.groups.indexOf(group));
      assert.equal(att.length, L * H * Tq * Tk);
      for (let row = 0; row < L * H * Tq; row++) {
        let sum = 0;
        for (let s = 0; s < Tk; s++) sum += att[row * Tk + s];
        assert.ok(Math.abs(sum - 1) < 1e-4, `${group.name}: row sum ${sum}`);
      }
    }
    const typed = await runCli(['run', '--text', text, '--model', dates, '--target', '2021-05-03', '--json']);
    const typedReport = JSON.parse(typed.stdout) as JsonReport;
    assert.deepEqual([typedReport.target!.text, typedReport.target!.generated], ['2021-05-03', false]);
  });

  it('--json for models without attention outputs (GPT-2 and BERT fixtures) gives the PyTorch reference attention', async () => {
    for (const name of ['gpt2-plain', 'bert-tiny']) {
      const dir = path.join(repoRoot(), 'test', 'fixtures', 'onnx', name);
      const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { text: string; input_ids: number[]; sites: { data: number[] }[] };
      const { code, stdout, stderr } = await runCli(['run', '--text', ref.text, '--model', dir, '--json']);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as JsonReport;
      assert.deepEqual(report.tokens.map((token) => token.id), ref.input_ids);
      assert.equal(report.model.causal, name === 'gpt2-plain');
      assert.equal(report.groups[0].kind, name === 'gpt2-plain' ? 'masked-self' : 'self');
      const att = groupAttention(report, 0);
      const expected = ref.sites.flatMap((site) => site.data);
      assert.equal(att.length, expected.length);
      const worst = maxAbsDifference(att, expected);
      assert.ok(worst <= 1e-5, `${name}: max difference ${worst}`);
      if (name === 'bert-tiny') assert.deepEqual([report.tokens[0].label, report.tokens.at(-1)!.label], ['[CLS]', '[SEP]']);
    }
  });

  it('prints tokens with offsets, the model shape and per-head top tokens of the last token', async () => {
    const { code, stdout } = await runCli(['run', '--text', 'A fluffy blue creature', '--model', model]);
    assert.equal(code, 0);
    assert.match(stdout, /2 layers × 4 heads/);
    assert.match(stdout, /\[0, \d+\)\s+"A/);
    for (const head of ['L0 H0', 'L0 H3', 'L1 H3']) assert.match(stdout, new RegExp(head));
  });

  it('reads --file and honours --max-tokens', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ai-cli-')), 'input.txt');
    fs.writeFileSync(file, 'one two three four five six seven eight nine ten');
    const { code, stdout } = await runCli(['run', '--file', file, '--model', model, '--max-tokens', '3', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as JsonReport;
    assert.equal(report.tokens.length, 3);
    assert.ok((report.truncatedFrom ?? 0) > 3);
  });

  it('fails with a clear message and a non-zero code on bad input', async () => {
    const cases: [string[], number, RegExp][] = [
      [['run'], 2, /exactly one of --text or --file/],
      [['walk', '--text', 'x'], 2, /unknown command "walk"/],
      [['run', '--text', 'x', '--backend', 'gpu'], 2, /--backend must be/],
      [['run', '--text', 'x', '--max-tokens', '0'], 2, /--max-tokens/],
      [['run', '--file', '/no/such/file.txt', '--model', model], 1, /cannot read \/no\/such\/file\.txt: ENOENT/],
      [['run', '--text', 'x', '--model', '/no/such/model'], 1, /Model folder not found/],
      [['run', '--text', 'x', '--model', model, '--backend', 'onnx'], 1, /needs model\.onnx/],
      [['run', '--text', '', '--model', model], 1, /Nothing to inspect/],
    ];
    for (const [args, expectedCode, message] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, expectedCode, args.join(' '));
      assert.equal(stdout, '');
      assert.match(stderr, message);
    }
  });

  it('--kernels picks the built-in block\'s kernels: the same attention from wasm and typescript, named in the output; --help lists it', async () => {
    const runs = new Map<string, JsonReport>();
    for (const kernels of ['wasm', 'typescript', 'auto']) {
      const { code, stdout } = await runCli(['run', '--text', 'A fluffy blue creature', '--model', model, '--backend', 'builtin', '--kernels', kernels, '--json']);
      assert.equal(code, 0, kernels);
      runs.set(kernels, JSON.parse(stdout) as JsonReport);
    }
    assert.equal(runs.get('wasm')?.model.kernels, 'WebAssembly SIMD');
    assert.equal(runs.get('auto')?.model.kernels, 'WebAssembly SIMD');
    assert.equal(runs.get('typescript')?.model.kernels, 'TypeScript');
    const worst = maxAbsDifference(groupAttention(runs.get('wasm')!, 0), groupAttention(runs.get('typescript')!, 0));
    assert.ok(worst <= 1e-5, `wasm against typescript: max difference ${worst}`);
    const text = await runCli(['run', '--text', 'A fluffy blue creature', '--model', model, '--kernels', 'typescript']);
    assert.match(text.stdout, /^Model {2}.*\(builtin, TypeScript kernels\)/m);
    const bad = await runCli(['run', '--text', 'x', '--model', model, '--kernels', 'gpu']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--kernels must be auto, wasm, typescript, not "gpu"/);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--kernels NAME\s+auto \| wasm \| typescript/);
  });

  it('the built bin writes errors to stderr and exits non-zero', () => {
    const cli = path.resolve(__dirname, '..', '..', 'cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built by esbuild.js');
    const result = spawnSync(process.execPath, [cli, 'run', '--text', 'hello', '--model', '/no/such/model'], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Model folder not found/);
  });
  it('--json carries each tensor once: the first group refers to attention, cross-attention groups carry their own', async () => {
    const { stdout } = await runCli(['run', '--text', 'the quick brown fox', '--model', model, '--json']);
    const report = JSON.parse(stdout) as JsonReport;
    assert.equal(report.groups.length, 1);
    assert.equal(report.groups[0].dataIn, 'attention');
    assert.equal(report.groups[0].data, undefined);
    assert.equal(stdout.split(report.attention.data).length - 1, 1, 'the tensor appears once in the output');
    assert.deepEqual(groupAttention(report, 0), base64ToFloat32(report.attention.data));
  });

  it('--json streams: base64 in chunks of at most 3 MiB of float32 that join into the tensor; --out writes .safetensors and .npy', async function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-stream-'));
    try {
      const wide = path.join(dir, 'model');
      fs.mkdirSync(wide);
      await writeRandomGpt2Folder(wide, { seed: 7, layers: 2, heads: 4, dModel: 16, positions: 1024, tokenizerJson: buildByteLevelBpeTokenizer('a b c d e f g', 300) });
      const text = Array.from({ length: 700 }, (_, i) => 'abcdefg'[i % 7]).join(' ');
      const chunks: string[] = [];
      let stdout = '';
      const code = await main(['run', '--text', text, '--model', wide, '--max-tokens', '1024', '--json', '--out', path.join(dir, 'a.safetensors')], (line) => (stdout += line), () => undefined, (chunk) => void chunks.push(chunk));
      assert.equal(code, 0);
      assert.equal(stdout, '', 'the report goes through the chunk writer, not out');
      const report = JSON.parse(chunks.join('')) as JsonReport;
      const [L, H, T] = report.attention.dims;
      assert.ok(L * H * T * T > 2 * CHUNK_FLOATS, `big enough to need several chunks (${L * H * T * T} floats)`);
      const longest = Math.max(...chunks.map((chunk) => chunk.length));
      assert.ok(longest <= (CHUNK_FLOATS * 4 * 4) / 3, `no chunk longer than the base64 of one slice (${longest})`);
      const attention = base64ToFloat32(report.attention.data);
      assert.equal(attention.length, L * H * T * T);
      for (let row = 0; row < L * H * T; row += 97) {
        let sum = 0;
        for (let s = 0; s < T; s++) sum += attention[row * T + s];
        assert.ok(Math.abs(sum - 1) < 1e-4, `row ${row} sums to ${sum}`);
      }

      // .safetensors: every group by name, the tokens in the metadata; read back by the model loader's reader.
      const bytes = fs.readFileSync(path.join(dir, 'a.safetensors'));
      const tensors = readSafetensors(bytes);
      assert.deepEqual([...tensors.keys()], ['attention.self']);
      assert.deepEqual(tensors.get('attention.self')!.shape, [L, H, T, T]);
      assert.deepEqual(tensors.get('attention.self')!.data, attention);
      const header = JSON.parse(bytes.toString('utf8', 8, 8 + Number(bytes.readBigUInt64LE(0)))) as { __metadata__: Record<string, string> };
      assert.deepEqual(JSON.parse(header.__metadata__.tokens), report.tokens);

      // .npy (format 1.0): magic, version, header dict with the shape, then the float32 data.
      const npyFile = path.join(dir, 'a.npy');
      assert.equal(await main(['run', '--text', text, '--model', wide, '--max-tokens', '1024', '--out', npyFile], () => undefined, () => undefined), 0);
      const npy = fs.readFileSync(npyFile);
      assert.equal(npy.toString('latin1', 0, 6), '\x93NUMPY');
      const headerLength = npy.readUInt16LE(8);
      assert.equal((10 + headerLength) % 64, 0);
      assert.equal(npy.toString('latin1', 10, 10 + headerLength).trim(), `{'descr': '<f4', 'fortran_order': False, 'shape': (${L}, ${H}, ${T}, ${T}), }`);
      const data = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength, npy.byteOffset + npy.length));
      assert.deepEqual(data, attention);

      const bad = await runCli(['run', '--text', 'x', '--model', model, '--out', path.join(dir, 'a.txt')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /run --out writes \.safetensors or \.npy files/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the built bin prints run --json at 4096 tokens (a 4096-position model), and the output loads', async function () {
    this.timeout(180000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-4096-'));
    try {
      await writeRandomGpt2Folder(dir, { seed: 11, layers: 1, heads: 1, dModel: 16, positions: 4096, tokenizerJson: buildByteLevelBpeTokenizer('a b c d e f g', 300) });
      const input = path.join(dir, 'input.txt');
      fs.writeFileSync(input, Array.from({ length: 4096 }, (_, i) => 'abcdefg'[(i * 3) % 7]).join(' '));
      const cli = path.resolve(__dirname, '..', '..', 'cli.js');
      const result = spawnSync(process.execPath, [cli, 'run', '--file', input, '--model', dir, '--max-tokens', '4096', '--json'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
      assert.equal(result.status, 0, result.stderr);
      const report = JSON.parse(result.stdout) as JsonReport;
      assert.deepEqual(report.attention.dims, [1, 1, 4096, 4096]);
      const attention = base64ToFloat32(report.attention.data);
      assert.equal(attention.length, 4096 * 4096);
      for (const row of [0, 1, 2047, 4095]) {
        let sum = 0;
        for (let s = 0; s < 4096; s++) sum += attention[row * 4096 + s];
        assert.ok(Math.abs(sum - 1) < 1e-3, `row ${row} sums to ${sum}`);
        assert.equal(attention[row * 4096 + Math.min(4095, row + 1)], row === 4095 ? attention[row * 4096 + 4095] : 0, 'causal');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
