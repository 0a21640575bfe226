// Compiles the built-in block's WebAssembly kernels (wasm/kernels.ts, AssemblyScript) to
// out/wasm/kernels.wasm, which esbuild inlines into every bundle that runs the built-in model
// (loader '.wasm': 'binary'). Offline: the compiler is the `assemblyscript` devDependency.
// Skips the compile when the .wasm is newer than its sources. Usage: node scripts/build-wasm.js
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const source = path.join(root, 'wasm', 'kernels.ts');
const output = path.join(root, 'out', 'wasm', 'kernels.wasm');

/** The newest modification time among the kernel sources and this script (its compiler flags). */
function newestSource() {
  const dir = path.join(root, 'wasm');
  const files = [...fs.readdirSync(dir).map((name) => path.join(dir, name)), path.join(root, 'scripts', 'build-wasm.js')];
  return Math.max(...files.map((file) => fs.statSync(file).mtimeMs));
}

function buildWasm() {
  if (fs.existsSync(output) && fs.statSync(output).mtimeMs >= newestSource()) return output;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const asc = require.resolve('assemblyscript/bin/asc.js', { paths: [root] });
  execFileSync(
    process.execPath,
    [
      asc, source,
      '--outFile', output,
      // No runtime and no assertions: the kernels never allocate, and the module imports nothing.
      '--runtime', 'stub', '--noAssert', '--use', 'abort=',
      '--optimizeLevel', '3', '--shrinkLevel', '0',
      '--enable', 'simd',
    ],
    { stdio: 'inherit', cwd: root },
  );
  return output;
}

module.exports = { buildWasm, WASM_OUTPUT: output };

if (require.main === module) buildWasm();
