// Lookups over token spans, which are ordered and never overlap (see the tokenizer's offset rule).
import type { TokenSpan } from './types';

/** Index of the token whose [start, end) holds the offset, by binary search; undefined between or outside tokens. */
export function tokenAtOffset(tokens: readonly Pick<TokenSpan, 'start' | 'end'>[], offset: number): number | undefined {
  let low = 0;
  let high = tokens.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (offset < tokens[mid].start) high = mid - 1;
    else if (offset >= tokens[mid].end) low = mid + 1;
    else return mid;
  }
  return undefined;
}
