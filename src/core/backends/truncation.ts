// How many tokens a run may use, shared by every backend so they cut inputs the same way.
import { InputError, TooManyTokensError } from '../errors';
import type { RunOptions, TokenSpan } from '../types';

export interface TokenBudget {
  tokens: TokenSpan[];
  /** Token count before cutting, when cut. */
  truncatedFrom?: number;
}

/**
 * Applies options.maxTokens and the model's own context length. Too long and failIfTooLong:
 * TooManyTokensError, so the caller can ask the user before cutting.
 */
export function fitTokens(tokens: TokenSpan[], options: RunOptions, modelContext: number): TokenBudget {
  if (tokens.length === 0) throw new InputError('Nothing to inspect: the text is empty.');
  const requested = options.maxTokens ?? 512;
  if (!Number.isInteger(requested) || requested < 1) throw new InputError(`maxTokens must be a positive integer, not ${requested}.`);
  const limit = Math.min(requested, modelContext);
  if (tokens.length <= limit) return { tokens };
  if (options.failIfTooLong) throw new TooManyTokensError(tokens.length, limit);
  return { tokens: tokens.slice(0, limit), truncatedFrom: tokens.length };
}
