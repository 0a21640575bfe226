// The built-in TypeScript GPT-2 block as a backend: tokenizer.json + config.json + model.safetensors.
import * as path from 'path';
import { Gpt2Model } from '../gpt2/model';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { throwIfCancelled } from '../errors';
import type { AttentionBackend, AttentionResult, CancellationSignal, ModelInfo, RunOptions } from '../types';
import { fitTokens } from './truncation';
import { selfGroup } from '../attentionGroups';
import { topPredictions } from '../predictions';

interface Loaded {
  tokenizer: TextTokenizer;
  model: Gpt2Model;
  info: ModelInfo;
}

export class BuiltinBackend implements AttentionBackend {
  readonly name = 'builtin' as const;
  private loading: Promise<Loaded> | undefined;

  constructor(private readonly dir: string, private readonly modelName: string = path.basename(dir)) {}

  /** Loads once, on first use; a failed load is retried on the next call. */
  private load(): Promise<Loaded> {
    if (!this.loading) {
      this.loading = (async () => {
        const [tokenizer, model] = await Promise.all([
          TextTokenizer.fromFile(path.join(this.dir, 'tokenizer.json')),
          Gpt2Model.fromFolder(this.dir),
        ]);
        const config = model.config;
        const info: ModelInfo = {
          name: this.modelName,
          kind: 'decoder',
          layers: config.nLayer,
          heads: config.nHead,
          dModel: config.nEmbd,
          vocabSize: config.vocabSize,
          maxPositions: config.nPositions,
          backend: 'builtin',
        };
        return { tokenizer, model, info };
      })();
      this.loading.catch(() => (this.loading = undefined));
    }
    return this.loading;
  }

  async describe(): Promise<ModelInfo> {
    return (await this.load()).info;
  }

  async run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult> {
    const started = performance.now();
    const { tokenizer, model, info } = await this.load();
    throwIfCancelled(cancellation);
    const { tokens, truncatedFrom } = fitTokens(tokenizer.encode(text), options, info.maxPositions);
    const output = await model.forward(tokens.map((token) => token.id), { cancellation });
    const T = tokens.length;
    const dims: [number, number, number, number] = [info.layers, info.heads, T, T];
    return {
      model: info,
      text,
      tokens,
      dims,
      attention: output.attention,
      causal: true,
      groups: [selfGroup(output.attention, dims, true)],
      lastLogits: output.lastLogits,
      predictions: topPredictions(output.lastLogits, 5, (id) => tokenizer.displayToken(id)),
      truncatedFrom,
      elapsedMs: performance.now() - started,
    };
  }

  dispose(): void {
    this.loading = undefined;
  }
}
