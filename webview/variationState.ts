// The variation the Compare view sets up (positions off, a swap, heads switched off), shared with
// the Steps view so it can explain the varied run too. One per page; reset with every session.

import type { RunVariation } from '../src/core/explain/types';

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
