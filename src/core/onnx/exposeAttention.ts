// Graph surgery: turns a model's attention Softmax outputs into graph outputs, so that onnxruntime
// returns the probabilities of every attention block along with the model's own outputs.
import * as path from 'path';
import { ModelLoadError } from '../errors';
import { FILE_LIMITS, readCheckedFile } from '../modelFiles';
import { type AttentionSite, findAttention } from './attentionFinder';
import { PROTOBUF_LIMIT_BYTES, checkExternalData, externalDataBytes, externalDataSessionOptions, externalTensors, inlineExternalData } from './externalData';
import { detectFusedAttention, fusedAttentionMessage } from './fusedOps';
import { positionTableSize } from './positionTable';
import { type GraphInput, graphInputs } from './inputs';
import { type ModelProto, decodeModel, encodeGraphOutputsPatch, encodeModel } from './onnxModel';

export interface ExposeOptions {
  /** The model's folder, where its external data files (if any) are. */
  modelDir?: string;
  /**
   * External data handling. 'inline' copies the external tensors into the returned bytes (one
   * self-contained model; needs memory for the whole model and stays under protobuf's 2 GiB).
   * 'reference' leaves them in their files and returns sessionOptions that point onnxruntime at
   * modelDir. 'auto' (default) inlines up to inlineLimitBytes of external data, references beyond.
   */
  externalData?: 'auto' | 'inline' | 'reference';
  /** Default 512 MiB. */
  inlineLimitBytes?: number;
  /** Name of the model in error messages. */
  source?: string;
  /**
   * Also add each site's Softmax input (the scaled, biased and masked scores) as a graph output.
   * Off by default: these tensors are as large as the probabilities, and keeping them as outputs
   * stops onnxruntime from fusing the ops that compute them.
   */
  scores?: boolean;
}

export interface ExposedModel {
  /**
   * The model with every site's output (and with ExposeOptions.scores, its Softmax input) added as a graph output: give it to
   * InferenceSession.create(bytes, sessionOptions). Usually the original bytes plus an appended graph
   * patch, which onnxruntime (C++ protobuf) merges as the protobuf spec says; protobufjs's decoder
   * does not merge repeated message fields, so do not decodeModel() these bytes.
   */
  bytes: Uint8Array;
  /** Attention Softmax outputs found by surgery, in graph order. */
  sites: AttentionSite[];
  /** Outputs that already held attention probabilities, in order. */
  explicit: string[];
  /** Softmax nodes inside subgraphs (If/Loop), which surgery cannot expose. */
  softmaxInSubgraphs: number;
  /** A fused attention operator in the model (its attention cannot be exposed), e.g. 'com.microsoft.Attention'. */
  fusedOperator?: string;
  /** The runtime inputs, for planInputs. */
  inputs: GraphInput[];
  /** Session options the bytes need: set when external data stays in files ('reference'). */
  sessionOptions: { extra?: Record<string, Record<string, string>> };
  /** How external data was handled: 'none' when the model has none. */
  externalData: 'none' | 'inline' | 'reference';
  /** Rows of the model's learned position-embedding table, when the graph has one (positionTable.ts). */
  positionTable?: number;
}

/**
 * Finds the attention sites of a serialized model and adds their outputs to the graph's outputs.
 * Without external data (or when referenced), the original bytes are kept and a small protobuf patch
 * is appended (protobuf merges it into the graph), so nothing of the model is re-encoded or lost.
 */
export async function exposeAttention(modelBytes: Uint8Array, options: ExposeOptions = {}): Promise<ExposedModel> {
  const source = options.source ?? 'model.onnx';
  const model = decodeModel(modelBytes, source);
  const hasExternal = externalTensors(model).length > 0;
  let mode: ExposedModel['externalData'] = 'none';
  if (hasExternal) {
    const wanted = options.externalData ?? 'auto';
    const size = externalDataBytes(model) + modelBytes.length;
    const limit = Math.min(options.inlineLimitBytes ?? 512 * 2 ** 20, PROTOBUF_LIMIT_BYTES);
    mode = wanted === 'inline' || (wanted === 'auto' && size <= limit) ? 'inline' : 'reference';
    if (mode === 'inline' && size > PROTOBUF_LIMIT_BYTES) mode = 'reference';
    if (!options.modelDir) {
      throw new ModelLoadError(`${source} keeps its weights in external data files; the model folder is needed to load them.`);
    }
    // Inlining first also lets the finder read constants (causal masks) that were stored externally.
    if (mode === 'inline') await inlineExternalData(model, options.modelDir);
    else await checkExternalData(model, options.modelDir);
  }
  const { explicit, sites, softmaxInSubgraphs } = findAttention(model);
  const known = new Set((model.graph?.output ?? []).map((output) => output.name));
  const exposedNames = sites.flatMap((site) => (options.scores ? [site.output, site.input] : [site.output]));
  const added = [...new Set(exposedNames)].filter((name) => !known.has(name)).map((name) => ({ name }));
  const bytes = mode === 'inline'
    ? encodeModel(withOutputs(model, added))
    : concat(modelBytes, added.length > 0 ? encodeGraphOutputsPatch(added) : new Uint8Array(0));
  return {
    bytes,
    sites,
    explicit,
    softmaxInSubgraphs,
    fusedOperator: detectFusedAttention(model),
    inputs: graphInputs(model),
    sessionOptions: mode === 'reference' ? externalDataSessionOptions(options.modelDir!) : {},
    externalData: mode,
    positionTable: positionTableSize(model),
  };
}

function withOutputs(model: ModelProto, outputs: { name: string }[]): ModelProto {
  model.graph!.output = [...(model.graph!.output ?? []), ...outputs];
  return model;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/**
 * Why a model shows no attention, for the user: undefined when it has explicit attention outputs or
 * sites. Names a fused operator, or Softmax nodes hidden in subgraphs, or says none was found.
 */
export function noAttentionMessage(exposed: ExposedModel, source = 'The model'): string | undefined {
  if (exposed.sites.length > 0 || exposed.explicit.length > 0) return undefined;
  if (exposed.fusedOperator) return fusedAttentionMessage(exposed.fusedOperator, source);
  if (exposed.softmaxInSubgraphs > 0) {
    return `${source} computes its attention inside If/Loop subgraphs (${exposed.softmaxInSubgraphs} Softmax nodes), whose tensors cannot be ` +
      'made outputs; optimum\'s decoder_model_merged.onnx is built like this. Use decoder_model.onnx (without past) or export without the merged cache branch.';
  }
  return `${source} has no attention outputs and no attention Softmax (Softmax over the key axis feeding a MatMul with V) was found in its graph. ` +
    'Export it with eager attention (transformers attn_implementation="eager"), or with explicit "attentions" outputs.';
}

/** Reads `modelPath` and exposes its attention, resolving external data beside it. */
export async function exposeModelFile(modelPath: string, options: Omit<ExposeOptions, 'modelDir' | 'source'> = {}): Promise<ExposedModel> {
  const { bytes } = await readModelBytes(modelPath);
  return exposeAttention(bytes, { ...options, modelDir: path.dirname(modelPath), source: modelPath });
}

async function readModelBytes(modelPath: string): Promise<{ bytes: Uint8Array }> {
  return { bytes: await readCheckedFile(modelPath, { what: 'Model file', maxBytes: FILE_LIMITS.onnx }) };
}
