// onnxruntime-node as a backend for any unfused ONNX transformer. Attention comes from outputs that
// already hold it (`attentions` [L, B, H, T, T], or one [B, H, T, T] output per layer) or, when a
// model has none, from graph surgery: the Softmax outputs inside its attention blocks are added as
// graph outputs and the modified model runs from memory (src/core/onnx).
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelLoadError, throwIfCancelled } from '../errors';
import { looksCausal } from '../onnx/attentionFinder';
import { exposeModelFile, noAttentionMessage } from '../onnx/exposeAttention';
import { planInputs, toOrtFeeds, type GraphInput } from '../onnx/inputs';
import { siteLayout } from '../onnx/siteTensors';
import { topPredictions } from '../predictions';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import type { AttentionBackend, AttentionResult, CancellationSignal, ModelInfo, RunOptions } from '../types';
import { fitTokens } from './truncation';

type Ort = typeof import('onnxruntime-node');

interface Loaded {
  ort: Ort;
  session: InferenceSession;
  tokenizer: TextTokenizer;
  inputs: GraphInput[];
  /** Outputs holding attention: one rank-5 stacked output, or rank-4/3 outputs in layer order. */
  attentionOutputs: string[];
  stacked: boolean;
  /** How the attention was found, for the output channel and the model card. */
  source: 'explicit outputs' | 'graph surgery';
  logitsOutput: string | undefined;
  config: Record<string, unknown>;
}

export class OnnxBackend implements AttentionBackend {
  readonly name = 'onnx' as const;
  private loading: Promise<Loaded> | undefined;

  constructor(private readonly dir: string, private readonly modelName: string = path.basename(dir)) {}

  private load(): Promise<Loaded> {
    if (!this.loading) {
      this.loading = this.loadOnce();
      this.loading.catch(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async loadOnce(): Promise<Loaded> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as Ort;
    const tokenizer = await TextTokenizer.fromFile(path.join(this.dir, 'tokenizer.json'));
    const modelPath = path.join(this.dir, 'model.onnx');
    const exposed = await exposeModelFile(modelPath);
    const problem = noAttentionMessage(exposed, modelPath);
    if (problem) throw new ModelLoadError(problem);
    if (exposed.explicit.length === 0 && exposed.sites.some((site) => site.kind === 'cross')) {
      const count = (kind: string) => exposed.sites.filter((site) => site.kind === kind).length;
      throw new ModelLoadError(
        `${modelPath} is an encoder–decoder model (found ${count('encoder-self')} encoder self-attention, ${count('decoder-self')} decoder self-attention and ${count('cross')} cross-attention blocks). ` +
          'Showing encoder–decoder attention (a source and a target text, three attention groups) is not supported yet; decoder-only and encoder-only models are.',
      );
    }
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(exposed.bytes, { ...exposed.sessionOptions, graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load ${modelPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const explicit = exposed.explicit;
    const stacked = explicit.length === 1 && explicit[0] === 'attentions';
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(fs.readFileSync(path.join(this.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      // config.json is optional for ONNX models: shapes come from the outputs.
    }
    return {
      ort,
      session,
      tokenizer,
      inputs: exposed.inputs,
      attentionOutputs: explicit.length > 0 ? explicit : exposed.sites.map((site) => site.output),
      stacked,
      source: explicit.length > 0 ? 'explicit outputs' : 'graph surgery',
      logitsOutput: session.outputNames.includes('logits') ? 'logits' : undefined,
      config,
    };
  }

  async describe(): Promise<ModelInfo> {
    const { config } = await this.load();
    const int = (...keys: string[]) => {
      for (const key of keys) if (typeof config[key] === 'number') return config[key] as number;
      return 0;
    };
    return {
      name: this.modelName,
      kind: 'decoder',
      layers: int('n_layer', 'num_hidden_layers', 'num_layers'),
      heads: int('n_head', 'num_attention_heads', 'num_heads'),
      dModel: int('n_embd', 'hidden_size', 'd_model'),
      vocabSize: int('vocab_size'),
      maxPositions: int('n_positions', 'max_position_embeddings') || 4096,
      backend: 'onnx',
    };
  }

  async run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult> {
    const started = performance.now();
    const loaded = await this.load();
    const described = await this.describe();
    throwIfCancelled(cancellation);
    const { tokens, truncatedFrom } = fitTokens(loaded.tokenizer.encode(text), options, described.maxPositions);
    const T = tokens.length;
    const feeds = toOrtFeeds(loaded.ort, planInputs(loaded.inputs, tokens.map((token) => token.id)));
    const results = await loaded.session.run(feeds);
    throwIfCancelled(cancellation);

    const { attention, layers, heads } = collectAttention(loaded, results, T);
    let lastLogits: Float32Array | undefined;
    if (loaded.logitsOutput) {
      const logits = results[loaded.logitsOutput] as Tensor;
      const V = logits.dims[logits.dims.length - 1];
      lastLogits = Float32Array.from((logits.data as Float32Array).subarray((T - 1) * V, T * V));
    }
    const causal = looksCausal(attention, [layers * heads, T, T], 0);
    return {
      // Causality is read off the weights: a decoder never puts weight on a later token.
      model: { ...described, kind: causal ? 'decoder' : 'encoder', layers, heads, vocabSize: described.vocabSize || (lastLogits?.length ?? 0) },
      text,
      tokens,
      dims: [layers, heads, T, T],
      attention,
      causal,
      lastLogits,
      predictions: lastLogits && causal ? topPredictions(lastLogits, 5, (id) => loaded.tokenizer.displayToken(id)) : undefined,
      truncatedFrom,
      elapsedMs: performance.now() - started,
    };
  }

  /** How attention was found ('explicit outputs' or 'graph surgery'), once loaded. */
  async attentionSource(): Promise<Loaded['source']> {
    return (await this.load()).source;
  }

  dispose(): void {
    const loading = this.loading;
    this.loading = undefined;
    void loading?.then((loaded) => loaded.session.release()).catch(() => undefined);
  }
}

/** Copies the attention outputs of batch 0 into one [L, H, T, T] tensor. */
function collectAttention({ attentionOutputs, stacked }: Loaded, results: InferenceSession.ReturnType, T: number): { attention: Float32Array; layers: number; heads: number } {
  if (stacked) {
    const tensor = results[attentionOutputs[0]] as Tensor;
    const [L, B, H, T1, T2] = tensor.dims;
    if (tensor.dims.length !== 5 || T1 !== T || T2 !== T || B !== 1) throw new ModelLoadError(`attentions has shape [${tensor.dims.join(', ')}], expected [L, 1, H, ${T}, ${T}].`);
    // [L, 1, H, T, T] has the same memory layout as [L, H, T, T].
    return { attention: Float32Array.from(tensor.data as Float32Array), layers: L, heads: H };
  }
  const layouts = attentionOutputs.map((name) => siteLayout((results[name] as Tensor).dims, name));
  const H = layouts[0].heads;
  const L = attentionOutputs.length;
  const attention = new Float32Array(L * H * T * T);
  attentionOutputs.forEach((name, layer) => {
    const layout = layouts[layer];
    if (layout.heads !== H || layout.queries !== T || layout.keys !== T) {
      throw new ModelLoadError(`${name} holds [${layout.heads}, ${layout.queries}, ${layout.keys}] attention, expected [${H}, ${T}, ${T}] like the first layer.`);
    }
    const data = (results[name] as Tensor).data;
    if (!(data instanceof Float32Array)) throw new ModelLoadError(`${name} is not float32 (${(results[name] as Tensor).type}); only float32 attention is supported.`);
    attention.set(data.subarray(0, H * T * T), layer * H * T * T);
  });
  return { attention, layers: L, heads: H };
}
