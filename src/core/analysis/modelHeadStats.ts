// Runs the built-in block over held-out text and over repeated random tokens to measure what every
// head does (previous-token, first-token, self, entropy, induction). Used by `attention-inspector stats`.
import { Gpt2Model } from '../gpt2/model';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { seededRandom } from '../random';
import { averagePatterns, headPatterns, inductionScores, type HeadPattern } from './headStats';

export interface HeadStat extends HeadPattern {
  layer: number;
  head: number;
  induction: number;
}

export interface HeadStatsReport {
  samples: number;
  tokensPerSample: number;
  inductionSequences: number;
  inductionLength: number;
  heads: HeadStat[];
}

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

  const averaged = averagePatterns(patterns);
  return {
    samples: windows.length,
    tokensPerSample: windowTokens,
    inductionSequences: sequences,
    inductionLength: half,
    heads: averaged.map((pattern, index) => ({ layer: Math.floor(index / H), head: index % H, ...pattern, induction: induction[index] })),
  };
}
