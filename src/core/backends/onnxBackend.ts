// onnxruntime-node as a backend for models that output their attention probabilities
// (an `attentions` tensor [L, B, H, T, T], or one [B, H, T, T] output per layer).
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelLoadError, throwIfCancelled } from '../errors';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import type { AttentionBackend, AttentionResult, CancellationSignal, ModelInfo, RunOptions } from '../types';
import { fitTokens } from './truncation';
import { topPredictions } from '../predictions';

type Ort = typeof import('onnxruntime-node');

interface Loaded {
  ort: Ort;
  session: InferenceSession;
  tokenizer: TextTokenizer;
  /** Outputs holding attention: one rank-5 stacked output, or rank-4 outputs in layer order. */
  attentionOutputs: string[];
  stacked: boolean;
  logitsOutput: string | undefined;
  config: Record<string, unknown>;
}

/** Output names of per-layer attention, e.g. attentions.0 / attentions_0 / attention_3; sorted by layer. */
const PER_LAYER = /^(?:attentions?|attn_probs?)[._]?(\d+)$/;

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
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load ${modelPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const outputs = session.outputNames;
    let attentionOutputs: string[];
    let stacked = false;
    if (outputs.includes('attentions')) {
      attentionOutputs = ['attentions'];
      stacked = true;
    } else {
      attentionOutputs = outputs
        .filter((name) => PER_LAYER.test(name))
        .sort((a, b) => Number(PER_LAYER.exec(a)![1]) - Number(PER_LAYER.exec(b)![1]));
    }
    if (attentionOutputs.length === 0) {
      throw new ModelLoadError(`${modelPath} has no attention outputs (it outputs ${outputs.join(', ')}). Export it with an "attentions" output [L, B, H, T, T].`);
    }
    if (!session.inputNames.includes('input_ids')) {
      throw new ModelLoadError(`${modelPath} has no input named input_ids (its inputs: ${session.inputNames.join(', ')}).`);
    }
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(fs.readFileSync(path.join(this.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      // config.json is optional for ONNX models: shapes come from the outputs.
    }
    const logitsOutput = outputs.includes('logits') ? 'logits' : undefined;
    return { ort, session, tokenizer, attentionOutputs, stacked, logitsOutput, config };
  }

  async describe(): Promise<ModelInfo> {
    const { config } = await this.load();
    const int = (key: string) => (typeof config[key] === 'number' ? (config[key] as number) : 0);
    return {
      name: this.modelName,
      kind: 'decoder',
      layers: int('n_layer'),
      heads: int('n_head'),
      dModel: int('n_embd'),
      vocabSize: int('vocab_size'),
      maxPositions: int('n_positions') || 4096,
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
    const feeds = this.makeFeeds(loaded, tokens.map((token) => token.id));
    const results = await loaded.session.run(feeds);
    throwIfCancelled(cancellation);

    const { attention, layers, heads } = collectAttention(loaded, results, T);
    let lastLogits: Float32Array | undefined;
    if (loaded.logitsOutput) {
      const logits = results[loaded.logitsOutput] as Tensor;
      const V = logits.dims[logits.dims.length - 1];
      lastLogits = Float32Array.from((logits.data as Float32Array).subarray((T - 1) * V, T * V));
    }
    return {
      model: { ...described, layers, heads, vocabSize: described.vocabSize || (lastLogits?.length ?? 0) },
      text,
      tokens,
      dims: [layers, heads, T, T],
      attention,
      causal: isCausal(attention, layers * heads, T),
      lastLogits,
      predictions: lastLogits && topPredictions(lastLogits, 5, (id) => loaded.tokenizer.displayToken(id)),
      truncatedFrom,
      elapsedMs: performance.now() - started,
    };
  }

  /** input_ids [1, T] plus the usual companions when the graph asks for them. */
  private makeFeeds({ ort, session }: Loaded, ids: number[]): Record<string, Tensor> {
    const T = ids.length;
    const int64 = (values: (i: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(values(i))), [1, T]);
    const feeds: Record<string, Tensor> = { input_ids: int64((i) => ids[i]) };
    for (const name of session.inputNames) {
      if (name === 'input_ids') continue;
      if (name === 'attention_mask') feeds[name] = int64(() => 1);
      else if (name === 'position_ids') feeds[name] = int64((i) => i);
      else if (name === 'token_type_ids') feeds[name] = int64(() => 0);
      else throw new ModelLoadError(`The model needs an input this extension cannot fill: ${name}.`);
    }
    return feeds;
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
  const first = results[attentionOutputs[0]] as Tensor;
  const H = first.dims[1];
  const L = attentionOutputs.length;
  const attention = new Float32Array(L * H * T * T);
  attentionOutputs.forEach((name, layer) => {
    const tensor = results[name] as Tensor;
    if (tensor.dims.length !== 4 || tensor.dims[1] !== H || tensor.dims[2] !== T || tensor.dims[3] !== T) {
      throw new ModelLoadError(`${name} has shape [${tensor.dims.join(', ')}], expected [1, ${H}, ${T}, ${T}].`);
    }
    attention.set((tensor.data as Float32Array).subarray(0, H * T * T), layer * H * T * T);
  });
  return { attention, layers: L, heads: H };
}

/** True when every weight above the diagonal is exactly zero, in every one of `count` [T, T] maps. */
export function isCausal(attention: Float32Array, count: number, T: number): boolean {
  if (T < 2) return true;
  for (let m = 0; m < count; m++) {
    for (let t = 0; t < T; t++) {
      const row = (m * T + t) * T;
      for (let s = t + 1; s < T; s++) if (attention[row + s] !== 0) return false;
    }
  }
  return true;
}
