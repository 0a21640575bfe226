// The tokenizer offset rule as an oracle, and random Unicode text to check it with: shared by the
// tokenizer tests and the bundled model's tests, so every tokenizer we ship meets the same rule.
import * as assert from 'node:assert/strict';
import type { TokenSpan } from '../../src/core/types';

export function ranges(spans: readonly TokenSpan[]): Array<[number, number]> {
  return spans.map((span) => [span.start, span.end]);
}

/**
 * The offset rule written out directly, as an oracle: per code point, the token holding its first
 * byte covers it. tokenBytes[i] is how many UTF-8 bytes token i spells.
 */
export function expectedSpansFromByteCounts(text: string, tokenBytes: readonly number[]): Array<[number, number]> {
  // Byte offset -> UTF-16 offset of the first character boundary at or after it.
  const boundary: number[] = [];
  let unit = 0;
  for (const character of text) {
    const byteLength = new TextEncoder().encode(character).length;
    boundary.push(unit);
    for (let k = 1; k < byteLength; k++) boundary.push(unit + character.length);
    unit += character.length;
  }
  boundary.push(text.length);
  const expected: Array<[number, number]> = [];
  let at = 0;
  for (const count of tokenBytes) {
    expected.push([boundary[at], boundary[at + count]]);
    at += count;
  }
  assert.equal(at, boundary.length - 1, 'the tokens spell as many bytes as the text has');
  return expected;
}

/** Checks what must hold for every tokenization: ordered, non-overlapping, in bounds, text = slice. */
export function assertWellFormed(text: string, spans: readonly TokenSpan[]): void {
  let previousEnd = 0;
  for (const span of spans) {
    assert.ok(span.start >= previousEnd, `span [${span.start}, ${span.end}) starts before the previous one ended (${previousEnd}) in ${JSON.stringify(text)}`);
    assert.ok(span.end >= span.start && span.end <= text.length, `span [${span.start}, ${span.end}) out of bounds in ${JSON.stringify(text)}`);
    assert.equal(span.text, text.slice(span.start, span.end));
    previousEnd = span.end;
  }
}

/** Well formed, and the spans tile the whole text: each starts where the previous ended, the last ends at the end. */
export function assertCoversExactly(text: string, spans: readonly TokenSpan[]): void {
  assertWellFormed(text, spans);
  let at = 0;
  for (const span of spans) {
    assert.equal(span.start, at, `gap or overlap before [${span.start}, ${span.end}) in ${JSON.stringify(text)}`);
    at = span.end;
  }
  assert.equal(at, text.length, `the spans stop at ${at} of ${text.length} in ${JSON.stringify(text)}`);
  assert.equal(spans.map((span) => span.text).join(''), text);
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** A random string of length 0..60 UTF-16 units mixing scripts, whitespace, emoji and marks. */
export function randomText(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const inRange = (from: number, to: number): string => String.fromCodePoint(from + Math.floor(random() * (to - from + 1)));
  const pieces: Array<() => string> = [
    () => pick(['the', 'cat', 'sat', 'on', 'a', 'mat', 'Hello', 'world', "don't", "it's", 'x', 'ZZ']),
    () => inRange(0x21, 0x7e),
    () => String(Math.floor(random() * 10000)),
    () => pick([' ', ' ', '  ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u3000', '\n\n']),
    () => inRange(0x4e00, 0x9fff),
    () => pick(['我爱你', '日本語', 'カタカナ', '한국어']),
    () => pick(['👩‍👩‍👧', '🇫🇷', '🇯🇵', '👍🏽', '❤️', '🏳️‍🌈', '😀']),
    () => inRange(0x1f300, 0x1faff),
    () => pick(['a', 'e', 'o', 'n']) + inRange(0x300, 0x36f) + (random() < 0.3 ? inRange(0x300, 0x36f) : ''),
    () => inRange(0x5d0, 0x5ea) + inRange(0x5d0, 0x5ea),
    () => inRange(0x627, 0x64a) + inRange(0x627, 0x64a),
    () => inRange(0x1d400, 0x1d7ff),
    () => inRange(0x20000, 0x2a6df),
    () => inRange(0x80, 0x7ff),
  ];
  const length = Math.floor(random() * 61);
  let text = '';
  while (text.length < length) text += pick(pieces)();
  // Cut to the length without splitting a surrogate pair.
  let end = Math.min(length, text.length);
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}
