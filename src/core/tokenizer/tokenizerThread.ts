// Tokenization off the calling thread, under a time limit. The built-in backend runs in the
// extension host, where a tokenizer.json whose Split pattern backtracks catastrophically (e.g.
// `(a+)+$`) would freeze every extension; here it freezes a worker thread, which is stopped after
// the limit, with an error that names tokenizer.json. The next request starts a fresh thread.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { CancelledError, ModelLoadError, throwIfCancelled } from '../errors';
import { reviveError } from '../backends/isolated/errorTransfer';
import type { SerializedError } from '../backends/isolated/workerProtocol';
import { locateWorkerScript } from '../backends/isolated/workerScript';
import type { CancellationSignal } from '../types';
import type { PrefixTokens } from './prefixEncode';

export interface TokenizerRequest {
  id: number;
  text: string;
  needed?: number;
}

export type TokenizerReply = { id: number; result: PrefixTokens; error?: undefined } | { id: number; error: SerializedError; result?: undefined };

/**
 * Long enough for megabytes of ordinary text on a slow machine; a runaway regex never finishes.
 * ATTENTION_INSPECTOR_TOKENIZE_TIMEOUT_MS overrides it (the reliability tests use a short one).
 */
export const TOKENIZE_TIMEOUT_MS = positiveNumber(process.env.ATTENTION_INSPECTOR_TOKENIZE_TIMEOUT_MS) ?? 20_000;

function positiveNumber(value: string | undefined): number | undefined {
  const parsed = Number(value);
  return value !== undefined && Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
}
export const TOKENIZER_WORKER_SCRIPT = 'tokenizerWorker.js';

interface Pending {
  resolve(result: PrefixTokens): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  poll: NodeJS.Timeout;
}

export class TokenizerThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly file: string,
    private readonly timeoutMs = TOKENIZE_TIMEOUT_MS,
    private readonly script = locateWorkerScript(__dirname, TOKENIZER_WORKER_SCRIPT),
  ) {}

  /** encodePrefix(text, needed) in the worker thread; rejects after the time limit or on cancellation. */
  encode(text: string, needed?: number, cancellation?: CancellationSignal): Promise<PrefixTokens> {
    throwIfCancelled(cancellation);
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<PrefixTokens>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stop(
          new ModelLoadError(
            `Tokenizing ${text.length} characters with ${this.file} took longer than ${this.timeoutMs / 1000} s and was stopped. ` +
              'Its pre-tokenizer pattern probably backtracks without end on this text; fix or replace tokenizer.json.',
          ),
        );
      }, this.timeoutMs);
      // A cancelled run stops the thread at once (it may be stuck); the next request starts another.
      const poll = setInterval(() => {
        if (cancellation?.isCancellationRequested) this.stop(new CancelledError());
      }, 50);
      this.pending.set(id, { resolve, reject, timer, poll });
      worker.postMessage({ id, text, needed } satisfies TokenizerRequest);
    });
  }

  dispose(): void {
    this.stop(new CancelledError());
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: { file: this.file } });
    worker.unref();
    worker.on('message', (reply: TokenizerReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.settle(reply.id);
      if (reply.error) pending.reject(reviveError(reply.error));
      else pending.resolve(reply.result);
    });
    worker.on('error', (error) => this.stop(error instanceof Error ? error : new Error(String(error)), worker));
    worker.on('exit', () => {
      if (this.worker === worker) this.stop(new ModelLoadError(`The tokenizer thread for ${path.basename(this.file)} stopped unexpectedly.`), worker);
    });
    this.worker = worker;
    return worker;
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    clearInterval(pending.poll);
    this.pending.delete(id);
    return pending;
  }

  /** Ends the thread and rejects whatever waits on it. */
  private stop(error: Error, which: Worker | undefined = this.worker): void {
    if (which && which === this.worker) this.worker = undefined;
    void which?.terminate();
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
  }
}
