// A watchdog thread inside the ONNX worker process. The worker's main thread can be stuck in
// synchronous work (a tokenizer regex that backtracks, a huge copy) where no 'disconnect' event
// or timer of its own can fire; this thread runs beside it and ends the whole process when the
// parent is gone (polled with signal 0) or when one request has been busy for longer than the
// worker's own time limit. The parent still kills on timeout; this covers a parent that cannot.
import { Worker } from 'worker_threads';

/** Marks the main thread busy (a request started) or idle; the watcher reads the start time from shared memory. */
export interface Watchdog {
  busy(): void;
  idle(): void;
  stop(): void;
}

// The watcher's code, run with eval so the bundle needs no second entry file.
const WATCHER = `
const { workerData } = require('worker_threads');
const started = new Float64Array(workerData.shared);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (error) { return error.code === 'EPERM'; } };
setInterval(() => {
  const since = started[0];
  const orphaned = !alive(workerData.parentPid);
  const overdue = since > 0 && Date.now() - since > workerData.limitMs;
  if (orphaned || overdue) process.kill(workerData.pid, 'SIGKILL');
}, workerData.pollMs);
`;

export function startWatchdog(options: { parentPid: number; limitMs: number; pollMs?: number }): Watchdog {
  const shared = new SharedArrayBuffer(8);
  const started = new Float64Array(shared);
  const worker = new Worker(WATCHER, {
    eval: true,
    workerData: { shared, parentPid: options.parentPid, pid: process.pid, limitMs: options.limitMs, pollMs: options.pollMs ?? 500 },
  });
  worker.unref();
  return {
    busy: () => void (started[0] = Date.now()),
    idle: () => void (started[0] = 0),
    stop: () => void worker.terminate(),
  };
}
