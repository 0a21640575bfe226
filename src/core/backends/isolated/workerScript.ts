// Where dist/onnxWorker.js is. The bundles that use the isolated backend live in dist/ themselves
// (extension.js, cli.js) or below it (test bundles in dist/test/**), so walking up from the running
// bundle finds the worker next to it or in the nearest dist/ above it.
import * as fs from 'fs';
import * as path from 'path';
import { AttentionInspectorError } from '../../errors';

export const WORKER_SCRIPT = 'onnxWorker.js';

/** The nearest `script` (default onnxWorker.js) at or above fromDir, or in a dist/ folder of one of those folders. */
export function locateWorkerScript(fromDir: string = __dirname, script: string = WORKER_SCRIPT): string {
  const start = path.resolve(fromDir);
  for (let dir = start; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, script), path.join(dir, 'dist', script)]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new AttentionInspectorError(
    `The worker script ${script} is missing: it is not in ${start} nor in any dist/ folder above it. ` +
      'Reinstall the extension, or run `node esbuild.js` in a development checkout.',
  );
}
