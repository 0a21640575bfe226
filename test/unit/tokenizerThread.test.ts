// Tokenization off the calling thread, under a time limit, and only as far as a run needs
// (src/core/tokenizer/tokenizerThread.ts, prefixEncode.ts). Needs dist/tokenizerWorker.js (node esbuild.js).
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { ModelLoadError, TooManyTokensError } from '../../src/core/errors';
import { encodePrefix } from '../../src/core/tokenizer/prefixEncode';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import { TokenizerThread } from '../../src/core/tokenizer/tokenizerThread';
import { repoRoot } from '../support/heldout';
import { tinyModelFolder } from '../support/tinyModel';

const defaultTokenizer = () => path.join(repoRoot(), 'media', 'models', 'default', 'tokenizer.json');

describe('tokenizing under a time limit, as far as needed', function () {
  this.timeout(60_000);

  it('a tokenizer.json whose Split pattern backtracks without end is stopped with an error naming it; the next request works', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-redos-'));
    try {
      const json = JSON.parse(fs.readFileSync(path.join(await tinyModelFolder(), 'tokenizer.json'), 'utf8'));
      // A catastrophic pattern in front of the tokenizer's own pre-tokenizer (kept, so ordinary text still tokenizes).
      json.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false }, json.pre_tokenizer] };
      const file = path.join(dir, 'tokenizer.json');
      fs.writeFileSync(file, JSON.stringify(json));
      const thread = new TokenizerThread(file, 1500);
      try {
        const started = Date.now();
        await assert.rejects(thread.encode('a'.repeat(40) + '!'), (error: Error) => error instanceof ModelLoadError && error.message.includes(file) && /longer than 1\.5 s/.test(error.message));
        const took = Date.now() - started;
        assert.ok(took < 10_000, `stopped after ${took} ms`);
        // A fresh thread answers the next request.
        const { tokens, complete } = await thread.encode('hello world');
        assert.ok(complete && tokens.length > 0);
      } finally {
        thread.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the prefix tokens of a long text are exactly the first tokens of the whole text', async () => {
    const tokenizer = await TextTokenizer.fromFile(defaultTokenizer());
    const paragraph = fs.readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    const text = paragraph.repeat(3) + '我爱你'.repeat(500);
    const whole = tokenizer.encode(text);
    let calls = 0;
    const prefix = encodePrefix((part) => (calls++, tokenizer.encode(part)), text, 512);
    assert.equal(prefix.complete, false);
    assert.ok(prefix.tokens.length > 512);
    assert.deepEqual(prefix.tokens, whole.slice(0, prefix.tokens.length));
    assert.ok(prefix.tokens.at(-1)!.end < text.length / 4, 'only a prefix was tokenized');
    assert.ok(calls <= 3, `the prefix grew ${calls} times`);
    // Short texts are tokenized whole.
    assert.deepEqual(encodePrefix((part) => tokenizer.encode(part), 'short text', 512), { tokens: tokenizer.encode('short text'), complete: true });
    // Chinese, cut anywhere: still the whole text's first tokens.
    const chinese = '我爱你，你爱我。'.repeat(2000);
    const zh = encodePrefix((part) => tokenizer.encode(part), chinese, 300);
    assert.deepEqual(zh.tokens, tokenizer.encode(chinese).slice(0, zh.tokens.length));
  });

  it('a 2 MB selection is cut to maxTokens quickly, and its count is reported as a lower bound', async () => {
    const backend = new BuiltinBackend(await tinyModelFolder(), 'tiny');
    try {
      const huge = 'the quick brown fox jumps over the lazy dog. '.repeat(45_000); // ~2 MB
      await assert.rejects(backend.run(huge, { maxTokens: 64, failIfTooLong: true }), (error: Error) => error instanceof TooManyTokensError && error.atLeast && /more than \d+ tokens/.test(error.message));
      const started = Date.now();
      const result = await backend.run(huge, { maxTokens: 64 });
      assert.equal(result.tokens.length, 64);
      assert.equal(result.truncatedFromAtLeast, true);
      assert.ok(result.truncatedFrom! > 64);
      assert.ok(Date.now() - started < 5_000);
    } finally {
      backend.dispose();
    }
  });
});
