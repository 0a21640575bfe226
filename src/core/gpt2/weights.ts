// Hugging Face GPT-2 tensor names -> the arrays the model runs on.
// Checkpoints name tensors with or without the "transformer." prefix (GPT2LMHeadModel vs
// GPT2Model); both are accepted. Buffers (attn.bias, attn.masked_bias) and anything unknown are
// ignored. Linear weights are Conv1D [in, out] in the file and are stored here transposed,
// [out, in], for linearTransposed's faster kernel.

import { ModelLoadError } from '../errors';
import { transpose } from '../math/matmul';
import type { Gpt2Config } from './config';

/** A tensor as a source provides it; without a shape only the element count can be checked. */
export interface NamedTensor {
  data: Float32Array;
  shape?: readonly number[];
}

/** Where tensors come from: a Map<string, NamedTensor>, or a SafetensorsFile (converts on demand). */
export interface TensorSource {
  get(name: string): NamedTensor | undefined;
}

export interface Gpt2LayerWeights {
  ln1Weight: Float32Array; // [D]
  ln1Bias: Float32Array; // [D]
  qkvWeightT: Float32Array; // [3D, D]  (c_attn.weight [D, 3D] transposed)
  qkvBias: Float32Array; // [3D]
  attnProjWeightT: Float32Array; // [D, D]
  attnProjBias: Float32Array; // [D]
  ln2Weight: Float32Array; // [D]
  ln2Bias: Float32Array; // [D]
  mlpUpWeightT: Float32Array; // [I, D]  (c_fc.weight [D, I] transposed)
  mlpUpBias: Float32Array; // [I]
  mlpDownWeightT: Float32Array; // [D, I]  (mlp.c_proj.weight [I, D] transposed)
  mlpDownBias: Float32Array; // [D]
  /**
   * [H, 2P-1] optional relative position bias (h.N.attn.relative_position_bias, an Attention
   * Inspector extension in the spirit of T5's): added to head h's scaled score of query t for key s
   * at [h, (s - t) + P - 1]. Absent in GPT-2 checkpoints.
   */
  relativePositionBias?: Float32Array;
}

export interface Gpt2Weights {
  tokenEmbedding: Float32Array; // [V, D]  wte
  positionEmbedding: Float32Array; // [P, D]  wpe
  layers: Gpt2LayerWeights[];
  finalNormWeight: Float32Array; // [D]
  finalNormBias: Float32Array; // [D]
  /** [V, D]: wte itself when tied, else lm_head.weight. */
  lmHead: Float32Array;
}

/** Looks up, checks the shape of, and arranges every tensor the config implies. */
export function loadGpt2Weights(config: Gpt2Config, source: TensorSource): Gpt2Weights {
  const D = config.nEmbd;
  const I = config.nInner;
  const V = config.vocabSize;
  const P = config.nPositions;

  const H = config.nHead;
  const vector = (name: string, length: number) => requireTensor(source, name, [length]);
  // Without layer norm the ln tensors are not needed; identity parameters keep the arrays total.
  const normVector = (name: string, fill: number) => (config.layerNorm ? vector(name, D) : new Float32Array(D).fill(fill));
  const linearT = (name: string, inDim: number, outDim: number) => transpose(requireTensor(source, name, [inDim, outDim]), inDim, outDim);

  const tokenEmbedding = requireTensor(source, 'wte.weight', [V, D]);
  const layers: Gpt2LayerWeights[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const h = `h.${l}.`;
    layers.push({
      ln1Weight: normVector(`${h}ln_1.weight`, 1),
      ln1Bias: normVector(`${h}ln_1.bias`, 0),
      qkvWeightT: linearT(`${h}attn.c_attn.weight`, D, 3 * D),
      qkvBias: vector(`${h}attn.c_attn.bias`, 3 * D),
      attnProjWeightT: linearT(`${h}attn.c_proj.weight`, D, D),
      attnProjBias: vector(`${h}attn.c_proj.bias`, D),
      ln2Weight: normVector(`${h}ln_2.weight`, 1),
      ln2Bias: normVector(`${h}ln_2.bias`, 0),
      mlpUpWeightT: linearT(`${h}mlp.c_fc.weight`, D, I),
      mlpUpBias: vector(`${h}mlp.c_fc.bias`, I),
      mlpDownWeightT: linearT(`${h}mlp.c_proj.weight`, I, D),
      mlpDownBias: vector(`${h}mlp.c_proj.bias`, D),
      relativePositionBias: optionalTensor(source, `${h}attn.relative_position_bias`, [H, 2 * P - 1]),
    });
  }
  return {
    tokenEmbedding,
    positionEmbedding: requireTensor(source, 'wpe.weight', [P, D]),
    layers,
    finalNormWeight: normVector('ln_f.weight', 1),
    finalNormBias: normVector('ln_f.bias', 0),
    lmHead: lmHead(config, source, tokenEmbedding),
  };
}

/** GPT-2 ties the LM head to wte; an lm_head.weight in the file must at least agree in shape. */
function lmHead(config: Gpt2Config, source: TensorSource, tokenEmbedding: Float32Array): Float32Array {
  const expected = [config.vocabSize, config.nEmbd];
  if (config.tieWordEmbeddings) {
    const head = source.get('lm_head.weight');
    if (head !== undefined) checkShape('lm_head.weight', head, expected, ' (it is tied to wte.weight)');
    return tokenEmbedding;
  }
  return requireTensor(source, 'lm_head.weight', expected, ['']);
}

function optionalTensor(source: TensorSource, name: string, expected: number[]): Float32Array | undefined {
  for (const candidate of [name, `transformer.${name}`]) {
    const tensor = source.get(candidate);
    if (tensor !== undefined) {
      checkShape(candidate, tensor, expected, '');
      return tensor.data;
    }
  }
  return undefined;
}

function requireTensor(source: TensorSource, name: string, expected: number[], prefixes = ['', 'transformer.']): Float32Array {
  const candidates = prefixes.map((prefix) => prefix + name);
  for (const candidate of candidates) {
    const tensor = source.get(candidate);
    if (tensor !== undefined) {
      checkShape(candidate, tensor, expected, '');
      return tensor.data;
    }
  }
  const also = candidates.length > 1 ? ` (nor "${candidates.slice(1).join('", "')}")` : '';
  throw new ModelLoadError(`The model weights have no tensor "${candidates[0]}"${also}; expected shape [${expected.join(', ')}].`);
}

function checkShape(name: string, tensor: NamedTensor, expected: number[], why: string): void {
  const count = expected.reduce((product, n) => product * n, 1);
  if (tensor.shape !== undefined) {
    const shape = [...tensor.shape];
    if (shape.length !== expected.length || shape.some((n, i) => n !== expected[i])) {
      throw new ModelLoadError(
        `Tensor "${name}" has shape [${shape.join(', ')}], but config.json implies [${expected.join(', ')}]${why}.`,
      );
    }
  }
  if (tensor.data.length !== count) {
    throw new ModelLoadError(`Tensor "${name}" has ${tensor.data.length} values, but config.json implies shape [${expected.join(', ')}] (${count} values)${why}.`);
  }
}
