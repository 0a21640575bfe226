// Bundles and runs test/perf/kernelGflops.ts: the WebAssembly kernels' GFLOP/s in CPU time.
// Usage: taskset -c 1 node scripts/kernel-gflops.js
const esbuild = require('esbuild');
const path = require('path');
const { execFileSync } = require('child_process');
const { buildWasm } = require('./build-wasm');

const root = path.join(__dirname, '..');
buildWasm();
const outfile = path.join(root, 'dist', 'perf', 'kernelGflops.js');
esbuild.buildSync({
  entryPoints: [path.join(root, 'test', 'perf', 'kernelGflops.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  loader: { '.wasm': 'binary' },
  outfile,
  logLevel: 'warning',
});
execFileSync(process.execPath, [outfile], { stdio: 'inherit' });
