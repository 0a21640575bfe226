// How many tokens a run may use, shared by every backend so they cut inputs the same way.
import { InputError, MemoryBudgetError, TooManyTokensError } from '../errors';
import type { TokenizerThread } from '../tokenizer/tokenizerThread';
import type { CancellationSignal, RunOptions, TokenSpan } from '../types';

export interface TokenBudget {
  tokens: TokenSpan[];
  /** Token count before cutting, when cut. */
  truncatedFrom?: number;
  /** truncatedFrom is a lower bound: only a prefix of the text was tokenized. */
  truncatedFromAtLeast?: boolean;
}

/** What a run's attention costs: `copies` tensors of [layers, heads, T, T] float32 held at once. */
export interface AttentionCost {
  layers: number;
  heads: number;
  /** How many full attention tensors exist at the peak (the backend's own, plus copies on the way out). */
  copies: number;
}

export const DEFAULT_MEMORY_BUDGET_MB = 2048;

/** Bytes a run of T tokens holds in attention. */
export function attentionBytes(cost: AttentionCost, T: number): number {
  return cost.copies * cost.layers * cost.heads * T * T * 4;
}

/** The most tokens whose attention fits in options.memoryBudgetMB (Infinity when the shape is unknown). */
export function tokensWithinBudget(options: RunOptions, cost: AttentionCost | undefined): number {
  if (!cost || cost.layers <= 0 || cost.heads <= 0) return Infinity;
  const budget = (options.memoryBudgetMB ?? DEFAULT_MEMORY_BUDGET_MB) * 2 ** 20;
  return Math.max(1, Math.floor(Math.sqrt(budget / (cost.copies * cost.layers * cost.heads * 4))));
}

/** The most tokens a run may have: options.maxTokens (validated) within the model's context and the memory budget. */
export function tokenLimit(options: RunOptions, modelContext: number, cost?: AttentionCost): number {
  const requested = options.maxTokens ?? 512;
  if (!Number.isInteger(requested) || requested < 1) throw new InputError(`maxTokens must be a positive integer, not ${requested}.`);
  const budget = options.memoryBudgetMB ?? DEFAULT_MEMORY_BUDGET_MB;
  if (!(budget > 0)) throw new InputError(`memoryBudgetMB must be a positive number, not ${budget}.`);
  return Math.min(requested, modelContext, tokensWithinBudget(options, cost));
}

/** Tokenizes (off the calling thread, under a time limit, only as much as the limit needs) and fits. */
export async function fitText(thread: TokenizerThread, text: string, options: RunOptions, modelContext: number, cancellation?: CancellationSignal, cost?: AttentionCost): Promise<TokenBudget> {
  const { tokens, complete } = await thread.encode(text, tokenLimit(options, modelContext, cost), cancellation);
  return fitTokens(tokens, options, modelContext, complete, cost);
}

/**
 * Applies options.maxTokens and the model's own context length (`complete` false: the tokens are a
 * prefix of the text's, which has more). Too long and failIfTooLong:
 * TooManyTokensError, so the caller can ask the user before cutting.
 */
export function fitTokens(tokens: TokenSpan[], options: RunOptions, modelContext: number, complete = true, cost?: AttentionCost): TokenBudget {
  if (tokens.length === 0) throw new InputError('Nothing to inspect: the text is empty.');
  const limit = tokenLimit(options, modelContext, cost);
  if (tokens.length <= limit) return { tokens };
  if (options.failIfTooLong) {
    const byBudget = limit < Math.min(options.maxTokens ?? 512, modelContext);
    if (byBudget && cost) {
      const budget = (options.memoryBudgetMB ?? DEFAULT_MEMORY_BUDGET_MB) * 2 ** 20;
      throw new MemoryBudgetError(tokens.length, limit, attentionBytes(cost, tokens.length), budget, !complete);
    }
    throw new TooManyTokensError(tokens.length, limit, !complete);
  }
  return { tokens: tokens.slice(0, limit), truncatedFrom: tokens.length, ...(complete ? {} : { truncatedFromAtLeast: true }) };
}
