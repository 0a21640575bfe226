// `attention-inspector stats`: head statistics of a model folder's built-in block on held-out text.
import * as path from 'path';
import { measureHeads, type HeadStatsReport } from '../core/analysis/modelHeadStats';
import { Gpt2Model } from '../core/gpt2/model';
import { TextTokenizer } from '../core/tokenizer/textTokenizer';

export async function headStatsForFolder(dir: string, heldOutText: string, windowTokens: number): Promise<HeadStatsReport> {
  const [model, tokenizer] = await Promise.all([Gpt2Model.fromFolder(dir), TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'))]);
  return measureHeads(model, tokenizer, [heldOutText], { windowTokens });
}
