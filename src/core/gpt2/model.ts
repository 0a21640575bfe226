// The built-in GPT-2: a faithful forward pass of Hugging Face's GPT2LMHeadModel in TypeScript,
// returning every layer's and head's attention, the final hidden states and the next-token logits.
//
//   x = wte[ids] + wpe[0..T)
//   per block:  x += c_proj(attention(ln_1(x)))      attention: causal softmax(q·kᵀ/√d_head)·v per head
//               x += mlp.c_proj(act(mlp.c_fc(ln_2(x))))
//   hidden = ln_f(x);  logits = hidden[T-1] · wteᵀ
//
// Two extensions for teaching models, both off in GPT-2 (config.ts, weights.ts): "causal": false
// and "layer_norm": false, and an optional relative position bias added to the scaled scores.
// A run can switch heads off (their write is zero) and can record, for one (layer, head, query),
// every intermediate of that head and the residual stream of the query token (Gpt2Trace).
//
// Two kernel sets run it (options.kernels): the WebAssembly SIMD kernels (wasmForward.ts, the
// default where they load) and the TypeScript kernels below, the reference and the fallback.
//
// The pass is async only to stay polite: it yields a macrotask between layers, heads and slices of
// the big matrix products, so the extension host keeps serving events and a run can be cancelled.

import * as fs from 'fs';
import * as path from 'path';
import { InputError, ModelLoadError, throwIfCancelled } from '../errors';
import type { CancellationSignal } from '../types';
import type { HeadRef, ResidualNorms } from '../explain/types';
import { applyActivation } from '../math/activations';
import { attentionProbabilities, weightedValues } from '../math/attention';
import { norm } from '../math/elementwise';
import { addInPlace, embed } from '../math/elementwise';
import { layerNorm } from '../math/layerNorm';
import { linearTransposed } from '../math/linear';
import { matmulTransposedB } from '../math/matmul';
import { DEFAULT_THREAD_MIN_TOKENS, describeKernels, resolveKernels, type KernelOptions, type ResolvedKernels } from '../math/wasm/kernelChoice';
import { SafetensorsFile } from '../safetensors';
import { FILE_LIMITS, readCheckedFile } from '../modelFiles';
import { tensorWarnings } from '../finiteCheck';
import { parseGpt2Config, type Gpt2Config } from './config';
import { loadGpt2Weights, type Gpt2LayerWeights, type Gpt2Weights } from './weights';
import { mergeHead, newTrace, recordHead, recordResidual, recordWrites, relativeBiasFor, splitHead } from './headSteps';
import { WasmGpt2Pass } from './wasmForward';

export interface Gpt2ForwardOptions {
  cancellation?: CancellationSignal;
  /**
   * Default true; false leaves out wpe (and any relative position bias), so the model sees the
   * tokens as an unordered bag (positional-encoding lesson).
   */
  usePositionEmbeddings?: boolean;
  /** Heads whose output is set to zero before W_O ("what if this head were off"). */
  ablate?: readonly HeadRef[];
  /** Record every step of one head for one query token (the step view). */
  trace?: { layer: number; head: number; query: number };
}

/** The intermediates of one head for one query, taken from the pass that produced the attention. */
export interface Gpt2Trace {
  layer: number;
  head: number;
  query: number;
  /** What q·k is multiplied by: 1/√d_head (and 1/(layer+1) when the config asks). */
  scale: number;
  /** [dHead] the query vector (before scaling). */
  q: Float32Array;
  /** [T, dHead] every token's key vector. */
  k: Float32Array;
  /** [T, dHead] every token's value vector. */
  v: Float32Array;
  /** [T] relative position bias added for this query's keys; absent when the model has none (or positions are off). */
  bias?: Float32Array;
  /** [T] the attention row (a copy of attention[layer, head, query, :]). */
  weights: Float32Array;
  /** [H, dHead] each head's output for the query: the concatenation W_O reads, head by head. */
  headOutputs: Float32Array;
  /** [H, D] each head's share of the attention sublayer output: headOutputs[h] · W_O[h·dHead.., :]. */
  headWrites: Float32Array;
  /** [D] b_O. */
  attentionBias: Float32Array;
  /** [D] the attention sublayer's output for the query (c_proj of the concatenation, bias included). */
  attentionOutput: Float32Array;
  /** Norms of the query's residual stream around every block. */
  residual: ResidualNorms[];
  /** [L][V] logits read from the query's residual stream after each block (ln_f + unembedding). */
  lensLogits: Float32Array[];
}

export interface Gpt2Output {
  /** [L, H, T, T] row-major: attention[((l * H + h) * T + t) * T + s]; rows sum to 1, s > t exactly 0. */
  attention: Float32Array;
  /** [V] next-token logits after the last position: ln_f(h_{T-1}) · wteᵀ. */
  lastLogits: Float32Array;
  /** [T, D] the final hidden states, after ln_f. */
  hidden: Float32Array;
  /** Present when options.trace asked for it. */
  trace?: Gpt2Trace;
}

/** Multiply-adds per slice of a big matrix product between two yields (~10 ms in V8). */
const MULTIPLY_ADDS_PER_SLICE = 16_000_000;

export class Gpt2Model {
  /** Weight tensors with NaN or infinite values, by name (finiteCheck.ts), found once at load. */
  readonly warnings: string[];
  /** Which kernels run the pass: 'wasm' (WebAssembly SIMD) or 'typescript'. */
  readonly kernels: 'wasm' | 'typescript';
  /** The kernels in words, with why WebAssembly did not load when it did not ("TypeScript (WebAssembly SIMD unavailable: …)"). */
  readonly kernelDescription: string;
  private readonly wasm: WasmGpt2Pass | undefined;

  private constructor(
    readonly config: Gpt2Config,
    private readonly weights: Gpt2Weights,
    options: KernelOptions,
  ) {
    this.warnings = tensorWarnings(namedWeights(weights));
    const resolved: ResolvedKernels = resolveKernels(options);
    this.kernels = resolved.kind;
    this.kernelDescription = describeKernels(resolved);
    this.wasm = resolved.kind === 'wasm' ? new WasmGpt2Pass(config, weights, resolved.module, options.threadMinTokens ?? DEFAULT_THREAD_MIN_TOKENS) : undefined;
  }

  /** Loads dir/config.json and dir/model.safetensors (Hugging Face GPT-2 names). */
  static async fromFolder(dir: string, options: KernelOptions = {}): Promise<Gpt2Model> {
    const configPath = path.join(dir, 'config.json');
    const weightsPath = path.join(dir, 'model.safetensors');
    const configText = (await readModelFile(configPath, FILE_LIMITS.json)).toString('utf-8');
    let json: unknown;
    try {
      json = JSON.parse(configText);
    } catch (error) {
      throw new ModelLoadError(`${configPath} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
    }
    const config = parseGpt2Config(json, configPath);
    const file = SafetensorsFile.parse(await readModelFile(weightsPath, FILE_LIMITS.weights), weightsPath);
    return new Gpt2Model(config, loadGpt2Weights(config, file), options);
  }

  /** Builds the model from tensors under Hugging Face names (with or without "transformer."), in the file's layout. */
  static fromTensors(config: Gpt2Config, tensors: ReadonlyMap<string, Float32Array>, options: KernelOptions = {}): Gpt2Model {
    return new Gpt2Model(config, loadGpt2Weights(config, { get: (name) => wrap(tensors.get(name)) }), options);
  }

  /** Stops the WebAssembly pass's second thread, if one was started. The model stays usable. */
  dispose(): void {
    this.wasm?.dispose();
  }

  /** Runs the token ids (1 <= T <= n_positions, each in [0, vocab_size)) through the model. */
  async forward(ids: ArrayLike<number>, options: Gpt2ForwardOptions = {}): Promise<Gpt2Output> {
    const { cancellation, usePositionEmbeddings = true } = options;
    this.checkIds(ids);
    const ablated = this.ablatedHeads(options.ablate ?? []);
    const traced = options.trace === undefined ? undefined : this.checkTrace(options.trace, ids.length);
    throwIfCancelled(cancellation);
    const pause = async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(cancellation);
    };

    if (this.wasm) {
      const output = await this.wasm.forward({ ids, usePositionEmbeddings, ablated, trace: traced, pause });
      throwIfCancelled(cancellation);
      return output;
    }

    const { nLayer: L, nHead: H, nEmbd: D, nInner: I, vocabSize: V, nPositions: P, causal } = this.config;
    const T = ids.length;
    const dHead = D / H;
    const w = this.weights;
    const normalize = (input: Float32Array, weight: Float32Array, bias: Float32Array, out: Float32Array, rows: number) => {
      if (this.config.layerNorm) layerNorm(input, weight, bias, out, rows, D, this.config.layerNormEpsilon);
      else out.set(input.subarray(0, rows * D));
    };

    // Scratch for the whole pass, allocated once per call (calls may interleave at the yields).
    const x = new Float32Array(T * D); // residual stream
    const normed = new Float32Array(T * D);
    const qkv = new Float32Array(T * 3 * D);
    const q = new Float32Array(T * dHead);
    const k = new Float32Array(T * dHead);
    const vT = new Float32Array(dHead * T);
    const headOut = new Float32Array(T * dHead);
    const merged = new Float32Array(T * D);
    const projected = new Float32Array(T * D);
    const mlpHidden = new Float32Array(T * I);
    const attention = new Float32Array(L * H * T * T);
    const trace = traced && newTrace(traced, T, H, D, dHead);

    embed(ids, w.tokenEmbedding, usePositionEmbeddings ? w.positionEmbedding : undefined, D, x);

    for (let l = 0; l < L; l++) {
      await pause();
      const layer = w.layers[l];
      const scale = (this.config.scaleAttnWeights ? 1 / Math.sqrt(dHead) : 1) / (this.config.scaleAttnByInverseLayerIdx ? l + 1 : 1);
      const residualBefore = trace && norm(x, trace.query * D, D);

      normalize(x, layer.ln1Weight, layer.ln1Bias, normed, T); // [T, D] -> [T, D]
      await linearInSlices(normed, layer.qkvWeightT, layer.qkvBias, qkv, T, D, 3 * D, pause); // [T, D] -> [T, 3D]
      for (let h = 0; h < H; h++) {
        splitHead(qkv, T, D, h, dHead, scale, q, k, vT); // [T, 3D] -> q, k [T, dHead], vT [dHead, T]
        const probs = attention.subarray((l * H + h) * T * T, (l * H + h + 1) * T * T);
        const bias = usePositionEmbeddings && layer.relativePositionBias ? relativeBiasFor(layer.relativePositionBias, h, P, T) : undefined;
        attentionProbabilities(q, k, T, dHead, 1, causal, probs, bias); // -> [T, T]
        if (ablated.has(l * H + h)) headOut.fill(0); // the head is off: it writes nothing
        else weightedValues(probs, vT, T, dHead, causal, headOut); // [T, T] x [T, dHead] -> [T, dHead]
        mergeHead(headOut, T, D, h, dHead, merged); // -> merged[:, h·dHead .. (h+1)·dHead]
        if (trace && l === trace.layer && h === trace.head) recordHead(trace, qkv, probs, bias, T, D, h, dHead, scale);
        if (h + 1 < H) await pause();
      }
      await linearInSlices(merged, layer.attnProjWeightT, layer.attnProjBias, projected, T, D, D, pause); // [T, D] -> [T, D]
      if (trace && l === trace.layer) recordWrites(trace, merged, layer.attnProjWeightT, layer.attnProjBias, projected, D, H, dHead);
      const attentionNorm = trace && norm(projected, trace.query * D, D);
      addInPlace(x, projected); // x = x + attn(ln_1(x))  [T, D]
      const afterAttention = trace && norm(x, trace.query * D, D);

      await pause();
      normalize(x, layer.ln2Weight, layer.ln2Bias, normed, T); // [T, D] -> [T, D]
      await linearInSlices(normed, layer.mlpUpWeightT, layer.mlpUpBias, mlpHidden, T, D, I, pause); // [T, D] -> [T, I]
      applyActivation(this.config.activationFunction, mlpHidden);
      await linearInSlices(mlpHidden, layer.mlpDownWeightT, layer.mlpDownBias, projected, T, I, D, pause); // [T, I] -> [T, D]
      addInPlace(x, projected); // x = x + mlp(ln_2(x))  [T, D]

      if (trace) {
        const norms = { before: residualBefore as number, attention: attentionNorm as number, afterAttention: afterAttention as number };
        // Logit lens: the final norm and the unembedding applied to this layer's stream.
        recordResidual(trace, l, norms, x, projected, D, (row, out) => normalize(row, w.finalNormWeight, w.finalNormBias, out, 1), w.lmHead, V);
      }
    }

    const hidden = new Float32Array(T * D);
    normalize(x, w.finalNormWeight, w.finalNormBias, hidden, T); // [T, D] -> [T, D]
    const lastLogits = new Float32Array(V);
    matmulTransposedB(hidden.subarray((T - 1) * D), w.lmHead, lastLogits, 1, V, D); // [1, D] x [V, D]ᵀ -> [1, V]
    throwIfCancelled(cancellation);
    return { attention, lastLogits, hidden, trace };
  }

  /** Validates a list of heads to switch off; returns them as flat indices l·H + h. */
  private ablatedHeads(heads: readonly HeadRef[]): Set<number> {
    const { nLayer, nHead } = this.config;
    const flat = new Set<number>();
    for (const { layer, head } of heads) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer || !Number.isInteger(head) || head < 0 || head >= nHead) {
        throw new InputError(`Cannot switch off layer ${layer} head ${head}: this model has layers 0–${nLayer - 1} and heads 0–${nHead - 1}.`);
      }
      flat.add(layer * nHead + head);
    }
    return flat;
  }

  private checkTrace(trace: { layer: number; head: number; query: number }, T: number): { layer: number; head: number; query: number } {
    const { nLayer, nHead } = this.config;
    const inRange = (value: number, count: number) => Number.isInteger(value) && value >= 0 && value < count;
    if (!inRange(trace.layer, nLayer)) throw new InputError(`Layer ${trace.layer} does not exist: this model has layers 0–${nLayer - 1}.`);
    if (!inRange(trace.head, nHead)) throw new InputError(`Head ${trace.head} does not exist: this model has heads 0–${nHead - 1}.`);
    if (!inRange(trace.query, T)) throw new InputError(`Query token ${trace.query} does not exist: the input has tokens 0–${T - 1}.`);
    return trace;
  }

  private checkIds(ids: ArrayLike<number>): void {
    const { nPositions, vocabSize } = this.config;
    if (ids.length === 0) throw new InputError('Nothing to run: the input has no tokens.');
    if (ids.length > nPositions) {
      throw new InputError(`The input has ${ids.length} tokens, but this model's position embeddings cover at most ${nPositions} (n_positions).`);
    }
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new InputError(`Token ${t} has id ${id}, which is not in this model's vocabulary (0 to ${vocabSize - 1}).`);
      }
    }
  }
}

/**
 * linearTransposed over row slices, yielding between slices when the product is big.
 * Shapes: x [rows, inDim], weightT [outDim, inDim], bias [outDim] -> out [rows, outDim].
 */
async function linearInSlices(
  x: Float32Array,
  weightT: Float32Array,
  bias: Float32Array,
  out: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  pause: () => Promise<void>,
): Promise<void> {
  // Multiples of 4 rows keep the kernel on its fast 4-row tiles.
  const rowsPerSlice = Math.max(4, Math.floor(MULTIPLY_ADDS_PER_SLICE / (inDim * outDim) / 4) * 4);
  for (let start = 0; start < rows; start += rowsPerSlice) {
    if (start > 0) await pause();
    const end = Math.min(rows, start + rowsPerSlice);
    linearTransposed(x.subarray(start * inDim, end * inDim), weightT, bias, out.subarray(start * outDim, end * outDim), end - start, inDim, outDim);
  }
}

async function readModelFile(file: string, maxBytes: number): Promise<Buffer> {
  if (!fs.existsSync(file) && !isDanglingLink(file)) {
    throw new ModelLoadError(`${file} not found: the built-in backend needs config.json and model.safetensors in the model folder.`);
  }
  return readCheckedFile(file, { what: path.basename(file), maxBytes });
}

function isDanglingLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The Hugging Face name of each per-layer weight (after "h.N."), for messages. */
const LAYER_TENSOR_NAMES: Record<keyof Gpt2LayerWeights, string> = {
  ln1Weight: 'ln_1.weight',
  ln1Bias: 'ln_1.bias',
  qkvWeightT: 'attn.c_attn.weight',
  qkvBias: 'attn.c_attn.bias',
  attnProjWeightT: 'attn.c_proj.weight',
  attnProjBias: 'attn.c_proj.bias',
  ln2Weight: 'ln_2.weight',
  ln2Bias: 'ln_2.bias',
  mlpUpWeightT: 'mlp.c_fc.weight',
  mlpUpBias: 'mlp.c_fc.bias',
  mlpDownWeightT: 'mlp.c_proj.weight',
  mlpDownBias: 'mlp.c_proj.bias',
  relativePositionBias: 'attn.relative_position_bias',
};

/** Every weight array with its Hugging Face name, for the finiteness check. */
function* namedWeights(w: Gpt2Weights): Generator<[string, Float32Array]> {
  yield ['wte.weight', w.tokenEmbedding];
  yield ['wpe.weight', w.positionEmbedding];
  for (const [l, layer] of w.layers.entries()) {
    for (const key of Object.keys(LAYER_TENSOR_NAMES) as (keyof Gpt2LayerWeights)[]) {
      const values = layer[key];
      if (values) yield [`h.${l}.${LAYER_TENSOR_NAMES[key]}`, values];
    }
  }
  yield ['ln_f.weight', w.finalNormWeight];
  yield ['ln_f.bias', w.finalNormBias];
  if (w.lmHead !== w.tokenEmbedding) yield ['lm_head.weight', w.lmHead];
}

function wrap(data: Float32Array | undefined): { data: Float32Array } | undefined {
  return data === undefined ? undefined : { data };
}
