// The ONNX worker ends itself when its parent is gone or a request overruns, even while its main
// thread is stuck in synchronous work (the debugHang hook spins without yielding, like a runaway
// tokenizer regex). A small stand-in parent forks dist/onnxWorker.js the way the backend does.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { WORKER_DEBUG_ENV } from '../../src/core/backends/isolated/workerProtocol';
import { repoRoot } from '../support/heldout';

/** A parent process that forks the worker, makes it hang, prints its pid and, later, how it ended. */
function standInParent(limitMs: number): ChildProcess {
  const script = `
    const { fork } = require('child_process');
    const child = fork(${JSON.stringify(path.join(repoRoot(), 'dist', 'onnxWorker.js'))}, [], {
      serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [],
      env: { ...process.env, ${WORKER_DEBUG_ENV}: '1' },
    });
    child.on('exit', (code, signal) => console.log('exit ' + signal));
    child.send({ type: 'init', dir: ${JSON.stringify(path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain'))}, modelName: 'm', limitMs: ${limitMs} });
    child.send({ type: 'debugHang', id: 1 });
    console.log('pid ' + child.pid);
    setInterval(() => {}, 1000);
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function lines(child: ChildProcess): { next(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> } {
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (buffer += chunk));
  return {
    async next(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(buffer);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} (output: ${JSON.stringify(buffer)})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

describe('ONNX worker watchdog', function () {
  this.timeout(60_000);

  it('a hung worker ends itself once its parent is killed', async () => {
    const parent = standInParent(600_000);
    const output = lines(parent);
    const pid = Number((await output.next(/pid (\d+)/, 20_000))[1]);
    assert.ok(isAlive(pid), 'the worker runs');
    // Let the worker take the hang request (its main thread then never yields).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(isAlive(pid), 'the worker is still alive while its parent lives');
    parent.kill('SIGKILL');
    const took = await waitFor('the orphaned worker to end', () => !isAlive(pid), 15_000);
    assert.ok(took < 15_000);
  });

  it('a request that overruns the worker\'s own limit ends the worker even with the parent alive', async () => {
    const parent = standInParent(1000);
    try {
      const output = lines(parent);
      await output.next(/pid (\d+)/, 20_000);
      const ended = await output.next(/exit (\w+)/, 20_000);
      assert.equal(ended[1], 'SIGKILL');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
