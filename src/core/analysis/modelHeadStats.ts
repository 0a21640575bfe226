// Runs the built-in block over held-out text and over repeated random tokens to measure what every
// head does (previous-token, first-token, self, entropy, induction). Used by `attention-inspector stats`.
import { Gpt2Model } from '../gpt2/model';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { seededRandom } from '../random';
import { averagePatterns, headPatterns, inductionScores, type HeadPattern } from './headStats';

export interface HeadStat extends HeadPattern {
  layer: number;
  head: number;
  /** On random tokens of the learned vocabulary, repeated twice. */
  induction: number;
  /** On random common words (single tokens ' word' frequent in the held-out text), repeated twice; absent when the text has too few. */
  inductionWords?: number;
}

export interface HeadStatsReport {
  samples: number;
  tokensPerSample: number;
  inductionSequences: number;
  inductionLength: number;
  /** How many distinct common words the word-induction sequences draw from (0: not measured), and the first few. */
  inductionWordVocabulary: number;
  inductionWordExamples: string[];
  heads: HeadStat[];
}

/** Words for the word-induction score: the most frequent held-out tokens that are a space and 3+ ASCII letters. */
const COMMON_WORDS = 400;

export interface HeadStatsOptions {
  /** Tokens per held-out window. */
  windowTokens?: number;
  /** Most windows to use. */
  maxWindows?: number;
  /** Random sequences for the induction score, and the length of each half. */
  inductionSequences?: number;
  inductionLength?: number;
  seed?: number;
}

export async function measureHeads(model: Gpt2Model, tokenizer: TextTokenizer, heldOutTexts: string[], options: HeadStatsOptions = {}): Promise<HeadStatsReport> {
  const windowTokens = Math.min(options.windowTokens ?? 128, model.config.nPositions);
  const maxWindows = options.maxWindows ?? 32;
  const sequences = options.inductionSequences ?? 8;
  const half = Math.min(options.inductionLength ?? 50, Math.floor(model.config.nPositions / 2));
  const { nLayer: L, nHead: H, vocabSize: V } = model.config;

  // Held-out text, cut into whole windows so every sample has the same length.
  const windows: number[][] = [];
  for (const text of heldOutTexts) {
    const ids = tokenizer.encode(text).map((token) => token.id);
    for (let start = 0; start + windowTokens <= ids.length && windows.length < maxWindows; start += windowTokens) {
      windows.push(ids.slice(start, start + windowTokens));
    }
    if (windows.length >= maxWindows) break;
  }
  if (windows.length === 0) throw new RangeError(`the held-out text has fewer than ${windowTokens} tokens`);
  const patterns: HeadPattern[][] = [];
  for (const ids of windows) {
    const { attention } = await model.forward(ids);
    patterns.push(headPatterns(attention, [L, H, ids.length, ids.length]));
  }

  // Induction: random tokens from the upper part of the vocabulary (learned merges, not bytes).
  const random = seededRandom(options.seed ?? 2024);
  const induction = new Array<number>(L * H).fill(0);
  for (let q = 0; q < sequences; q++) {
    const firstHalf = Array.from({ length: half }, () => 256 + Math.floor(random() * Math.max(1, V - 257)));
    const { attention } = await model.forward([...firstHalf, ...firstHalf]);
    inductionScores(attention, [L, H, 2 * half, 2 * half], half).forEach((score, index) => (induction[index] += score / sequences));
  }

  // Induction on common words: each sequence is `half` distinct words drawn from the most frequent
  // single-token words of the held-out windows, then the same words again.
  const counts = new Map<number, number>();
  for (const ids of windows) for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const words = [...counts.entries()]
    .filter(([id]) => /^ [a-z]{3,}$/.test(tokenizer.decode([id])))
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, COMMON_WORDS)
    .map(([id]) => id);
  const inductionWords = new Array<number>(L * H).fill(0);
  const measureWords = words.length >= half;
  if (measureWords) {
    for (let q = 0; q < sequences; q++) {
      const pool = [...words];
      const firstHalf = Array.from({ length: half }, () => pool.splice(Math.floor(random() * pool.length), 1)[0]);
      const { attention } = await model.forward([...firstHalf, ...firstHalf]);
      inductionScores(attention, [L, H, 2 * half, 2 * half], half).forEach((score, index) => (inductionWords[index] += score / sequences));
    }
  }

  const averaged = averagePatterns(patterns);
  return {
    samples: windows.length,
    tokensPerSample: windowTokens,
    inductionSequences: sequences,
    inductionLength: half,
    inductionWordVocabulary: measureWords ? words.length : 0,
    inductionWordExamples: measureWords ? words.slice(0, 12).map((id) => tokenizer.decode([id])) : [],
    heads: averaged.map((pattern, index) => ({
      layer: Math.floor(index / H),
      head: index % H,
      ...pattern,
      induction: induction[index],
      ...(measureWords ? { inductionWords: inductionWords[index] } : {}),
    })),
  };
}
