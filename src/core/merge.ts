// Character and word views of a run: tokens merged into units, with the attention merged to match.
//
// Units. A unit is a run of consecutive tokens; its span is the union of its tokens' spans (they are
// ordered and contiguous, so [first start, last end)), its text the inspected text over that span.
//   chars  A token that covers no text of its own (an empty span, no label: a byte-level token that
//          holds only the continuation bytes of a character another token started, see the
//          tokenizer's offset rule) joins the unit before it. Every other token starts a unit, so a
//          sequence of whole-character tokens is left as it is (one unit per token). A token whose
//          bytes straddle two characters is assigned by the offset rule to the character it starts,
//          so such a unit can hold a few bytes of the character before it: units are whole tokens.
//   words  The character units, then joined into whitespace- and punctuation-delimited runs: a unit
//          that starts with a word character (letter, digit, mark, _; or an apostrophe followed by one,
//          as in "it's") joins the unit before it when that one ends with a word character right where
//          this one starts. A leading space stays with its word (GPT-2's " fox" is one word unit).
//          Chinese and Japanese characters are one word each: segmenting them needs a dictionary
//          segmenter (e.g. @node-rs/jieba), whose native binaries for every platform would more than
//          double the VSIX for a view that is a convenience, so there is none.
//   Special tokens the tokenizer inserted ([CLS], <pad>, </s>: a label) are always units of their own.
//
// Attention. For unit queries U and unit keys V:  merged[U][V] = mean over t in U of (sum over s in V
// of a[t][s]). Summing over the merged keys keeps each row a distribution (rows still sum to 1);
// averaging over the merged queries weighs each of a unit's tokens alike. Units are contiguous, so a
// causal map stays causal (a unit never sees a later unit). Softmax inputs (scores) cannot be merged
// this way and are dropped.

import type { AttentionGroup, AttentionResult, TokenSpan } from './types';

export type MergeMode = 'chars' | 'words';
export const MERGE_MODES: readonly MergeMode[] = ['chars', 'words'];

/** A merged unit: a TokenSpan over the union of its tokens' spans, plus which tokens it holds. */
export interface MergedUnit extends TokenSpan {
  /** Indices of the original tokens, ascending and consecutive. */
  tokens: number[];
  /** The vocabulary ids of those tokens (`id` is ids[0] when the unit is one token, else -1). */
  ids: number[];
}

/** An AttentionResult whose tokens (and target tokens) are units and whose every group is merged. */
export type MergedResult = AttentionResult & {
  merge: MergeMode;
  tokens: MergedUnit[];
  target?: AttentionResult['target'] & { tokens: MergedUnit[] };
  /** The result the units were merged from. */
  unmerged: AttentionResult;
};

/** The rule in one line, for the CLI (the panel has its own, localised). */
export const MERGE_RULE = "attention summed over a unit's keys, averaged over its queries; rows still sum to 1";

export function isMergeMode(value: unknown): value is MergeMode {
  return value === 'chars' || value === 'words';
}

/** Chinese and Japanese scripts, which write words without spaces: one character per word here. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]/u;
const WORD = /[\p{L}\p{N}\p{M}_]/u;

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && WORD.test(char) && !UNSPACED.test(char);
}

function firstChar(text: string): string | undefined {
  const code = text.codePointAt(0);
  return code === undefined ? undefined : String.fromCodePoint(code);
}

function lastChar(text: string): string | undefined {
  if (text === '') return undefined;
  const chars = Array.from(text.slice(-2));
  return chars[chars.length - 1];
}

/** Whether a unit of text `next` continues the word that `previous` ends (see the header). */
function continuesWord(previous: string, next: string): boolean {
  if (!isWordChar(lastChar(previous))) return false;
  const first = firstChar(next);
  if (isWordChar(first)) return true;
  return (first === "'" || first === '’') && isWordChar(firstChar(next.slice(1)));
}

function isSpecial(token: TokenSpan): boolean {
  return token.label !== undefined;
}

/**
 * Groups tokens into units (see the header). `text` is the text the offsets index; units take their
 * text from it (without it, the concatenation of their tokens' texts).
 */
export function mergeUnits(tokens: readonly TokenSpan[], mode: MergeMode, text?: string): MergedUnit[] {
  const groups: number[][] = [];
  tokens.forEach((token, index) => {
    const previous = groups[groups.length - 1];
    const previousToken = previous && tokens[previous[previous.length - 1]];
    const joinsCharacter = previous !== undefined && !isSpecial(token) && !isSpecial(previousToken) && token.start === token.end;
    if (joinsCharacter) previous.push(index);
    else groups.push([index]);
  });
  const units = groups.map((group) => makeUnit(tokens, group, text));
  if (mode === 'chars') return units;
  const words: MergedUnit[] = [];
  for (const unit of units) {
    const previous = words[words.length - 1];
    if (previous && previous.label === undefined && unit.label === undefined && previous.end === unit.start && continuesWord(previous.text, unit.text)) {
      words[words.length - 1] = makeUnit(tokens, [...previous.tokens, ...unit.tokens], text);
    } else {
      words.push(unit);
    }
  }
  return words;
}

function makeUnit(tokens: readonly TokenSpan[], group: number[], text: string | undefined): MergedUnit {
  const members = group.map((index) => tokens[index]);
  const start = Math.min(...members.map((token) => token.start));
  const end = Math.max(...members.map((token) => token.end));
  const ids = members.map((token) => token.id);
  const label = members.length === 1 ? members[0].label : undefined;
  return {
    id: ids.length === 1 ? ids[0] : -1,
    text: text !== undefined && label === undefined ? text.slice(start, end) : members.map((token) => token.text).join(''),
    start,
    end,
    ...(label !== undefined ? { label } : {}),
    tokens: [...group],
    ids,
  };
}

/**
 * Merges a flat [L, H, Tq, Tk] attention tensor into [L, H, Uq, Uk]: keys summed over each key unit,
 * queries averaged over each query unit (float64 sums, float32 out).
 */
export function mergeAttention(attention: Float32Array, dims: readonly [number, number, number, number], queryUnits: readonly Pick<MergedUnit, 'tokens'>[], keyUnits: readonly Pick<MergedUnit, 'tokens'>[]): Float32Array {
  const [L, H, Tq, Tk] = dims;
  const Uq = queryUnits.length;
  const Uk = keyUnits.length;
  if (queryUnits.reduce((n, unit) => n + unit.tokens.length, 0) !== Tq || keyUnits.reduce((n, unit) => n + unit.tokens.length, 0) !== Tk) {
    throw new RangeError(`the units cover ${Tq}×${Tk} tokens only if every token is in exactly one unit`);
  }
  const keyUnitOf = new Int32Array(Tk);
  keyUnits.forEach((unit, u) => unit.tokens.forEach((token) => (keyUnitOf[token] = u)));
  const merged = new Float32Array(L * H * Uq * Uk);
  const row = new Float64Array(Uk);
  for (let map = 0; map < L * H; map++) {
    const source = map * Tq * Tk;
    const target = map * Uq * Uk;
    for (let u = 0; u < Uq; u++) {
      row.fill(0);
      const members = queryUnits[u].tokens;
      for (const t of members) {
        const offset = source + t * Tk;
        for (let s = 0; s < Tk; s++) row[keyUnitOf[s]] += attention[offset + s];
      }
      for (let v = 0; v < Uk; v++) merged[target + u * Uk + v] = row[v] / members.length;
    }
  }
  return merged;
}

/** The run with tokens (and target tokens) merged into units and every attention group merged to match. */
export function mergeResult(result: AttentionResult, mode: MergeMode): MergedResult {
  const unmerged = 'unmerged' in result ? (result as MergedResult).unmerged : result;
  const tokens = mergeUnits(unmerged.tokens, mode, unmerged.text);
  const target = unmerged.target && { ...unmerged.target, tokens: mergeUnits(unmerged.target.tokens, mode, unmerged.target.text) };
  const unitsOf = (sequence: AttentionGroup['queries']) => (sequence === 'target' && target ? target.tokens : tokens);
  const groups = unmerged.groups.map((group): AttentionGroup => {
    const queries = unitsOf(group.queries);
    const keys = unitsOf(group.keys);
    const { scores: _scores, ...rest } = group;
    return {
      ...rest,
      dims: [group.dims[0], group.dims[1], queries.length, keys.length],
      attention: mergeAttention(group.attention, group.dims, queries, keys),
    };
  });
  const first = groups[0];
  const { target: _target, ...rest } = unmerged;
  return {
    ...rest,
    tokens,
    ...(target ? { target } : {}),
    dims: first ? first.dims : [unmerged.dims[0], unmerged.dims[1], tokens.length, tokens.length],
    attention: first ? first.attention : mergeAttention(unmerged.attention, unmerged.dims, tokens, tokens),
    groups,
    merge: mode,
    unmerged,
  };
}

/** The original token a merged query stands for in an explanation: the last token of the unit. */
export function lastTokenOf(unit: Pick<MergedUnit, 'tokens'>): number {
  return unit.tokens[unit.tokens.length - 1];
}
