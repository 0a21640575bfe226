// Values of constant tensors (initializers, Constant nodes), for the few questions the attention
// finder asks of them: what shape does a Reshape ask for, is a mask triangular.
import { DATA_LOCATION_EXTERNAL, DataType, type TensorProto, toNumber } from './onnxModel';

export function elementCount(tensor: TensorProto): number {
  let count = 1;
  for (const dim of tensor.dims ?? []) count *= toNumber(dim);
  return count;
}

export function tensorDims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(toNumber);
}

/**
 * The tensor's values as float64, or undefined when they are not in the proto (external data that
 * was not inlined), the type is not numeric, or there are more than `limit` of them.
 */
export function readTensorValues(tensor: TensorProto, limit = 1 << 24): Float64Array | undefined {
  const count = elementCount(tensor);
  if (count > limit || tensor.dataLocation === DATA_LOCATION_EXTERNAL) return undefined;
  const type = tensor.dataType ?? 0;
  const raw = tensor.rawData;
  const values = new Float64Array(count);
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width = byteWidth(type);
    if (width === 0 || raw.byteLength < count * width) return undefined;
    for (let i = 0; i < count; i++) values[i] = readRaw(view, type, i * width);
    return values;
  }
  const typed = type === DataType.FLOAT ? tensor.floatData
    : type === DataType.DOUBLE ? tensor.doubleData
      : type === DataType.INT64 ? tensor.int64Data
        : tensor.int32Data;
  if (!typed || typed.length < count) return count === 0 ? values : undefined;
  for (let i = 0; i < count; i++) {
    const value = toNumber(typed[i]);
    // FLOAT16 and BFLOAT16 values travel as their bit patterns in int32_data.
    values[i] = type === DataType.FLOAT16 ? halfToFloat(value) : type === DataType.BFLOAT16 ? bfloatToFloat(value) : value;
  }
  return values;
}

function byteWidth(type: number): number {
  switch (type) {
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: return 8;
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.FLOAT16: case DataType.BFLOAT16: case DataType.INT16: case DataType.UINT16: return 2;
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: return 1;
    default: return 0;
  }
}

/** One little-endian element of raw_data at byte `offset`. */
function readRaw(view: DataView, type: number, offset: number): number {
  switch (type) {
    case DataType.DOUBLE: return view.getFloat64(offset, true);
    case DataType.INT64: return Number(view.getBigInt64(offset, true));
    case DataType.UINT64: return Number(view.getBigUint64(offset, true));
    case DataType.FLOAT: return view.getFloat32(offset, true);
    case DataType.INT32: return view.getInt32(offset, true);
    case DataType.UINT32: return view.getUint32(offset, true);
    case DataType.FLOAT16: return halfToFloat(view.getUint16(offset, true));
    case DataType.BFLOAT16: return bfloatToFloat(view.getUint16(offset, true));
    case DataType.INT16: return view.getInt16(offset, true);
    case DataType.UINT16: return view.getUint16(offset, true);
    case DataType.INT8: return view.getInt8(offset);
    default: return view.getUint8(offset);
  }
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function bfloatToFloat(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

/**
 * Whether a constant is a causal mask: its last two dims are square (n >= 2), and every entry above
 * the diagonal holds one value while every entry on or below it holds another (tril(ones) as bool,
 * or a 0 / -inf additive mask). All leading dims must repeat the same pattern.
 */
export function isTriangularMask(tensor: TensorProto): boolean {
  const dims = tensorDims(tensor);
  if (dims.length < 2) return false;
  const n = dims[dims.length - 1];
  if (n < 2 || dims[dims.length - 2] !== n) return false;
  const values = readTensorValues(tensor);
  if (!values) return false;
  const above = values[1];
  const below = values[0];
  if (above === below || Number.isNaN(above) || Number.isNaN(below)) return false;
  const matrices = values.length / (n * n);
  for (let m = 0; m < matrices; m++) {
    for (let t = 0; t < n; t++) {
      const row = (m * n + t) * n;
      for (let s = 0; s < n; s++) if (values[row + s] !== (s > t ? above : below)) return false;
    }
  }
  return true;
}
