// Errors the user can act on. Their messages are shown as they are, so they say what went wrong
// and what to do; anything else that escapes the core is a bug and is reported as such.

export class AttentionInspectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The model folder is missing, incomplete or malformed. */
export class ModelLoadError extends AttentionInspectorError {}

/** The input cannot be run (empty, or longer than the limit when cutting was not allowed). */
export class InputError extends AttentionInspectorError {}

export class TooManyTokensError extends InputError {
  /** atLeast: only a prefix was tokenized, so tokenCount is a lower bound. */
  constructor(readonly tokenCount: number, readonly maxTokens: number, readonly atLeast = false) {
    super(`The selection has ${atLeast ? 'more than ' : ''}${tokenCount} tokens, more than the limit of ${maxTokens} (attentionInspector.maxTokens).`);
  }
}

/** The attention of the whole input would not fit in the memory budget; `maxTokens` is the most that fits. */
export class MemoryBudgetError extends TooManyTokensError {
  constructor(tokenCount: number, maxTokens: number, readonly estimateBytes: number, readonly budgetBytes: number, atLeast = false) {
    super(tokenCount, maxTokens, atLeast);
    this.message =
      `Running ${atLeast ? 'more than ' : ''}${tokenCount} tokens would hold about ${Math.round(estimateBytes / 2 ** 20)} MB of attention ` +
      `(layers × heads × tokens² × 4 bytes, with the copies on the way), more than the budget of ${Math.round(budgetBytes / 2 ** 20)} MB ` +
      `(attentionInspector.memoryBudgetMB); at most ${maxTokens} tokens fit.`;
  }
}

/** The run was cancelled by the user or superseded by a newer run. */
export class CancelledError extends AttentionInspectorError {
  constructor() {
    super('Cancelled.');
  }
}

export function throwIfCancelled(signal: { readonly isCancellationRequested: boolean } | undefined): void {
  if (signal?.isCancellationRequested) throw new CancelledError();
}

/** Message for any thrown value; unexpected errors keep their type name so bugs stay recognisable. */
export function describeError(error: unknown): string {
  if (error instanceof AttentionInspectorError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
