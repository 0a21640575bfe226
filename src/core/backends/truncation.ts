// How many tokens a run may use, shared by every backend so they cut inputs the same way.
import { InputError, TooManyTokensError } from '../errors';
import type { TokenizerThread } from '../tokenizer/tokenizerThread';
import type { CancellationSignal, RunOptions, TokenSpan } from '../types';

export interface TokenBudget {
  tokens: TokenSpan[];
  /** Token count before cutting, when cut. */
  truncatedFrom?: number;
  /** truncatedFrom is a lower bound: only a prefix of the text was tokenized. */
  truncatedFromAtLeast?: boolean;
}

/** The most tokens a run may have: options.maxTokens (validated) within the model's context. */
export function tokenLimit(options: RunOptions, modelContext: number): number {
  const requested = options.maxTokens ?? 512;
  if (!Number.isInteger(requested) || requested < 1) throw new InputError(`maxTokens must be a positive integer, not ${requested}.`);
  return Math.min(requested, modelContext);
}

/** Tokenizes (off the calling thread, under a time limit, only as much as the limit needs) and fits. */
export async function fitText(thread: TokenizerThread, text: string, options: RunOptions, modelContext: number, cancellation?: CancellationSignal): Promise<TokenBudget> {
  const { tokens, complete } = await thread.encode(text, tokenLimit(options, modelContext), cancellation);
  return fitTokens(tokens, options, modelContext, complete);
}

/**
 * Applies options.maxTokens and the model's own context length (`complete` false: the tokens are a
 * prefix of the text's, which has more). Too long and failIfTooLong:
 * TooManyTokensError, so the caller can ask the user before cutting.
 */
export function fitTokens(tokens: TokenSpan[], options: RunOptions, modelContext: number, complete = true): TokenBudget {
  if (tokens.length === 0) throw new InputError('Nothing to inspect: the text is empty.');
  const limit = tokenLimit(options, modelContext);
  if (tokens.length <= limit) return { tokens };
  if (options.failIfTooLong) throw new TooManyTokensError(tokens.length, limit, !complete);
  return { tokens: tokens.slice(0, limit), truncatedFrom: tokens.length, ...(complete ? {} : { truncatedFromAtLeast: true }) };
}
