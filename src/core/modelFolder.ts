// What a model folder holds and which backend can run it. A folder is:
//   tokenizer.json            always (Hugging Face format)
//   config.json               GPT2Config keys (needed by the built-in block, optional for ONNX)
//   model.safetensors         Hugging Face GPT-2 tensor names (the built-in block runs these)
//   model.onnx                any ONNX export (onnxruntime-node runs it)
import * as fs from 'fs';
import * as path from 'path';
import { ModelLoadError } from './errors';
import { FILE_LIMITS, readCheckedFileSync } from './modelFiles';
import type { BackendChoice, BackendName } from './types';

export interface ModelFolder {
  dir: string;
  name: string;
  hasTokenizer: boolean;
  hasConfig: boolean;
  hasSafetensors: boolean;
  hasOnnx: boolean;
}

export function inspectModelFolder(dir: string): ModelFolder {
  const resolved = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new ModelLoadError(`The model folder ${resolved} is a symbolic link that points back to itself (a link loop).`);
    throw new ModelLoadError(`Model folder not found: ${resolved}. Set attentionInspector.model to a folder with tokenizer.json and model.safetensors or model.onnx, or leave it empty for the bundled model.`);
  }
  if (!stat.isDirectory()) throw new ModelLoadError(`The model path is not a folder: ${resolved}.`);
  /** Present when it resolves; a link loop is an error of its own, not a missing file. */
  const has = (file: string) => {
    const full = path.join(resolved, file);
    try {
      fs.statSync(full);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new ModelLoadError(`${file} at ${full} is a symbolic link that points back to itself (a link loop).`);
      return false;
    }
  };
  return {
    dir: resolved,
    name: readModelName(resolved),
    hasTokenizer: has('tokenizer.json'),
    hasConfig: has('config.json'),
    hasSafetensors: has('model.safetensors'),
    hasOnnx: has('model.onnx'),
  };
}

/**
 * config.json's explicit `name` when it gives one, else the folder's own name. Not `_name_or_path`:
 * transformers writes whatever path the checkpoint was loaded from (often a training run's "ckpt" or
 * "checkpoint-500"), which names the folder the model came from, not this one.
 */
function readModelName(dir: string): string {
  try {
    const config = JSON.parse(readCheckedFileSync(path.join(dir, 'config.json'), { what: 'config.json', maxBytes: FILE_LIMITS.json }).toString('utf8')) as Record<string, unknown>;
    const value = config.name;
    if (typeof value === 'string' && value.trim() !== '') return path.basename(value.trim());
  } catch {
    // No or unreadable config: the folder name will do; loading reports real problems later.
  }
  return path.basename(dir) || dir;
}

/**
 * Picks the backend for a folder. `auto` prefers onnxruntime-node when model.onnx is present,
 * because it is faster on long inputs; otherwise the built-in block.
 */
/**
 * Which backend runs a folder. `preferBuiltin` (for the step view, `explain` and varied runs) makes
 * "auto" pick the built-in block when the folder has its files: only it can show q, k, v, W_O and
 * the residual stream, and run without positions or with heads switched off.
 */
export function chooseBackend(folder: ModelFolder, choice: BackendChoice, preferBuiltin = false): BackendName {
  if (!folder.hasTokenizer) throw new ModelLoadError(`No tokenizer.json in ${folder.dir}.`);
  const builtinReady = folder.hasConfig && folder.hasSafetensors;
  switch (choice) {
    case 'builtin':
      if (!builtinReady) {
        throw new ModelLoadError(`The built-in backend needs config.json and model.safetensors, and ${folder.dir} lacks ${missing(folder).join(' and ')}. Set attentionInspector.backend to "onnx" or "auto".`);
      }
      return 'builtin';
    case 'onnx':
      if (!folder.hasOnnx) throw new ModelLoadError(`The ONNX backend needs model.onnx, and ${folder.dir} has none. Set attentionInspector.backend to "builtin" or "auto".`);
      return 'onnx';
    case 'auto':
      if (preferBuiltin && builtinReady) return 'builtin';
      if (folder.hasOnnx) return 'onnx';
      if (builtinReady) return 'builtin';
      throw new ModelLoadError(`${folder.dir} holds no model: it needs model.onnx, or config.json with model.safetensors.`);
  }
}

function missing(folder: ModelFolder): string[] {
  const names: string[] = [];
  if (!folder.hasConfig) names.push('config.json');
  if (!folder.hasSafetensors) names.push('model.safetensors');
  return names;
}
