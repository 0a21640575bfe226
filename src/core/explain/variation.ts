// Applying a RunVariation before a run: the token exchange of the "swap" lesson, and a readable
// description of what was varied (for headers, notes and the CLI).
import { InputError } from '../errors';
import type { TokenSpan } from '../types';
import type { HeadRef, RunVariation } from './types';

/**
 * The order of a swapped run: order[p] = the original index of the token at position p. Swapping
 * tokens i and j exchanges their character groups: a token and the continuation tokens after it
 * that hold the rest of its character's bytes (text '' in byte-level BPE), so 我爱你 becomes 爱我你
 * even when each character is three byte tokens.
 */
export function swapOrder(tokens: readonly TokenSpan[], swap: readonly [number, number] | undefined): number[] {
  const identity = tokens.map((_, index) => index);
  if (swap === undefined) return identity;
  for (const index of swap) {
    if (!Number.isInteger(index) || index < 0 || index >= tokens.length) {
      throw new InputError(`Cannot swap token ${index}: the input has tokens 0–${tokens.length - 1}.`);
    }
  }
  const groupEnd = (start: number) => {
    let end = start + 1;
    while (end < tokens.length && tokens[end].text === '' && tokens[end].label === undefined) end++;
    return end;
  };
  const [first, second] = swap[0] < swap[1] ? swap : [swap[1], swap[0]];
  const firstEnd = groupEnd(first);
  if (first === second || second < firstEnd) throw new InputError(`Tokens ${swap[0]} and ${swap[1]} are parts of one character: pick two different characters to swap.`);
  const secondEnd = groupEnd(second);
  return [
    ...identity.slice(0, first),
    ...identity.slice(second, secondEnd),
    ...identity.slice(firstEnd, second),
    ...identity.slice(first, firstEnd),
    ...identity.slice(secondEnd),
  ];
}

/** The tokens in a swapped run's order (each keeps its own text and offsets, so it still points at its characters). */
export function swapTokens(tokens: readonly TokenSpan[], swap: readonly [number, number] | undefined): TokenSpan[] {
  return swapOrder(tokens, swap).map((index) => tokens[index]);
}

/** "positions off, tokens 0 and 1 swapped, L0 H1 off"; '' for the plain run. */
export function describeVariation(variation: RunVariation | undefined): string {
  if (!variation) return '';
  const parts: string[] = [];
  if (variation.positions === false) parts.push('positions off');
  if (variation.swap) parts.push(`tokens ${variation.swap[0]} and ${variation.swap[1]} swapped`);
  if (variation.ablate && variation.ablate.length > 0) parts.push(`${variation.ablate.map(headName).join(', ')} off`);
  return parts.join(', ');
}

export function headName(head: HeadRef): string {
  return `L${head.layer} H${head.head}`;
}

/** True when the variation changes nothing. */
export function isPlainRun(variation: RunVariation | undefined): boolean {
  return describeVariation(variation) === '';
}
