// Test fixtures: GPT-2-format byte-level BPE tokenizer.json files, learned from a corpus or written
// from explicit merges. Only the learning lives here; encoding is left to @huggingface/tokenizers.
// The byte alphabet is computed here on its own (not imported from src) so that the fixtures check
// the code under test instead of repeating it.

/** GPT-2's pre-tokenizer pattern (encoder.py), as the ByteLevel pre-tokenizer applies it. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const END_OF_TEXT = '<|endoftext|>';

/** bytes_to_unicode(): byte -> the one-character symbol spelling it. [256] */
export const BYTE_SYMBOLS: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const symbols: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) symbols[b] = String.fromCharCode(printable.includes(b) ? b : 256 + shifted++);
  return symbols;
})();

/** The byte-level spelling of a string: its UTF-8 bytes, one symbol each. */
export function toByteSymbols(text: string): string {
  let spelled = '';
  for (const byte of new TextEncoder().encode(text)) spelled += BYTE_SYMBOLS[byte];
  return spelled;
}

export interface ByteLevelOptions {
  /** ByteLevel pre-tokenizer's add_prefix_space (GPT-2: false). */
  addPrefixSpace?: boolean;
  /** A post_processor to use instead of GPT-2's ByteLevel one (null for none). */
  postProcessor?: object | null;
}

/**
 * A tokenizer.json in GPT-2's format whose vocabulary is the 256 byte symbols (ordered by code
 * unit, as GPT-2's vocab.json is: '!' = 0, 'Ġ' = 220), then one entry per new merged string in merge
 * order, then '<|endoftext|>'. Merges are pairs of vocabulary strings, written "left right".
 */
export function byteLevelTokenizerJson(merges: ReadonlyArray<readonly [string, string]>, options: ByteLevelOptions = {}): object {
  const vocab: Record<string, number> = {};
  let size = 0;
  for (const symbol of [...BYTE_SYMBOLS].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))) vocab[symbol] = size++;
  for (const [left, right] of merges) {
    if (!(left in vocab) || !(right in vocab)) throw new Error(`Merge "${left} ${right}" uses a string that is not in the vocabulary yet.`);
    const merged = left + right;
    if (!(merged in vocab)) vocab[merged] = size++;
  }
  const endOfTextId = size;
  vocab[END_OF_TEXT] = endOfTextId;
  const byteLevel = { add_prefix_space: options.addPrefixSpace ?? false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: endOfTextId, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: options.postProcessor !== undefined
      ? options.postProcessor
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([left, right]) => `${left} ${right}`),
    },
  };
}

/**
 * Learns byte-level BPE merges from the corpus until the vocabulary (256 bytes + merged strings +
 * '<|endoftext|>') has vocabSize entries or no pair is left, and returns the tokenizer.json.
 *
 * Words are the corpus's GPT-2 pre-tokens, so merges never cross them. Each step merges the most
 * frequent adjacent pair; ties go to the pair whose left symbol, then right symbol, was created
 * first (lower id), which makes the result a pure function of (corpus, vocabSize).
 */
export function buildByteLevelBpeTokenizer(corpus: string, vocabSize: number, options: ByteLevelOptions = {}): object {
  if (!Number.isInteger(vocabSize) || vocabSize < 257) throw new Error(`vocabSize must be an integer of at least 257 (256 bytes + <|endoftext|>), got ${vocabSize}.`);

  // Symbols: ids 0..255 are the bytes, later ids merged strings.
  const symbolText: string[] = [...BYTE_SYMBOLS];
  const symbolId = new Map<string, number>(symbolText.map((text, id) => [text, id]));

  // Distinct words with their counts; each word a mutable array of symbol ids.
  const wordCounts = new Map<string, number>();
  for (const match of corpus.matchAll(GPT2_PATTERN)) wordCounts.set(match[0], (wordCounts.get(match[0]) ?? 0) + 1);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(new TextEncoder().encode(word)));
    counts.push(count);
  }

  // Pair statistics, keyed by left * PAIR_BASE + right; which words hold each pair.
  const PAIR_BASE = 1 << 20;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addWordPairs = (w: number, sign: 1 | -1): void => {
    const word = words[w];
    for (let k = 0; k + 1 < word.length; k++) {
      const pair = word[k] * PAIR_BASE + word[k + 1];
      const count = (pairCounts.get(pair) ?? 0) + sign * counts[w];
      if (count > 0) pairCounts.set(pair, count);
      else pairCounts.delete(pair);
      if (sign > 0) {
        let holders = pairWords.get(pair);
        if (!holders) pairWords.set(pair, (holders = new Set()));
        holders.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addWordPairs(w, 1);

  const merges: Array<[string, string]> = [];
  const recorded = new Set<number>();
  // 256 bytes + merged strings + <|endoftext|>
  while (symbolText.length + 1 < vocabSize && pairCounts.size > 0) {
    let bestPair = -1;
    let bestCount = 0;
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && pair < bestPair)) {
        bestPair = pair;
        bestCount = count;
      }
    }
    const left = Math.floor(bestPair / PAIR_BASE);
    const right = bestPair % PAIR_BASE;
    const mergedText = symbolText[left] + symbolText[right];
    let merged = symbolId.get(mergedText);
    if (merged === undefined) {
      merged = symbolText.length;
      symbolText.push(mergedText);
      symbolId.set(mergedText, merged);
    }
    // A pair can come back after later merges rebuild it; one line per pair is enough for BPE.
    if (!recorded.has(bestPair)) {
      recorded.add(bestPair);
      merges.push([symbolText[left], symbolText[right]]);
    }

    for (const w of pairWords.get(bestPair) ?? []) {
      addWordPairs(w, -1);
      const word = words[w];
      let write = 0;
      for (let read = 0; read < word.length; read++) {
        if (read + 1 < word.length && word[read] === left && word[read + 1] === right) {
          word[write++] = merged;
          read++;
        } else {
          word[write++] = word[read];
        }
      }
      word.length = write;
      addWordPairs(w, 1);
    }
    pairWords.delete(bestPair);
  }
  return byteLevelTokenizerJson(merges, options);
}
