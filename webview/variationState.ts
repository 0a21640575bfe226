// The variation the Compare view sets up (positions off, a swap, heads switched off), shared with
// the Steps view so it can explain the varied run too. One per page; reset with every session.

import type { HeadRef, RunVariation } from '../src/core/explain/types';
import { t } from './l10n';

type Listener = (variation: RunVariation) => void;

export class VariationState {
  private current: RunVariation = {};
  private readonly listeners = new Set<Listener>();

  get variation(): RunVariation {
    return this.current;
  }

  set(variation: RunVariation): void {
    this.current = variation;
    for (const listener of [...this.listeners]) listener(variation);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const sharedVariation = new VariationState();

/** What the Steps view explains under: the variation without its swap (token indices stay the inspected run's). */
export function stepsVariation(variation: RunVariation): RunVariation | undefined {
  const result: RunVariation = {};
  if (variation.positions === false) result.positions = false;
  if (variation.ablate && variation.ablate.length > 0) result.ablate = variation.ablate;
  return Object.keys(result).length > 0 ? result : undefined;
}

/** "L0 H1" (the webview may not import src/core/explain/variation.ts, which the CLI's wording comes from). */
export function headName(head: HeadRef): string {
  return `L${head.layer} H${head.head}`;
}

/** "positions off, tokens 0 and 1 swapped, L0 H1 off"; '' for the plain run (as describeVariation in src/core/explain/variation.ts). */
export function describeVariation(variation: RunVariation | undefined): string {
  if (!variation) return '';
  const parts: string[] = [];
  if (variation.positions === false) parts.push(t('positions off'));
  if (variation.swap) parts.push(t('tokens {0} and {1} swapped', variation.swap[0], variation.swap[1]));
  if (variation.ablate && variation.ablate.length > 0) parts.push(t('{0} off', variation.ablate.map(headName).join(', ')));
  return parts.join(t(', '));
}
