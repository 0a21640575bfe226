// One backend per (model folder, backend) pair, created on first use and kept, so a model is
// loaded once however many runs follow. Settings changes simply pick another entry.
import { chooseBackend, inspectModelFolder } from '../modelFolder';
import type { AttentionBackend, BackendChoice, BackendName } from '../types';
import { BuiltinBackend } from './builtinBackend';

export type BackendFactory = (name: BackendName, dir: string, modelName: string) => AttentionBackend;

export const defaultBackendFactory: BackendFactory = (name, dir, modelName) => {
  switch (name) {
    case 'builtin':
      return new BuiltinBackend(dir, modelName);
    case 'onnx':
      // Loaded on demand so that the native addon is only touched by users of the ONNX backend.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return new (require('./onnxBackend') as typeof import('./onnxBackend')).OnnxBackend(dir, modelName);
  }
};

export class BackendRegistry {
  private readonly backends = new Map<string, AttentionBackend>();

  constructor(private readonly factory: BackendFactory = defaultBackendFactory) {}

  /** The backend for a folder, loading nothing yet; throws ModelLoadError for unusable folders. */
  get(dir: string, choice: BackendChoice): AttentionBackend {
    const folder = inspectModelFolder(dir);
    const name = chooseBackend(folder, choice);
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
