// Reader and writer for the safetensors format (https://huggingface.co/docs/safetensors):
//   8 bytes  little-endian u64 N, the header length
//   N bytes  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, "__metadata__"?: {..} }
//   rest     raw little-endian tensor data; offsets are relative to the end of the header
// Floating tensors (F32, F16, BF16) are converted to Float32Array on request; other dtypes are
// validated but cannot be read, so a file holding, say, an int64 buffer still loads.

import { ModelLoadError } from './errors';

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};
const READABLE_DTYPES = ['F32', 'F16', 'BF16'];
/** The format's own cap on the header (100 MB); anything bigger is not a safetensors file. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Where the tensor's bytes start, counted from the start of the file. */
  byteOffset: number;
  byteLength: number;
}

export interface Float32Tensor {
  /** The dtype in the file; data is always float32. */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** A parsed, validated safetensors file; tensors are converted to float32 only when asked for. */
export class SafetensorsFile {
  private constructor(
    private readonly bytes: Uint8Array,
    private readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly source: string,
  ) {}

  /** Validates the header against the bytes; throws ModelLoadError naming `source` when malformed. */
  static parse(bytes: Uint8Array, source = 'model.safetensors'): SafetensorsFile {
    const fail = (why: string): never => {
      throw new ModelLoadError(`${source} is not a valid safetensors file: ${why}.`);
    };
    if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = Number(view.getBigUint64(0, true));
    if (headerLength > MAX_HEADER_BYTES) fail(`the header claims ${headerLength} bytes`);
    if (8 + headerLength > bytes.length) fail(`the header claims ${headerLength} bytes but the file has only ${bytes.length - 8} after the length`);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
    } catch (error) {
      fail(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('its header is not a JSON object');
    const dataStart = 8 + headerLength;
    const dataLength = bytes.length - dataStart;
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
        metadata = value as Record<string, string>;
        continue;
      }
      entries.set(name, parseEntry(name, value, dataStart, dataLength, fail));
    }
    // The format indexes its byte buffer entirely: bytes past the last tensor mean a damaged or
    // padded file (and a way to make us hold memory no tensor uses).
    let end = 0;
    for (const entry of entries.values()) end = Math.max(end, entry.byteOffset + entry.byteLength - dataStart);
    if (end !== dataLength) fail(`its tensors cover ${end} bytes after the header but the file has ${dataLength}`);
    return new SafetensorsFile(bytes, entries, metadata, source);
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): SafetensorsEntry | undefined {
    return this.entries.get(name);
  }

  /** The tensor converted to float32, or undefined when the file has no such name. */
  get(name: string): Float32Tensor | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined) return undefined;
    const raw = this.bytes.subarray(entry.byteOffset, entry.byteOffset + entry.byteLength);
    let data: Float32Array;
    switch (entry.dtype) {
      case 'F32':
        data = decodeF32(raw);
        break;
      case 'F16':
        data = decodeF16(raw);
        break;
      case 'BF16':
        data = decodeBF16(raw);
        break;
      default:
        throw new ModelLoadError(
          `Tensor "${name}" in ${this.source} has dtype ${entry.dtype}; the built-in backend reads only ${READABLE_DTYPES.join(', ')}. Convert the weights to float32 or float16.`,
        );
    }
    return { dtype: entry.dtype, shape: [...entry.shape], data };
  }
}

/** Every tensor of the file as float32; throws ModelLoadError if any has a dtype other than F32/F16/BF16. */
export function readSafetensors(bytes: Uint8Array, source?: string): Map<string, Float32Tensor> {
  const file = SafetensorsFile.parse(bytes, source);
  const tensors = new Map<string, Float32Tensor>();
  for (const name of file.names()) tensors.set(name, file.get(name)!);
  return tensors;
}

function parseEntry(name: string, value: unknown, dataStart: number, dataLength: number, fail: (why: string) => never): SafetensorsEntry {
  if (typeof value !== 'object' || value === null) fail(`the header entry of "${name}" is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes`);
  const elementCount = (shape as number[]).reduce((product, n) => product * n, 1);
  const expectedBytes = elementCount * DTYPE_BYTES[dtype as string];
  if (end - begin !== expectedBytes) {
    fail(`tensor "${name}" (${dtype as string}, shape [${(shape as number[]).join(', ')}]) needs ${expectedBytes} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype: dtype as string, shape: [...(shape as number[])], byteOffset: dataStart + begin, byteLength: end - begin };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** [n·4 bytes, little-endian] -> [n] */
function decodeF32(raw: Uint8Array): Float32Array {
  const out = new Float32Array(raw.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    // A byte copy: the source may not be 4-byte aligned, so no typed view onto it.
    new Uint8Array(out.buffer).set(raw);
  } else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** bfloat16 is the top half of a float32. [n·2 bytes] -> [n] */
function decodeBF16(raw: Uint8Array): Float32Array {
  const out = new Float32Array(raw.length / 2);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < out.length; i++) bits[i] = (raw[2 * i] | (raw[2 * i + 1] << 8)) << 16;
  return out;
}

let halfTable: Float32Array | undefined;

/** [n·2 bytes] -> [n], through a 65536-entry table (256 KB, built once). */
function decodeF16(raw: Uint8Array): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = halfToNumber(bits);
  }
  const table = halfTable;
  const out = new Float32Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = table[raw[2 * i] | (raw[2 * i + 1] << 8)];
  return out;
}

/** IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// ---------------------------------------------------------------- writing

export type WritableTensor =
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  /** Bytes already in the file's encoding, for any dtype (tests use it for F16, BF16, I64...). */
  | { dtype: string; shape: number[]; bytes: Uint8Array };

/** Serialises tensors (in the map's order) to safetensors bytes, the header padded to 8 bytes. */
export function writeSafetensors(tensors: ReadonlyMap<string, WritableTensor>, metadata?: Record<string, string>): Buffer {
  const { head, parts } = safetensorsLayout(tensors, metadata);
  return Buffer.concat([head, ...parts]);
}

/**
 * The file as its leading bytes (length and header) and each tensor's bytes, views of the tensors'
 * own memory, so a large file can be written part by part without one buffer holding it all.
 */
export function safetensorsLayout(tensors: ReadonlyMap<string, WritableTensor>, metadata?: Record<string, string>): { head: Buffer; parts: Uint8Array[] } {
  // Float32Array bytes are written as they lie in memory, which is little-endian only on such hosts.
  if (!LITTLE_ENDIAN_HOST) throw new Error('writeSafetensors: big-endian hosts are not supported');
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const bytes = 'data' in tensor ? new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength) : tensor.bytes;
    const elementSize = DTYPE_BYTES[tensor.dtype];
    if (elementSize === undefined) throw new RangeError(`writeSafetensors: unknown dtype ${tensor.dtype} for "${name}"`);
    const elementCount = tensor.shape.reduce((product, n) => product * n, 1);
    if (bytes.byteLength !== elementCount * elementSize) {
      throw new RangeError(`writeSafetensors: "${name}" has ${bytes.byteLength} bytes, shape [${tensor.shape.join(', ')}] needs ${elementCount * elementSize}`);
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf-8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return { head: Buffer.concat([length, headerBytes]), parts };
}
