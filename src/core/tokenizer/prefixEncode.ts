// Tokenizing only as much of a long selection as a run can use. A 2 MB selection cut to 512 tokens
// needs a few kilobytes tokenized, not 2 MB: encode a prefix, keep the tokens that end well before
// the cut (the last pre-token may change when the text goes on), and grow the prefix until more
// tokens than needed are certain. Pre-tokenizers split locally (spaces, punctuation), so the kept
// tokens are those of the whole text.
import type { TokenSpan } from '../types';

/** Tokens ending within this many UTF-16 units of a cut are not trusted. */
export const CUT_MARGIN_CHARS = 64;

export interface PrefixTokens {
  tokens: TokenSpan[];
  /** True when the whole text was tokenized; false: there are more tokens than `tokens` holds. */
  complete: boolean;
}

/**
 * The tokens of `text`, or — when `needed` is given and the text has more than `needed` tokens —
 * at least `needed` + 1 of its first tokens (so a caller can tell the text is too long).
 */
export function encodePrefix(encode: (text: string) => TokenSpan[], text: string, needed?: number): PrefixTokens {
  if (needed === undefined) return { tokens: encode(text), complete: true };
  let length = Math.max(2048, (needed + 1) * 16);
  for (;;) {
    if (length >= text.length - CUT_MARGIN_CHARS) return { tokens: encode(text), complete: true };
    const code = text.charCodeAt(length - 1);
    const cut = code >= 0xd800 && code <= 0xdbff ? length + 1 : length; // never split a surrogate pair
    const safeEnd = cut - CUT_MARGIN_CHARS;
    const tokens = encode(text.slice(0, cut));
    // Tokens the tokenizer adds at the end of the prefix ([SEP], </s>) cover no text: drop them with the unsure tail.
    const stable: TokenSpan[] = [];
    for (const token of tokens) {
      if (token.end > safeEnd || (token.label !== undefined && token.start >= safeEnd)) break;
      stable.push(token);
    }
    if (stable.length > needed) return { tokens: stable, complete: false };
    length *= 4;
  }
}
