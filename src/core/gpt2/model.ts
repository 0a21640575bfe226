// The built-in GPT-2: a faithful forward pass of Hugging Face's GPT2LMHeadModel in TypeScript,
// returning every layer's and head's attention, the final hidden states and the next-token logits.
//
//   x = wte[ids] + wpe[0..T)
//   per block:  x += c_proj(attention(ln_1(x)))      attention: causal softmax(q·kᵀ/√d_head)·v per head
//               x += mlp.c_proj(act(mlp.c_fc(ln_2(x))))
//   hidden = ln_f(x);  logits = hidden[T-1] · wteᵀ
//
// The pass is async only to stay polite: it yields a macrotask between layers, heads and slices of
// the big matrix products, so the extension host keeps serving events and a run can be cancelled.

import { promises as fs } from 'fs';
import * as path from 'path';
import { InputError, ModelLoadError, throwIfCancelled } from '../errors';
import type { CancellationSignal } from '../types';
import { applyActivation } from '../math/activations';
import { attentionProbabilities, weightedValues } from '../math/attention';
import { addInPlace, embed } from '../math/elementwise';
import { layerNorm } from '../math/layerNorm';
import { linearTransposed } from '../math/linear';
import { matmulTransposedB } from '../math/matmul';
import { SafetensorsFile } from '../safetensors';
import { parseGpt2Config, type Gpt2Config } from './config';
import { loadGpt2Weights, type Gpt2Weights } from './weights';

export interface Gpt2ForwardOptions {
  cancellation?: CancellationSignal;
  /** Default true; false leaves out wpe, so the model sees the tokens as an unordered bag (positional-encoding lesson). */
  usePositionEmbeddings?: boolean;
}

export interface Gpt2Output {
  /** [L, H, T, T] row-major: attention[((l * H + h) * T + t) * T + s]; rows sum to 1, s > t exactly 0. */
  attention: Float32Array;
  /** [V] next-token logits after the last position: ln_f(h_{T-1}) · wteᵀ. */
  lastLogits: Float32Array;
  /** [T, D] the final hidden states, after ln_f. */
  hidden: Float32Array;
}

/** Multiply-adds per slice of a big matrix product between two yields (~10 ms in V8). */
const MULTIPLY_ADDS_PER_SLICE = 16_000_000;

export class Gpt2Model {
  private constructor(
    readonly config: Gpt2Config,
    private readonly weights: Gpt2Weights,
  ) {}

  /** Loads dir/config.json and dir/model.safetensors (Hugging Face GPT-2 names). */
  static async fromFolder(dir: string): Promise<Gpt2Model> {
    const configPath = path.join(dir, 'config.json');
    const weightsPath = path.join(dir, 'model.safetensors');
    const configText = (await readModelFile(configPath)).toString('utf-8');
    let json: unknown;
    try {
      json = JSON.parse(configText);
    } catch (error) {
      throw new ModelLoadError(`${configPath} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
    }
    const config = parseGpt2Config(json, configPath);
    const file = SafetensorsFile.parse(await readModelFile(weightsPath), weightsPath);
    return new Gpt2Model(config, loadGpt2Weights(config, file));
  }

  /** Builds the model from tensors under Hugging Face names (with or without "transformer."), in the file's layout. */
  static fromTensors(config: Gpt2Config, tensors: ReadonlyMap<string, Float32Array>): Gpt2Model {
    return new Gpt2Model(config, loadGpt2Weights(config, { get: (name) => wrap(tensors.get(name)) }));
  }

  /** Runs the token ids (1 <= T <= n_positions, each in [0, vocab_size)) through the model. */
  async forward(ids: ArrayLike<number>, options: Gpt2ForwardOptions = {}): Promise<Gpt2Output> {
    const { cancellation, usePositionEmbeddings = true } = options;
    this.checkIds(ids);
    throwIfCancelled(cancellation);
    const pause = async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(cancellation);
    };

    const { nLayer: L, nHead: H, nEmbd: D, nInner: I, vocabSize: V, layerNormEpsilon: eps } = this.config;
    const T = ids.length;
    const dHead = D / H;
    const w = this.weights;

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

    embed(ids, w.tokenEmbedding, usePositionEmbeddings ? w.positionEmbedding : undefined, D, x);

    for (let l = 0; l < L; l++) {
      await pause();
      const layer = w.layers[l];
      const scale = (this.config.scaleAttnWeights ? 1 / Math.sqrt(dHead) : 1) / (this.config.scaleAttnByInverseLayerIdx ? l + 1 : 1);

      layerNorm(x, layer.ln1Weight, layer.ln1Bias, normed, T, D, eps);
      await linearInSlices(normed, layer.qkvWeightT, layer.qkvBias, qkv, T, D, 3 * D, pause);
      for (let h = 0; h < H; h++) {
        splitHead(qkv, T, D, h, dHead, scale, q, k, vT);
        const probs = attention.subarray((l * H + h) * T * T, (l * H + h + 1) * T * T);
        attentionProbabilities(q, k, T, dHead, 1, true, probs);
        weightedValues(probs, vT, T, dHead, true, headOut);
        mergeHead(headOut, T, D, h, dHead, merged);
        if (h + 1 < H) await pause();
      }
      await linearInSlices(merged, layer.attnProjWeightT, layer.attnProjBias, projected, T, D, D, pause);
      addInPlace(x, projected);

      await pause();
      layerNorm(x, layer.ln2Weight, layer.ln2Bias, normed, T, D, eps);
      await linearInSlices(normed, layer.mlpUpWeightT, layer.mlpUpBias, mlpHidden, T, D, I, pause);
      applyActivation(this.config.activationFunction, mlpHidden);
      await linearInSlices(mlpHidden, layer.mlpDownWeightT, layer.mlpDownBias, projected, T, I, D, pause);
      addInPlace(x, projected);
    }

    const hidden = new Float32Array(T * D);
    layerNorm(x, w.finalNormWeight, w.finalNormBias, hidden, T, D, eps);
    const lastLogits = new Float32Array(V);
    matmulTransposedB(hidden.subarray((T - 1) * D), w.lmHead, lastLogits, 1, V, D); // [1, D] x [V, D]ᵀ -> [1, V]
    throwIfCancelled(cancellation);
    return { attention, lastLogits, hidden };
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
 * Copies head h out of the fused projection, pre-scaling q so the scores need no extra pass.
 * Shapes: qkv [T, 3D] (q | k | v, heads side by side in each) -> q [T, dHead], k [T, dHead], vT [dHead, T].
 */
function splitHead(
  qkv: Float32Array,
  T: number,
  D: number,
  h: number,
  dHead: number,
  scale: number,
  q: Float32Array,
  k: Float32Array,
  vT: Float32Array,
): void {
  for (let t = 0; t < T; t++) {
    const qStart = t * 3 * D + h * dHead;
    const kStart = qStart + D;
    const vStart = kStart + D;
    for (let c = 0; c < dHead; c++) {
      q[t * dHead + c] = qkv[qStart + c] * scale;
      k[t * dHead + c] = qkv[kStart + c];
      vT[c * T + t] = qkv[vStart + c];
    }
  }
}

/** Writes one head's output into its columns of the concatenation. Shapes: headOut [T, dHead] -> merged [T, D]. */
function mergeHead(headOut: Float32Array, T: number, D: number, h: number, dHead: number, merged: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const target = t * D + h * dHead;
    const source = t * dHead;
    for (let c = 0; c < dHead; c++) merged[target + c] = headOut[source + c];
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

async function readModelFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ModelLoadError(`${file} not found: the built-in backend needs config.json and model.safetensors in the model folder.`);
    }
    throw new ModelLoadError(`Could not read ${file}: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

function wrap(data: Float32Array | undefined): { data: Float32Array } | undefined {
  return data === undefined ? undefined : { data };
}
