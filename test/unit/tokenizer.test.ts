import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelLoadError } from '../../src/core/errors';
import { HfTokenizer } from '../../src/core/tokenizer/hfTokenizers';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import {
  BYTE_SYMBOLS, END_OF_TEXT, buildByteLevelBpeTokenizer, byteLevelTokenizerJson, toByteSymbols,
} from '../support/bpeTokenizer';
import { seededRandom } from '../../src/core/random';
import { assertCoversExactly, assertWellFormed, expectedSpansFromByteCounts, isHighSurrogate, randomText, ranges } from '../support/offsetOracle';

// ---------------------------------------------------------------------------------------------
// Helpers

const sym = (byte: number): string => BYTE_SYMBOLS[byte];

/** A deterministic mixed-script corpus of roughly `targetLength` characters. */
function corpusText(seed: number, targetLength: number): string {
  const random = seededRandom(seed);
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'attention', 'head', 'layer', 'token', 'model', 'is', 'and', 'of',
    'Hello', 'world', "don't", "it's", 'we', "they're", 'query', 'key', 'value', 'softmax'];
  const extras = ['我爱你', '注意力', '模型', '👩‍👩‍👧', '🇫🇷', '👍🏽', 'שלום', 'עולם', 'مرحبا', 'سلام', 'cafe\u0301', 'naïve', '42', '3.14', '\t', '\r\n', '\n', '!', ',', '.'];
  const parts: string[] = [];
  let length = 0;
  while (length < targetLength) {
    const part = random() < 0.75 ? words[Math.floor(random() * words.length)] : extras[Math.floor(random() * extras.length)];
    const separator = random() < 0.9 ? ' ' : '';
    parts.push(separator + part);
    length += separator.length + part.length;
  }
  return parts.join('');
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-test-'));
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** No merges: every byte is its own token, so the offset rule shows byte by byte. */
const bytesOnly = TextTokenizer.fromJson(byteLevelTokenizerJson([]));

const LEARNED_CORPUS = corpusText(7, 20_000);
const learnedJson = buildByteLevelBpeTokenizer(LEARNED_CORPUS, 600);
const learned = TextTokenizer.fromJson(learnedJson);
/** The library on its own, to check that ids decode back to the text independently of TextTokenizer. */
const learnedLibrary = new HfTokenizer(learnedJson, {});

// ---------------------------------------------------------------------------------------------

describe('TextTokenizer, byte-level BPE offsets', () => {
  it('gives exact offsets for ASCII words, with the leading space inside the word token', () => {
    const tokenizer = TextTokenizer.fromJson(byteLevelTokenizerJson([
      ['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['Ġ', 'w'], ['Ġw', 'o'], ['r', 'l'], ['rl', 'd'],
    ]));
    const text = 'hello, world!';
    const spans = tokenizer.encode(text);
    assert.deepEqual(spans.map((span) => tokenizer.idToToken(span.id)), ['hello', ',', 'Ġwo', 'rld', '!']);
    assert.deepEqual(ranges(spans), [[0, 5], [5, 6], [6, 9], [9, 12], [12, 13]]);
    assert.deepEqual(spans.map((span) => span.text), ['hello', ',', ' wo', 'rld', '!']);
    // Ids: 256 byte symbols first, then merged strings in merge order (he, ll, hell, hello, ...).
    assert.equal(spans[0].id, 256 + 3);
    assert.equal(tokenizer.displayToken(spans[2].id), '·wo');
    assert.equal(tokenizer.vocabSize, 256 + 8 + 1);
  });

  it('gives a CJK character to the token holding its first byte, and continuation-only tokens an empty span', () => {
    // 我 = E6 88 91, 爱 = E7 88 B1, 你 = E4 BD A0. The merges cut across characters: [E6 88] [91 E7] [88 B1] E4 BD A0.
    assert.deepEqual([...new TextEncoder().encode('我爱你')], [0xe6, 0x88, 0x91, 0xe7, 0x88, 0xb1, 0xe4, 0xbd, 0xa0]);
    const tokenizer = TextTokenizer.fromJson(byteLevelTokenizerJson([
      [sym(0xe6), sym(0x88)], [sym(0x91), sym(0xe7)], [sym(0x88), sym(0xb1)],
    ]));
    const spans = tokenizer.encode('我爱你');
    assert.deepEqual(spans.map((span) => tokenizer.idToToken(span.id)), [
      sym(0xe6) + sym(0x88), sym(0x91) + sym(0xe7), sym(0x88) + sym(0xb1), sym(0xe4), sym(0xbd), sym(0xa0),
    ]);
    assert.deepEqual(ranges(spans), [[0, 1], [1, 2], [2, 2], [2, 3], [3, 3], [3, 3]]);
    assert.deepEqual(spans.map((span) => span.text), ['我', '爱', '', '你', '', '']);
    // Labels show the bytes of a split character, which no character can stand for.
    assert.equal(tokenizer.displayToken(spans[0].id), '\\xE6\\x88');
    assert.equal(tokenizer.displayToken(spans[1].id), '\\x91\\xE7');
  });

  it('handles emoji ZWJ sequences byte by byte (surrogate pairs stay whole)', () => {
    // 👩 U+1F469: 2 units, 4 bytes; ZWJ U+200D: 1 unit, 3 bytes; 👧 U+1F467: 2 units, 4 bytes.
    const text = '👩‍👩‍👧';
    const spans = bytesOnly.encode(text);
    assert.deepEqual(ranges(spans), [
      [0, 2], [2, 2], [2, 2], [2, 2],
      [2, 3], [3, 3], [3, 3],
      [3, 5], [5, 5], [5, 5], [5, 5],
      [5, 6], [6, 6], [6, 6],
      [6, 8], [8, 8], [8, 8], [8, 8],
    ]);
    assertCoversExactly(text, spans);
  });

  it('handles flags (regional indicator pairs) and skin-tone modifiers', () => {
    const flag = '🇫🇷';
    assert.deepEqual(ranges(bytesOnly.encode(flag)), [[0, 2], [2, 2], [2, 2], [2, 2], [2, 4], [4, 4], [4, 4], [4, 4]]);
    const text = 'a👍🏽b';
    const spans = bytesOnly.encode(text);
    assert.deepEqual(ranges(spans), expectedSpansFromByteCounts(text, spans.map(() => 1)));
    assert.deepEqual(spans.filter((span) => span.text !== '').map((span) => span.text), ['a', '👍', '🏽', 'b']);
  });

  it('keeps a combining mark as its own character (e + U+0301)', () => {
    // U+0301 = CC 81. Byte by byte: e, then CC takes the mark and 81 is empty.
    assert.deepEqual(ranges(bytesOnly.encode('e\u0301')), [[0, 1], [1, 2], [2, 2]]);
    const merged = TextTokenizer.fromJson(byteLevelTokenizerJson([[sym(0xcc), sym(0x81)]]));
    const spans = merged.encode('cafe\u0301');
    assert.deepEqual(spans.map((span) => span.text), ['c', 'a', 'f', 'e', '\u0301']);
    assert.deepEqual(ranges(spans), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  });

  it('aligns right-to-left Hebrew and Arabic in logical order, merges across letters included', () => {
    // ש D7 A9, ל D7 9C, ו D7 95, ם D7 9D; the merge [A9 D7] joins the end of ש with the start of ל.
    assert.deepEqual([...new TextEncoder().encode('שלום')], [0xd7, 0xa9, 0xd7, 0x9c, 0xd7, 0x95, 0xd7, 0x9d]);
    const tokenizer = TextTokenizer.fromJson(byteLevelTokenizerJson([[sym(0xa9), sym(0xd7)]]));
    const spans = tokenizer.encode('שלום');
    assert.deepEqual(ranges(spans), [[0, 1], [1, 2], [2, 2], [2, 3], [3, 3], [3, 4], [4, 4]]);
    assert.deepEqual(spans.map((span) => span.text), ['ש', 'ל', '', 'ו', '', 'ם', '']);

    const arabic = 'مرحبا بالعالم';
    const arabicSpans = bytesOnly.encode(arabic);
    assert.deepEqual(ranges(arabicSpans), expectedSpansFromByteCounts(arabic, arabicSpans.map(() => 1)));
    assertCoversExactly(arabic, arabicSpans);
  });

  it('gives tabs and CRLF exact spans', () => {
    // GPT-2's pattern keeps "\r\n" together only when whitespace or the end follows it.
    const tokenizer = TextTokenizer.fromJson(byteLevelTokenizerJson([[sym(0x0d), sym(0x0a)], ['Ġ', 'b']]));
    const atEnd = tokenizer.encode('a\tb\r\n');
    assert.deepEqual(atEnd.map((span) => tokenizer.idToToken(span.id)), ['a', 'ĉ', 'b', 'čĊ']);
    assert.deepEqual(ranges(atEnd), [[0, 1], [1, 2], [2, 3], [3, 5]]);
    assert.equal(tokenizer.displayToken(atEnd[1].id), '⇥');
    assert.equal(tokenizer.displayToken(atEnd[3].id), '␍↵');
    const inside = tokenizer.encode('x\r\n b');
    assert.deepEqual(inside.map((span) => span.text), ['x', '\r\n', ' b']);
    assert.deepEqual(ranges(inside), [[0, 1], [1, 3], [3, 5]]);
  });

  it('matches special tokens typed in the text and gives post-processor tokens empty spans', () => {
    const merges: Array<[string, string]> = [['h', 'i']];
    const plain = TextTokenizer.fromJson(byteLevelTokenizerJson(merges));
    const endOfTextId = plain.vocabSize - 1;
    const typed = plain.encode(`hi${END_OF_TEXT} hi`);
    assert.deepEqual(typed.map((span) => span.id), [256, endOfTextId, 220, 256]);
    assert.deepEqual(typed.map((span) => span.text), ['hi', END_OF_TEXT, ' ', 'hi']);
    assert.equal(plain.displayToken(endOfTextId), END_OF_TEXT);

    const bos = { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: END_OF_TEXT, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: END_OF_TEXT, type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [END_OF_TEXT]: { id: END_OF_TEXT, ids: [endOfTextId], tokens: [END_OF_TEXT] } } };
    const wrapped = TextTokenizer.fromJson(byteLevelTokenizerJson(merges, { postProcessor: bos }));
    const text = `${END_OF_TEXT}hi`;
    const spans = wrapped.encode(text);
    assert.deepEqual(spans.map((span) => span.id), [endOfTextId, endOfTextId, 256, endOfTextId]);
    // The inserted BOS covers nothing, the typed one covers what was typed, the inserted EOS sits at the end.
    assert.deepEqual(ranges(spans), [[0, 0], [0, 13], [13, 15], [15, 15]]);
    assert.deepEqual(ranges(wrapped.encode('')), [[0, 0], [0, 0]]);
  });

  it('gives the space added by add_prefix_space no text', () => {
    const tokenizer = TextTokenizer.fromJson(byteLevelTokenizerJson([['Ġ', 'h']], { addPrefixSpace: true }));
    const spans = tokenizer.encode('hi there');
    assert.deepEqual(spans.map((span) => tokenizer.idToToken(span.id)), ['Ġh', 'i', 'Ġ', 't', 'h', 'e', 'r', 'e']);
    assert.deepEqual(ranges(spans), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8]]);
  });

  it('covers text with lone surrogates (encoded as U+FFFD, like TextEncoder)', () => {
    const text = 'a\ud800b\udc00';
    const spans = bytesOnly.encode(text);
    assertCoversExactly(text, spans);
    assert.deepEqual(ranges(spans), [[0, 1], [1, 2], [2, 2], [2, 2], [2, 3], [3, 4], [4, 4], [4, 4]]);
  });

  it('satisfies the offset rule on 1000 random Unicode strings, and ids decode back to the text', function () {
    this.timeout(20_000);
    const random = seededRandom(20240611);
    let sawSplitCharacter = false;
    for (let n = 0; n < 1000; n++) {
      const text = randomText(random);
      const spans = learned.encode(text);
      assertCoversExactly(text, spans);
      const byteCounts = spans.map((span) => (learned.idToToken(span.id) as string).length);
      assert.deepEqual(ranges(spans), expectedSpansFromByteCounts(text, byteCounts), `offsets of ${JSON.stringify(text)}`);
      for (const span of spans) {
        // A span never starts or ends between the halves of a surrogate pair.
        if (span.start > 0) assert.ok(!isHighSurrogate(text.charCodeAt(span.start - 1)), JSON.stringify(text));
        if (span.start === span.end && span.end > 0) sawSplitCharacter = true;
      }
      if (spans.length > 0) {
        const ids = spans.map((span) => span.id);
        assert.equal(learnedLibrary.decode(ids, { clean_up_tokenization_spaces: false }), text);
        assert.equal(learned.decode(ids), text);
      } else {
        assert.equal(text, '');
      }
    }
    assert.ok(sawSplitCharacter, 'the random strings include characters split across tokens');
  });

  it('refuses to guess when the library does not reproduce the text', () => {
    // Without 'Ġ' in the vocabulary the library silently drops every space.
    const json = byteLevelTokenizerJson([]) as { model: { vocab: Record<string, number> } };
    delete json.model.vocab['Ġ'];
    const tokenizer = TextTokenizer.fromJson(json);
    assert.throws(() => tokenizer.encode('a b'), (error: unknown) => error instanceof ModelLoadError && /does not reproduce the text/.test(error.message));
    assert.deepEqual(ranges(tokenizer.encode('ab')), [[0, 1], [1, 2]]);
  });
});

describe('TextTokenizer, loading', () => {
  it('loads tokenizer.json (and tokenizer_config.json) from a file or its folder', async () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(learnedJson));
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ clean_up_tokenization_spaces: false, model_max_length: 1024 }));
      const fromFile = await TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
      const fromFolder = await TextTokenizer.fromFile(dir);
      const text = 'Hello world, 我爱你 👩‍👩‍👧!';
      assert.deepEqual(fromFile.encode(text), learned.encode(text));
      assert.deepEqual(fromFolder.encode(text), learned.encode(text));
      assert.equal(fromFile.vocabSize, 600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing tokenizer.json as a ModelLoadError naming the path', async () => {
    const dir = tempDir();
    try {
      const missing = path.join(dir, 'tokenizer.json');
      await assert.rejects(TextTokenizer.fromFile(missing), (error: unknown) =>
        error instanceof ModelLoadError && error.message.includes(missing) && /not found/.test(error.message));
      await assert.rejects(TextTokenizer.fromFile(dir), ModelLoadError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports invalid JSON and non-tokenizer JSON as ModelLoadErrors', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'tokenizer.json');
      fs.writeFileSync(file, '{"model": {"type": "BPE", ');
      await assert.rejects(TextTokenizer.fromFile(file), (error: unknown) => error instanceof ModelLoadError && /not valid JSON/.test(error.message));
      fs.writeFileSync(file, '[1, 2, 3]');
      await assert.rejects(TextTokenizer.fromFile(file), (error: unknown) => error instanceof ModelLoadError && /not a JSON object/.test(error.message));
      fs.writeFileSync(file, '{"version": "1.0"}');
      await assert.rejects(TextTokenizer.fromFile(file), (error: unknown) => error instanceof ModelLoadError && /no "model"/.test(error.message));
      fs.writeFileSync(file, JSON.stringify(learnedJson));
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), 'not json');
      await assert.rejects(TextTokenizer.fromFile(file), (error: unknown) => error instanceof ModelLoadError && /tokenizer_config\.json is not valid JSON/.test(error.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => TextTokenizer.fromJson({ model: { type: 'NoSuchModel' } }), (error: unknown) => error instanceof ModelLoadError && /NoSuchModel/.test(error.message));
    assert.throws(() => TextTokenizer.fromJson({ ...learnedJson, pre_tokenizer: { type: 'NoSuchPreTokenizer' } }), ModelLoadError);
  });
});

describe('buildByteLevelBpeTokenizer', () => {
  it('writes a GPT-2-format tokenizer.json with exactly vocabSize entries', () => {
    const json = learnedJson as {
      model: { type: string; vocab: Record<string, number>; merges: string[]; unk_token: null; byte_fallback: boolean };
      pre_tokenizer: { type: string; add_prefix_space: boolean }; decoder: { type: string }; normalizer: null;
      added_tokens: Array<{ id: number; content: string; special: boolean }>;
    };
    assert.equal(json.model.type, 'BPE');
    assert.equal(json.pre_tokenizer.type, 'ByteLevel');
    assert.equal(json.pre_tokenizer.add_prefix_space, false);
    assert.equal(json.decoder.type, 'ByteLevel');
    assert.equal(json.normalizer, null);
    const ids = Object.values(json.model.vocab).sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: 600 }, (_, i) => i));
    // GPT-2's own numbering of the byte symbols.
    assert.equal(json.model.vocab['!'], 0);
    assert.equal(json.model.vocab['Ġ'], 220);
    assert.equal(json.model.vocab['Ċ'], 198);
    assert.deepEqual(json.added_tokens.map((token) => [token.id, token.content, token.special]), [[599, END_OF_TEXT, true]]);
    for (const merge of json.model.merges) {
      const parts = merge.split(' ');
      assert.equal(parts.length, 2, `merge ${JSON.stringify(merge)} is two symbols`);
      assert.ok(parts[0] in json.model.vocab && parts[1] in json.model.vocab && parts[0] + parts[1] in json.model.vocab);
    }
    assert.ok(json.model.merges.length >= 600 - 257);
  });

  it('is deterministic and learns merges that compress its corpus', () => {
    assert.deepEqual(buildByteLevelBpeTokenizer(LEARNED_CORPUS, 600), learnedJson);
    const sample = LEARNED_CORPUS.slice(0, 2000);
    const spans = learned.encode(sample);
    assert.ok(spans.length < new TextEncoder().encode(sample).length / 2.5, `${spans.length} tokens for ${sample.length} characters`);
    // Frequent words of the corpus became single tokens.
    assert.deepEqual(learned.encode(' attention').map((span) => learned.idToToken(span.id)), [toByteSymbols(' attention')]);
    assert.equal(learnedLibrary.decode(spans.map((span) => span.id), { clean_up_tokenization_spaces: false }), sample);
  });

  it('stops early when the corpus runs out of pairs, and rejects a vocabulary without room for the bytes', () => {
    const tiny = buildByteLevelBpeTokenizer('abab', 1000) as { model: { vocab: Record<string, number>; merges: string[] } };
    assert.deepEqual(tiny.model.merges, ['a b', 'ab ab']);
    assert.equal(Object.keys(tiny.model.vocab).length, 256 + 2 + 1);
    assert.throws(() => buildByteLevelBpeTokenizer('abc', 256), /at least 257/);
  });

  it('learns from a 50 KB corpus with a 1000-entry vocabulary quickly', () => {
    // Random mixed-script text: plenty of distinct pairs, so learning never runs out before 1000.
    const random = seededRandom(11);
    let corpus = '';
    while (corpus.length < 50_000) corpus += randomText(random) + ' ';
    const started = performance.now();
    const json = buildByteLevelBpeTokenizer(corpus, 1000) as { model: { vocab: Record<string, number> } };
    const elapsed = performance.now() - started;
    assert.equal(Object.keys(json.model.vocab).length, 1000);
    assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('TextTokenizer, WordPiece (best-effort alignment)', () => {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const words = ['hello', ',', 'world', '!', 'the', 'cat', '##s', 'sat', 'on', 'caf', '##e', 'mat', '我', 'un', '##believ', '##able'];
  const vocab: Record<string, number> = {};
  [...specials, ...words].forEach((token, id) => { vocab[token] = id; });
  const bert = TextTokenizer.fromJson({
    version: '1.0',
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });

  it('places lowercased, accent-stripped pieces on the original characters; [CLS]/[SEP] are empty', () => {
    const text = 'Hello, World! The CATS sat on the café mat ☃ 我';
    const spans = bert.encode(text);
    assert.deepEqual(spans.map((span) => bert.idToToken(span.id)), [
      '[CLS]', 'hello', ',', 'world', '!', 'the', 'cat', '##s', 'sat', 'on', 'the', 'caf', '##e', 'mat', '[UNK]', '我', '[SEP]',
    ]);
    assert.deepEqual(spans.map((span) => span.text), [
      '', 'Hello', ',', 'World', '!', 'The', 'CAT', 'S', 'sat', 'on', 'the', 'caf', 'é', 'mat', '☃', '我', '',
    ]);
    assert.deepEqual(ranges(spans).slice(0, 3), [[0, 0], [0, 5], [5, 6]]);
    assert.deepEqual(ranges(spans).slice(-3), [[43, 44], [45, 46], [46, 46]]);
    // Inserted tokens carry their vocabulary string as a label; tokens of the text carry none.
    assert.deepEqual(spans.map((span) => span.label), ['[CLS]', ...Array(15).fill(undefined), '[SEP]']);
    assertWellFormed(text, spans);
    // Nothing but whitespace: [CLS] still opens at 0 and [SEP] still closes at the end.
    assert.deepEqual(ranges(bert.encode(' \t ')), [[0, 0], [3, 3]]);
  });

  it('keeps a decomposed accent with its letter and gives [UNK] the word it replaced', () => {
    const text = 'Cafe\u0301 unbelievable xyzzy mat';
    const spans = bert.encode(text);
    assert.deepEqual(spans.map((span) => bert.idToToken(span.id)), ['[CLS]', 'caf', '##e', 'un', '##believ', '##able', '[UNK]', 'mat', '[SEP]']);
    assert.deepEqual(spans.map((span) => span.text), ['', 'Caf', 'e\u0301', 'un', 'believ', 'able', 'xyzzy', 'mat', '']);
    assertWellFormed(text, spans);
  });

  it('gives ordered, non-overlapping spans on 1000 random strings, without throwing', () => {
    const random = seededRandom(99);
    for (let n = 0; n < 1000; n++) {
      const text = randomText(random);
      const spans = bert.encode(text);
      assertWellFormed(text, spans);
      assert.equal(bert.idToToken(spans[0].id), '[CLS]');
      assert.deepEqual([spans[0].start, spans[0].end], [0, 0]);
      assert.equal(bert.idToToken(spans[spans.length - 1].id), '[SEP]');
      assert.deepEqual([spans[spans.length - 1].start, spans[spans.length - 1].end], [text.length, text.length]);
    }
  });
});

describe('TextTokenizer, Metaspace with byte fallback (best-effort alignment)', () => {
  it('turns ▁ back into spaces and decodes byte-fallback runs with the first-byte rule', () => {
    const vocab: Record<string, number> = { '<unk>': 0 };
    for (let byte = 0; byte < 256; byte++) vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = 1 + byte;
    for (const piece of ['▁', 'h', 'e', 'l', 'o', '▁h', 'll', '▁he', '▁hell', '▁hello']) vocab[piece] = Object.keys(vocab).length;
    const tokenizer = TextTokenizer.fromJson({
      added_tokens: [{ id: 0, content: '<unk>', special: true, normalized: false }],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
      post_processor: null,
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
      model: { type: 'BPE', unk_token: '<unk>', byte_fallback: true, fuse_unk: true, vocab,
        merges: [['▁', 'h'], ['l', 'l'], ['▁h', 'e'], ['▁he', 'll'], ['▁hell', 'o']] },
    });
    const text = 'hello 我 hello';
    const spans = tokenizer.encode(text);
    assert.deepEqual(spans.map((span) => tokenizer.idToToken(span.id)), ['▁hello', '▁', '<0xE6>', '<0x88>', '<0x91>', '▁hello']);
    assert.deepEqual(ranges(spans), [[0, 5], [5, 6], [6, 7], [7, 7], [7, 7], [7, 13]]);
    assert.equal(tokenizer.displayToken(spans[0].id), '·hello');
    assertWellFormed(text, spans);
  });
});
