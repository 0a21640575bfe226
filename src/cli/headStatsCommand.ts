// `attention-inspector stats`: head statistics of a model folder's built-in block on held-out text.
import * as path from 'path';
import { measureHeads, type HeadStatsReport } from '../core/analysis/modelHeadStats';
import { Gpt2Model } from '../core/gpt2/model';
import type { KernelOptions } from '../core/math/wasm/kernelChoice';
import { TextTokenizer } from '../core/tokenizer/textTokenizer';

export async function headStatsForFolder(dir: string, heldOutText: string, windowTokens: number, kernels: KernelOptions = {}): Promise<HeadStatsReport> {
  const [model, tokenizer] = await Promise.all([Gpt2Model.fromFolder(dir, kernels), TextTokenizer.fromFile(path.join(dir, 'tokenizer.json'))]);
  try {
    return await measureHeads(model, tokenizer, [heldOutText], { windowTokens });
  } finally {
    model.dispose();
  }
}
