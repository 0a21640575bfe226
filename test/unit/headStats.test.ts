import * as assert from 'node:assert/strict';
import { averagePatterns, headPatterns, inductionScores } from '../../src/core/analysis/headStats';
import { measureHeads } from '../../src/core/analysis/modelHeadStats';
import { Gpt2Model } from '../../src/core/gpt2/model';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import * as path from 'path';
import { TINY_CORPUS, tinyModelFolder } from '../support/tinyModel';

/** Builds [1, H, T, T] from one function per head giving row t's weights. */
function heads(T: number, rows: ((t: number) => number[])[]): Float32Array {
  const att = new Float32Array(rows.length * T * T);
  rows.forEach((row, h) => {
    for (let t = 0; t < T; t++) att.set(row(t), (h * T + t) * T);
  });
  return att;
}

const oneHot = (T: number, at: number) => Array.from({ length: T }, (_, s) => (s === at ? 1 : 0));
const uniformCausal = (T: number, t: number) => Array.from({ length: T }, (_, s) => (s <= t ? 1 / (t + 1) : 0));

describe('head statistics', () => {
  const T = 5;
  const att = heads(T, [
    (t) => oneHot(T, Math.max(0, t - 1)), // previous-token head
    () => oneHot(T, 0), // first-token head
    (t) => oneHot(T, t), // self head
    (t) => uniformCausal(T, t),
  ]);
  const [previous, first, self, uniform] = headPatterns(att, [1, 4, T, T]);

  it('scores a pure previous-token, first-token and self head as 1 on its own measure', () => {
    assert.deepEqual([previous.previousToken, previous.firstToken, previous.selfAttention], [1, 0.25, 0]);
    assert.deepEqual([first.firstToken, first.previousToken, first.selfAttention], [1, 0.25, 0]);
    assert.deepEqual([self.selfAttention, self.previousToken, self.entropy], [1, 0, 0]);
  });

  it('gives a uniform causal head the mean of ln(t+1) as entropy', () => {
    const expected = (Math.log(2) + Math.log(3) + Math.log(4) + Math.log(5)) / 4;
    assert.ok(Math.abs(uniform.entropy - expected) < 1e-6);
    assert.ok(Math.abs(uniform.previousToken - (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 4) < 1e-6);
  });

  it('scores induction: second occurrence attends to the token after the first occurrence', () => {
    const n = 4;
    const T2 = 2 * n;
    const induction = heads(T2, [(t) => (t >= n ? oneHot(T2, t - n + 1) : oneHot(T2, 0)), (t) => oneHot(T2, Math.max(0, t - 1))]);
    const [perfect, previousHead] = inductionScores(induction, [1, 2, T2, T2], n);
    assert.equal(perfect, 1);
    // a previous-token head looks at position n+i-1, never i+1 (for n > 2)
    assert.equal(previousHead, 0);
    assert.throws(() => inductionScores(induction, [1, 2, T2, T2], 3), RangeError);
  });

  it('averages samples element-wise', () => {
    const mean = averagePatterns([[previous], [first]]);
    assert.equal(mean[0].previousToken, 0.625);
    assert.equal(mean[0].firstToken, 0.625);
  });

  it('measures every head of a real model folder with values in range', async function () {
    this.timeout(60000);
    const dir = await tinyModelFolder();
    const model = await Gpt2Model.fromFolder(dir);
    const tokenizer = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const report = await measureHeads(model, tokenizer, [TINY_CORPUS], { windowTokens: 32, maxWindows: 4, inductionSequences: 2, inductionLength: 10 });
    assert.equal(report.heads.length, model.config.nLayer * model.config.nHead);
    assert.equal(report.samples, 4);
    for (const head of report.heads) {
      for (const value of [head.previousToken, head.firstToken, head.selfAttention, head.induction]) assert.ok(value >= 0 && value <= 1, String(value));
      assert.ok(head.entropy >= 0 && head.entropy <= Math.log(32));
    }
  });
});
