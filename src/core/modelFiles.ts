// Every file the core reads from a model folder (or from --file) is checked before a byte is read:
// a regular file once symlinks are resolved (a link to /dev/zero or a FIFO would otherwise be read
// forever), no larger than its format allows, and — for files a model references by name, such as
// ONNX external data — inside the model folder after resolving links, as onnxruntime requires.
// The limits are far above any model this extension can run; they exist to fail fast and clearly.
import { promises as fs, type Stats } from 'fs';
import * as fsSync from 'fs';
import * as path from 'path';
import { AttentionInspectorError, ModelLoadError } from './errors';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The largest file of each kind the core reads. */
export const FILE_LIMITS = {
  /** config.json, tokenizer.json, tokenizer_config.json. */
  json: 256 * MiB,
  /** model.onnx itself (protobuf cannot exceed 2 GiB; larger models keep weights as external data). */
  onnx: 2 * GiB,
  /** model.safetensors and each external-data file: Node's largest Buffer. */
  weights: 4 * GiB - 1,
  /** Text to inspect from the command line. */
  text: 64 * MiB,
} as const;

export interface FileCheck {
  /** What the file is, for messages: "config.json", "the external data file w.bin". */
  what: string;
  maxBytes: number;
  /** The file must lie inside this folder once symlinks are resolved. */
  insideDir?: string;
  /** The error class to throw (default ModelLoadError). */
  error?: new (message: string) => AttentionInspectorError;
}

function describeSize(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Turns a failed realpath/stat into the message a user can act on. */
function accessProblem(file: string, what: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${what} not found: ${file}.`;
  if (code === 'ELOOP') return `${what} at ${file} is a symbolic link that points back to itself (a link loop).`;
  if (code === 'EACCES' || code === 'EPERM') return `${what} at ${file} cannot be read: permission denied.`;
  return `Cannot read ${what} at ${file}: ${(error as Error).message}`;
}

function checkStats(file: string, real: string, stats: Stats, check: FileCheck, realDir: string | undefined): number {
  const Failure = check.error ?? ModelLoadError;
  if (!stats.isFile()) {
    const kind = stats.isDirectory() ? 'a folder' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : stats.isFIFO() ? 'a pipe' : 'not a regular file';
    throw new Failure(`${check.what} at ${file} is ${kind}${real !== path.resolve(file) ? ` (it links to ${real})` : ''}, not a regular file.`);
  }
  if (realDir !== undefined && real !== realDir && !real.startsWith(realDir + path.sep)) {
    throw new Failure(`${check.what} at ${file} resolves to ${real}, outside the model folder ${realDir}; a model may only reference files inside its folder.`);
  }
  if (stats.size > check.maxBytes) {
    throw new Failure(`${check.what} at ${file} is ${describeSize(stats.size)}, more than the ${describeSize(check.maxBytes)} this extension reads for it.`);
  }
  return stats.size;
}

/** Checks a file (see FileCheck) and returns its size; throws a clear error otherwise. */
export async function checkFile(file: string, check: FileCheck): Promise<number> {
  const Failure = check.error ?? ModelLoadError;
  let real: string;
  let stats: Stats;
  let realDir: string | undefined;
  try {
    real = await fs.realpath(file);
    stats = await fs.stat(real);
    if (check.insideDir !== undefined) realDir = await fs.realpath(check.insideDir);
  } catch (error) {
    throw new Failure(accessProblem(file, check.what, error));
  }
  return checkStats(file, real, stats, check, realDir);
}

/** Reads a checked file; never more than the size it had when checked (plus nothing: a growing file is cut). */
export async function readCheckedFile(file: string, check: FileCheck): Promise<Buffer> {
  const size = await checkFile(file, check);
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === size ? buffer : buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** Synchronous twin of readCheckedFile for small files read during synchronous checks (config.json). */
export function readCheckedFileSync(file: string, check: FileCheck): Buffer {
  const Failure = check.error ?? ModelLoadError;
  let real: string;
  let stats: Stats;
  let realDir: string | undefined;
  try {
    real = fsSync.realpathSync(file);
    stats = fsSync.statSync(real);
    if (check.insideDir !== undefined) realDir = fsSync.realpathSync(check.insideDir);
  } catch (error) {
    throw new Failure(accessProblem(file, check.what, error));
  }
  const size = checkStats(file, real, stats, check, realDir);
  const descriptor = fsSync.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const bytesRead = fsSync.readSync(descriptor, buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === size ? buffer : buffer.subarray(0, filled);
  } finally {
    fsSync.closeSync(descriptor);
  }
}
