// `npm run bench -- --smoke --json` end to end on tiny sizes: the documented JSON shape, every figure
// a positive finite number, every backend that should run ran, nothing failed. No timing is asserted
// (speed is what the bench reports, not what a test checks).
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { repoRoot } from '../support/heldout';

interface BenchJson {
  inference: Record<string, Record<string, number>>;
  peakGflops: number;
  panel: Record<string, Record<string, unknown>>;
  notices: string[];
  machine: { cpu: string; cores: number };
  date: string;
}

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'test', 'bench.js'), ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // The bench has its own limits; this one only keeps a broken build from holding up the suite.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the bench did not finish within ${timeoutMs / 1000} s:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const positiveFinite = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;

describe('npm run bench (smoke mode)', function () {
  this.timeout(240_000);

  it('--smoke --json prints inference, peakGflops and panel figures, each a positive finite number', async () => {
    const { code, stdout, stderr } = await runBench(['--smoke', '--json', '--no-torch'], 200_000);
    assert.equal(code, 0, `exit code; stderr:\n${stderr.slice(-3000)}`);
    const report = JSON.parse(stdout) as BenchJson; // stdout holds the JSON and nothing else

    const known = ['builtin-wasm', 'builtin-typescript', 'onnx-in-process', 'onnx-child', 'pytorch-eager'];
    for (const backend of Object.keys(report.inference)) assert.ok(known.includes(backend), `unknown backend ${backend}`);
    // The TypeScript block runs both models (default at 8/16, the generated one at 24/32); the ONNX
    // backends the default model, which ships model.onnx (the generated one has none without PyTorch).
    assert.deepEqual(Object.keys(report.inference['builtin-typescript']).sort(), ['16', '24', '32', '8']);
    assert.deepEqual(Object.keys(report.inference['onnx-in-process']).sort(), ['16', '8']);
    assert.deepEqual(Object.keys(report.inference['onnx-child']).sort(), ['16', '8']);
    assert.equal(report.inference['pytorch-eager'], undefined, '--no-torch leaves PyTorch out');
    for (const [backend, sizes] of Object.entries(report.inference)) {
      for (const [T, ms] of Object.entries(sizes)) assert.ok(positiveFinite(ms), `${backend} at ${T}: ${ms}`);
    }

    assert.ok(positiveFinite(report.peakGflops), `peakGflops ${report.peakGflops}`);

    assert.deepEqual(Object.keys(report.panel), ['32']);
    for (const [T, figures] of Object.entries(report.panel)) {
      for (const name of ['firstPaintMs', 'headSwitchMs', 'hoverMs', 'heapMB']) assert.ok(positiveFinite(figures[name]), `panel ${name} at ${T}: ${String(figures[name])}`);
    }

    assert.deepEqual(report.notices.filter((line) => /failed|problems/.test(line)), [], 'no backend or panel step failed');
    assert.ok(report.machine.cores > 0 && report.machine.cpu.length > 0);
    assert.ok(!Number.isNaN(Date.parse(report.date)));
  });

  it('refuses an unknown option with the usage and exit code 2', async () => {
    const { code, stdout, stderr } = await runBench(['--fast'], 30_000);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /unknown option --fast/);
    assert.match(stderr, /--smoke/);
  });
});
