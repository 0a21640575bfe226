#!/usr/bin/env node
// `npm run package [-- --target TARGET] [-- extra vsce flags]`: a production build, then one
// platform-specific VSIX, attention-inspector-TARGET.vsix at the repository root, then checks on
// what it holds. The VSIX is what the UI end-to-end test installs, so what users get is tested.
//
// Targets (onnxruntime-node 1.30 ships prebuilt binaries for all of these but darwin-x64):
//   npm run package                            # linux-x64 (default)
//   npm run package -- --target linux-arm64
//   npm run package -- --target darwin-arm64
//   npm run package -- --target win32-x64
//   npm run package -- --target win32-arm64
//   npm run package -- --target darwin-x64 --without-onnxruntime   # built-in backend only
// Each VSIX holds only its target's bin/napi-v6/<platform>/<arch> folder of onnxruntime-node.
// When the target is the machine this runs on, the packaged onnxruntime-node is also loaded from
// an extracted copy of the VSIX, so a broken native-binary path fails here and not at a user's.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..');
const ORT_BIN_LINE = '!node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**';
const TARGETS = {
  'linux-x64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'win32-x64': ['win32', 'x64'],
  'win32-arm64': ['win32', 'arm64'],
};

/** Stops packaging with a message; main() prints it and exits non-zero after cleaning up. */
function fail(message) {
  throw new PackageError(message);
}

class PackageError extends Error {}

/** --target X / --target=X and --without-onnxruntime are ours; everything else goes to vsce. */
function parseArguments(argv) {
  let target = 'linux-x64';
  let withoutOnnxruntime = false;
  const vsceExtra = [];
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--target' || argument === '-t') {
      if (i + 1 >= argv.length) fail('--target needs a value, e.g. --target linux-x64');
      target = argv[++i];
    } else if (argument.startsWith('--target=')) {
      target = argument.slice('--target='.length);
    } else if (argument === '--without-onnxruntime') {
      withoutOnnxruntime = true;
    } else {
      vsceExtra.push(argument);
    }
  }
  if (!(target in TARGETS)) fail(`unknown target "${target}"; one of: ${Object.keys(TARGETS).join(', ')}`);
  return { target, withoutOnnxruntime, vsceExtra };
}

function run(command, args) {
  console.log(`> ${[command, ...args].join(' ')}`);
  const result = childProcess.spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) fail(`${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args[0] ?? ''} exited with ${result.status ?? result.signal}`);
}

/**
 * The ignore file for the target: .vscodeignore itself for linux-x64, otherwise a copy with the
 * onnxruntime binary line pointing at the target's folder (or dropped when packaging without it).
 */
function ignoreFileFor(target, withoutOnnxruntime, scratch) {
  const allowlist = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  if (!allowlist.split(/\r?\n/).includes(ORT_BIN_LINE)) {
    fail(`.vscodeignore must contain the line ${ORT_BIN_LINE} (package.js rewrites it per target)`);
  }
  if (target === 'linux-x64' && !withoutOnnxruntime) return undefined;
  const [platform, arch] = TARGETS[target];
  const replacement = withoutOnnxruntime
    ? '# onnxruntime-node left out (--without-onnxruntime)'
    : `!node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/**`;
  let rewritten = allowlist.replace(ORT_BIN_LINE, replacement);
  if (withoutOnnxruntime) rewritten = rewritten.replace(/^!node_modules\/.*$/gm, '');
  const file = path.join(scratch, `vscodeignore-${target}`);
  fs.writeFileSync(file, rewritten);
  return file;
}

/** Entries of a zip file from its central directory: enough of PKZIP for a VSIX, no zip64. */
function readZipEntries(buffer) {
  const endSignature = 0x06054b50;
  let end = buffer.length - 22;
  while (end >= 0 && buffer.readUInt32LE(end) !== endSignature) end--;
  if (end < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buffer.readUInt16LE(end + 10);
  let offset = buffer.readUInt32LE(end + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = buffer.readUInt16LE(offset + 10);
    const compressedSize = buffer.readUInt32LE(offset + 20);
    const size = buffer.readUInt32LE(offset + 24);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const localHeader = buffer.readUInt32LE(offset + 42);
    const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, method, compressedSize, size, localHeader });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function extractZipEntry(buffer, entry) {
  const nameLength = buffer.readUInt16LE(entry.localHeader + 26);
  const extraLength = buffer.readUInt16LE(entry.localHeader + 28);
  const start = entry.localHeader + 30 + nameLength + extraLength;
  const data = buffer.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return zlib.inflateRawSync(data);
  throw new Error(`${entry.name}: unsupported zip compression method ${entry.method}`);
}

function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Uncompressed bytes per folder, two levels deep under extension/ (three under node_modules/). */
function printSummary(entries) {
  const groups = new Map();
  for (const entry of entries) {
    const parts = entry.name.split('/');
    const depth = parts[1] === 'node_modules' ? 4 : 3;
    const key = parts.length > depth ? parts.slice(0, depth).join('/') + '/' : entry.name;
    const group = groups.get(key) ?? { files: 0, bytes: 0 };
    group.files++;
    group.bytes += entry.size;
    groups.set(key, group);
  }
  for (const [key, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const files = group.files === 1 ? '' : `  (${group.files} files)`;
    console.log(`  ${formatBytes(group.bytes).padStart(10)}  ${key}${files}`);
  }
}

/** What must and must not be in the VSIX; returns the list of problems. */
function checkContents(names, target, withoutOnnxruntime) {
  const problems = [];
  const [platform, arch] = TARGETS[target];
  const required = [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/webview.js',
    'extension/dist/onnxWorker.js',
    'extension/dist/tokenizerWorker.js',
    // The worker thread of the built-in block's WebAssembly pass on long inputs.
    'extension/dist/kernelWorker.js',
    // Translations: the manifest's (package.nls*.json) and the messages' (l10n/).
    'extension/package.nls.json',
    'extension/package.nls.zh-cn.json',
    'extension/l10n/bundle.l10n.json',
    'extension/l10n/bundle.l10n.zh-cn.json',
  ];
  if (!withoutOnnxruntime) {
    required.push(
      'extension/node_modules/onnxruntime-node/dist/index.js',
      `extension/node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/onnxruntime_binding.node`,
      'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
    );
  }
  for (const name of required) if (!names.includes(name)) problems.push(`missing ${name}`);
  const forbidden = [
    /^extension\/(src|test|webview|tools|sample|scripts)\//,
    /\.map$/,
    /^extension\/dist\/test\//,
    /\.ts$/,
  ];
  for (const name of names) {
    if (forbidden.some((pattern) => pattern.test(name))) problems.push(`should not ship ${name}`);
    const binary = /^extension\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(name);
    if (binary && (binary[1] !== platform || binary[2] !== arch)) problems.push(`other platform's binary ${name}`);
  }
  return problems;
}

/**
 * Extracts the VSIX outside the repository (so nothing resolves from its node_modules) and loads
 * the packaged onnxruntime-node in a fresh Node process; with a bundled .onnx model, opens it too.
 */
function loadPackagedOnnxruntime(buffer, entries, scratch) {
  const extracted = path.join(scratch, 'vsix');
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const file = path.join(extracted, entry.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, extractZipEntry(buffer, entry));
  }
  const extensionDir = path.join(extracted, 'extension');
  const model = entries.map((entry) => entry.name).find((name) => /^extension\/media\/.*\.onnx$/.test(name));
  const probe = `
    const ort = require(${JSON.stringify(path.join(extensionDir, 'node_modules', 'onnxruntime-node'))});
    const resolved = require.resolve('onnxruntime-common', { paths: [${JSON.stringify(path.join(extensionDir, 'node_modules', 'onnxruntime-node'))}] });
    if (!resolved.startsWith(${JSON.stringify(extensionDir)})) throw new Error('onnxruntime-common resolved outside the VSIX: ' + resolved);
    const backends = ort.listSupportedBackends().map((b) => b.name).join(', ');
    const model = ${JSON.stringify(model ? path.join(extracted, model) : null)};
    (model ? ort.InferenceSession.create(model).then((s) => 'opened ' + require('path').basename(model) + ' (inputs ' + s.inputNames.join(', ') + ')') : Promise.resolve('no bundled .onnx model to open'))
      .then((note) => console.log('onnxruntime-node ' + ort.env.versions.node + ' loads from the VSIX; backends: ' + backends + '; ' + note))
      .catch((error) => { console.error(error); process.exit(1); });
  `;
  const result = childProcess.spawnSync(process.execPath, ['-e', probe], { cwd: scratch, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  if (result.status !== 0) fail(`the packaged onnxruntime-node does not load:\n${result.stderr}`);
}

function main() {
  const { target, withoutOnnxruntime, vsceExtra } = parseArguments(process.argv.slice(2));
  const [platform, arch] = TARGETS[target];
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const binaryFolder = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', platform, arch);
  if (!withoutOnnxruntime && !fs.existsSync(binaryFolder)) {
    fail(
      `onnxruntime-node has no prebuilt binary for ${target} (${path.relative(root, binaryFolder)} is missing). ` +
        'Package with --without-onnxruntime to ship the built-in backend only.',
    );
  }

  run(process.execPath, ['esbuild.js', '--production']);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-package-'));
  try {
    const vsix = `attention-inspector-${target}.vsix`;
    const vsceBin = path.join(path.dirname(require.resolve('@vscode/vsce/package.json', { paths: [root] })), 'vsce');
    const vsceArgs = [vsceBin, 'package', '--target', target, '--out', vsix];
    // Without these vsce stops to ask (license) or refuses (repository, relative README links).
    if (!manifest.repository) vsceArgs.push('--allow-missing-repository', '--no-rewrite-relative-links');
    if (!['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((name) => fs.existsSync(path.join(root, name)))) {
      vsceArgs.push('--skip-license');
    }
    const ignoreFile = ignoreFileFor(target, withoutOnnxruntime, scratch);
    if (ignoreFile) vsceArgs.push('--ignoreFile', ignoreFile);
    run(process.execPath, [...vsceArgs, ...vsceExtra]);

    const buffer = fs.readFileSync(path.join(root, vsix));
    const entries = readZipEntries(buffer);
    const unpacked = entries.reduce((sum, entry) => sum + entry.size, 0);
    console.log(`\n${vsix}: ${formatBytes(buffer.length)} (${buffer.length} bytes), ${entries.length} files, ${formatBytes(unpacked)} unpacked`);
    printSummary(entries);

    const problems = checkContents(entries.map((entry) => entry.name), target, withoutOnnxruntime);
    if (problems.length > 0) fail(`the VSIX is not what the allowlist intends:\n  ${problems.join('\n  ')}`);
    if (!withoutOnnxruntime && platform === process.platform && arch === process.arch) {
      loadPackagedOnnxruntime(buffer, entries, scratch);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof PackageError)) throw error;
  console.error(`package: ${error.message}`);
  process.exitCode = 1;
}
