// The ONNX backend, with onnxruntime-node running in a child process (dist/onnxWorker.js). A native
// crash there, or a run that never ends, costs that process only: the pending run is rejected with
// a message saying what happened, and the next run starts a fresh process. Worker threads would not
// do: a native abort in one takes the whole process down with it.
//
// One child per backend, started by warmUp (the panel opened) or the first request, and kept (the
// model session loads once). Requests go one at a time: a run cannot be interrupted, so cancelling
// or timing out means killing the child, and a queue makes sure no other request is in the child
// when that happens.
//
// Attention stays in the child (runHeld): the run's tensors are kept there under a handle, and the
// panel's queries (a head, token rows, thumbnails, roles, an aggregate) are answered there, so only
// the answers cross the process boundary (ChildAttention below). A child that died takes its held
// tensors with it; the next query about such a run runs the same text again in the fresh child
// (same model, same options: the same attention) and then answers, so the panel loses nothing.
import { explainWithScores, refuseVariation } from '../../explain/onnxExplain';
import type { ExplainRequest, HeadExplanation } from '../../explain/types';
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import { AttentionInspectorError, CancelledError, throwIfCancelled } from '../../errors';
import type { AnswerOf, AttentionQuery } from '../../attentionQueries';
import { releasedError, type HeldAttention, type HeldRun } from '../../heldAttention';
import type { AttentionBackend, AttentionGroup, AttentionResult, CancellationSignal, ModelInfo, RunOptions } from '../../types';
import { reviveError } from './errorTransfer';
import { WORKER_DEBUG_ENV, type DebugRequestType, type ParentToWorker, type WorkerRequest, type WorkerToParent } from './workerProtocol';
import { locateWorkerScript } from './workerScript';

export interface IsolatedOnnxOptions {
  /** A request that takes longer than this (ms) kills the child. Default 120 000. */
  timeoutMs?: number;
  /** How often a pending request looks at its CancellationSignal (ms). Default 50. */
  pollMs?: number;
  /** Path of onnxWorker.js; default: found next to the running bundle (see locateWorkerScript). */
  workerPath?: string;
  /** @internal Tests only: let the child honour debugCrash / debugHang. */
  debugHooks?: boolean;
  /** @internal Tests only: sees every message the child sends (to count what crosses the process boundary). */
  observeMessage?: (message: WorkerToParent) => void;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
/** How much longer than the parent's limit the worker lets a request run before it ends itself. */
const WORKER_GRACE_MS = 10_000;
/** Characters of the child's stdout/stderr kept for crash reports. */
const OUTPUT_TAIL_CHARS = 4096;
/** After 'exit', how long to wait for 'close' (which comes once the child's output is all read). */
const OUTPUT_DRAIN_MS = 250;

/** One child process and what it said last. */
interface Worker {
  child: ChildProcess;
  outputTail: string;
  /** Set when we kill it on purpose (cancel, timeout, dispose): its death is then no crash. */
  killed: boolean;
}

type Reply = Exclude<WorkerToParent, { type: 'failed' }>;

/** A request waiting for the child or being answered by it. */
interface Job {
  message: (id: number) => WorkerRequest;
  /** What the child is doing, for error messages: "running model X". */
  activity: string;
  cancellation: CancellationSignal | undefined;
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
  id?: number;
  worker?: Worker;
  sentAt?: number;
  poll?: NodeJS.Timeout;
}

export class IsolatedOnnxBackend implements AttentionBackend {
  readonly name = 'onnx' as const;
  private readonly dir: string;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private inFlight: Job | undefined;
  private nextId = 1;
  private nextHandle = 1;
  private described: Promise<ModelInfo> | undefined;

  constructor(dir: string, private readonly modelName: string = path.basename(dir), private readonly options: IsolatedOnnxOptions = {}) {
    this.dir = path.resolve(dir);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? 50;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${this.timeoutMs}`);
  }

  describe(): Promise<ModelInfo> {
    if (!this.described) {
      this.described = this.request((id) => ({ type: 'describe', id }), `loading model ${this.modelName}`, undefined).then((reply) => {
        if (reply.type !== 'described') throw new Error(`the worker answered describe with ${reply.type}`);
        return reply.info;
      });
      this.described.catch(() => (this.described = undefined));
    }
    return this.described;
  }

  explain(text: string, request: ExplainRequest, options: RunOptions, cancellation?: CancellationSignal): Promise<{ result: AttentionResult; explanation: HeadExplanation }> {
    return explainWithScores(this, text, request, options, cancellation);
  }

  async run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult> {
    refuseVariation(options);
    const reply = await this.request((id) => ({ type: 'run', id, text, options }), `running model ${this.modelName}`, cancellation);
    if (reply.type !== 'result') throw new Error(`the worker answered run with ${reply.type}`);
    return reply.result;
  }

  /**
   * Starts the child (or reuses the running one), loads the model and primes onnxruntime there
   * (OnnxBackend.warmUp), so that the first run pays no start-up: called when the panel opens. On a
   * warm child this costs a one-token run.
   */
  async warmUp(): Promise<void> {
    await this.describe();
    const reply = await this.request((id) => ({ type: 'warmUp', id }), `preparing model ${this.modelName}`, undefined);
    if (reply.type !== 'warm') throw new Error(`the worker answered warmUp with ${reply.type}`);
  }

  /** Runs in the child and leaves the attention there: only the summary crosses; queries go through the handle. */
  async runHeld(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<HeldRun> {
    refuseVariation(options);
    const handle = this.nextHandle++;
    const summary = await this.hold(handle, text, options, cancellation);
    return { result: summary, attention: new ChildAttention(this, handle, text, options) };
  }

  /** @internal (ChildAttention) Runs `text` in the child and keeps its attention there under `handle`. */
  async hold(handle: number, text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<HeldRun['result']> {
    const reply = await this.request((id) => ({ type: 'runHeld', id, handle, text, options }), `running model ${this.modelName}`, cancellation);
    if (reply.type !== 'held') throw new Error(`the worker answered runHeld with ${reply.type}`);
    return reply.summary;
  }

  /** @internal (ChildAttention) Answers a query in the child; `missing` when the child holds no run under the handle. */
  async queryHeld(handle: number, query: AttentionQuery): Promise<{ answer: AnswerOf<AttentionQuery> | undefined; missing: boolean }> {
    const reply = await this.request((id) => ({ type: 'query', id, handle, query }), `answering a ${query.kind} query about a run of ${this.modelName}`, undefined);
    if (reply.type !== 'answer') throw new Error(`the worker answered query with ${reply.type}`);
    return { answer: reply.answer, missing: reply.missing === true };
  }

  /** @internal (ChildAttention) Clones a held run's tensors here; undefined when the child holds no run under the handle. */
  async materializeHeld(handle: number): Promise<AttentionGroup[] | undefined> {
    const reply = await this.request((id) => ({ type: 'materialize', id, handle }), `sending the attention of a run of ${this.modelName}`, undefined);
    if (reply.type !== 'materialized') throw new Error(`the worker answered materialize with ${reply.type}`);
    return reply.groups;
  }

  /** @internal (ChildAttention) The child forgets a held run (nothing to do when no child runs: its tensors died with it). */
  releaseHeld(handle: number): void {
    const worker = this.worker;
    if (worker && !worker.killed) this.post(worker, { type: 'release', handle });
  }

  /** @internal Tests only: make the child crash (process.abort) or hang; needs options.debugHooks. */
  async debugRequest(kind: DebugRequestType, cancellation?: CancellationSignal): Promise<void> {
    await this.request((id) => ({ type: kind, id }), `running model ${this.modelName} (${kind})`, cancellation);
  }

  /** @internal The child's process id, while one is running. */
  get workerPid(): number | undefined {
    return this.worker?.child.pid;
  }

  /** Kills the child; pending requests end with CancelledError. A later request starts a new child. */
  dispose(): void {
    const jobs = [...this.queue.splice(0), ...(this.inFlight ? [this.inFlight] : [])];
    this.inFlight = undefined;
    this.stopWorker();
    this.described = undefined;
    for (const job of jobs) this.settle(job, () => job.reject(new CancelledError()));
  }

  // ------------------------------------------------------------------ requests

  private request(message: (id: number) => WorkerRequest, activity: string, cancellation: CancellationSignal | undefined): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      throwIfCancelled(cancellation);
      const job: Job = { message, activity, cancellation, resolve, reject };
      // The interval also keeps the event loop alive while the request is pending: the child's
      // own handles are unref'd so that an idle child never holds up the CLI or a test run.
      job.poll = setInterval(() => this.check(job), this.pollMs);
      this.queue.push(job);
      this.pump();
    });
  }

  /** Sends the next queued request when the child is free. */
  private pump(): void {
    while (!this.inFlight && this.queue.length > 0) {
      const job = this.queue.shift()!;
      let worker: Worker;
      try {
        worker = this.worker ?? this.startWorker();
      } catch (error) {
        this.settle(job, () => job.reject(error));
        continue;
      }
      job.id = this.nextId++;
      job.worker = worker;
      job.sentAt = Date.now();
      this.inFlight = job;
      this.post(worker, job.message(job.id));
    }
  }

  /** Every pollMs while pending: cancellation, then the time limit. */
  private check(job: Job): void {
    if (job.cancellation?.isCancellationRequested) {
      if (job === this.inFlight) this.abandonInFlight(() => job.reject(new CancelledError()));
      else this.dropQueued(job);
      return;
    }
    if (job === this.inFlight && job.sentAt !== undefined && Date.now() - job.sentAt > this.timeoutMs) {
      const seconds = Number((this.timeoutMs / 1000).toPrecision(3));
      const error = new AttentionInspectorError(
        `onnxruntime took longer than ${seconds} s ${job.activity} and was stopped; the next run starts a fresh process.`,
      );
      this.abandonInFlight(() => job.reject(error));
    }
  }

  /** The in-flight request gives up: onnxruntime cannot be interrupted, so its child is killed. */
  private abandonInFlight(reject: () => void): void {
    const job = this.inFlight!;
    this.inFlight = undefined;
    this.stopWorker();
    this.settle(job, reject);
    this.pump();
  }

  private dropQueued(job: Job): void {
    const index = this.queue.indexOf(job);
    if (index >= 0) this.queue.splice(index, 1);
    this.settle(job, () => job.reject(new CancelledError()));
  }

  private settle(job: Job, outcome: () => void): void {
    clearInterval(job.poll);
    job.poll = undefined;
    outcome();
  }

  // ------------------------------------------------------------------ the child

  private startWorker(): Worker {
    const script = this.options.workerPath ?? locateWorkerScript();
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    if (this.options.debugHooks) env[WORKER_DEBUG_ENV] = '1';
    else delete env[WORKER_DEBUG_ENV];
    const child = fork(script, [], {
      // Structured clone instead of JSON: Float32Arrays cross as typed arrays.
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The host's flags (--inspect and the like) are not for the child. In desktop VS Code,
      // process.execPath is Electron, which ELECTRON_RUN_AS_NODE turns into plain Node.
      execArgv: [],
      env,
    });
    const worker: Worker = { child, outputTail: '', killed: false };
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => (worker.outputTail = (worker.outputTail + chunk).slice(-OUTPUT_TAIL_CHARS)));
      (stream as { unref?: () => void } | null)?.unref?.();
    }
    child.unref();
    child.channel?.unref();

    child.on('message', (message: WorkerToParent) => this.onMessage(worker, message));
    child.on('error', (error) => this.onGone(worker, `could not be started or reached (${error.message})`));
    let gone = false;
    const reportExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (gone) return;
      gone = true;
      this.onGone(worker, signal ? `stopped unexpectedly (signal ${signal})` : `stopped unexpectedly (exit code ${code})`);
    };
    // 'close' comes after the last of its output has been read, which the crash report quotes;
    // 'exit' plus a short wait covers output pipes that some grandchild might keep open.
    child.on('close', reportExit);
    child.on('exit', (code, signal) => setTimeout(() => reportExit(code, signal), OUTPUT_DRAIN_MS).unref());

    this.worker = worker;
    // The worker's own limit is a little longer than ours: normally we kill it first and say why.
    this.post(worker, { type: 'init', dir: this.dir, modelName: this.modelName, limitMs: this.timeoutMs + WORKER_GRACE_MS });
    return worker;
  }

  private post(worker: Worker, message: ParentToWorker): void {
    try {
      worker.child.send(message, (error) => {
        if (error) this.onGone(worker, `could not be reached (${error.message})`);
      });
    } catch (error) {
      this.onGone(worker, `could not be sent a request (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  private onMessage(worker: Worker, message: WorkerToParent): void {
    this.options.observeMessage?.(message);
    const job = this.inFlight;
    // Replies from a killed child, or to a request already given up on, are dropped.
    if (!job || job.worker !== worker || job.id !== message.id) return;
    this.inFlight = undefined;
    if (message.type === 'failed') {
      this.settle(job, () => job.reject(reviveError(message.error)));
    } else if (job.cancellation?.isCancellationRequested) {
      // Cancelled between polls: the answer came, but nobody wants it any more.
      this.settle(job, () => job.reject(new CancelledError()));
    } else {
      this.settle(job, () => job.resolve(message));
    }
    this.pump();
  }

  /** The child died or cannot be reached; a request it was answering fails with what happened. */
  private onGone(worker: Worker, what: string): void {
    if (this.worker === worker) this.worker = undefined;
    if (!worker.killed) {
      worker.killed = true;
      worker.child.kill('SIGKILL');
    }
    // A child killed on purpose has no request in flight any more (that one was settled first).
    const job = this.inFlight;
    if (!job || job.worker !== worker) return;
    this.inFlight = undefined;
    const output = worker.outputTail.trim();
    const error = new AttentionInspectorError(
      `onnxruntime ${what} while ${job.activity}; the next run starts a fresh process.` + (output ? `\nIts last output:\n${output}` : ''),
    );
    this.settle(job, () => job.reject(error));
    this.pump();
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker || worker.killed) return;
    worker.killed = true;
    worker.child.kill('SIGKILL');
  }
}

/**
 * A run's attention held in the onnxruntime child. Queries and materialize go to the child; a child
 * that no longer holds the run (it died and a fresh one took its place) runs the same text again
 * first, so answers never depend on the child surviving. A released run is not run again: a query
 * about it (one already on its way when a newer run replaced it) answers undefined.
 */
class ChildAttention implements HeldAttention {
  private materialized: Promise<AttentionGroup[]> | undefined;
  private released = false;

  constructor(private readonly backend: IsolatedOnnxBackend, readonly handle: number, private readonly text: string, private readonly options: RunOptions) {}

  async query<Q extends AttentionQuery>(query: Q): Promise<AnswerOf<Q> | undefined> {
    if (this.released) return undefined;
    const first = await this.backend.queryHeld(this.handle, query);
    if (!first.missing) return first.answer as AnswerOf<Q> | undefined;
    if (this.released) return undefined;
    await this.rehold();
    const again = await this.backend.queryHeld(this.handle, query);
    if (again.missing) throw new AttentionInspectorError('The onnxruntime process lost the run’s attention again right after running it; run the model again.');
    return again.answer as AnswerOf<Q> | undefined;
  }

  materialize(): Promise<AttentionGroup[]> {
    if (this.released) return Promise.reject(releasedError());
    if (!this.materialized) {
      this.materialized = (async () => {
        const groups = await this.backend.materializeHeld(this.handle);
        if (groups) return groups;
        await this.rehold();
        const again = await this.backend.materializeHeld(this.handle);
        if (!again) throw new AttentionInspectorError('The onnxruntime process lost the run’s attention again right after running it; run the model again.');
        return again;
      })();
      this.materialized.catch(() => (this.materialized = undefined));
    }
    return this.materialized;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.materialized = undefined;
    this.backend.releaseHeld(this.handle);
  }

  /** The child lost the run (it died): run it again there under the same handle. */
  private async rehold(): Promise<void> {
    await this.backend.hold(this.handle, this.text, { ...this.options, failIfTooLong: false });
  }
}
