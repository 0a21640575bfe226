// A small random-weight GPT-2 folder with a real byte-level BPE tokenizer, built deterministically
// in a temp folder once per process. Tests that need "a model" use this; nothing is downloaded.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildByteLevelBpeTokenizer } from './bpeTokenizer';
import { writeRandomGpt2Folder } from './randomGpt2';

/** English prose and code, so the learned merges cover both kinds of text the tests use. */
export const TINY_CORPUS = [
  'The quick brown fox jumps over the lazy dog. A fluffy blue creature roamed the verdant forest.',
  'The animal did not cross the street because it was too tired. Attention is all you need.',
  'function add(a, b) { return a + b; }\nconst total = add(1, 2);\nexport function softmax(scores) { return scores; }',
  'def attention(q, k, v):\n    return sum(w * x for w, x in zip(q, k))\n',
  '我爱你。你爱我。The transformer attends to every token of the input with queries, keys and values.',
].join('\n').repeat(3);

let cached: Promise<string> | undefined;

export function tinyModelFolder(): Promise<string> {
  cached ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-tiny-gpt2-'));
    await writeRandomGpt2Folder(dir, {
      seed: 1234,
      layers: 2,
      heads: 4,
      dModel: 32,
      positions: 128,
      tokenizerJson: buildByteLevelBpeTokenizer(TINY_CORPUS, 400),
    });
    return dir;
  })();
  return cached;
}
