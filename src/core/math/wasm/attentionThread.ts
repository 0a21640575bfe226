// The second thread of the WebAssembly pass: a worker (dist/kernelWorker.js) that computes a range
// of attention heads while the calling thread computes the others. Started on first use, kept
// (unref'd while idle, so it never holds a process open) between passes, stopped by dispose(). Jobs
// run one at a time, each writing only into its own pass's shared buffers.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { locateWorkerScript } from '../../backends/isolated/workerScript';
import type { AttentionJob, AttentionReply, LinearJob, WorkerJob } from './attentionJob';

export const KERNEL_WORKER_SCRIPT = 'kernelWorker.js';

export class AttentionThread {
  private worker: Worker | undefined;
  private pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  private nextId = 1;
  /** Weight keys the current worker holds packed; a new worker starts without any. */
  private sentWeights = new Set<string>();

  constructor(private readonly script: string = locateWorkerScript(__dirname, KERNEL_WORKER_SCRIPT)) {}

  /** Computes a range of heads in the worker; resolves when they are written. */
  attention(job: Omit<AttentionJob, 'id' | 'kind'>): Promise<void> {
    return this.run({ ...job, kind: 'attention' });
  }

  /** A linear layer over rows in the worker; the weight (keyed) is sent with its first use only. */
  linear(job: Omit<LinearJob, 'id' | 'kind'>): Promise<void> {
    this.ensureWorker();
    const sent = this.sentWeights.has(job.key);
    this.sentWeights.add(job.key);
    return this.run({ ...job, kind: 'linear', weightT: sent ? undefined : job.weightT, bias: sent ? undefined : job.bias });
  }

  private run(job: Omit<AttentionJob, 'id'> | Omit<LinearJob, 'id'>): Promise<void> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a job in flight keeps the process alive
      worker.postMessage({ ...job, id } as WorkerJob);
    });
  }

  /** Stops the worker; pending jobs fail. The next run starts a fresh one. */
  dispose(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the attention thread was stopped'));
    void worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { name: `attention-inspector ${path.basename(this.script)}` });
    this.sentWeights = new Set();
    worker.unref();
    worker.on('message', (reply: AttentionReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error !== undefined) waiting.reject(new Error(`attention thread: ${reply.error}`));
      else waiting.resolve();
    });
    worker.on('error', (error) => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(error);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(new Error(`the attention thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(error);
  }
}
