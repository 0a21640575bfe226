// RunOptions.scores on the ONNX backend: each attention Softmax's input comes back as
// AttentionGroup.scores, and softmax of it (computed here, independently of the code under test)
// is the attention the run returned. explainFromScores builds the step view from it.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { IsolatedOnnxBackend } from '../../src/core/backends/isolated/isolatedOnnxBackend';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { InputError } from '../../src/core/errors';
import { explainFromScores } from '../../src/core/explain/scoresExplain';
import type { ExplainRequest } from '../../src/core/explain/types';
import type { AttentionGroup, AttentionResult } from '../../src/core/types';
import { bundledModelDir, repoRoot } from '../support/heldout';

const fixture = (name: string) => path.join(repoRoot(), 'test', 'fixtures', 'onnx', name);
const referenceOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { text: string; target?: string };
const CODE = 'def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n';
const REASON = 'ONNX graphs keep q, k and v inside the model.';

/** What the test takes as masked: -Infinity or at most -5000 (the fixtures mask with -1e4, transformers with float32's lowest). */
const isMaskedScore = (score: number) => score === -Infinity || score <= -5000;

/** Softmax over the entries not masked, in float64; masked entries get 0. */
function softmax(row: ArrayLike<number>, masked: boolean[]): number[] {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (!masked[j]) max = Math.max(max, row[j]);
  const exps = Array.from(row, (score, j) => (masked[j] ? 0 : Math.exp(score - max)));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

/**
 * For every layer, head and query of the group: softmax(scores row) = attention row to 1e-5, and the
 * masked keys are exactly `expectMasked(query, key)`. Returns how many entries were masked.
 */
function checkGroup(group: AttentionGroup, expectMasked: (query: number, key: number) => boolean): number {
  const [L, H, Tq, Tk] = group.dims;
  assert.ok(group.scores instanceof Float32Array, `${group.name}: scores are a Float32Array`);
  assert.equal(group.scores.length, L * H * Tq * Tk, `${group.name}: scores are [L, H, Tq, Tk] like the attention`);
  let maskedCount = 0;
  let worst = 0;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < Tq; t++) {
        const at = ((l * H + h) * Tq + t) * Tk;
        const scores = group.scores.subarray(at, at + Tk);
        const masked = Array.from(scores, isMaskedScore);
        masked.forEach((isMasked, s) => assert.equal(isMasked, expectMasked(t, s), `${group.name} layer ${l} head ${h} query ${t} key ${s}: masked ${isMasked}, score ${scores[s]}`));
        maskedCount += masked.filter(Boolean).length;
        const expected = softmax(scores, masked);
        for (let s = 0; s < Tk; s++) worst = Math.max(worst, Math.abs(group.attention[at + s] - expected[s]));
      }
    }
  }
  assert.ok(worst <= 1e-5, `${group.name}: softmax(scores) differs from the attention by ${worst}`);
  return maskedCount;
}

const causalMask = (query: number, key: number) => key > query;
const noMask = () => false;

describe('ONNX backend: softmax inputs (RunOptions.scores)', function () {
  this.timeout(60000);
  const backends: { dispose(): void }[] = [];
  const open = (dir: string) => {
    const backend = new OnnxBackend(dir);
    backends.push(backend);
    return backend;
  };
  after(() => backends.forEach((backend) => backend.dispose()));

  it('GPT-2 without attention outputs (surgery): softmax(scores) is the attention, the causal upper triangle is masked', async () => {
    const dir = fixture('gpt2-plain');
    const backend = open(dir);
    const { text } = referenceOf(dir);
    const plain = await backend.run(text, {});
    assert.equal(plain.groups[0].scores, undefined, 'no scores unless asked for');
    const result = await backend.run(text, { scores: true });
    const T = result.tokens.length;
    assert.ok(T > 3);
    assert.equal(checkGroup(result.groups[0], causalMask), result.dims[0] * result.dims[1] * (T * (T - 1)) / 2);
    assert.deepEqual(result.attention, plain.attention, 'asking for scores leaves the attention as it was');
    assert.equal((await backend.run(text, {})).groups[0].scores, undefined, 'later runs without scores have none');
  });

  it('GPT-2 with explicit attention outputs: scores located by surgery, the same as its surgery twin', async () => {
    const { text } = referenceOf(fixture('gpt2-plain'));
    const explicit = await open(fixture('gpt2-explicit')).run(text, { scores: true });
    assert.equal(explicit.model.attentionSource, 'explicit outputs');
    checkGroup(explicit.groups[0], causalMask);
    const surgery = await open(fixture('gpt2-plain')).run(text, { scores: true });
    const scoresA = explicit.groups[0].scores!;
    const scoresB = surgery.groups[0].scores!;
    let worst = 0;
    for (let i = 0; i < scoresA.length; i++) if (!isMaskedScore(scoresA[i])) worst = Math.max(worst, Math.abs(scoresA[i] - scoresB[i]));
    assert.ok(worst <= 1e-4, `the twins' scores differ by ${worst}`);
  });

  it('BERT-style encoder: nothing masked, softmax(scores) is the attention', async () => {
    const dir = fixture('bert-tiny');
    const backend = open(dir);
    const { text } = referenceOf(dir);
    assert.equal((await backend.run(text, {})).groups[0].scores, undefined);
    const result = await backend.run(text, { scores: true });
    assert.equal(result.causal, false);
    assert.equal(checkGroup(result.groups[0], noMask), 0);
  });

  it('grouped-query attention (K/V heads repeated before the scores)', async () => {
    const dir = fixture('gqa-tiny');
    const result = await open(dir).run(referenceOf(dir).text, { scores: true });
    assert.ok(result.groups[0].kvHeads !== undefined && result.groups[0].kvHeads < result.dims[1]);
    checkGroup(result.groups[0], causalMask);
  });

  it('the bundled default model (explicit attentions output)', async () => {
    const result = await open(bundledModelDir()).run(CODE, { scores: true, maxTokens: 64 });
    assert.ok(result.tokens.length > 10);
    assert.equal(result.causal, true);
    checkGroup(result.groups[0], causalMask);
  });

  it('encoder–decoder: scores for encoder self, decoder masked self and cross-attention', async () => {
    const dir = fixture('encdec-tiny');
    const { text, target } = referenceOf(dir);
    const result = await open(dir).run(text, { scores: true, target });
    assert.deepEqual(result.groups.map((group) => group.name), ['encoder', 'decoder', 'cross']);
    for (const group of result.groups) checkGroup(group, group.name === 'decoder' ? causalMask : noMask);
  });

  it('through the isolated worker: the scores cross as a Float32Array, equal to the in-process ones', async () => {
    const dir = fixture('gpt2-plain');
    const { text } = referenceOf(dir);
    const isolated = new IsolatedOnnxBackend(dir);
    backends.push(isolated);
    const [actual, expected] = [await isolated.run(text, { scores: true }), await open(dir).run(text, { scores: true })];
    assert.ok(actual.groups[0].scores instanceof Float32Array);
    assert.deepEqual(actual.groups[0].scores, expected.groups[0].scores);
    assert.equal((await isolated.run(text, {})).groups[0].scores, undefined);
  });
});

describe('explainFromScores', function () {
  this.timeout(60000);
  let backend: OnnxBackend;
  let result: AttentionResult;
  before(async () => {
    backend = new OnnxBackend(fixture('gpt2-plain'));
    result = await backend.run(referenceOf(fixture('gpt2-plain')).text, { scores: true });
  });
  after(() => backend.dispose());

  it('gives the run\'s attention row as weights and the softmax input as scaled, null exactly where masked', () => {
    const [L, H, T] = result.dims;
    for (const [layer, head, query] of [[0, 0, 0], [L - 1, H - 1, T - 1], [1, 2, 3]]) {
      const explanation = explainFromScores(result, { layer, head, query }, REASON);
      const at = ((layer * H + head) * T + query) * T;
      assert.deepEqual(explanation.weights, Array.from(result.attention.subarray(at, at + T)));
      assert.equal(explanation.keys.length, T);
      assert.deepEqual(explanation.masked, Array.from({ length: T }, (_, key) => key > query));
      explanation.scaled.forEach((value, key) => {
        assert.equal(value === null, explanation.masked[key], `key ${key}`);
        if (value !== null) assert.equal(value, result.groups[0].scores![at + key]);
      });
      const expected = softmax(explanation.scaled.map((value) => value ?? 0), explanation.masked);
      explanation.weights.forEach((weight, key) => assert.ok(Math.abs(weight - expected[key]) <= 1e-5));
      assert.deepEqual({ layer: explanation.layer, head: explanation.head, query: explanation.query.index, group: explanation.group }, { layer, head, query, group: 0 });
      assert.equal(explanation.query.text, result.tokens[query].text);
    }
  });

  it('fills the contract: model, tokens, dK and its scale, nulls for what ONNX does not show, the reason', () => {
    const explanation = explainFromScores(result, { layer: 0, head: 1, query: 2 }, REASON);
    assert.equal(explanation.model, result.model);
    assert.equal(explanation.tokens, result.tokens);
    assert.equal(explanation.causal, true);
    assert.equal(explanation.dK, result.model.dModel / result.model.heads);
    assert.ok(explanation.dK > 0 && Number.isInteger(explanation.dK));
    assert.equal(explanation.scale, 1 / Math.sqrt(explanation.dK));
    for (const key of ['q', 'k', 'v', 'scores', 'bias', 'output', 'headWrite', 'headWrites', 'attentionBias', 'attentionOutput', 'residual', 'logitLens'] as const) {
      assert.equal(explanation[key], null, key);
    }
    assert.deepEqual(explanation.unavailable, ['q', 'k', 'v', 'scores', 'output', 'headWrite', 'headWrites', 'residual', 'logitLens']);
    assert.equal(explanation.unavailableReason, REASON);
    assert.equal(explanation.positions, true);
    assert.deepEqual(explanation.ablated, []);
    assert.doesNotThrow(() => JSON.stringify(explanation));
  });

  it('treats float32\'s lowest and -Infinity as masked, also in a group that is not causal', () => {
    const group = result.groups[0];
    const [, H, T] = group.dims;
    const scores = Float32Array.from(group.scores!);
    scores[0 * T + 0] = -Infinity; // layer 0 head 0 query 0 key 0 would otherwise be visible
    const row = (0 * H + 1) * T * T + (T - 1) * T;
    scores[row + 1] = -3.4028234663852886e38;
    const modified: AttentionResult = { ...result, groups: [{ ...group, causal: false, scores }] };
    assert.equal(explainFromScores(modified, { layer: 0, head: 0, query: 0 }, REASON).masked[0], true);
    const last = explainFromScores(modified, { layer: 0, head: 1, query: T - 1 }, REASON);
    assert.deepEqual(last.masked.map((masked, key) => (masked ? key : -1)).filter((key) => key >= 0), [1]);
    assert.equal(last.scaled[1], null);
  });

  it('refuses requests out of range, or without scores, with InputError', () => {
    const [L, H, T] = result.dims;
    const bad: ExplainRequest[] = [
      { layer: L, head: 0, query: 0 }, { layer: -1, head: 0, query: 0 }, { layer: 0.5, head: 0, query: 0 },
      { layer: 0, head: H, query: 0 }, { layer: 0, head: 0, query: T }, { layer: 0, head: 0, query: Number.NaN },
      { group: 1, layer: 0, head: 0, query: 0 },
    ];
    for (const request of bad) assert.throws(() => explainFromScores(result, request, REASON), InputError, JSON.stringify(request));
    const withoutScores: AttentionResult = { ...result, groups: [{ ...result.groups[0], scores: undefined }] };
    assert.throws(() => explainFromScores(withoutScores, { layer: 0, head: 0, query: 0 }, REASON), (error: unknown) => error instanceof InputError && /Softmax/.test(error.message));
  });

  it('labels inserted tokens and reads cross-attention keys from the source', async () => {
    const bert = new OnnxBackend(fixture('bert-tiny'));
    const encdec = new OnnxBackend(fixture('encdec-tiny'));
    try {
      const bertResult = await bert.run(referenceOf(fixture('bert-tiny')).text, { scores: true });
      const first = explainFromScores(bertResult, { layer: 0, head: 0, query: 0 }, REASON);
      assert.equal(first.query.text, '[CLS]');
      assert.equal(first.keys.at(-1)?.text, '[SEP]');
      assert.ok(first.masked.every((masked) => !masked));
      assert.ok(first.scaled.every((value) => value !== null));

      const { text, target } = referenceOf(fixture('encdec-tiny'));
      const run = await encdec.run(text, { scores: true, target });
      const cross = run.groups.findIndex((group) => group.name === 'cross');
      const explanation = explainFromScores(run, { group: cross, layer: 0, head: 0, query: 1 }, REASON);
      assert.equal(explanation.keys.length, run.tokens.length);
      assert.deepEqual(explanation.keys.map((key) => key.text), run.tokens.map((token) => token.text || token.label || ''));
      assert.equal(explanation.query.text, run.target!.tokens[1].text || run.target!.tokens[1].label);
      assert.equal(explanation.causal, false);
    } finally {
      bert.dispose();
      encdec.dispose();
    }
  });
});
