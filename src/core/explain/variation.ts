// Applying a RunVariation before a run: the token exchange of the "swap" lesson, and a readable
// description of what was varied (for headers, notes and the CLI).
import { InputError } from '../errors';
import type { TokenSpan } from '../types';
import type { HeadRef, RunVariation } from './types';

/** The tokens with i and j exchanged (each keeps its own text and offsets, so it still points at its characters). */
export function swapTokens(tokens: readonly TokenSpan[], swap: readonly [number, number] | undefined): TokenSpan[] {
  const out = [...tokens];
  if (swap === undefined) return out;
  const [i, j] = swap;
  for (const index of [i, j]) {
    if (!Number.isInteger(index) || index < 0 || index >= tokens.length) {
      throw new InputError(`Cannot swap token ${index}: the input has tokens 0–${tokens.length - 1}.`);
    }
  }
  [out[i], out[j]] = [out[j], out[i]];
  return out;
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
