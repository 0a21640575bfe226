// The step view's numbers (HeadExplanation from the built-in block) against a plain float64 GPT-2
// written separately for the tests (test/support/naiveGpt2.ts), and the identities that tie the
// steps together, each recomputed here: scaled = scores · 1/√d_k, weights = softmax of the unmasked
// scaled scores, output = Σ w·v, Σ heads' writes + b_O = the sublayer output, the logit lens at the
// last layer = the model's prediction; positions off make attention order-blind (and on, not);
// the worked example's 1.6 / 2.0 / 2.4; switching heads off.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { runComparison } from '../../src/core/explain/compare';
import { float32Decimal } from '../../src/cli/explainFormat';
import type { HeadExplanation, RunVariation } from '../../src/core/explain/types';
import { SafetensorsFile } from '../../src/core/safetensors';
import { InputError } from '../../src/core/errors';
import { main } from '../../src/cli/main';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
import { repoRoot } from '../support/heldout';
import { maxAbsDifference } from '../support/compare';
import { naiveGpt2, softmax, vectorNorm, type NaiveRun } from '../support/naiveGpt2';
import { writeRandomGpt2Folder } from '../support/randomGpt2';

const modelsDir = () => path.join(repoRoot(), 'media', 'models');
const TEXT = 'def add(a, b):\n    return a + b';

function loadTensors(file: string): Map<string, Float32Array> {
  const parsed = SafetensorsFile.parse(fs.readFileSync(file), file);
  return new Map(parsed.names().map((name) => [name, parsed.get(name)!.data]));
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
  return { code, stdout, stderr };
}

function close(actual: readonly number[] | null, expected: readonly number[], tolerance: number, label: string): void {
  assert.ok(actual, `${label} is missing`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  const worst = maxAbsDifference(actual, expected);
  assert.ok(worst <= tolerance, `${label}: max |diff| ${worst} > ${tolerance}`);
}

describe('explain: one head step by step (built-in block)', function () {
  this.timeout(120_000);
  const backend = new BuiltinBackend(path.join(modelsDir(), 'default'), 'default');
  let tensors: Map<string, Float32Array>;
  before(() => {
    tensors = loadTensors(path.join(modelsDir(), 'default', 'model.safetensors'));
  });
  after(() => backend.dispose());

  async function explainAt(layer: number, head: number, query: number, variation?: RunVariation): Promise<{ explanation: HeadExplanation; naive: NaiveRun }> {
    const { explanation, result } = await backend.explain(TEXT, { layer, head, query }, { variation });
    const ids = result.tokens.map((token) => token.id);
    const ablate = new Set((variation?.ablate ?? []).map((h) => `${h.layer}:${h.head}`));
    return { explanation, naive: naiveGpt2(tensors, ids, { layers: 4, heads: 4, positions: variation?.positions !== false, ablate }) };
  }

  for (const [layer, head] of [
    [0, 1],
    [2, 3],
  ] as const) {
    it(`L${layer} H${head}: q, k, v, scores, weights, output, writes, residual and lens match a plain float64 GPT-2`, async () => {
      const query = 9;
      const { explanation: e, naive } = await explainAt(layer, head, query);
      const n = naive.layers[layer];
      const T = e.keys.length;
      assert.equal(e.dK, 32);
      assert.equal(e.scale, 1 / Math.sqrt(32));
      close(e.q, n.q[head][query], 1e-4, 'q');
      for (let j = 0; j < T; j++) {
        close(e.k![j], n.k[head][j], 1e-4, `k[${j}]`);
        close(e.v![j], n.v[head][j], 1e-4, `v[${j}]`);
      }
      close(e.scores, n.scores[head][query], 1e-3, 'scores');
      close(e.weights, n.weights[head][query], 1e-5, 'weights');
      close(e.output, n.headOut[head][query], 1e-4, 'output');
      close(e.attentionOutput, n.attnOut[query], 1e-4, 'attention sublayer output');
      // Residual norms around every block, from the naive stream.
      assert.equal(e.residual!.length, 4);
      e.residual!.forEach((r, l) => {
        const m = naive.layers[l];
        const mid = m.x[query].map((value, c) => value + m.attnOut[query][c]);
        close([r.before, r.attention, r.afterAttention, r.mlp, r.after], [vectorNorm(m.x[query]), vectorNorm(m.attnOut[query]), vectorNorm(mid), vectorNorm(m.mlpOut[query]), vectorNorm(m.xAfter[query])], 1e-3, `residual L${l}`);
      });
      // Logit lens: the top tokens' probabilities, from the naive lens logits.
      e.logitLens!.forEach(({ layer: l, top }) => {
        const probabilities = softmax(naive.lens[l][query]);
        const best = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]).slice(0, top.length);
        close(top.map((p) => p.probability), best.map((id) => probabilities[id]), 1e-4, `lens L${l}`);
      });
    });
  }

  it('the identities between the steps hold on the explanation itself', async () => {
    const { explanation: e } = await explainAt(1, 2, 6);
    const T = e.keys.length;
    // scaled = scores · scale, with scale = 1/√d_k; masked = the keys after the query.
    assert.equal(e.scale, 1 / Math.sqrt(e.dK));
    assert.deepEqual(e.masked, e.keys.map((key) => key.index > 6));
    for (let j = 0; j < T; j++) {
      if (e.masked[j]) assert.equal(e.scaled[j], null);
      else assert.ok(Math.abs((e.scaled[j] as number) - e.scores![j] * e.scale) < 1e-4, `scaled[${j}]`);
    }
    // weights = softmax over the unmasked scaled scores; masked keys get exactly 0.
    const visible = e.scaled.filter((value): value is number => value !== null);
    close(e.weights.slice(0, visible.length), softmax(visible), 1e-5, 'softmax');
    assert.ok(e.weights.slice(visible.length).every((w) => w === 0));
    assert.ok(Math.abs(e.weights.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    // output = Σ_j w_j v_j
    close(e.output, e.v![0].map((_, c) => e.weights.reduce((sum, w, j) => sum + w * e.v![j][c], 0)), 1e-5, 'Σ w·v');
    // Σ_h write_h + b_O = the sublayer output; this head's write is its row.
    const sum = e.attentionBias!.map((b, c) => b + e.headWrites!.reduce((acc, write) => acc + write[c], 0));
    close(sum, e.attentionOutput!, 1e-4, 'Σ writes + b_O');
    close(e.headWrite, e.headWrites![e.head], 0, 'headWrite');
    // The writes are not the average of the heads: W_O mixes them (the mean of the outputs, padded, is not the sublayer output).
    assert.ok(maxAbsDifference(sum, e.headWrites![0]) > 1e-3);
  });

  it('the logit lens after the last layer is the model\'s own prediction', async () => {
    const { result } = await backend.explain(TEXT, { layer: 0, head: 0, query: 0 }, {});
    const last = result.tokens.length - 1;
    const { explanation } = await backend.explain(TEXT, { layer: 3, head: 0, query: last }, {});
    const lens = explanation.logitLens![3].top;
    assert.deepEqual(lens.map((p) => p.token), result.predictions!.map((p) => p.token));
    close(lens.map((p) => p.probability), result.predictions!.map((p) => p.probability), 1e-6, 'lens vs predictions');
  });

  it('explanation weights equal the run\'s attention row', async () => {
    const run = await backend.run(TEXT, {});
    const { explanation } = await backend.explain(TEXT, { layer: 2, head: 1, query: 7 }, {});
    const T = run.tokens.length;
    const row = run.attention.subarray(((2 * 4 + 1) * T + 7) * T, ((2 * 4 + 1) * T + 8) * T);
    assert.deepEqual(explanation.weights, Array.from(row));
  });

  it('switching a head off changes the prediction and later layers; all heads off leaves only the residual path (and b_O)', async () => {
    const plain = await backend.run(TEXT, {});
    const off = await backend.run(TEXT, { variation: { ablate: [{ layer: 0, head: 1 }] } });
    assert.ok(maxAbsDifference(off.lastLogits!, plain.lastLogits!) > 1e-3, 'the logits change');
    const T = plain.tokens.length;
    const layer1 = (a: Float32Array) => a.subarray(4 * T * T, 8 * T * T);
    const layer0 = (a: Float32Array) => a.subarray(0, 4 * T * T);
    assert.equal(maxAbsDifference(layer0(off.attention), layer0(plain.attention)), 0, 'its own layer\'s weights stay');
    assert.ok(maxAbsDifference(layer1(off.attention), layer1(plain.attention)) > 1e-4, 'later layers\' attention changes');

    const all = [0, 1, 2, 3].flatMap((layer) => [0, 1, 2, 3].map((head) => ({ layer, head })));
    const { result, explanation } = await backend.explain(TEXT, { layer: 2, head: 0, query: T - 1 }, { variation: { ablate: all } });
    const naive = naiveGpt2(tensors, result.tokens.map((t) => t.id), { layers: 4, heads: 4, ablate: new Set(all.map((h) => `${h.layer}:${h.head}`)) });
    // The attention sublayer writes only its bias: x + b_O.
    close(explanation.attentionOutput, Array.from((tensors.get('h.2.attn.c_proj.bias') ?? tensors.get('transformer.h.2.attn.c_proj.bias'))!), 1e-6, 'sublayer output = b_O');
    assert.ok(explanation.headWrites!.every((write) => write.every((value) => value === 0)));
    close(Array.from(result.lastLogits!), naive.logits[T - 1], 1e-3, 'logits vs residual-only reference');
    assert.deepEqual(explanation.ablated, all);
  });

  it('rejects heads, layers and queries that do not exist', async () => {
    await assert.rejects(backend.explain(TEXT, { layer: 4, head: 0, query: 0 }, {}), InputError);
    await assert.rejects(backend.explain(TEXT, { layer: 0, head: 9, query: 0 }, {}), InputError);
    await assert.rejects(backend.explain(TEXT, { layer: 0, head: 0, query: 999 }, {}), InputError);
    await assert.rejects(backend.run(TEXT, { variation: { ablate: [{ layer: 0, head: 4 }] } }), InputError);
    await assert.rejects(backend.run(TEXT, { variation: { swap: [0, 999] } }), InputError);
  });
});

describe('positional encoding: without positions attention is order-blind', function () {
  this.timeout(120_000);
  const backend = new BuiltinBackend(path.join(modelsDir(), 'default'), 'default');
  after(() => backend.dispose());

  /** Layer l, head h row of the last token, over keys in their original order (undoing the swap). */
  function lastRow(attention: Float32Array, T: number, l: number, h: number, H: number, order: number[]): number[] {
    const offset = ((l * H + h) * T + T - 1) * T;
    const row = attention.subarray(offset, offset + T);
    const back = new Array<number>(T);
    order.forEach((original, position) => (back[original] = row[position]));
    return back;
  }

  it('causal model, layer 0: swapping two prefix tokens permutes the last token\'s weights exactly when positions are off, not when on', async () => {
    const text = 'the cat sat on the mat';
    const plain = await backend.run(text, { variation: { positions: false } });
    const T = plain.tokens.length;
    const order = [...plain.tokens.keys()];
    [order[0], order[2]] = [order[2], order[0]];
    const swapped = await backend.run(text, { variation: { positions: false, swap: [0, 2] } });
    assert.deepEqual(swapped.tokens.map((t) => t.id), order.map((i) => plain.tokens[i].id));
    for (let h = 0; h < 4; h++) close(lastRow(swapped.attention, T, 0, h, 4, order), lastRow(plain.attention, T, 0, h, 4, [...order.keys()]), 1e-6, `no positions, L0 H${h}`);

    const withPositions = await backend.run(text, {});
    const swappedWithPositions = await backend.run(text, { variation: { swap: [0, 2] } });
    const worst = Math.max(...[0, 1, 2, 3].map((h) => maxAbsDifference(lastRow(swappedWithPositions.attention, T, 0, h, 4, order), lastRow(withPositions.attention, T, 0, h, 4, [...order.keys()]))));
    assert.ok(worst > 1e-3, `with positions the rows differ by more than a permutation (worst ${worst})`);
  });

  it('bidirectional model: every layer\'s attention is permuted exactly when positions are off', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-bidir-'));
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(modelsDir(), 'default', 'tokenizer.json'), 'utf8'));
    await writeRandomGpt2Folder(dir, { seed: 7, layers: 3, heads: 2, dModel: 16, positions: 32, tokenizerJson, weightScale: 0.5 });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, causal: false }));
    const bidirectional = new BuiltinBackend(dir, 'bidirectional');
    try {
      const text = 'one two three four five';
      const a = await bidirectional.run(text, { variation: { positions: false } });
      const b = await bidirectional.run(text, { variation: { positions: false, swap: [1, 3] } });
      const T = a.tokens.length;
      const perm = [...a.tokens.keys()];
      [perm[1], perm[3]] = [perm[3], perm[1]];
      /** Largest |swapped[m, t, s] - plain[m, perm t, perm s]| over every layer and head. */
      const deviation = (plain: Float32Array, swapped: Float32Array) => {
        let worst = 0;
        for (let m = 0; m < 3 * 2; m++) {
          for (let t = 0; t < T; t++) for (let s = 0; s < T; s++) worst = Math.max(worst, Math.abs(swapped[(m * T + t) * T + s] - plain[(m * T + perm[t]) * T + perm[s]]));
        }
        return worst;
      };
      const worstOff = deviation(a.attention, b.attention);
      assert.ok(worstOff < 1e-5, `positions off: max deviation from the permutation ${worstOff}`);
      const c = await bidirectional.run(text, {});
      const d = await bidirectional.run(text, { variation: { swap: [1, 3] } });
      const worstOn = deviation(c.attention, d.attention);
      assert.ok(worstOn > 1e-4, `positions on: the permutation breaks (max deviation ${worstOn})`);
    } finally {
      bidirectional.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the worked example (bundled:worked-example)', function () {
  this.timeout(60_000);
  const backend = new BuiltinBackend(path.join(modelsDir(), 'worked-example'), 'worked-example');
  after(() => backend.dispose());
  // softmax([ln 3, 0, 0]) = [3, 1, 1] / 5, computed here from the definition.
  const own = Math.exp(Math.log(3)) / (Math.exp(Math.log(3)) + 2);
  const other = 1 / (Math.exp(Math.log(3)) + 2);
  const V = [1, 2, 3];

  for (const [query, expected] of [
    [0, 0.6 * 1 + 0.2 * 2 + 0.2 * 3],
    [1, 0.2 * 1 + 0.6 * 2 + 0.2 * 3],
    [2, 0.2 * 1 + 0.2 * 2 + 0.6 * 3],
  ] as const) {
    it(`我爱你, query ${query}: weights [${[0, 1, 2].map((j) => (j === query ? 0.6 : 0.2)).join(', ')}], output ${expected.toFixed(1)}`, async () => {
      const { explanation: e } = await backend.explain('我爱你', { layer: 0, head: 0, query }, {});
      assert.deepEqual(e.keys.map((k) => k.text), ['我', '爱', '你']);
      assert.equal(e.causal, false);
      assert.deepEqual(e.masked, [false, false, false]);
      close(e.weights, [0, 1, 2].map((j) => (j === query ? own : other)), 1e-7, 'weights');
      close(e.v!.map((v) => v[0]), V, 0, 'V');
      close(e.output, [expected], 1e-6, 'output');
      assert.equal(expected.toFixed(1), ['1.6', '2.0', '2.4'][query]);
      close(e.scores, [0, 0, 0], 0, 'scores (W_Q = 0)');
      close(e.bias, [0, 1, 2].map((j) => (j === query ? Math.log(3) : 0)), 1e-7, 'relative position bias');
    });
  }

  it('positions off: every weight 1/3 and every output 2.0', async () => {
    const { explanation: e } = await backend.explain('爱我你', { layer: 0, head: 0, query: 0 }, { variation: { positions: false } });
    close(e.weights, [1 / 3, 1 / 3, 1 / 3], 1e-7, 'weights');
    close(e.output, [(1 + 2 + 3) / 3], 1e-6, 'output');
    assert.equal(e.bias, null);
    assert.equal(e.positions, false);
  });

  it('the CLI prints weights [0.6, 0.2, 0.2] and output [1.6]', async () => {
    const { code, stdout, stderr } = await runCli(['explain', '--model', 'bundled:worked-example', '--text', '我爱你', '--layer', '0', '--head', '0', '--query', '0', '--json']);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(stdout);
    // Exactly these decimals: each weight is float32(3/5) or float32(1/5), printed as its shortest decimal.
    assert.deepEqual(json.weights, [0.6, 0.2, 0.2]);
    assert.deepEqual(json.output, [1.6]);
    assert.deepEqual(json.query, { index: 0, text: '我' });
    assert.equal(json.dK, 1);
    assert.deepEqual(json.unavailable, []);
    const text = await runCli(['explain', '--model', 'bundled:worked-example', '--text', '我爱你', '--layer', '0', '--head', '0', '--query', '0']);
    assert.match(text.stdout, /0\.6·1 \+ 0\.2·2 \+ 0\.2·3 = \[1\.6\]/);
  });

  it('tools/worked_example/make_worked_example.py regenerates the shipped folder byte for byte', function () {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-worked-'));
    const made = spawnSync('python3', [path.join(repoRoot(), 'tools', 'worked_example', 'make_worked_example.py'), out], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      assert.ok(fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(modelsDir(), 'worked-example', file))), `${file} differs`);
    }
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe('explain through the CLI agrees with run', function () {
  this.timeout(120_000);
  for (const backend of ['builtin', 'onnx']) {
    it(`default model, --backend ${backend}: explain's weights equal run's attention row; scaled for both`, async () => {
      const text = 'for i in range(10):';
      const run = await runCli(['run', '--text', text, '--backend', backend, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as JsonReport;
      const [, H, T] = report.attention.dims;
      const attention = base64ToFloat32(report.attention.data);
      const explained = await runCli(['explain', '--text', text, '--backend', backend, '--layer', '1', '--head', '2', '--query', String(T - 2), '--json']);
      assert.equal(explained.code, 0, explained.stderr);
      const e = JSON.parse(explained.stdout);
      const offset = ((1 * H + 2) * T + T - 2) * T;
      // The JSON prints float32 values as their shortest decimals: read back as float32 they are the run's own numbers.
      close(Array.from(Float32Array.from(e.weights)), Array.from(attention.subarray(offset, offset + T)), backend === 'builtin' ? 0 : 1e-6, 'weights vs run');
      assert.equal(e.scaled.length, T);
      assert.deepEqual(e.scaled.map((value: number | null) => value === null), e.masked);
      const visible = e.scaled.filter((value: number | null) => value !== null);
      close(e.weights.slice(0, visible.length), softmax(visible), 1e-5, 'softmax(scaled)');
      if (backend === 'builtin') {
        for (const key of ['q', 'k', 'v', 'scores', 'output', 'headWrite', 'residual', 'logitLens']) assert.ok(e[key] !== null, key);
        assert.deepEqual(e.unavailable, []);
      } else {
        for (const key of ['q', 'k', 'v', 'scores', 'output', 'headWrite', 'residual', 'logitLens']) assert.equal(e[key], null, key);
        assert.ok(e.unavailable.includes('q') && e.unavailable.includes('residual'));
      }
    });
  }

  it('ONNX model without attention outputs (graph surgery): explain\'s weights equal run\'s row', async () => {
    const model = path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain');
    const text = 'hello world';
    const run = await runCli(['run', '--text', text, '--model', model, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport;
    const [, H, T] = report.attention.dims;
    const attention = base64ToFloat32(report.attention.data);
    const explained = await runCli(['explain', '--text', text, '--model', model, '--layer', '0', '--head', String(H - 1), '--query', String(T - 1), '--json']);
    assert.equal(explained.code, 0, explained.stderr);
    const e = JSON.parse(explained.stdout);
    const offset = ((0 * H + H - 1) * T + T - 1) * T;
    close(e.weights, Array.from(attention.subarray(offset, offset + T)), 1e-6, 'weights vs run');
    assert.ok(e.scaled.every((value: number | null) => value !== null), 'the last query sees every key');
    assert.equal(e.q, null);
  });

  it('usage errors: missing --layer, bad --swap, bad --ablate, unknown bundled model', async () => {
    for (const args of [
      ['explain', '--text', 'x', '--head', '0', '--query', '0'],
      ['run', '--text', 'x', '--swap', '1'],
      ['run', '--text', 'x', '--ablate', 'zero'],
      ['run', '--text', 'x', '--model', 'bundled:nope'],
    ]) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    }
    const onnx = await runCli(['run', '--text', 'x y', '--backend', 'onnx', '--no-positions']);
    assert.equal(onnx.code, 1);
    assert.match(onnx.stderr, /built-in backend/);
  });
});

describe('compare: two runs side by side', function () {
  this.timeout(120_000);
  const backend = new BuiltinBackend(path.join(modelsDir(), 'default'), 'default');
  after(() => backend.dispose());

  it('a swap moves whole characters: 我爱你 (one token each) becomes 爱我你; in 鼹鼠爱你 the two byte tokens of 鼹 move together', async () => {
    const plain = await backend.run('我爱你', {});
    assert.equal(plain.tokens.length, 3, 'the default tokenizer keeps 我, 爱 and 你 whole');
    const swapped = await backend.run('我爱你', { variation: { swap: [0, 1] } });
    const direct = await backend.run('爱我你', {});
    assert.deepEqual(swapped.tokens.map((t) => t.id), direct.tokens.map((t) => t.id));
    assert.equal(swapped.tokens.map((t) => t.text).join(''), '爱我你');
    assert.notDeepEqual(plain.tokens.map((t) => t.id), direct.tokens.map((t) => t.id));

    const rare = await backend.run('鼹鼠爱你', {});
    assert.equal(rare.tokens.length, 5, '鼹 is two byte tokens');
    const moved = await backend.run('鼹鼠爱你', { variation: { swap: [0, 2] } });
    assert.deepEqual(moved.tokens.map((t) => t.id), (await backend.run('鼠鼹爱你', {})).tokens.map((t) => t.id));
    await assert.rejects(backend.run('鼹鼠爱你', { variation: { swap: [0, 1] } }), /one character/);
  });

  it('positions off: the last token\'s layer-0 row is a permutation (deviation 0); on: it is not', async () => {
    for (let head = 0; head < 4; head++) {
      const off = await runComparison(backend, '我爱你', {}, { positions: false, swap: [0, 1] }, 0, head);
      assert.deepEqual(off.baseVariation, { positions: false });
      assert.equal(off.permutation?.expected, true);
      assert.ok(off.permutation!.deviation < 1e-6, `H${head}: ${off.permutation!.deviation}`);
      // Independently: the varied run's row, read through the swap, equals the base row.
      const T = off.tokens.length;
      const order = [1, 0, 2];
      const variedRun = await backend.run('我爱你', { variation: { positions: false, swap: [0, 1] } });
      const baseRun = await backend.run('我爱你', { variation: { positions: false } });
      const rowOf = (attention: Float32Array, t: number) => attention.subarray(((0 * 4 + head) * T + t) * T, ((0 * 4 + head) * T + t + 1) * T);
      const baseRow = rowOf(baseRun.attention, T - 1);
      const variedRow = rowOf(variedRun.attention, T - 1);
      close(order.map((_original, position) => variedRow[position]), order.map((original) => baseRow[original]), 1e-6, `H${head} permuted row`);
    }
    const on = await runComparison(backend, '我爱你', {}, { swap: [0, 1] }, 0, 1);
    assert.equal(on.permutation?.expected, false);
    assert.ok(on.permutation!.deviation > 1e-3, `with positions the row changes (${on.permutation!.deviation})`);
  });

  it('positions on vs off (no swap) and switching a head off: base is the plain run; the maps and predictions differ', async () => {
    const positions = await runComparison(backend, TEXT, {}, { positions: false }, 0, 0);
    assert.deepEqual(positions.baseVariation, {});
    assert.equal(positions.permutation, undefined);
    const plain = await backend.run(TEXT, {});
    const T = plain.tokens.length;
    close(Array.from(positions.base), Array.from(plain.attention.subarray(0, T * T)), 0, 'base map = plain L0 H0');
    assert.ok(positions.maxDifference > 1e-3);
    const ablated = await runComparison(backend, TEXT, {}, { ablate: [{ layer: 0, head: 1 }] }, 2, 0);
    assert.ok(ablated.maxDifference > 1e-4, 'a later layer\'s attention changes');
    assert.notDeepEqual(ablated.variedPredictions, ablated.basePredictions);
  });

  it('the CLI compare --json carries both maps and the permutation check', async () => {
    const { code, stdout, stderr } = await runCli(['compare', '--text', '我爱你', '--swap', '0,1', '--no-positions', '--layer', '0', '--head', '2', '--json']);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(stdout);
    assert.deepEqual(json.dims, [3, 3]);
    assert.equal(base64ToFloat32(json.base).length, 9);
    assert.equal(json.permutation.expected, true);
    assert.ok(json.permutation.deviation < 1e-6);
    const usage = await runCli(['compare', '--text', 'x', '--layer', '0', '--head', '0']);
    assert.equal(usage.code, 2);
  });
});

describe('float32Decimal', () => {
  it('prints a float32 as the shortest decimal that is the same float32', () => {
    for (const value of [0.6, 0.2, 1.6, 2.4, 1 / 3, 123.456, -7.25e-8, 0]) {
      const single = Math.fround(value);
      const printed = float32Decimal(single);
      assert.equal(Math.fround(printed), single, `${value}`);
      assert.ok(String(printed).length <= String(single).length);
    }
    assert.equal(float32Decimal(Math.fround(0.6)), 0.6);
    assert.ok(Number.isNaN(float32Decimal(Number.NaN)));
  });
});
