// Best-effort offsets for tokenizers whose tokens are not a lossless spelling of the text: WordPiece
// (BERT), SentencePiece-like Metaspace/Unigram, anything behind a normalizer (lowercase, NFD/NFKC,
// accent stripping). The library gives no offsets, so each token's surface text is located in the
// original text by comparing both under the same "fold": NFKD, lowercase, no combining marks, no
// whitespace or control characters. Never throws; spans come out ordered and non-overlapping but may
// leave gaps (whitespace or characters the tokenizer dropped).

/** A text folded code point by code point, remembering where each folded code unit came from. */
interface FoldedText {
  /** The folded text. */
  keys: string;
  /** [keys.length] UTF-16 offset in the original text of the character that produced each key unit. */
  keyStart: Int32Array;
  /** [keys.length] offset just past that character. */
  keyEnd: Int32Array;
}

const DROPPED_BY_FOLD = /[\p{M}\p{C}\s\u2581\ufffd]/gu;
const FINAL_SIGMA = /\u03c2/g;
const WHITESPACE = /\s/;
const MARK = /^\p{M}$/u;

/** Combining marks, joiners and variation selectors: they belong with the character before them. */
function continuesCluster(codePoint: number): boolean {
  return codePoint === 0x200c || codePoint === 0x200d || (codePoint >= 0xfe00 && codePoint <= 0xfe0f) || MARK.test(String.fromCodePoint(codePoint));
}

/** The fold of one character (one code point, given as a string). */
function foldCharacter(character: string): string {
  const unit = character.charCodeAt(0);
  if (unit < 0x80) {
    if (unit <= 0x20 || unit === 0x7f) return '';
    return unit >= 0x41 && unit <= 0x5a ? String.fromCharCode(unit + 32) : character;
  }
  // Lowercasing per character (not per word) also turns final sigma into plain sigma; the token
  // side may have been lowercased as a whole word, hence the explicit final-sigma fold.
  return character.normalize('NFKD').toLowerCase().replace(DROPPED_BY_FOLD, '').replace(FINAL_SIGMA, '\u03c3');
}

/** The fold of a whole string: the concatenated folds of its characters. */
export function foldString(text: string): string {
  let folded = '';
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i) as number;
    const units = codePoint > 0xffff ? 2 : 1;
    folded += foldCharacter(text.slice(i, i + units));
    i += units;
  }
  return folded;
}

function foldText(text: string): FoldedText {
  const parts: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i) as number;
    const units = codePoint > 0xffff ? 2 : 1;
    const folded = foldCharacter(text.slice(i, i + units));
    if (folded.length > 0) {
      parts.push(folded);
      for (let k = 0; k < folded.length; k++) {
        starts.push(i);
        ends.push(i + units);
      }
    }
    i += units;
  }
  return { keys: parts.join(''), keyStart: Int32Array.from(starts), keyEnd: Int32Array.from(ends) };
}

/**
 * Fills starts/ends ([N] each, UTF-16 offsets into text) for tokens given by their surface text:
 * what each token stands for once its markers are undone ('##ing' -> 'ing', '▁the' -> ' the'),
 * or null when that is unknown (an [UNK] token).
 *
 * Tokens are placed left to right. A token whose fold is found in the folded text at or after the
 * cursor spans the characters that produced the match (a character split between tokens goes to
 * the first of them); a leading/trailing space in its surface takes in adjacent whitespace, and
 * combining marks or joiners right after it stay with it. Tokens that cannot be placed wait and
 * share the text between the previous and the next placed token, one word each.
 */
export function alignSurfaces(text: string, surfaces: readonly (string | null)[], starts: Int32Array, ends: Int32Array): void {
  const folded = foldText(text);
  const waiting: number[] = [];
  let cursorOffset = 0;
  let cursorKey = 0;

  for (let i = 0; i < surfaces.length; i++) {
    const surface = surfaces[i];
    if (surface === null) {
      waiting.push(i);
      continue;
    }
    const key = foldString(surface);
    if (key.length === 0) {
      // Whitespace or control characters only: take them literally if they are next, else cover nothing.
      if (waiting.length > 0) {
        waiting.push(i);
      } else if (surface.length > 0 && text.startsWith(surface, cursorOffset)) {
        starts[i] = cursorOffset;
        cursorOffset += surface.length;
        ends[i] = cursorOffset;
      } else {
        starts[i] = ends[i] = cursorOffset;
      }
      continue;
    }
    const at = folded.keys.startsWith(key, cursorKey) ? cursorKey : folded.keys.indexOf(key, cursorKey);
    if (at < 0) {
      waiting.push(i);
      continue;
    }
    let start = Math.max(folded.keyStart[at], cursorOffset);
    if (WHITESPACE.test(surface[0])) {
      while (start > cursorOffset && WHITESPACE.test(text[start - 1])) start--;
    }
    shareAmongWaiting(text, waiting, cursorOffset, start, starts, ends);
    let end = Math.max(folded.keyEnd[at + key.length - 1], start);
    while (end < text.length && continuesCluster(text.codePointAt(end) as number)) {
      end += (text.codePointAt(end) as number) > 0xffff ? 2 : 1;
    }
    if (WHITESPACE.test(surface[surface.length - 1])) {
      while (end < text.length && WHITESPACE.test(text[end])) end++;
    }
    starts[i] = start;
    ends[i] = end;
    cursorOffset = end;
    cursorKey = at + key.length;
  }
  shareAmongWaiting(text, waiting, cursorOffset, text.length, starts, ends);
}

/**
 * Gives the tokens waiting to be placed the text [from, to): one whitespace-separated word each, the
 * last one taking all remaining words; tokens beyond the number of words get an empty span.
 * Empties `waiting`.
 */
function shareAmongWaiting(text: string, waiting: number[], from: number, to: number, starts: Int32Array, ends: Int32Array): void {
  if (waiting.length === 0) return;
  let position = from;
  let lastWordEnd = from;
  for (let w = 0; w < waiting.length; w++) {
    while (position < to && WHITESPACE.test(text[position])) position++;
    const token = waiting[w];
    if (position >= to) {
      starts[token] = ends[token] = lastWordEnd;
      continue;
    }
    const wordStart = position;
    if (w === waiting.length - 1) {
      position = to;
      while (position > wordStart && WHITESPACE.test(text[position - 1])) position--;
    } else {
      while (position < to && !WHITESPACE.test(text[position])) position++;
    }
    starts[token] = wordStart;
    ends[token] = position;
    lastWordEnd = position;
  }
  waiting.length = 0;
}
