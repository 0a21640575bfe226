// The bundled default model folder: complete, within its size budget, loadable by both backends,
// its trained tokenizer meets the offset rule on random Unicode text, and it has the previous-token
// head its card reports.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { seededRandom } from '../../src/core/random';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import { parseGpt2Config } from '../../src/core/gpt2/config';
import { measureHeads } from '../../src/core/analysis/modelHeadStats';
import { Gpt2Model } from '../../src/core/gpt2/model';
import { bundledModelDir, heldOutSamples } from '../support/heldout';
import { assertCoversExactly, expectedSpansFromByteCounts, randomText, ranges } from '../support/offsetOracle';

describe('bundled default model', () => {
  const dir = bundledModelDir();

  it('holds every file both backends and the model card need, in at most 40 MB (the issue\'s budget)', () => {
    const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'model.onnx', 'MODEL_CARD.md'];
    let total = 0;
    for (const file of files) {
      const full = path.join(dir, file);
      assert.ok(fs.existsSync(full), `${file} is missing`);
      total += fs.statSync(full).size;
    }
    for (const file of fs.readdirSync(dir)) if (!files.includes(file)) total += fs.statSync(path.join(dir, file)).size;
    assert.ok(total <= 40 * 1024 * 1024, `the folder holds ${(total / 1048576).toFixed(1)} MB`);
  });

  it('has a GPT-2 config whose vocabulary matches its tokenizer', async () => {
    const config = parseGpt2Config(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
    const tokenizer = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    assert.equal(tokenizer.vocabSize, config.vocabSize);
    assert.ok(config.nPositions >= 256, `context ${config.nPositions}`);
  });

  it('meets the tokenizer targets: 我爱你 is three one-character tokens, the fluffy-creature sentence at most 13 tokens', async () => {
    const tokenizer = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    assert.deepEqual(ranges(tokenizer.encode('我爱你')), [[0, 1], [1, 2], [2, 3]]);
    const sentence = 'A fluffy blue creature roamed the verdant forest.';
    const spans = tokenizer.encode(sentence);
    assertCoversExactly(sentence, spans);
    assert.ok(spans.length <= 13, `${spans.length} tokens: ${spans.map((span) => JSON.stringify(sentence.slice(span.start, span.end))).join(' ')}`);
  });

  it('tokenizes 1000 random Unicode strings with spans that tile the text by the first-byte rule', async function () {
    this.timeout(30_000);
    const tokenizer = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const random = seededRandom(31337);
    for (let n = 0; n < 1000; n++) {
      const text = randomText(random);
      const spans = tokenizer.encode(text);
      assertCoversExactly(text, spans);
      const byteCounts = spans.map((span) => (tokenizer.idToToken(span.id) as string).length);
      assert.deepEqual(ranges(spans), expectedSpansFromByteCounts(text, byteCounts), `offsets of ${JSON.stringify(text)}`);
      if (spans.length > 0) assert.equal(tokenizer.decode(spans.map((span) => span.id)), text);
    }
  });

  it('has a clear previous-token head on held-out text (TypeScript head statistics), as its card and head_stats.json say', async function () {
    this.timeout(120000);
    const dir = bundledModelDir();
    const model = await Gpt2Model.fromFolder(dir);
    const tokenizer = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    // Held-out files the model never trained on; a few windows keep the test quick.
    const texts = heldOutSamples().map((sample) => sample.text);
    const report = await measureHeads(model, tokenizer, texts, { windowTokens: 128, maxWindows: 8, inductionSequences: 2, inductionLength: 20 });
    const best = report.heads.reduce((a, b) => (b.previousToken > a.previousToken ? b : a));
    assert.ok(best.previousToken >= 0.5, `best previous-token head L${best.layer} H${best.head}: ${best.previousToken.toFixed(3)}`);
    const shipped = JSON.parse(fs.readFileSync(path.join(dir, 'head_stats.json'), 'utf8')) as { heads: { layer: number; head: number; previousToken: number }[] };
    const shippedBest = shipped.heads.reduce((a, b) => (b.previousToken > a.previousToken ? b : a));
    assert.deepEqual([shippedBest.layer, shippedBest.head], [best.layer, best.head], 'head_stats.json names the same head');
    const card = fs.readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    assert.match(card, new RegExp(`Best previous-token head: L${best.layer} H${best.head} \\((0\\.[5-9]\\d*|1\\.0+)\\)`));
  });
});
