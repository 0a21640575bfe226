// Builds every bundle the project ships or tests:
//   dist/extension.js  the extension host entry (node, cjs; vscode and onnxruntime-node stay external)
//   dist/cli.js        the `attention-inspector` command (node, cjs)
//   dist/onnxWorker.js the child process that runs onnxruntime-node for the ONNX backend (node, cjs)
//   dist/tokenizerWorker.js the worker thread that tokenizes under a time limit (node, cjs)
//   dist/kernelWorker.js the worker thread that runs half of the built-in model's attention heads
//   dist/webview.js    the panel's script (browser, iife)
//   dist/test/**       unit, browser, extension-host and end-to-end tests, one bundle per test file
// The built-in model's WebAssembly kernels (wasm/kernels.ts) are compiled first (scripts/build-wasm.js)
// and inlined as bytes into the bundles that import them.
// Usage: node esbuild.js [--watch] [--production]
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');
const { buildWasm } = require('./scripts/build-wasm');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Every *.ts file under dir (recursively) whose name matches the predicate. */
function findFiles(dir, predicate) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findFiles(full, predicate));
    else if (predicate(entry.name)) found.push(full);
  }
  return found;
}

const nodeDefaults = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // Native addons and the editor API are resolved at run time, never bundled.
  external: ['vscode', 'onnxruntime-node', 'playwright-core', 'mocha', '@resvg/resvg-js'],
  // out/wasm/kernels.wasm arrives as a Uint8Array, compiled synchronously at load (src/core/math/wasm).
  loader: { '.wasm': 'binary' },
};

const builds = [
  { ...nodeDefaults, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...nodeDefaults, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The child process that hosts onnxruntime-node for the ONNX backend (src/core/backends/isolated).
  { ...nodeDefaults, entryPoints: ['src/core/backends/isolated/onnxWorkerMain.ts'], outfile: 'dist/onnxWorker.js' },
  // The worker thread that tokenizes under a time limit (src/core/tokenizer/tokenizerThread.ts).
  { ...nodeDefaults, entryPoints: ['src/core/tokenizer/tokenizerWorkerMain.ts'], outfile: 'dist/tokenizerWorker.js' },
  // The worker thread that computes half of the attention heads of long inputs (src/core/math/wasm/attentionThread.ts).
  { ...nodeDefaults, entryPoints: ['src/core/math/wasm/kernelWorkerMain.ts'], outfile: 'dist/kernelWorker.js' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
  },
];

if (!production) {
  const testEntries = [
    ...findFiles('test', (name) => name.endsWith('.test.ts')),
    ...findFiles('test/suite', (name) => name === 'index.ts'),
    ...findFiles('test', (name) => name === 'bench.ts'),
  ].filter((file) => fs.existsSync(file));
  if (testEntries.length > 0) {
    builds.push({ ...nodeDefaults, entryPoints: testEntries, outdir: 'dist/test', outbase: 'test' });
  }
}

async function main() {
  buildWasm();
  const existing = builds.filter((b) => b.entryPoints.every((entry) => fs.existsSync(entry)));
  if (watch) {
    for (const options of existing) {
      const ctx = await esbuild.context(options);
      await ctx.watch();
    }
    console.log('[esbuild] watching');
    return;
  }
  await Promise.all(existing.map((options) => esbuild.build(options)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
