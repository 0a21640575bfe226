// Models saved with external data keep tensor bytes in side files (model.onnx.data...) named by a
// `location` relative to the model's folder. onnxruntime cannot resolve such paths for a model given
// as bytes unless told the folder, so we either copy the bytes into the proto (inline) or hand the
// folder to onnxruntime (session option model_external_initializers_file_folder_path).
import { promises as fs } from 'fs';
import * as path from 'path';
import { ModelLoadError } from '../errors';
import { FILE_LIMITS, checkFile, readCheckedFile } from '../modelFiles';
import { DATA_LOCATION_EXTERNAL, DataType, type GraphProto, type ModelProto, type TensorProto } from './onnxModel';
import { elementCount } from './tensorData';

/** Protobuf messages cannot exceed 2 GiB, so an inlined model has to stay below that. */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

/** Every tensor of the model whose data lives in an external file (initializers and Constant values, subgraphs included). */
export function externalTensors(model: ModelProto): TensorProto[] {
  const found: TensorProto[] = [];
  const visit = (graph: GraphProto | undefined): void => {
    if (!graph) return;
    for (const tensor of graph.initializer ?? []) if (tensor.dataLocation === DATA_LOCATION_EXTERNAL) found.push(tensor);
    for (const node of graph.node ?? []) {
      for (const attr of node.attribute ?? []) {
        if (attr.t?.dataLocation === DATA_LOCATION_EXTERNAL) found.push(attr.t);
        visit(attr.g ?? undefined);
        for (const sub of attr.graphs ?? []) visit(sub);
      }
    }
  };
  visit(model.graph);
  return found;
}

interface ExternalReference { location: string; offset: number; length: number | undefined }

function referenceOf(tensor: TensorProto): ExternalReference {
  const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
  const location = entries.get('location') ?? '';
  const name = tensor.name || 'a tensor';
  if (!location) throw new ModelLoadError(`The model's ${name} is stored externally but names no file (external_data has no location).`);
  const offset = entries.has('offset') ? Number(entries.get('offset')) : 0;
  const length = entries.has('length') ? Number(entries.get('length')) : undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new ModelLoadError(`The model's ${name} has an invalid external data offset or length.`);
  }
  return { location, offset, length };
}

/**
 * For models too big to inline: every external file must be a regular file inside modelDir (links
 * resolved) and long enough for the tensors it holds, before onnxruntime is given the folder.
 */
export async function checkExternalData(model: ModelProto, modelDir: string): Promise<void> {
  const root = path.resolve(modelDir);
  const sizes = new Map<string, number>();
  for (const tensor of externalTensors(model)) {
    const reference = referenceOf(tensor);
    const file = locate(root, reference);
    let size = sizes.get(file);
    if (size === undefined) {
      if (!(await exists(file))) throw new ModelLoadError(`The model keeps its weights in ${reference.location}, which is missing from ${root}. Copy that file next to model.onnx.`);
      size = await checkFile(file, { what: `The external data file ${reference.location}`, maxBytes: Number.MAX_SAFE_INTEGER, insideDir: root });
      sizes.set(file, size);
    }
    checkLength(tensor, reference, size);
  }
}

/** Total bytes the external tensors occupy (what inlining would add to the model). */
export function externalDataBytes(model: ModelProto): number {
  let total = 0;
  for (const tensor of externalTensors(model)) {
    const reference = referenceOf(tensor);
    total += reference.length ?? elementCount(tensor) * elementBytes(tensor.dataType ?? 0);
  }
  return total;
}

/**
 * Reads every external tensor's bytes from its file under `modelDir` into raw_data, so the model
 * is self-contained. Locations must stay inside modelDir; missing or short files are ModelLoadErrors.
 */
export async function inlineExternalData(model: ModelProto, modelDir: string): Promise<void> {
  const tensors = externalTensors(model);
  if (tensors.length === 0) return;
  const root = path.resolve(modelDir);
  const files = new Map<string, Buffer>();
  for (const tensor of tensors) {
    const reference = referenceOf(tensor);
    const file = locate(root, reference);
    let contents = files.get(file);
    if (!contents) {
      if (!(await exists(file))) {
        throw new ModelLoadError(`The model keeps its weights in ${reference.location}, which is missing from ${root}. Copy that file next to model.onnx.`);
      }
      // Resolved links must stay inside the folder too (onnxruntime refuses them as well).
      contents = await readCheckedFile(file, { what: `The external data file ${reference.location}`, maxBytes: FILE_LIMITS.weights, insideDir: root });
      files.set(file, contents);
    }
    const length = checkLength(tensor, reference, contents.length);
    tensor.rawData = contents.subarray(reference.offset, reference.offset + length);
    tensor.externalData = [];
    tensor.dataLocation = 0;
  }
}

/** The file a reference names, which must stay inside the model folder (lexically; links are checked on reading). */
function locate(root: string, reference: ExternalReference): string {
  const file = path.resolve(root, reference.location);
  if (path.isAbsolute(reference.location) || (file !== root && !file.startsWith(root + path.sep))) {
    throw new ModelLoadError(`The model's external data location ${JSON.stringify(reference.location)} is outside its folder ${root}.`);
  }
  return file;
}

/** The tensor's byte length; throws when its file (of fileSize bytes) is too short for it. */
function checkLength(tensor: TensorProto, reference: ExternalReference, fileSize: number): number {
  const length = reference.length ?? elementCount(tensor) * elementBytes(tensor.dataType ?? 0);
  if (reference.offset + length > fileSize) {
    throw new ModelLoadError(`${reference.location} is too short for ${tensor.name || 'a tensor'} (needs bytes ${reference.offset}..${reference.offset + length}, the file has ${fileSize}). The file may be truncated.`);
  }
  return length;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

function elementBytes(type: number): number {
  switch (type) {
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: return 8;
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.FLOAT16: case DataType.BFLOAT16: case DataType.INT16: case DataType.UINT16: return 2;
    default: return 1;
  }
}

/** Session options that let onnxruntime find external files for a model passed as bytes. */
export function externalDataSessionOptions(modelDir: string): { extra: Record<string, Record<string, string>> } {
  return { extra: { session: { model_external_initializers_file_folder_path: path.resolve(modelDir) } } };
}
