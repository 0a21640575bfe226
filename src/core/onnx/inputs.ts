// What to feed a transformer graph: its inputs' names, element types and shapes come from the graph
// (graph.input), the values from the token ids and the conventions of Hugging Face exports.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { InputError, ModelLoadError } from '../errors';
import { GraphIndex } from './graphIndex';
import { DataType, type ModelProto, valueDims } from './onnxModel';

export interface GraphInput {
  name: string;
  /** TensorProto.DataType of the elements (1 float32, 6 int32, 7 int64, 9 bool, 10 float16...). */
  elemType: number;
  /** Numbers for fixed dims, names for symbolic ones, undefined when unknown; undefined without shape. */
  dims: (number | string | undefined)[] | undefined;
}

export type FeedRole =
  | 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids' | 'decoder_input_ids' | 'decoder_attention_mask'
  | 'decoder_position_ids' | 'encoder_attention_mask' | 'cache_position' | 'past' | 'use_cache_branch';

export type FeedType = 'int64' | 'int32' | 'float32' | 'float16' | 'float64' | 'bool';
export type FeedData = BigInt64Array | Int32Array | Float32Array | Float64Array | Uint16Array | Uint8Array;

/** One input tensor to create: `new ort.Tensor(type, data, dims)`. */
export interface PlannedFeed {
  name: string;
  role: FeedRole;
  type: FeedType;
  dims: number[];
  data: FeedData;
}

export interface InputExtras {
  /** Decoder token ids for encoder–decoder graphs (decoder_input_ids), e.g. [decoder_start, ...target]. */
  decoderIds?: readonly number[];
}

/** The model's runtime inputs (initializers listed as inputs by old exporters excluded). */
export function graphInputs(model: ModelProto): GraphInput[] {
  const runtime = new Set(new GraphIndex(model).runtimeInputs);
  return (model.graph?.input ?? [])
    .filter((input) => runtime.has(input.name ?? ''))
    .map((input) => ({ name: input.name ?? '', elemType: input.type?.tensorType?.elemType ?? 0, dims: valueDims(input) }));
}

const PAST = /^(past_key_values|past_key|past_value|past)[._]/;

function roleOf(name: string): FeedRole | undefined {
  switch (name) {
    case 'input_ids': case 'encoder_input_ids': return 'input_ids';
    case 'attention_mask': return 'attention_mask';
    case 'token_type_ids': return 'token_type_ids';
    case 'position_ids': return 'position_ids';
    case 'decoder_input_ids': return 'decoder_input_ids';
    case 'decoder_attention_mask': return 'decoder_attention_mask';
    case 'decoder_position_ids': return 'decoder_position_ids';
    case 'encoder_attention_mask': return 'encoder_attention_mask';
    case 'cache_position': return 'cache_position';
    case 'use_cache_branch': return 'use_cache_branch';
    default: return PAST.test(name) ? 'past' : undefined;
  }
}

/**
 * Plans batch-1 feeds for token ids `ids`: input_ids, attention_mask (ones), token_type_ids (zeros),
 * position_ids and cache_position (0..T-1), decoder_input_ids / decoder masks from extras.decoderIds,
 * encoder_attention_mask (ones over the source), past_key_values.* empty (past length 0) when the
 * graph lets the past length vary, use_cache_branch false. Inputs it cannot fill are a
 * ModelLoadError that lists them all.
 */
export function planInputs(inputs: readonly GraphInput[], ids: readonly number[], extras: InputExtras = {}): PlannedFeed[] {
  const unknown = inputs.filter((input) => roleOf(input.name) === undefined);
  if (unknown.length > 0) {
    throw new ModelLoadError(`The model needs inputs this extension cannot fill: ${unknown.map((input) => input.name).join(', ')}. ` +
      'It fills input_ids, attention_mask, token_type_ids, position_ids, decoder_input_ids, decoder_attention_mask, ' +
      'encoder_attention_mask, cache_position and empty past_key_values; export the model with only those inputs.');
  }
  if (ids.length === 0) throw new InputError('There are no tokens to run.');
  const decoderIds = extras.decoderIds;
  return inputs.map((input) => {
    const role = roleOf(input.name)!;
    const sequence = (values: readonly number[]) => sequenceFeed(input, role, values);
    switch (role) {
      case 'input_ids': return sequence(ids);
      case 'attention_mask': case 'encoder_attention_mask': return sequence(ids.map(() => 1));
      case 'token_type_ids': return sequence(ids.map(() => 0));
      case 'position_ids': case 'cache_position': return sequence(ids.map((_, i) => i));
      case 'decoder_input_ids': case 'decoder_attention_mask': case 'decoder_position_ids': {
        if (!decoderIds || decoderIds.length === 0) {
          throw new InputError(`The model is an encoder–decoder and needs ${input.name}: pass the decoder (target) token ids.`);
        }
        return sequence(role === 'decoder_input_ids' ? decoderIds : decoderIds.map((_, i) => (role === 'decoder_attention_mask' ? 1 : i)));
      }
      case 'use_cache_branch': return { name: input.name, role, type: 'bool', dims: [1], data: new Uint8Array(1) };
      case 'past': return emptyPast(input);
    }
  });
}

/** A [1, n] (or [n] for rank-1 inputs) tensor of `values`, checked against the graph's fixed dims. */
function sequenceFeed(input: GraphInput, role: FeedRole, values: readonly number[]): PlannedFeed {
  const rank = input.dims?.length ?? 2;
  if (rank !== 1 && rank !== 2) {
    throw new ModelLoadError(`The model's input ${input.name} has rank ${rank}; expected [batch, sequence].`);
  }
  const dims = rank === 1 ? [values.length] : [1, values.length];
  input.dims?.forEach((dim, axis) => {
    if (typeof dim === 'number' && dim > 0 && dim !== dims[axis]) {
      throw new InputError(axis === rank - 1
        ? `The model was exported for exactly ${dim} tokens in ${input.name}, the input has ${dims[axis]}. Export it with a dynamic sequence axis.`
        : `The model's input ${input.name} has a fixed batch of ${dim}; only batch 1 is supported.`);
    }
  });
  return { name: input.name, role, ...typedData(input, values), dims };
}

/**
 * Past keys/values of length 0: the batch axis (0) becomes 1, the one other symbolic axis (the past
 * length) becomes 0, fixed axes keep their size. A graph with a fixed past length cannot run without
 * a real cache, which is an error that says so.
 */
function emptyPast(input: GraphInput): PlannedFeed {
  const dims = input.dims;
  const symbolic = dims?.map((dim, axis) => (typeof dim !== 'number' || dim < 0) && axis > 0) ?? [];
  if (!dims || symbolic.filter(Boolean).length !== 1) {
    throw new ModelLoadError(`The model needs ${input.name} and its shape [${dims?.map((dim) => dim ?? '?').join(', ') ?? 'unknown'}] does not ` +
      'let the past length be 0. Export the model without past_key_values inputs (no KV cache, e.g. optimum\'s task ' +
      'without "-with-past") or with a dynamic past sequence axis.');
  }
  const shape = dims.map((dim, axis) => (symbolic[axis] ? 0 : typeof dim === 'number' && dim >= 0 ? dim : 1));
  if (shape[0] !== 1 && typeof dims[0] === 'number') {
    throw new InputError(`The model's input ${input.name} has a fixed batch of ${dims[0]}; only batch 1 is supported.`);
  }
  return { name: input.name, role: 'past', ...typedData(input, []), dims: shape };
}

function typedData(input: GraphInput, values: readonly number[]): { type: FeedType; data: FeedData } {
  switch (input.elemType) {
    case DataType.INT64: return { type: 'int64', data: BigInt64Array.from(values, (value) => BigInt(value)) };
    case DataType.INT32: return { type: 'int32', data: Int32Array.from(values) };
    case DataType.FLOAT: return { type: 'float32', data: Float32Array.from(values) };
    case DataType.DOUBLE: return { type: 'float64', data: Float64Array.from(values) };
    case DataType.BOOL: return { type: 'bool', data: Uint8Array.from(values, (value) => (value ? 1 : 0)) };
    case DataType.FLOAT16: return { type: 'float16', data: Uint16Array.from(values, toHalfBits) };
    default:
      throw new ModelLoadError(`The model's input ${input.name} has element type ${input.elemType}, which this extension cannot fill (it fills int64, int32, float, float16 and bool inputs).`);
  }
}

/** float16 bits of a small integer (0, 1 and positions below 2048 are exact). */
function toHalfBits(value: number): number {
  if (value === 0) return 0;
  const exponent = Math.floor(Math.log2(value));
  const fraction = Math.round((value / 2 ** exponent - 1) * 1024);
  return ((exponent + 15) << 10) | fraction;
}

type Ort = typeof import('onnxruntime-node');

/** The planned feeds as onnxruntime tensors, for InferenceSession.run. */
export function toOrtFeeds(ort: Pick<Ort, 'Tensor'>, feeds: readonly PlannedFeed[]): InferenceSession.FeedsType {
  const result: Record<string, Tensor> = {};
  for (const feed of feeds) result[feed.name] = new ort.Tensor(feed.type, feed.data, feed.dims);
  return result;
}
