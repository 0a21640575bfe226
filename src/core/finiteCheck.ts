// NaN and ±Infinity must not pass silently: a model with broken weights would paint NaN heatmaps
// and predict nonsense. These checks name what is not finite — a weight tensor at load, or a
// layer and head of the attention (and the logits) after a run — as warnings the panel and the CLI show.
import type { AttentionResult } from './types';

/** How many entries are NaN or infinite. */
export function nonFiniteCount(values: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) count++;
  return count;
}

/** One warning per tensor with non-finite values, by name. */
export function tensorWarnings(tensors: Iterable<[string, ArrayLike<number>]>): string[] {
  const warnings: string[] = [];
  for (const [name, values] of tensors) {
    const bad = nonFiniteCount(values);
    if (bad > 0) warnings.push(`The weight tensor "${name}" has ${bad} of ${values.length} values that are NaN or infinite; the model's output cannot be trusted.`);
  }
  return warnings;
}

/** Warnings for non-finite attention (per group, layer and head; at most `limit` named) and logits. */
export function outputWarnings(result: AttentionResult, limit = 5): string[] {
  const warnings: string[] = [];
  for (const group of result.groups) {
    const [L, H, Tq, Tk] = group.dims;
    const heads: string[] = [];
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const offset = (l * H + h) * Tq * Tk;
        if (nonFiniteCount(group.attention.subarray(offset, offset + Tq * Tk)) > 0) heads.push(`L${l} H${h}`);
      }
    }
    if (heads.length > 0) {
      const named = heads.slice(0, limit).join(', ') + (heads.length > limit ? ` and ${heads.length - limit} more` : '');
      warnings.push(`${group.label}: the attention of ${named} has NaN or infinite values (shown as empty cells); the model's weights or inputs are broken.`);
    }
  }
  if (result.lastLogits && nonFiniteCount(result.lastLogits) > 0) warnings.push('The next-token logits have NaN or infinite values; the predictions are meaningless.');
  return warnings;
}

/** The result with the warnings of its outputs (and `extra`, e.g. from loading) attached, when there are any. */
export function withWarnings(result: AttentionResult, extra: readonly string[] = []): AttentionResult {
  const warnings = [...extra, ...outputWarnings(result)];
  return warnings.length > 0 ? { ...result, warnings } : result;
}
