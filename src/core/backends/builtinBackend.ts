// The built-in GPT-2 block as a backend: tokenizer.json + config.json + model.safetensors, run by
// the WebAssembly SIMD kernels where they load, else by the TypeScript kernels (options.kernels).
import * as path from 'path';
import { Gpt2Model } from '../gpt2/model';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { throwIfCancelled } from '../errors';
import type { AttentionBackend, AttentionResult, CancellationSignal, ModelInfo, RunOptions } from '../types';
import type { ExplainRequest, HeadExplanation } from '../explain/types';
import { explainFromTrace } from '../explain/traceExplain';
import { swapTokens } from '../explain/variation';
import { InputError } from '../errors';
import { withWarnings } from '../finiteCheck';
import { fitText } from './truncation';
import { TokenizerThread } from '../tokenizer/tokenizerThread';
import { selfGroup } from '../attentionGroups';
import { topPredictions } from '../predictions';
import type { KernelOptions } from '../math/wasm/kernelChoice';

/** How a BuiltinBackend runs: its display name and the kernels (kernelChoice.ts). */
export interface BuiltinBackendOptions extends KernelOptions {
  /** Default: the folder's name. */
  name?: string;
}

interface Loaded {
  tokenizer: TextTokenizer;
  model: Gpt2Model;
  info: ModelInfo;
}

export class BuiltinBackend implements AttentionBackend {
  readonly name = 'builtin' as const;
  private loading: Promise<Loaded> | undefined;
  /** The last load started, kept for dispose() even after `loading` is cleared. */
  private loaded: Promise<Loaded> | undefined;
  private tokenizing: TokenizerThread | undefined;
  private readonly modelName: string;
  private readonly options: BuiltinBackendOptions;

  /** new BuiltinBackend(dir), (dir, name), (dir, { kernels: 'wasm' | 'typescript' | 'auto', name? }) or (dir, name, options). */
  constructor(
    private readonly dir: string,
    nameOrOptions: string | BuiltinBackendOptions = {},
    options: BuiltinBackendOptions = {},
  ) {
    this.options = typeof nameOrOptions === 'string' ? { ...options, name: nameOrOptions } : nameOrOptions;
    this.modelName = this.options.name ?? path.basename(dir);
  }

  /** Loads once, on first use; a failed load is retried on the next call. */
  private load(): Promise<Loaded> {
    if (!this.loading) {
      this.loading = (async () => {
        const [tokenizer, model] = await Promise.all([
          TextTokenizer.fromFile(path.join(this.dir, 'tokenizer.json')),
          Gpt2Model.fromFolder(this.dir, this.options),
        ]);
        const config = model.config;
        const info: ModelInfo = {
          name: this.modelName,
          kind: config.causal ? 'decoder' : 'encoder',
          layers: config.nLayer,
          heads: config.nHead,
          dModel: config.nEmbd,
          vocabSize: config.vocabSize,
          maxPositions: config.nPositions,
          backend: 'builtin',
          kernels: model.kernelDescription,
        };
        return { tokenizer, model, info };
      })();
      this.loading.catch(() => (this.loading = undefined));
      this.loaded = this.loading;
    }
    return this.loading;
  }

  async describe(): Promise<ModelInfo> {
    return (await this.load()).info;
  }

  /** Loads the weights now, so that the first run does not wait for them. */
  async warmUp(): Promise<void> {
    await this.load();
  }

  async run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult> {
    return (await this.runModel(text, options, undefined, cancellation)).result;
  }

  async explain(text: string, request: ExplainRequest, options: RunOptions, cancellation?: CancellationSignal): Promise<{ result: AttentionResult; explanation: HeadExplanation }> {
    if ((request.group ?? 0) !== 0) throw new InputError(`Group ${request.group} does not exist: this model has one attention group (0).`);
    const { result, trace, tokenizer } = await this.runModel(text, options, request, cancellation);
    if (!trace) throw new Error('the model returned no trace');
    const explanation = explainFromTrace(result, trace, (id) => tokenizer.displayToken(id));
    explanation.positions = options.variation?.positions !== false;
    explanation.ablated = [...(options.variation?.ablate ?? [])];
    return { result, explanation };
  }

  /** One forward pass, under the run's variation, traced when `request` names a head and query. */
  private async runModel(text: string, options: RunOptions, request: ExplainRequest | undefined, cancellation?: CancellationSignal) {
    const started = performance.now();
    const { tokenizer, model, info } = await this.load();
    throwIfCancelled(cancellation);
    // The pass holds one [L, H, T, T] tensor; the result shares it.
    const fitted = await fitText(this.tokenizerThread(), text, options, info.maxPositions, cancellation, { layers: info.layers, heads: info.heads, copies: 1 });
    const variation = options.variation ?? {};
    const tokens = swapTokens(fitted.tokens, variation.swap);
    const output = await model.forward(
      tokens.map((token) => token.id),
      {
        cancellation,
        usePositionEmbeddings: variation.positions !== false,
        ablate: variation.ablate,
        trace: request && { layer: request.layer, head: request.head, query: request.query },
      },
    );
    const T = tokens.length;
    const causal = model.config.causal;
    const dims: [number, number, number, number] = [info.layers, info.heads, T, T];
    const result: AttentionResult = {
      model: info,
      text,
      tokens,
      dims,
      attention: output.attention,
      causal,
      groups: [selfGroup(output.attention, dims, causal)],
      lastLogits: output.lastLogits,
      predictions: topPredictions(output.lastLogits, 5, (id) => tokenizer.displayToken(id)),
      truncatedFrom: fitted.truncatedFrom,
      ...(fitted.truncatedFromAtLeast ? { truncatedFromAtLeast: true } : {}),
      elapsedMs: performance.now() - started,
    };
    return { result: withWarnings(result, model.warnings), trace: output.trace, tokenizer };
  }

  /** Tokenization runs in a worker thread under a time limit (a runaway tokenizer regex must not freeze the host). */
  private tokenizerThread(): TokenizerThread {
    return (this.tokenizing ??= new TokenizerThread(path.join(this.dir, 'tokenizer.json')));
  }

  dispose(): void {
    this.tokenizing?.dispose();
    this.tokenizing = undefined;
    this.loading = undefined;
    // The model's second thread (long inputs on the WebAssembly kernels) stops with the backend.
    void this.loaded?.then(({ model }) => model.dispose(), () => undefined);
    this.loaded = undefined;
  }
}
