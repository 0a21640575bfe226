// Hugging Face GPT2Config (config.json) -> the few numbers the built-in model needs, validated.

import { ModelLoadError } from '../errors';
import { ACTIVATION_NAMES, isActivationName, type ActivationName } from '../math/activations';

export interface Gpt2Config {
  /** n_layer */
  nLayer: number;
  /** n_head */
  nHead: number;
  /** n_embd, the width of the residual stream (d_model). */
  nEmbd: number;
  /** n_positions (older configs: n_ctx), the longest sequence the position embeddings cover. */
  nPositions: number;
  vocabSize: number;
  /** Width of the MLP's hidden layer: n_inner when set, else 4·n_embd. */
  nInner: number;
  layerNormEpsilon: number;
  activationFunction: ActivationName;
  /** scale_attn_weights: divide scores by √d_head (true in every released GPT-2). */
  scaleAttnWeights: boolean;
  /** scale_attn_by_inverse_layer_idx: also divide layer l's scores by l + 1. */
  scaleAttnByInverseLayerIdx: boolean;
  /** tie_word_embeddings: the LM head reuses wte (true for GPT-2). */
  tieWordEmbeddings: boolean;
  /**
   * Attention Inspector's extension "causal" (default true, as in GPT-2): false lets every token
   * attend to every other, as in an encoder (the bundled worked example).
   */
  causal: boolean;
  /**
   * Attention Inspector's extension "layer_norm" (default true): false makes ln_1, ln_2 and ln_f the
   * identity, so a d_model = 1 teaching model keeps its inputs [1], [2], [3] (LayerNorm of a single
   * number is always its bias). The layer-norm tensors are then not read.
   */
  layerNorm: boolean;
}

/** Parses a config.json object. `source` names the file in error messages. */
export function parseGpt2Config(json: unknown, source = 'config.json'): Gpt2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelLoadError(`${source} must hold a JSON object with the GPT-2 settings (n_layer, n_head, n_embd, ...).`);
  }
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type;
  if (modelType !== undefined && modelType !== 'gpt2') {
    throw new ModelLoadError(
      `${source} says model_type ${JSON.stringify(modelType)}; the built-in backend runs only GPT-2 ("gpt2") models. Export the model to model.onnx and use the onnx backend.`,
    );
  }

  /** The first present key among `keys` (HF's attribute_map aliases second), as a positive integer. */
  const positiveInteger = (keys: string[], fallback?: number): number => {
    const key = keys.find((k) => raw[k] !== undefined && raw[k] !== null);
    if (key === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelLoadError(`${source} lacks "${keys[0]}", which the GPT-2 model needs.`);
    }
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ModelLoadError(`${source}: "${key}" must be a positive integer, not ${JSON.stringify(value)}.`);
    }
    return value;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw new ModelLoadError(`${source}: "${key}" must be true or false, not ${JSON.stringify(value)}.`);
    return value;
  };

  const nLayer = positiveInteger(['n_layer', 'num_hidden_layers']);
  const nHead = positiveInteger(['n_head', 'num_attention_heads']);
  const nEmbd = positiveInteger(['n_embd', 'hidden_size']);
  const nPositions = positiveInteger(['n_positions', 'n_ctx', 'max_position_embeddings']);
  const vocabSize = positiveInteger(['vocab_size']);
  const nInner = positiveInteger(['n_inner'], 4 * nEmbd);
  if (nEmbd % nHead !== 0) {
    throw new ModelLoadError(`${source}: "n_embd" (${nEmbd}) must be divisible by "n_head" (${nHead}).`);
  }

  const epsilon = raw.layer_norm_epsilon ?? 1e-5;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new ModelLoadError(`${source}: "layer_norm_epsilon" must be a positive number, not ${JSON.stringify(epsilon)}.`);
  }
  const activation = raw.activation_function ?? 'gelu_new';
  if (typeof activation !== 'string' || !isActivationName(activation)) {
    throw new ModelLoadError(
      `${source}: "activation_function" ${JSON.stringify(activation)} is not supported by the built-in backend (supported: ${ACTIVATION_NAMES.join(', ')}).`,
    );
  }

  return {
    nLayer,
    nHead,
    nEmbd,
    nPositions,
    vocabSize,
    nInner,
    layerNormEpsilon: epsilon,
    activationFunction: activation,
    scaleAttnWeights: flag('scale_attn_weights', true),
    scaleAttnByInverseLayerIdx: flag('scale_attn_by_inverse_layer_idx', false),
    tieWordEmbeddings: flag('tie_word_embeddings', true),
    causal: flag('causal', true),
    layerNorm: flag('layer_norm', true),
  };
}
