// The step view's and the compare view's requests on a merged session (characters or words,
// core/merge.ts): their indices name units, but explanations and varied runs work on the model's
// tokens. A query unit is explained by its last token (the one that has read the whole unit); a swap
// exchanges the characters that units start with, so a unit of several characters (a word) cannot be
// swapped. No vscode here: stepRequests.ts calls these through StepRun.
import { InputError } from '../core/errors';
import { lastTokenOf, type MergedResult, type MergedUnit } from '../core/merge';
import type { AttentionSummary } from '../core/heldAttention';
import type { TokenSequence } from '../core/types';

export interface UnitMapping {
  /** The token that explains query `unit` of group `group`. */
  queryToken(group: number, unit: number): number;
  /** The tokens a swap of two units exchanges (throws InputError when a unit is not one character). */
  swapTokens(swap: readonly [number, number]): [number, number];
}

/** The mapping for a run shown as units; undefined when its tokens are the model's own. */
export function unitMapping(result: AttentionSummary): UnitMapping | undefined {
  if (!('unmerged' in result)) return undefined;
  const tokens = (result as MergedResult).unmerged.tokens;
  const units = (sequence: TokenSequence) => ((sequence === 'target' ? result.target?.tokens : result.tokens) ?? []) as MergedUnit[];
  const unitOf = (sequence: TokenSequence, index: number): MergedUnit => {
    const unit = units(sequence)[index];
    if (!unit) throw new InputError(`There is no unit ${index}: this run has units 0–${units(sequence).length - 1}.`);
    return unit;
  };
  return {
    queryToken: (group, unit) => lastTokenOf(unitOf(result.groups[group]?.queries ?? 'source', unit)),
    swapTokens: (swap) =>
      swap.map((index) => {
        const unit = unitOf('source', index);
        // Tokens that start a character: the ones with text of their own (the rest hold continuation bytes).
        const characters = unit.tokens.filter((token) => tokens[token].end > tokens[token].start);
        if (characters.length > 1) throw new InputError(`A swap exchanges two characters, and unit ${index} “${unit.text}” has several: show characters or tokens to swap.`);
        return unit.tokens[0];
      }) as [number, number],
  };
}
