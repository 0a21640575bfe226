// Reading and writing ONNX ModelProto bytes with protobufjs and ONNX's own schema (onnx.proto,
// converted once to onnxProto.json by tools/fixtures/onnxProtoToJson.js), so nothing here parses
// protobuf by hand and no .proto text is parsed at run time.
//
// Field names are protobufjs's camelCase forms of onnx.proto's (op_type -> opType). Only the parts
// this project reads are typed; everything else survives untouched because models are never
// re-encoded unless their external data has to be inlined (see exposeAttention.ts).
import * as protobuf from 'protobufjs/light';
import { ModelLoadError } from '../errors';
import { FILE_LIMITS, readCheckedFile } from '../modelFiles';
import descriptor from './onnxProto.json';

/** An int64 as protobufjs gives it: a number, or a Long when the `long` package is present. */
export type Int64 = number | { toNumber(): number } | string;

export interface StringStringEntry { key?: string; value?: string }

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  externalData?: StringStringEntry[];
  /** 1 = EXTERNAL: the bytes live in the file named by externalData's `location`. */
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  i?: Int64;
  f?: number;
  s?: Uint8Array;
  ints?: Int64[];
  t?: TensorProto;
  g?: GraphProto;
  graphs?: GraphProto[];
}

export interface NodeProto {
  name?: string;
  opType?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProto[];
}

export interface DimensionProto { dimValue?: Int64; dimParam?: string }

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } };
}

export interface ValueInfoProto { name?: string; type?: TypeProto }

export interface GraphProto {
  name?: string;
  node?: NodeProto[];
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface OperatorSetId { domain?: string; version?: Int64 }

export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  graph?: GraphProto;
  functions?: { name?: string; domain?: string; node?: NodeProto[] }[];
}

/** TensorProto.DataType values this project reads or writes. */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

export const DATA_LOCATION_EXTERNAL = 1;

let modelType: protobuf.Type | undefined;

function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(descriptor as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * Decodes model.onnx bytes. Byte arrays inside (raw_data) are views into `bytes`, not copies.
 * Random or truncated bytes give a ModelLoadError that names `source`.
 */
export function decodeModel(bytes: Uint8Array, source = 'model.onnx'): ModelProto {
  let model: ModelProto;
  try {
    model = modelProtoType().decode(bytes) as ModelProto;
  } catch (error) {
    throw new ModelLoadError(`${source} is not a valid ONNX model (${error instanceof Error ? error.message : String(error)}). The file may be truncated or corrupt; export it again.`);
  }
  // Protobuf accepts many byte strings; a model must at least have a graph with nodes and outputs.
  const graph = model.graph;
  if (!graph || !graph.node?.length || !graph.output?.length || !model.opsetImport?.length) {
    throw new ModelLoadError(`${source} is not a valid ONNX model: it has no graph, nodes, outputs or opset. The file may be truncated or corrupt; export it again.`);
  }
  for (const node of graph.node) {
    if (typeof node.opType !== 'string' || node.opType === '') {
      throw new ModelLoadError(`${source} is not a valid ONNX model: a node has no operator type. The file may be corrupt; export it again.`);
    }
  }
  return model;
}

/** Reads and decodes a model file; a missing or unreadable file is a ModelLoadError. */
export async function readModelFile(modelPath: string): Promise<{ bytes: Uint8Array; model: ModelProto }> {
  const bytes = await readCheckedFile(modelPath, { what: 'Model file', maxBytes: FILE_LIMITS.onnx });
  return { bytes, model: decodeModel(bytes, modelPath) };
}

export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}

/**
 * Bytes that, appended to a serialized model, add `outputs` to its graph's outputs. Protobuf merges
 * a repeated occurrence of an embedded message field into the first and appends repeated fields, so
 * the original bytes stay as they are (fields newer than our onnx.proto included).
 */
export function encodeGraphOutputsPatch(outputs: ValueInfoProto[]): Uint8Array {
  return encodeModel({ graph: { output: outputs } });
}

export function toNumber(value: Int64 | undefined | null): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

/** The opset version the model imports for a domain ('' and 'ai.onnx' are the same), or 0. */
export function opsetVersion(model: ModelProto, domain = ''): number {
  for (const opset of model.opsetImport ?? []) {
    const own = opset.domain ?? '';
    if (own === domain || (domain === '' && own === 'ai.onnx')) return toNumber(opset.version);
  }
  return 0;
}

export function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((candidate) => candidate.name === name);
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const found = attribute(node, name);
  return found && has(found, 'i') ? toNumber(found.i) : fallback;
}

/** Dimensions of a value's tensor type: numbers, symbolic names, or undefined when unknown. */
export function valueDims(info: ValueInfoProto | undefined): (number | string | undefined)[] | undefined {
  const dims = info?.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((dim) => (has(dim, 'dimValue') ? toNumber(dim.dimValue) : dim.dimParam || undefined));
}

/**
 * Whether a decoded message really carries a field: protobufjs puts proto2 defaults (0, '', [])
 * on the prototype, so `message.field` alone cannot tell "absent" from "zero".
 */
export function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}
