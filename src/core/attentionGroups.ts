// Builds the labelled attention groups of a run (see AttentionGroup in types.ts). The labels name
// what the panel and the CLI show: the kind of attention and where Q and K/V come from.
import type { AttentionGroup, TokenSequence } from './types';

type Dims = [number, number, number, number];

/** The one group of a decoder- or encoder-only model: queries and keys are both the inspected text. */
export function selfGroup(attention: Float32Array, dims: Dims, causal: boolean, kvHeads?: number): AttentionGroup {
  return {
    name: 'self',
    label: causal ? 'Masked self-attention' : 'Self-attention',
    kind: causal ? 'masked-self' : 'self',
    queries: 'source',
    keys: 'source',
    dims,
    attention,
    causal,
    ...(kvHeads !== undefined ? { kvHeads } : {}),
  };
}

const ENCODER_DECODER: Record<'encoder' | 'decoder' | 'cross', { label: string; queries: TokenSequence; keys: TokenSequence }> = {
  encoder: { label: 'Encoder self-attention', queries: 'source', keys: 'source' },
  decoder: { label: 'Decoder masked self-attention', queries: 'target', keys: 'target' },
  cross: { label: 'Cross-attention', queries: 'target', keys: 'source' },
};

/** One of an encoder–decoder model's three groups. `causal` is what the weights showed. */
export function encoderDecoderGroup(name: 'encoder' | 'decoder' | 'cross', attention: Float32Array, dims: Dims, causal: boolean, kvHeads?: number): AttentionGroup {
  const { label, queries, keys } = ENCODER_DECODER[name];
  return {
    name,
    label: name === 'decoder' && !causal ? 'Decoder self-attention' : label,
    kind: name === 'cross' ? 'cross' : causal ? 'masked-self' : 'self',
    queries,
    keys,
    dims,
    attention,
    causal,
    ...(kvHeads !== undefined ? { kvHeads } : {}),
  };
}

/** "Q: target · K/V: source": where a group's queries and keys/values come from. */
export function describeSources(group: Pick<AttentionGroup, 'queries' | 'keys'>): string {
  return `Q: ${group.queries} · K/V: ${group.keys}`;
}

/** The K/V head a query head reads in grouped-query attention: h / (H / KV), rounded down. */
export function kvGroupOf(head: number, heads: number, kvHeads: number): number {
  return Math.floor(head / (heads / kvHeads));
}
