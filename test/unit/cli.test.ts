import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
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
      const att = base64ToFloat32(group.data);
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
      const att = base64ToFloat32(report.groups[0].data);
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

  it('the built bin writes errors to stderr and exits non-zero', () => {
    const cli = path.resolve(__dirname, '..', '..', 'cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built by esbuild.js');
    const result = spawnSync(process.execPath, [cli, 'run', '--text', 'hello', '--model', '/no/such/model'], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Model folder not found/);
  });
});
