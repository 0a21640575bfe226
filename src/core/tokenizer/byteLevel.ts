// GPT-2's byte-level alphabet and the UTF-8 bookkeeping that turns byte ranges into UTF-16 offsets.
//
// Byte-level BPE vocabularies spell every byte as one printable character (bytes_to_unicode in
// GPT-2's encoder.py): the printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, NBSP, soft hyphen...) are shifted to U+0100..U+0143, so ' ' is 'Ġ' and '\n' 'Ċ'.

/** byte -> the UTF-16 code unit that spells it in a byte-level vocabulary. [256] */
export const BYTE_TO_SYMBOL: Uint16Array = (() => {
  const table = new Uint16Array(256);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = printable ? byte : 256 + shifted++;
  }
  return table;
})();

/** Highest code unit used by the alphabet (U+0143). */
const SYMBOL_LIMIT = 256 + 68;

/** code unit -> byte it spells, or -1 when the unit is not part of the alphabet. [SYMBOL_LIMIT] */
const SYMBOL_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(SYMBOL_LIMIT).fill(-1);
  for (let byte = 0; byte < 256; byte++) table[BYTE_TO_SYMBOL[byte]] = byte;
  return table;
})();

/** The byte a vocabulary code unit spells, or -1 when it is not a byte-level symbol. */
export function symbolToByte(codeUnit: number): number {
  return codeUnit < SYMBOL_LIMIT ? SYMBOL_TO_BYTE[codeUnit] : -1;
}

/** True when every code unit of the token is a byte-level symbol (added tokens such as '<|endoftext|>' may be too). */
export function isByteLevelToken(token: string): boolean {
  for (let i = 0; i < token.length; i++) if (symbolToByte(token.charCodeAt(i)) < 0) return false;
  return true;
}

/**
 * Writes the bytes a byte-level token spells into out[at...], growing nothing: the caller sizes out
 * to at least token.length past at. Returns how many bytes were written, or -1 if a code unit is
 * outside the alphabet.
 */
export function writeTokenBytes(token: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < token.length; i++) {
    const byte = symbolToByte(token.charCodeAt(i));
    if (byte < 0) return -1;
    out[at + i] = byte;
  }
  return token.length;
}

/** UTF-8 length of a code point, with lone surrogates counted as U+FFFD (3 bytes) as TextEncoder does. */
export function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * The UTF-8 encoding of a text together with the map from byte offsets back to UTF-16 offsets.
 *   bytes:            [B]     UTF-8 of the text; a lone surrogate becomes EF BF BD, exactly like TextEncoder
 *   boundaryAtOrAfter:[B + 1] for byte b, the UTF-16 offset of the first character boundary at or after b:
 *                             the character's own offset when b is its first byte, the offset just past
 *                             the character when b is one of its continuation bytes; [B] = text.length
 */
export interface Utf8Layout {
  bytes: Uint8Array;
  boundaryAtOrAfter: Uint32Array;
}

export function utf8Layout(text: string): Utf8Layout {
  const bytes = new TextEncoder().encode(text);
  const boundaryAtOrAfter = new Uint32Array(bytes.length + 1);
  let byteAt = 0;
  for (let unit = 0; unit < text.length; ) {
    const codePoint = text.codePointAt(unit) as number;
    // A lone surrogate reads as itself (0xD800..0xDFFF), which utf8Length counts as 3 bytes, like U+FFFD.
    const units = codePoint > 0xffff ? 2 : 1;
    const length = utf8Length(codePoint);
    boundaryAtOrAfter[byteAt] = unit;
    for (let k = 1; k < length; k++) boundaryAtOrAfter[byteAt + k] = unit + units;
    byteAt += length;
    unit += units;
  }
  boundaryAtOrAfter[bytes.length] = text.length;
  return { bytes, boundaryAtOrAfter };
}

/**
 * Decodes one UTF-8 sequence starting at bytes[at] (bytes[at..end)). Returns the code point, or -1
 * when the sequence is invalid or cut short; sequenceLength receives how many bytes it took (1 when
 * invalid, so callers can step over a bad byte).
 */
export function decodeUtf8At(bytes: ArrayLike<number>, at: number, end: number, sequenceLength: Int32Array): number {
  const lead = bytes[at];
  let length: number;
  let codePoint: number;
  let minimum: number;
  if (lead < 0x80) {
    sequenceLength[0] = 1;
    return lead;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2; codePoint = lead & 0x1f; minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3; codePoint = lead & 0x0f; minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4; codePoint = lead & 0x07; minimum = 0x10000;
  } else {
    sequenceLength[0] = 1;
    return -1;
  }
  if (at + length > end) {
    sequenceLength[0] = 1;
    return -1;
  }
  for (let k = 1; k < length; k++) {
    const next = bytes[at + k];
    if ((next & 0xc0) !== 0x80) {
      sequenceLength[0] = 1;
      return -1;
    }
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
    sequenceLength[0] = 1;
    return -1;
  }
  sequenceLength[0] = length;
  return codePoint;
}
