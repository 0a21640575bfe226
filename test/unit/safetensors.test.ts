// The safetensors reader and writer: round trips, the byte layout, half-precision decoding
// against hand-decoded bit patterns, and a clear ModelLoadError for every kind of damage.
import * as assert from 'node:assert/strict';
import { ModelLoadError } from '../../src/core/errors';
import { readSafetensors, SafetensorsFile, writeSafetensors, type WritableTensor } from '../../src/core/safetensors';

/** A file assembled by hand: the length, the header exactly as given (no padding), the data. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const headerBytes = Buffer.from(header, 'utf-8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([length, headerBytes, data]);
}

function uint16Bytes(values: number[]): Uint8Array {
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((value, i) => bytes.writeUInt16LE(value, i * 2));
  return bytes;
}

function assertLoadError(action: () => unknown, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, `expected a ModelLoadError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('safetensors', () => {
  it('round-trips float32 tensors, shapes and metadata', () => {
    const tensors = new Map<string, WritableTensor>([
      ['a.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7e20]) }],
      ['scalar', { dtype: 'F32', shape: [], data: Float32Array.from([42]) }],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const file = SafetensorsFile.parse(bytes);
    assert.deepEqual(file.names(), ['a.weight', 'scalar', 'empty']);
    assert.deepEqual(file.metadata, { format: 'pt' });
    const read = readSafetensors(bytes);
    assert.deepEqual(read.get('a.weight')?.shape, [2, 3]);
    assert.deepEqual(Array.from(read.get('a.weight')!.data), Array.from(Float32Array.from([1, -2, 3.5, 0, 1e-8, -7e20])));
    assert.deepEqual(read.get('scalar')?.shape, []);
    assert.deepEqual(Array.from(read.get('scalar')!.data), [42]);
    assert.equal(read.get('empty')?.data.length, 0);
    assert.equal(file.get('missing'), undefined);
  });

  it('writes the documented layout: u64 LE header length, JSON header padded to 8 bytes, then the data', () => {
    const bytes = writeSafetensors(new Map([
      ['x', { dtype: 'F32' as const, shape: [2], data: Float32Array.from([1, 2]) }],
      ['y', { dtype: 'F32' as const, shape: [1], data: Float32Array.from([3]) }],
    ]));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf-8'));
    assert.deepEqual(header.x, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    assert.deepEqual(header.y, { dtype: 'F32', shape: [1], data_offsets: [8, 12] });
    assert.equal(bytes.length, 8 + headerLength + 12);
    assert.equal(bytes.readFloatLE(8 + headerLength + 8), 3);
  });

  it('reads float32 data that is not 4-byte aligned', () => {
    const data = Buffer.alloc(8);
    data.writeFloatLE(1.5, 0);
    data.writeFloatLE(-0.25, 4);
    const header = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 55 bytes: data starts at 63
    assert.notEqual((8 + header.length) % 4, 0);
    assert.deepEqual(Array.from(readSafetensors(rawFile(header, data)).get('t')!.data), [1.5, -0.25]);
  });

  it('decodes float16, subnormals and infinities included', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const expected = [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, -0, Infinity, -Infinity, NaN];
    const tensors = new Map<string, WritableTensor>([['h', { dtype: 'F16', shape: [bits.length], bytes: uint16Bytes(bits) }]]);
    const data = readSafetensors(writeSafetensors(tensors)).get('h')!.data;
    expected.forEach((value, i) => assert.ok(Object.is(data[i], value), `0x${bits[i].toString(16)} -> ${data[i]}, expected ${value}`));
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    const bits = [0x3f80, 0xc040, 0x4049, 0x7f80, 0x0000, 0xbf00];
    const expected = [1, -3, 3.140625, Infinity, 0, -0.5];
    const tensors = new Map<string, WritableTensor>([['b', { dtype: 'BF16', shape: [2, 3], bytes: uint16Bytes(bits) }]]);
    const tensor = readSafetensors(writeSafetensors(tensors)).get('b')!;
    assert.equal(tensor.dtype, 'BF16');
    assert.deepEqual(tensor.shape, [2, 3]);
    assert.deepEqual(Array.from(tensor.data), expected);
  });

  it('parses files with other dtypes but refuses to read those tensors', () => {
    const tensors = new Map<string, WritableTensor>([
      ['ids', { dtype: 'I64', shape: [2], bytes: new Uint8Array(16) }],
      ['w', { dtype: 'F32', shape: [1], data: Float32Array.from([0.5]) }],
    ]);
    const bytes = writeSafetensors(tensors);
    const file = SafetensorsFile.parse(bytes, 'weights.safetensors');
    assert.deepEqual(Array.from(file.get('w')!.data), [0.5]);
    assertLoadError(() => file.get('ids'), /"ids" in weights\.safetensors has dtype I64.*F32, F16, BF16/);
    assertLoadError(() => readSafetensors(bytes), /dtype I64/);
  });

  describe('rejects damaged files with ModelLoadError', () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['fewer than 8 bytes', new Uint8Array(5), /fewer than the 8-byte header length/],
      ['a header longer than the file', (() => {
        const bytes = rawFile('{}');
        bytes[0] = 200;
        return bytes;
      })(), /claims 200 bytes but the file has only 2/],
      ['an absurd header length', (() => {
        const bytes = rawFile('{}');
        bytes[6] = 1;
        return bytes;
      })(), /header claims \d+ bytes/],
      ['a header that is not JSON', rawFile('{"t": '), /header is not JSON/],
      ['a header that is not an object', rawFile('[1, 2]'), /not a JSON object/],
      ['an unknown dtype', rawFile('{"t":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /unknown dtype "F12"/],
      ['a bad shape', rawFile('{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)), /shape \[-1\]/],
      ['missing offsets', rawFile('{"t":{"dtype":"F32","shape":[1]}}', new Uint8Array(4)), /data_offsets undefined/],
      ['offsets past the end', rawFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(4)), /outside the 4 data bytes/],
      ['reversed offsets', rawFile('{"t":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', new Uint8Array(4)), /\[4, 0\] outside/],
      ['a size that does not match the shape', rawFile('{"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Uint8Array(20)), /needs 24 bytes but data_offsets span 20/],
      ['metadata that is not an object', rawFile('{"__metadata__":"x"}'), /__metadata__ is not an object/],
    ];
    for (const [what, bytes, pattern] of cases) {
      it(what, () => assertLoadError(() => SafetensorsFile.parse(bytes, 'broken.safetensors'), new RegExp(`^broken\\.safetensors is not a valid safetensors file: .*${pattern.source}`)));
    }
  });

  it('the writer refuses data that does not fit the shape', () => {
    assert.throws(() => writeSafetensors(new Map([['t', { dtype: 'F32' as const, shape: [3], data: new Float32Array(2) }]])), RangeError);
    assert.throws(() => writeSafetensors(new Map([['t', { dtype: 'Q4', shape: [1], bytes: new Uint8Array(1) }]])), RangeError);
  });
});
