// `run --json` written piece by piece: the report is stringified with each tensor left as a marker,
// then written with every tensor's base64 streamed in chunks of 3 MiB of float32 (a multiple of 3
// bytes, so the chunks' base64 joins without padding). No string ever holds a whole tensor, so 4096
// tokens (gigabytes of attention) print where one JSON.stringify would fail with "Invalid string length".
import { randomBytes } from 'crypto';
import { float32ToBase64 } from './format';

/** A tensor to be written as base64 of little-endian float32 in place of a string. */
export class Base64Tensor {
  constructor(readonly values: Float32Array) {}
}

/** Floats per base64 chunk: 786,432 × 4 bytes = 3 MiB, divisible by 3. */
export const CHUNK_FLOATS = 3 * 262_144;

export type ChunkWriter = (chunk: string) => void | Promise<void>;

export async function writeJson(value: unknown, write: ChunkWriter): Promise<void> {
  const nonce = randomBytes(8).toString('hex');
  const tensors: Float32Array[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => (item instanceof Base64Tensor ? `${nonce}:${tensors.push(item.values) - 1}` : item));
  const marker = new RegExp(`"${nonce}:(\\d+)"`, 'g');
  let at = 0;
  for (let match = marker.exec(text); match; match = marker.exec(text)) {
    await write(text.slice(at, match.index) + '"');
    const values = tensors[Number(match[1])];
    for (let start = 0; start < values.length; start += CHUNK_FLOATS) await write(float32ToBase64(values.subarray(start, Math.min(values.length, start + CHUNK_FLOATS))));
    await write('"');
    at = match.index + match[0].length;
  }
  await write(text.slice(at) + '\n');
}

/** A writer to a Node stream that waits for 'drain' when the stream's buffer is full (so memory stays flat). */
export function streamWriter(stream: NodeJS.WritableStream): ChunkWriter {
  return (chunk) => (stream.write(chunk) ? undefined : new Promise<void>((resolve) => stream.once('drain', () => resolve())));
}
