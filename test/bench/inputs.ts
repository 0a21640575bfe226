// Inputs of an exact token count: every backend tokenizes the same text and gets the same T tokens,
// and PyTorch is told the ids so its tokenization can be checked against ours.
import * as path from 'path';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import { heldOutSamples } from '../support/heldout';

export interface BenchInput {
  tokens: number;
  text: string;
  ids: number[];
}

/** The held-out texts (never trained on) joined; repeated until the longest size fits. */
export function heldOutText(): string {
  return heldOutSamples().map((sample) => sample.text).join('\n');
}

/**
 * For each size T: the shortest prefix of `source` (repeated as needed) that the model folder's
 * tokenizer turns into exactly T tokens. Throws when a size cannot be hit (it says which).
 */
export async function exactInputs(modelDir: string, source: string, sizes: readonly number[]): Promise<BenchInput[]> {
  const tokenizer = await TextTokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
  const longest = Math.max(...sizes);
  let text = source;
  let spans = tokenizer.encode(text);
  while (spans.length < longest + 1) {
    text = `${text}\n${source}`;
    spans = tokenizer.encode(text);
  }
  return sizes.map((T) => {
    // A cut inside a merge can change the last token or two; move the cut until the count is T.
    for (let end = spans[T - 1].end, tries = 0; tries < 16; tries++) {
      const prefix = text.slice(0, end);
      const tokens = tokenizer.encode(prefix);
      if (tokens.length === T) return { tokens: T, text: prefix, ids: tokens.map((token) => token.id) };
      end += tokens.length < T ? 1 : -1;
    }
    throw new Error(`no prefix of the held-out text tokenizes to exactly ${T} tokens with ${modelDir}/tokenizer.json`);
  });
}
