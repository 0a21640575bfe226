// Exact offsets for byte-level BPE tokens (GPT-2, RoBERTa, Llama 3, Qwen...): every token spells a
// run of UTF-8 bytes, so walking the text's bytes token by token gives each token's byte range.
import { type Utf8Layout, writeTokenBytes } from './byteLevel';

/** How an added token's surrounding whitespace was treated by the library (see AddedToken). */
export interface AddedTokenShape {
  lstrip: boolean;
  rstrip: boolean;
}

/** Where the tokens stopped reproducing the text. */
export interface ByteAlignmentFailure {
  tokenIndex: number;
  byteOffset: number;
  reason: string;
}

/**
 * Aligns byte-level tokens to the text they were produced from, filling starts/ends ([N] each, UTF-16
 * offsets). Returns null on success, or where the tokens' bytes stopped matching the text's UTF-8.
 *
 * Offset rule: a token's byte range [b0, b1) becomes [boundaryAtOrAfter(b0), boundaryAtOrAfter(b1)):
 * both ends snap forward to the next character boundary. A character whose bytes are split across
 * tokens therefore belongs wholly to the token that holds its FIRST byte, and a token that holds only
 * continuation bytes gets the empty span [x, x) at the end of that character. Spans come out ordered,
 * never overlapping, and (on success) together cover the whole text.
 *
 * Added tokens (e.g. '<|endoftext|>' typed in the text) match their literal content, taking along
 * the whitespace the library stripped beside them (lstrip/rstrip). With addPrefixSpace the library
 * put a space before every section that lacked one; that virtual byte covers no text.
 */
export function alignByteLevelTokens(
  layout: Utf8Layout,
  tokens: readonly string[],
  addedTokens: ReadonlyMap<string, AddedTokenShape>,
  addPrefixSpace: boolean,
  text: string,
  starts: Int32Array,
  ends: Int32Array,
): ByteAlignmentFailure | null {
  const { bytes, boundaryAtOrAfter } = layout;
  const encoder = new TextEncoder();
  let scratch = new Uint8Array(64);
  let cursor = 0;
  let atSectionStart = true;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const added = addedTokens.get(token);
    if (added) {
      const content = encoder.encode(token);
      let at = cursor;
      if (!bytesMatchAt(bytes, at, content, 0, content.length) && added.lstrip) at = skipWhitespace(text, layout, at);
      if (bytesMatchAt(bytes, at, content, 0, content.length)) {
        let end = at + content.length;
        if (added.rstrip) end = skipWhitespace(text, layout, end);
        starts[i] = boundaryAtOrAfter[cursor];
        ends[i] = boundaryAtOrAfter[end];
        cursor = end;
      } else {
        // Not in the text: a special token the library inserted. It covers nothing.
        starts[i] = ends[i] = boundaryAtOrAfter[cursor];
      }
      atSectionStart = true;
      continue;
    }

    if (scratch.length < token.length) scratch = new Uint8Array(token.length * 2);
    const length = writeTokenBytes(token, scratch, 0);
    if (length < 0) return { tokenIndex: i, byteOffset: cursor, reason: 'it is not spelled in the byte-level alphabet' };
    const virtualSpace = addPrefixSpace && atSectionStart && length > 0 && scratch[0] === 0x20 && bytes[cursor] !== 0x20 ? 1 : 0;
    if (!bytesMatchAt(bytes, cursor, scratch, virtualSpace, length)) {
      return { tokenIndex: i, byteOffset: cursor, reason: 'its bytes differ from the text there' };
    }
    const end = cursor + length - virtualSpace;
    starts[i] = boundaryAtOrAfter[cursor];
    ends[i] = boundaryAtOrAfter[end];
    cursor = end;
    atSectionStart = false;
  }

  if (cursor !== bytes.length) {
    return { tokenIndex: tokens.length, byteOffset: cursor, reason: 'the tokens end before the text does' };
  }
  return null;
}

/** True when needle[from..to) equals haystack[at...]. */
function bytesMatchAt(haystack: Uint8Array, at: number, needle: Uint8Array, from: number, to: number): boolean {
  if (at + (to - from) > haystack.length) return false;
  for (let k = from; k < to; k++) if (haystack[at + k - from] !== needle[k]) return false;
  return true;
}

const WHITESPACE = /\s/;

/** The byte offset past the whitespace characters (JS \s, as trimStart/trimEnd see it) starting at byte `at`. */
function skipWhitespace(text: string, layout: Utf8Layout, at: number): number {
  const { bytes, boundaryAtOrAfter } = layout;
  // Stop inside a character (continuation byte): only whole characters can be whitespace.
  while (at < bytes.length && (bytes[at] & 0xc0) !== 0x80) {
    const unit = boundaryAtOrAfter[at];
    // Every \s character is in the BMP, so one code unit decides it and gives its UTF-8 length.
    if (!WHITESPACE.test(text[unit])) break;
    const codeUnit = text.charCodeAt(unit);
    at += codeUnit < 0x80 ? 1 : codeUnit < 0x800 ? 2 : 3;
  }
  return at;
}
