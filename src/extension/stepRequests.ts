// The host's answers to the step view's and the compare view's requests: requestExplain runs the
// model again on the inspected text and explains one head for one query token (backend.explain),
// requestComparison runs a base and a varied run side by side (runComparison). Both use the
// inspected run's text and options (maxTokens, target; never failIfTooLong) on the backend that
// prefers the built-in block (registry.get(dir, choice, true)): it can show every step and vary a
// run; an ONNX-only model explains from its softmax inputs and refuses variations (an `error` reply).
//
// No vscode here: the controller (inspectionController.ts) hands requests in and posts the replies.
// The latest request of each kind wins: an older one in flight is cancelled and answered with an
// error it never shows (the webview only draws the reply to its current request). Work starts on a
// later turn of the event loop, one computation at a time, and the last few replies are cached.

import { runComparison } from '../core/explain/compare';
import { describeError, CancelledError } from '../core/errors';
import type { AttentionBackend, CancellationSignal, RunOptions } from '../core/types';
import { variationKey, type ComparisonMessage, type ExplanationMessage, type HostToWebview, type RequestComparisonMessage, type RequestExplainMessage } from '../shared/protocol';
import { toComparisonPayload } from '../shared/replies';
import type { UnitMapping } from './mergedSteps';

/** The inspected run that requests are answered about. */
export interface StepRun {
  sessionId: number;
  /** The text the run inspected (the selection), run again with the same options. */
  text: string;
  /** maxTokens and target of the inspected run. */
  options: Pick<RunOptions, 'maxTokens' | 'target'>;
  /** A run shown as characters or words: request indices name units, mapped to tokens here (mergedSteps.ts). */
  units?: UnitMapping;
  /** The backend for explanations and varied runs (throws when the model folder is unusable). */
  backend(): AttentionBackend;
}

export type StepRequest = RequestExplainMessage | RequestComparisonMessage;
type StepReply = ExplanationMessage | ComparisonMessage;

/** How many replies of each kind are kept per session. */
export const STEP_CACHE_SIZE = 8;

export const SUPERSEDED = 'Superseded by a newer request.';

class Cancellation implements CancellationSignal {
  isCancellationRequested = false;
}

export class StepRequests {
  private run: StepRun | undefined;
  private readonly cache = { requestExplain: new Map<string, StepReply>(), requestComparison: new Map<string, StepReply>() };
  private readonly inFlight: Partial<Record<StepRequest['type'], Cancellation>> = {};
  private tail: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly post: (message: HostToWebview) => void,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** A new run is inspected (or none): older requests are cancelled and the caches emptied. */
  setRun(run: StepRun | undefined): void {
    for (const cancellation of Object.values(this.inFlight)) if (cancellation) cancellation.isCancellationRequested = true;
    this.run = run;
    this.cache.requestExplain.clear();
    this.cache.requestComparison.clear();
  }

  /** Answers a request (later, never inside this call); requests about another session are dropped. */
  handle(request: StepRequest): void {
    const run = this.run;
    if (!run || run.sessionId !== request.sessionId || this.disposed) return;
    const key = stepKey(request);
    const previous = this.inFlight[request.type];
    if (previous) previous.isCancellationRequested = true;
    const cache = this.cache[request.type];
    const cached = cache.get(key);
    if (cached) {
      cache.delete(key);
      cache.set(key, cached);
      queueMicrotask(() => this.post(cached));
      return;
    }
    const cancellation = new Cancellation();
    this.inFlight[request.type] = cancellation;
    // One computation at a time; a superseded one is cancelled, so the newest starts soon.
    this.tail = this.tail.then(() => this.answer(run, request, key, cancellation));
  }

  /** Resolves once every request handed in so far has been answered. */
  async whenIdle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  dispose(): void {
    this.disposed = true;
    this.setRun(undefined);
  }

  private async answer(run: StepRun, request: StepRequest, key: string, cancellation: Cancellation): Promise<void> {
    // Let the message handler return (and newer requests arrive) before any work starts.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    let reply: StepReply;
    try {
      if (cancellation.isCancellationRequested) throw new CancelledError();
      reply = await this.compute(run, request, cancellation);
      if (cancellation.isCancellationRequested) throw new CancelledError();
      const cache = this.cache[request.type];
      if (this.run === run) {
        cache.set(key, reply);
        while (cache.size > STEP_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
    } catch (error) {
      const message = error instanceof CancelledError || cancellation.isCancellationRequested ? SUPERSEDED : describeError(error);
      if (message !== SUPERSEDED) this.log(`${request.type === 'requestExplain' ? 'Explain' : 'Compare'} failed: ${message}`);
      reply = errorReply(request, message);
    } finally {
      if (this.inFlight[request.type] === cancellation) delete this.inFlight[request.type];
    }
    if (this.disposed || this.run?.sessionId !== request.sessionId) return;
    this.post(reply);
  }

  private async compute(run: StepRun, request: StepRequest, cancellation: Cancellation): Promise<StepReply> {
    const backend = run.backend();
    const options: RunOptions = { maxTokens: run.options.maxTokens, target: run.options.target, failIfTooLong: false };
    if (request.type === 'requestExplain') {
      const { sessionId, group, layer, head, query, variation } = request;
      const started = Date.now();
      // A unit is explained by its last token; the reply keeps the unit's index (it pairs with the request).
      const token = run.units ? run.units.queryToken(group, query) : query;
      const { explanation } = await backend.explain(run.text, { group, layer, head, query: token }, { ...options, ...(variation ? { variation } : {}) }, cancellation);
      this.log(`Explained layer ${layer} head ${head} query ${query}${variation ? ` (${variationKey(variation)})` : ''} with ${explanation.model.backend} in ${Date.now() - started} ms.`);
      return { type: 'explanation', sessionId, group, layer, head, query, ...(variation ? { variation } : {}), explanation };
    }
    const { sessionId, layer, head, variation } = request;
    const varied = run.units && variation.swap ? { ...variation, swap: run.units.swapTokens(variation.swap) } : variation;
    const comparison = await runComparison(backend, run.text, options, varied, layer, head, cancellation);
    return { type: 'comparison', sessionId, layer, head, variation, comparison: toComparisonPayload(comparison) };
  }
}

/** The cache key of a request: what it asks for, variation included. */
export function stepKey(request: StepRequest): string {
  return request.type === 'requestExplain'
    ? `explain:${request.group}:${request.layer}:${request.head}:q${request.query}:${variationKey(request.variation)}`
    : `compare:${request.layer}:${request.head}:${variationKey(request.variation)}`;
}

function errorReply(request: StepRequest, error: string): StepReply {
  if (request.type === 'requestExplain') {
    const { sessionId, group, layer, head, query, variation } = request;
    return { type: 'explanation', sessionId, group, layer, head, query, ...(variation ? { variation } : {}), explanation: null, error };
  }
  const { sessionId, layer, head, variation } = request;
  return { type: 'comparison', sessionId, layer, head, variation, comparison: null, error };
}
