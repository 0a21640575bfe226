#!/usr/bin/env node
// `npm test`: checks types and lint, builds, then runs every test stage in order. A failing stage makes the exit code
// non-zero, but the later stages still run so one run shows everything that is broken.
//
//   check         npm run check: type-check of the three projects (src, test, webview) and eslint,
//                 with the import rules that keep src/core, src/shared, src/extension and webview apart
//   build         node esbuild.js
//   unit          mocha, plain Node (test/.mocharc.json: dist/test/unit/**/*.test.js)
//   reliability   the bad-input and fault matrix against the core, as the extension host runs it
//                 (dist/test/reliability/**/*.test.js): clear errors naming the culprit, no hang, the next run works
//   browser       the webview in headless Chromium (dist/test/browser/**/*.test.js)
//   code-server   installs VS Code for the Web once (scripts/setup-code-server.js)
//   integration   mocha inside code-server's extension host (scripts/run-integration.js)
//   package       the VSIX (scripts/package.js), which the end-to-end tests install
//   e2e           the user's path in VS Code for the Web (dist/test/e2e/**/*.test.js)
//   export-hf     the export guide with the real transformers (dist/test/export/**/*.test.js): tiny
//                 random-weight checkpoints exported by tools/export/hf_to_model_folder.py and read back;
//                 tools/export/venv.sh makes tools/export/.venv (torch, transformers, onnx, onnxruntime,
//                 onnxscript from pip's configured index) on first use; SKIPPED where that is impossible
//   train-smoke   the training pipeline's smoke mode (tools/train/train.sh --steps 20 --tiny) into a
//                 temp folder; reported as SKIPPED, not passed, where PyTorch is not installed
//
// Usage: node scripts/test.js [--only stage,stage...] [--skip stage,stage...]
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawn } = require('child_process');

const repoRoot = path.resolve(__dirname, '..');
const mochaBin = path.join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');

function listOption(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1].split(',').map((s) => s.trim()) : undefined;
}

/** *.test.js files under a dist folder; a stage with none fails rather than passing vacuously. */
function testFiles(dir) {
  const found = [];
  const walk = (folder) => {
    if (!fs.existsSync(folder)) return;
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.js')) found.push(path.relative(repoRoot, full));
    }
  };
  walk(path.join(repoRoot, dir));
  return found.sort();
}

function mochaStage(dir, timeoutMs) {
  return () => {
    const files = testFiles(dir);
    if (files.length === 0) return { fail: `no *.test.js files under ${dir} (did the build produce them?)` };
    return { command: [process.execPath, mochaBin, '--timeout', String(timeoutMs), '--enable-source-maps', ...files] };
  };
}

const STAGES = [
  { name: 'check', run: () => ({ command: [process.platform === 'win32' ? 'npm.cmd' : 'npm', 'run', '--silent', 'check'] }) },
  { name: 'build', run: () => ({ command: [process.execPath, 'esbuild.js'] }) },
  { name: 'unit', run: () => ({ command: [process.execPath, mochaBin, '--config', 'test/.mocharc.json'] }) },
  {
    name: 'reliability',
    // A short tokenizer time limit, so the runaway-regex cases take seconds, not the default 20 s.
    run: () => ({ ...mochaStage('dist/test/reliability', 120_000)(), env: { ATTENTION_INSPECTOR_TOKENIZE_TIMEOUT_MS: '3000' } }),
  },
  { name: 'browser', run: mochaStage('dist/test/browser', 120_000) },
  { name: 'code-server', run: () => ({ command: [process.execPath, 'scripts/setup-code-server.js'] }) },
  { name: 'integration', run: () => ({ command: [process.execPath, 'scripts/run-integration.js'] }) },
  {
    name: 'package',
    run: () =>
      fs.existsSync(path.join(repoRoot, 'scripts', 'package.js'))
        ? { command: [process.execPath, 'scripts/package.js'] }
        : { fail: 'scripts/package.js does not exist, so there is no VSIX for the end-to-end tests' },
  },
  { name: 'e2e', run: mochaStage('dist/test/e2e', 300_000) },
  {
    name: 'export-hf',
    run: () => {
      const files = testFiles('dist/test/export');
      if (files.length === 0) return { fail: 'no *.test.js files under dist/test/export (did the build produce them?)' };
      // venv.sh prints the venv's python last (exit 3: no venv possible); mocha's exit status is its failure count.
      const script = 'python="$(bash tools/export/venv.sh | tail -n 1)" || exit 3; ' +
        'EXPORT_PYTHON="$python" "$0" "$1" --timeout 300000 --enable-source-maps "${@:2}" || exit 1';
      return {
        command: ['bash', '-c', script, process.execPath, mochaBin, ...files],
        skipOnExit: { 3: 'tools/export/venv.sh could not make tools/export/.venv (python3-venv, or a pip index with torch and transformers)' },
      };
    },
  },
  {
    name: 'train-smoke',
    run: () => ({
      command: ['bash', 'tools/train/train.sh', '--steps', '20', '--tiny', '--work', fs.mkdtempSync(path.join(os.tmpdir(), 'ai-train-smoke-'))],
      // train.sh exits 3 when Debian's python3-torch / python3-onnx are missing.
      skipOnExit: { 3: 'PyTorch is not installed (apt-get install python3-torch python3-onnx python3-numpy python3-regex python3-doc libopenblas0-pthread)' },
    }),
  },
];

/** Runs a command with its output shown live; resolves with the exit code and the output. */
function execute(command, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const tee = (stream, target) =>
      stream.setEncoding('utf8').on('data', (chunk) => {
        output += chunk;
        target.write(chunk);
      });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on('error', (error) => resolve({ code: 1, output: `${output}\n${error.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/** "12 passing, 1 failing" from mocha's spec reporter (and run-integration.js), when printed. */
function testCounts(output) {
  const count = (word) => {
    const matches = [...output.matchAll(new RegExp(`(\\d+) ${word}\\b`, 'g'))];
    return matches.length > 0 ? Number(matches.at(-1)[1]) : undefined;
  };
  const passing = count('passing');
  const failing = count('failing') ?? (passing !== undefined ? 0 : undefined);
  return passing === undefined ? undefined : { passing, failing, pending: count('pending') ?? 0 };
}

async function main() {
  const only = listOption('--only');
  const skip = listOption('--skip') ?? [];
  const known = new Set(STAGES.map((stage) => stage.name));
  for (const name of [...(only ?? []), ...skip]) {
    if (!known.has(name)) {
      console.error(`unknown stage "${name}"; stages: ${[...known].join(', ')}`);
      process.exit(2);
    }
  }
  const selected = STAGES.filter((stage) => (!only || only.includes(stage.name)) && !skip.includes(stage.name));

  const results = [];
  for (const stage of selected) {
    console.log(`\n${'='.repeat(78)}\n== ${stage.name}\n${'='.repeat(78)}`);
    const started = Date.now();
    const plan = stage.run();
    let ok;
    let detail;
    let counts;
    if (plan.fail) {
      console.log(`FAILED: ${plan.fail}`);
      ok = false;
      detail = plan.fail;
    } else {
      console.log(`$ ${plan.command.map((part) => (part === process.execPath ? 'node' : path.relative(repoRoot, part) || part)).join(' ')}`);
      const { code, output } = await execute(plan.command, plan.env);
      ok = code === 0;
      counts = testCounts(output);
      detail = ok ? '' : `exit code ${code}`;
      if (!ok && plan.skipOnExit?.[code]) {
        results.push({ name: stage.name, skipped: true, detail: plan.skipOnExit[code], seconds: (Date.now() - started) / 1000 });
        console.log(`SKIPPED: ${plan.skipOnExit[code]}`);
        continue;
      }
    }
    results.push({ name: stage.name, ok, detail, counts, seconds: (Date.now() - started) / 1000 });
  }

  console.log(`\n${'='.repeat(78)}\n== summary\n${'='.repeat(78)}`);
  for (const result of results) {
    const counts = result.counts ? `  ${result.counts.passing} passing, ${result.counts.failing} failing${result.counts.pending ? `, ${result.counts.pending} pending` : ''}` : '';
    const detail = result.detail ? `  (${result.detail})` : '';
    console.log(`${result.skipped ? 'SKIP' : result.ok ? 'PASS' : 'FAIL'}  ${result.name.padEnd(12)} ${result.seconds.toFixed(1).padStart(6)} s${counts}${detail}`);
  }
  const passed = results.filter((result) => result.ok).length;
  const skipped = results.filter((result) => result.skipped).length;
  const failed = results.length - passed - skipped;
  const tests = results.reduce(
    (sum, result) => (result.counts ? { passing: sum.passing + result.counts.passing, failing: sum.failing + result.counts.failing } : sum),
    { passing: 0, failing: 0 },
  );
  console.log(`\ntests: ${tests.passing} passing, ${tests.failing} failing (as reported by the stages that run mocha)`);
  console.log('stages:');
  console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
