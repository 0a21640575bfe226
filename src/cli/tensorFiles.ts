// `run --out FILE.safetensors | FILE.npy`: the attention tensors in binary formats Python loads in one
// line — safetensors.numpy.load_file(FILE) (every group, named "attention.<group>", with the tokens
// and model in the metadata) or numpy.load(FILE) (the first group's [L, H, Tq, Tk] only). Written part
// by part from the tensors' own memory: nothing the size of the file is ever copied.
import * as fs from 'fs';
import * as os from 'os';
import { safetensorsLayout } from '../core/safetensors';
import type { AttentionResult } from '../core/types';
import { jsonModel, jsonTokens } from './format';

export const TENSOR_FILE_EXTENSIONS = ['.safetensors', '.npy'] as const;

/** Largest single write (fs.writeSync is limited to 2 GiB per call). */
const WRITE_SLICE = 64 * 1024 * 1024;

export function writeTensorFile(result: AttentionResult, file: string): void {
  if (os.endianness() !== 'LE') throw new Error('--out: writing tensors needs a little-endian machine');
  const { head, parts } = file.toLowerCase().endsWith('.npy') ? npyLayout(result) : safetensorsOf(result);
  const fd = fs.openSync(file, 'w');
  try {
    for (const part of [head, ...parts]) {
      for (let start = 0; start < part.byteLength; start += WRITE_SLICE) fs.writeSync(fd, part, start, Math.min(WRITE_SLICE, part.byteLength - start));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function safetensorsOf(result: AttentionResult): { head: Buffer; parts: Uint8Array[] } {
  const tensors = new Map(result.groups.map((group) => [`attention.${group.name}`, { dtype: 'F32' as const, shape: [...group.dims], data: group.attention }]));
  const metadata = {
    model: JSON.stringify(jsonModel(result.model, result.causal)),
    tokens: JSON.stringify(jsonTokens(result.tokens)),
    groups: JSON.stringify(result.groups.map((group) => ({ name: group.name, label: group.label, kind: group.kind, queries: group.queries, keys: group.keys, causal: group.causal }))),
    ...(result.target ? { target: JSON.stringify({ text: result.target.text, tokens: jsonTokens(result.target.tokens) }) } : {}),
  };
  return safetensorsLayout(tensors, metadata);
}

/** NPY format 1.0: magic, version, a little-endian u16 header length, a Python dict literal padded to 64 bytes with "\n" last, then the data. */
function npyLayout(result: AttentionResult): { head: Buffer; parts: Uint8Array[] } {
  const group = result.groups[0];
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${group.dims.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10 + header.length);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  head.write(header, 10, 'latin1');
  return { head, parts: [new Uint8Array(group.attention.buffer, group.attention.byteOffset, group.attention.byteLength)] };
}
