// Short, human-readable labels for vocabulary entries (heatmap axes, next-token predictions).
// Whitespace is made visible because a leading space is often the only difference between tokens.
import { decodeUtf8At, symbolToByte } from './byteLevel';

const VISIBLE: Readonly<Record<string, string>> = {
  ' ': '·',
  '\n': '↵',
  '\r': '␍',
  '\t': '⇥',
};

/** Spaces as '·', newlines as '↵', carriage returns as '␍', tabs as '⇥', other controls as their Control Pictures. */
export function makeWhitespaceVisible(text: string): string {
  let label = '';
  for (const character of text) {
    const code = character.charCodeAt(0);
    const shown = VISIBLE[character];
    if (shown !== undefined) label += shown;
    else if (code < 0x20) label += String.fromCharCode(0x2400 + code);
    else if (code === 0x7f) label += '␡';
    else label += character;
  }
  return label;
}

/**
 * Label of a byte-level vocabulary string ('Ġthe' -> '·the'). Bytes that do not form a whole UTF-8
 * character inside this token (a piece of a character split across tokens) show as \xHH.
 * Returns null when the string is not spelled in the byte-level alphabet.
 */
export function byteLevelLabel(token: string): string | null {
  const bytes = new Uint8Array(token.length);
  for (let k = 0; k < token.length; k++) {
    const byte = symbolToByte(token.charCodeAt(k));
    if (byte < 0) return null;
    bytes[k] = byte;
  }
  const sequenceLength = new Int32Array(1);
  let label = '';
  for (let at = 0; at < bytes.length; ) {
    const codePoint = decodeUtf8At(bytes, at, bytes.length, sequenceLength);
    label += codePoint < 0
      ? `\\x${bytes[at].toString(16).toUpperCase().padStart(2, '0')}`
      : makeWhitespaceVisible(String.fromCodePoint(codePoint));
    at += sequenceLength[0];
  }
  return label;
}
