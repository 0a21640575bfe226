// `run --roles` and `run --aggregate`: head roles on the current text and rollout / flow, as JSON
// fields and as text for the report.
import { topAttended } from '../core/attentionViews';
import { ROLE_EXPLANATIONS, type HeadRole, type HeadRoleScores } from '../core/analysis/headRoles';
import { attentionRollout, crossAttentionRollout } from '../core/analysis/rollout';
import { attentionFlow } from '../core/analysis/flow';
import type { AttentionResult, TokenSpan } from '../core/types';
import { float32ToBase64 } from './format';

export type AggregateKind = 'rollout' | 'flow';
export const AGGREGATE_KINDS: readonly AggregateKind[] = ['rollout', 'flow'];

/** One aggregate matrix: [Tq, Tk], row = output token, column = input token, rows sum to 1. */
export interface Aggregate {
  /** What the rows and columns index: the run's tokens, or (crossRollout) target rows over source columns. */
  queries: 'source' | 'target';
  keys: 'source' | 'target';
  dims: [number, number];
  data: Float32Array;
}

/**
 * rollout / flow of the first group (decoder- or encoder-only: the self-attention; encoder–decoder:
 * the encoder), and for encoder–decoder models with rollout also crossRollout = decoder rollout ·
 * mean cross-attention · encoder rollout [Tt, Ts] (core/analysis/rollout.ts).
 */
export function computeAggregates(result: AttentionResult, kinds: readonly AggregateKind[]): Record<string, Aggregate> {
  const first = result.groups[0];
  const T = first.dims[2];
  const aggregates: Record<string, Aggregate> = {};
  for (const kind of kinds) {
    const data = kind === 'rollout' ? attentionRollout(first.attention, first.dims) : attentionFlow(first.attention, first.dims);
    aggregates[kind] = { queries: 'source', keys: 'source', dims: [T, T], data };
  }
  const encoder = result.groups.find((group) => group.name === 'encoder');
  const decoder = result.groups.find((group) => group.name === 'decoder');
  const cross = result.groups.find((group) => group.name === 'cross');
  if (kinds.includes('rollout') && encoder && decoder && cross) {
    aggregates.crossRollout = { queries: 'target', keys: 'source', dims: [cross.dims[2], cross.dims[3]], data: crossAttentionRollout(encoder, decoder, cross) };
  }
  return aggregates;
}

export function aggregatesJson(aggregates: Record<string, Aggregate>): Record<string, { queries: string; keys: string; dims: [number, number]; dtype: 'float32'; data: string }> {
  return Object.fromEntries(
    Object.entries(aggregates).map(([name, { queries, keys, dims, data }]) => [name, { queries, keys, dims, dtype: 'float32' as const, data: float32ToBase64(data) }]),
  );
}

const DESCRIPTIONS: Record<string, string> = {
  rollout: 'Attention rollout (layer-mean attention with the residual as 0.5·I + 0.5·A, rows renormalised, multiplied through the layers)',
  flow: 'Attention flow (max flow through the layer graph, Abnar & Zuidema 2020; rows normalised to sum to 1)',
  crossRollout: 'Cross rollout (decoder rollout · mean cross-attention · encoder rollout)',
};

/** For each aggregate: the last output token's top input tokens. */
export function aggregatesText(aggregates: Record<string, Aggregate>, result: AttentionResult, topK = 5): string {
  const lines: string[] = [];
  const sequence = (which: 'source' | 'target'): readonly TokenSpan[] => (which === 'target' && result.target ? result.target.tokens : result.tokens);
  for (const [name, { queries, keys, dims, data }] of Object.entries(aggregates)) {
    const [Tq, Tk] = dims;
    const last = Tq - 1;
    const top = topAttended(data.subarray(last * Tk, last * Tk + Tk), topK);
    const named = top.map(({ token, weight }) => `${shown(sequence(keys)[token])}#${token} ${weight.toFixed(3)}`).join(', ');
    lines.push(`${DESCRIPTIONS[name] ?? name}: last token ${shown(sequence(queries)[last])} draws on (top ${topK}): ${named}`);
  }
  return lines.join('\n');
}

/** A table of every head's role scores with the one-line explanations under it. */
export function rolesText(roles: readonly HeadRoleScores[], result: AttentionResult, group: number): string {
  const number = (value: number | null, digits = 3) => (value === null ? '–' : value.toFixed(digits));
  const lines = [
    `Head roles on this text (${result.groups[group].label}):`,
    '| layer | head | previous token | first token | same token | induction | entropy (nats) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...roles.map((r) => `| ${r.layer} | ${r.head} | ${number(r.previousToken)} | ${number(r.firstToken)} | ${number(r.sameToken)} | ${number(r.induction)} | ${number(r.entropy, 2)} |`),
  ];
  if (roles.some((r) => r.induction === null)) lines.push('(– : no token repeats in this text, so same-token and induction have nothing to measure.)');
  for (const role of Object.keys(ROLE_EXPLANATIONS) as HeadRole[]) lines.push(`  ${ROLE_EXPLANATIONS[role]}`);
  return lines.join('\n');
}

function shown(token: TokenSpan | undefined): string {
  return token === undefined ? '?' : (token.label ?? JSON.stringify(token.text));
}
