// What the panel says about an attention group: where its queries and keys come from, how its
// heads share K/V (grouped-query attention), and which (layer, head) of it to show after a switch.

import type { TokenSequence } from '../src/core/types';
import { MEAN_HEAD, type GroupInfo } from '../src/shared/protocol';
import { t } from './l10n';

/** The names the panel shows for the two token sequences (headings: "Source", "Target"). */
export function sequenceTitle(sequence: TokenSequence): string {
  return sequence === 'target' ? t('Target') : t('Source');
}

/** A sequence's name inside a sentence ("source", "target"). */
export function sequenceName(sequence: TokenSequence): string {
  return sequence === 'target' ? t('target') : t('source');
}

/** The group's label in the display language (core names groups in English: src/core/attentionGroups.ts). */
export function groupLabel(group: Pick<GroupInfo, 'label'>): string {
  switch (group.label) {
    case 'Self-attention':
      return t('Self-attention');
    case 'Masked self-attention':
      return t('Masked self-attention');
    case 'Encoder self-attention':
      return t('Encoder self-attention');
    case 'Decoder masked self-attention':
      return t('Decoder masked self-attention');
    case 'Decoder self-attention':
      return t('Decoder self-attention');
    case 'Cross-attention':
      return t('Cross-attention');
    default:
      return group.label;
  }
}

/** "Q, K, V: source" when queries and keys are one sequence, else "Q: target · K/V: source". */
export function groupSources(group: Pick<GroupInfo, 'queries' | 'keys'>): string {
  return group.queries === group.keys
    ? t('Q, K, V: {0}', sequenceName(group.queries))
    : t('Q: {0} · K/V: {1}', sequenceName(group.queries), sequenceName(group.keys));
}

/** "Masked self-attention · Q, K, V: source". */
export function describeGroup(group: Pick<GroupInfo, 'label' | 'queries' | 'keys'>): string {
  return `${groupLabel(group)} · ${groupSources(group)}`;
}

/** The K/V head a query head reads (src/core/attentionGroups.ts, which imports nothing heavy). */
export { kvGroupOf } from '../src/core/attentionGroups';

/** The group's K/V head count when it uses grouped-query attention (fewer K/V than query heads). */
export function kvHeadsOf(group: Pick<GroupInfo, 'dims' | 'kvHeads'>): number | undefined {
  const kvHeads = group.kvHeads;
  return kvHeads !== undefined && kvHeads < group.dims[1] ? kvHeads : undefined;
}

/** "8 query heads share 2 K/V heads", or undefined without grouped-query attention. */
export function describeKvSharing(group: Pick<GroupInfo, 'dims' | 'kvHeads'>): string | undefined {
  const kvHeads = kvHeadsOf(group);
  if (kvHeads === undefined) return undefined;
  const heads = group.dims[1];
  return kvHeads === 1 ? t('{0} query heads share 1 K/V head', heads) : t('{0} query heads share {1} K/V heads', heads, kvHeads);
}

/** Why a group's kvHeads cannot be right for H query heads, or undefined when it is fine (or absent). */
export function kvHeadsProblem(kvHeads: unknown, heads: number): string | undefined {
  if (kvHeads === undefined) return undefined;
  if (typeof kvHeads !== 'number' || !Number.isInteger(kvHeads) || kvHeads < 1 || kvHeads > heads || heads % kvHeads !== 0) {
    return t('kvHeads must divide the {0} query heads, got {1}', heads, JSON.stringify(kvHeads));
  }
  return undefined;
}

/** The (layer, head) to show in a group of `layers` × `heads`: the same when it exists, else clamped. */
export function clampView(layer: number, head: number, layers: number, heads: number): { layer: number; head: number } {
  return {
    layer: Math.max(0, Math.min(layers - 1, layer)),
    head: head === MEAN_HEAD ? MEAN_HEAD : Math.max(0, Math.min(heads - 1, head)),
  };
}

/** Steps through groups 0..G-1, wrapping at both ends. */
export function stepGroup(group: number, groups: number, delta: number): number {
  return (((group + delta) % groups) + groups) % groups;
}
