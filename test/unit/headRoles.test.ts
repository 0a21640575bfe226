import * as assert from 'node:assert/strict';
import { headRoles, ROLE_EXPLANATIONS } from '../../src/core/analysis/headRoles';
import { headPatterns } from '../../src/core/analysis/headStats';
import { InputError } from '../../src/core/errors';
import { seededRandom } from '../../src/core/random';
import type { AttentionResult, TokenSpan } from '../../src/core/types';
import type { JsonReport } from '../../src/cli/format';
import { main } from '../../src/cli/main';

/** A one-group result over token ids with [1, H, T, T] attention, one function per head giving row t. */
function resultOf(ids: number[], rows: ((t: number) => number[])[]): AttentionResult {
  const T = ids.length;
  const attention = new Float32Array(rows.length * T * T);
  rows.forEach((row, h) => {
    for (let t = 0; t < T; t++) attention.set(row(t), (h * T + t) * T);
  });
  const tokens: TokenSpan[] = ids.map((id, t) => ({ id, text: `t${id}`, start: t, end: t + 1 }));
  const dims: [number, number, number, number] = [1, rows.length, T, T];
  return {
    model: { name: 'test', kind: 'decoder', layers: 1, heads: rows.length, dModel: 8, vocabSize: 100, maxPositions: 64, backend: 'builtin' },
    text: '',
    tokens,
    dims,
    attention,
    causal: true,
    groups: [{ name: 'self', label: 'Self-attention', kind: 'masked-self', queries: 'source', keys: 'source', dims, attention, causal: true }],
    elapsedMs: 0,
  };
}

const oneHot = (T: number, at: number) => Array.from({ length: T }, (_, s) => (s === at ? 1 : 0));

describe('head roles', () => {
  it('scores a pure previous-token head 1, and a full uniform head ln T entropy and 1/T previous-token', () => {
    const T = 6;
    const [previous, uniform] = headRoles(resultOf([1, 2, 3, 4, 5, 6], [(t) => oneHot(T, Math.max(0, t - 1)), () => new Array<number>(T).fill(1 / T)]));
    assert.equal(previous.previousToken, 1);
    assert.equal(previous.entropy, 0);
    assert.ok(Math.abs(uniform.entropy - Math.log(T)) < 1e-6);
    assert.ok(Math.abs(uniform.previousToken - 1 / T) < 1e-6);
    assert.ok(Math.abs(uniform.firstToken - 1 / T) < 1e-6);
    // nothing repeats: same-token and induction have nothing to measure
    assert.equal(previous.sameToken, null);
    assert.equal(previous.induction, null);
    assert.deepEqual([previous.layer, previous.head, uniform.head], [0, 0, 1]);
  });

  it('scores an ideal induction head 1 on a repeated random sequence, and a same-token head 1', () => {
    const random = seededRandom(7);
    const n = 12;
    const ids: number[] = [];
    while (ids.length < n) {
      const id = 256 + Math.floor(random() * 5000);
      if (!ids.includes(id)) ids.push(id);
    }
    const sequence = [...ids, ...ids];
    const T = 2 * n;
    const [induction, same, previous] = headRoles(
      resultOf(sequence, [
        (t) => (t >= n ? oneHot(T, t - n + 1) : oneHot(T, 0)), // ideal induction: the token after the earlier occurrence
        (t) => (t >= n ? oneHot(T, t - n) : oneHot(T, 0)), // looks at the earlier occurrence itself
        (t) => oneHot(T, Math.max(0, t - 1)),
      ]),
    );
    assert.equal(induction.induction, 1);
    assert.equal(induction.sameToken, 0);
    assert.equal(same.sameToken, 1);
    assert.equal(same.induction, 0);
    assert.equal(previous.previousToken, 1);
    assert.equal(previous.induction, 0);
  });

  it('shares its formulas with the model card statistics (headPatterns)', () => {
    const T = 5;
    const result = resultOf([3, 1, 4, 1, 5], [(t) => Array.from({ length: T }, (_, s) => (s <= t ? 1 / (t + 1) : 0)), (t) => oneHot(T, t)]);
    const roles = headRoles(result);
    const patterns = headPatterns(result.attention, result.dims);
    roles.forEach((role, m) => {
      assert.equal(role.previousToken, patterns[m].previousToken);
      assert.equal(role.firstToken, patterns[m].firstToken);
      assert.equal(role.entropy, patterns[m].entropy);
    });
    // token 1 repeats at position 3; its earlier occurrence is 1 and the token after it is 2
    assert.ok(Math.abs((roles[0].sameToken as number) - 0.25) < 1e-7);
    assert.ok(Math.abs((roles[0].induction as number) - 0.25) < 1e-7);
    assert.equal(roles[1].sameToken, 0);
  });

  it('refuses cross-attention, a missing group and a single token, and explains every score in one line', () => {
    const result = resultOf([1, 2], [() => [0.5, 0.5]]);
    assert.throws(() => headRoles(result, 3), InputError);
    assert.throws(() => headRoles({ ...result, groups: [{ ...result.groups[0], kind: 'cross', queries: 'target' }] }), InputError);
    assert.throws(() => headRoles(resultOf([1], [() => [1]])), InputError);
    for (const line of Object.values(ROLE_EXPLANATIONS)) assert.ok(line.length > 0 && !line.includes('\n'));
  });

  it('CLI run --roles adds roles to --json and a table to the text report', async function () {
    this.timeout(60000);
    let stdout = '';
    let stderr = '';
    const code = await main(['run', '--text', 'the cat sat. the cat sat.', '--roles', '--json'], (text) => (stdout += text), (text) => (stderr += text));
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as JsonReport & { roles: { layer: number; head: number; induction: number | null; entropy: number }[] };
    assert.equal(report.roles.length, report.model.layers * report.model.heads);
    for (const role of report.roles) {
      assert.ok(role.induction !== null && role.induction >= 0 && role.induction <= 1 + 1e-6);
      assert.ok(role.entropy >= 0);
    }
    stdout = '';
    assert.equal(await main(['run', '--text', 'the cat sat. the cat sat.', '--roles'], (text) => (stdout += text), (text) => (stderr += text)), 0);
    assert.match(stdout, /\| layer \| head \| previous token \| first token \| same token \| induction \| entropy \(nats\) \|/);
    assert.ok(stdout.includes(ROLE_EXPLANATIONS.induction));
  });
});
