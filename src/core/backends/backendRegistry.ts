// One backend per (model folder, backend) pair, created on first use and kept, so a model is
// loaded once however many runs follow. Settings changes simply pick another entry.
import { chooseBackend, inspectModelFolder } from '../modelFolder';
import type { AttentionBackend, BackendChoice, BackendName } from '../types';
import { BuiltinBackend } from './builtinBackend';
import { IsolatedOnnxBackend } from './isolated/isolatedOnnxBackend';
import type { KernelOptions } from '../math/wasm/kernelChoice';

/** Set to 1 to run onnxruntime-node inside the calling process (debugging only: no isolation). */
export const ONNX_IN_PROCESS_ENV = 'ATTENTION_INSPECTOR_ONNX_IN_PROCESS';

export type BackendFactory = (name: BackendName, dir: string, modelName: string) => AttentionBackend;

/** The backends, the built-in one on the given kernels (default 'auto'). */
export const backendFactory = (kernels: KernelOptions = {}): BackendFactory => (name, dir, modelName) => {
  switch (name) {
    case 'builtin':
      return new BuiltinBackend(dir, modelName, kernels);
    case 'onnx':
      // onnxruntime-node runs in a child process, so that a native crash or an endless run costs
      // that process and not the extension host. ATTENTION_INSPECTOR_ONNX_IN_PROCESS=1 runs it here
      // instead, for debugging (loaded on demand: only users of the ONNX backend touch the addon).
      if (process.env[ONNX_IN_PROCESS_ENV] === '1') {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return new (require('./onnxBackend') as typeof import('./onnxBackend')).OnnxBackend(dir, modelName);
      }
      return new IsolatedOnnxBackend(dir, modelName);
  }
};

export const defaultBackendFactory: BackendFactory = backendFactory();

export class BackendRegistry {
  private readonly backends = new Map<string, AttentionBackend>();

  constructor(private readonly factory: BackendFactory = defaultBackendFactory) {}

  /**
   * The backend for a folder, loading nothing yet; throws ModelLoadError for unusable folders.
   * `preferBuiltin`: see chooseBackend (the step view, explain, and runs with a variation).
   */
  get(dir: string, choice: BackendChoice, preferBuiltin = false): AttentionBackend {
    const folder = inspectModelFolder(dir);
    const name = chooseBackend(folder, choice, preferBuiltin);
    const key = `${name}\u0000${folder.dir}`;
    let backend = this.backends.get(key);
    if (!backend) {
      backend = this.factory(name, folder.dir, folder.name);
      this.backends.set(key, backend);
    }
    return backend;
  }

  dispose(): void {
    for (const backend of this.backends.values()) backend.dispose();
    this.backends.clear();
  }
}
