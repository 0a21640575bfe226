// The questions the panel asks about a run's attention, answered next to the tensor. Whoever holds
// the [L, H, Tq, Tk] groups (the extension host for the built-in backend, the onnxruntime child
// process for the ONNX backend: heldAttention.ts) calls answerAttentionQuery, so only the answer,
// never the tensor, has to travel. Queries and answers are plain data (structured-cloneable), and
// src/shared/replies.ts turns the webview's requests into queries and the answers into replies.

import { attentionFlow } from './analysis/flow';
import { headRolesOf, headRolesOfYielding, type HeadRoleScores } from './analysis/headRoles';
import { attentionRollout, crossAttentionRollout } from './analysis/rollout';
import { headView, meanOfHeads, tokenRows, type AttentionDims } from './attentionViews';
import { poolHeadWindow, quantizeWeights, wholeWindow, type BlockLayout, type CellEncoding, type CellWindow } from './attentionWindow';
import { InputError } from './errors';
import { binStart, poolThumbnails, poolThumbnailsYielding, thumbnailBin } from './thumbnails';
import type { AttentionGroup, AttentionResult } from './types';

export { binStart, poolThumbnails, thumbnailBin };

/**
 * One group of a run as its holder keeps it. causal: keys after the query are masked (square maps
 * only). tokenIds: the token ids of a self-attention group's sequence (queries = keys), for head
 * roles; absent for cross-attention (roles are then null). name: for the encoder–decoder cross rollout.
 */
export interface HeldGroup {
  attention: Float32Array;
  dims: AttentionDims;
  causal?: boolean;
  tokenIds?: readonly number[];
  name?: string;
}

/**
 * How the asker wants a head shaped (the webview's requestHead fields other than its address): a
 * window of cells, at most maxRows × maxCols cells (max-pooled), and how pooled cells may travel.
 * Absent: the whole map, exact. answerHead reads them next to the tensor (attentionWindow.ts).
 */
export interface HeadShape {
  window?: CellWindow;
  maxRows?: number;
  maxCols?: number;
  encoding?: CellEncoding;
}

/** One head of a layer ([Tq, Tk], or a window of it, pooled), or the mean of the layer's heads. */
export interface HeadQuery {
  kind: 'head';
  group: number;
  layer: number;
  head: number | 'mean';
  shape?: HeadShape;
}

/** A head as answerHead shapes it: `data` is [rows, cols], float32 or quantised (encoding). */
export interface HeadAnswer extends BlockLayout {
  kind: 'head';
  data: Float32Array | Uint16Array | Uint8Array;
}

export type AttentionQuery =
  | HeadQuery
  /** What one query token attends to in every head of a layer: [H, Tk]. */
  | { kind: 'tokenRows'; group: number; layer: number; token: number }
  /** Every head pooled to at most size × size block means: [L, H, rows, columns]. */
  | { kind: 'thumbnails'; group: number; size: number }
  /** Head-role scores of every head of a self-attention group (null for cross-attention). */
  | { kind: 'roles'; group: number }
  /** Rollout or flow over the layers: [Tq, Tk]; flow refuses more than flowMaxTokens tokens. */
  | { kind: 'aggregate'; group: number; method: 'rollout' | 'flow'; flowMaxTokens: number }
  /** Computes and caches a layer's mean of heads (layerMeanOf) before the panel asks for it; answers nothing else. */
  | { kind: 'prepareLayerMean'; group: number; layer: number };

export type AttentionAnswer =
  | HeadAnswer
  | { kind: 'tokenRows'; data: Float32Array }
  | { kind: 'thumbnails'; rows: number; columns: number; data: Float32Array }
  | { kind: 'roles'; roles: HeadRoleScores[] | null }
  /** error: why there is no aggregate (cross-attention flow, too many tokens); data is then empty. */
  | { kind: 'aggregate'; data: Float32Array; error?: string }
  | { kind: 'prepareLayerMean' };

export type AnswerOf<Q extends AttentionQuery> = Extract<AttentionAnswer, { kind: Q['kind'] }>;

/**
 * The answer to a query from the groups of one run, or undefined when the run has no such group.
 * A layer, head or token out of range throws a RangeError.
 */
export function answerAttentionQuery<Q extends AttentionQuery>(query: Q, groups: readonly HeldGroup[]): AnswerOf<Q> | undefined;
export function answerAttentionQuery(query: AttentionQuery, groups: readonly HeldGroup[]): AttentionAnswer | undefined {
  const group = groups[query.group];
  if (!group) return undefined;
  const { attention, dims } = group;
  switch (query.kind) {
    case 'head':
      return answerHead(query, group);
    case 'tokenRows':
      return { kind: 'tokenRows', data: tokenRows(attention, dims, query.layer, query.token) };
    case 'thumbnails':
      return { kind: 'thumbnails', ...poolThumbnails(attention, dims, query.size, group.causal === true) };
    case 'roles': {
      const input = rolesInput(group);
      return { kind: 'roles', roles: input && headRolesOf(attention, input.dims, input.ids) };
    }
    case 'prepareLayerMean':
      layerMeanOf(group, query.layer);
      return { kind: 'prepareLayerMean' };
    case 'aggregate':
      // An InputError (cross-attention flow, flow past its token limit) becomes the answer's error.
      try {
        const data =
          group.name === 'cross' && query.method === 'rollout' ? crossRolloutOf(groups) : query.method === 'flow' ? attentionFlow(attention, dims, query.flowMaxTokens) : attentionRollout(attention, dims);
        return { kind: 'aggregate', data };
      } catch (error) {
        return { kind: 'aggregate', data: new Float32Array(0), error: error instanceof Error ? error.message : String(error) };
      }
  }
}

/** What head roles read of a group: a self-attention map of at least two tokens with its token ids; null otherwise (cross-attention). */
function rolesInput(group: HeldGroup): { dims: [number, number, number]; ids: readonly number[] } | null {
  const [L, H, Tq, Tk] = group.dims;
  const ids = group.tokenIds;
  return ids && Tq === Tk && Tq >= 2 && ids.length === Tq ? { dims: [L, H, Tq], ids } : null;
}

/**
 * answerAttentionQuery for a holder that answers other queries meanwhile (the extension host): the
 * queries that read every weight — head roles and thumbnails, seconds at 4096 tokens — are computed
 * in pieces with a yield to the event loop between them (headRolesOfYielding, poolThumbnailsYielding),
 * equal to answerAttentionQuery's; the others at once. Undefined also once stillWanted turns false
 * (the run was released).
 */
export async function answerAttentionQueryYielding<Q extends AttentionQuery>(query: Q, groups: readonly HeldGroup[], stillWanted: () => boolean): Promise<AnswerOf<Q> | undefined>;
export async function answerAttentionQueryYielding(query: AttentionQuery, groups: readonly HeldGroup[], stillWanted: () => boolean): Promise<AttentionAnswer | undefined> {
  const group = groups[query.group];
  if (!group || (query.kind !== 'roles' && query.kind !== 'thumbnails')) return answerAttentionQuery(query, groups);
  if (query.kind === 'thumbnails') {
    const pooled = await poolThumbnailsYielding(group.attention, group.dims, query.size, group.causal === true, stillWanted);
    return pooled && { kind: 'thumbnails', ...pooled };
  }
  const input = rolesInput(group);
  if (!input) return { kind: 'roles', roles: null };
  const roles = await headRolesOfYielding(group.attention, input.dims, input.ids, stillWanted);
  return roles && { kind: 'roles', roles };
}

/**
 * One head or the layer mean: the whole [Tq, Tk] map exact, or a window of it max-pooled to at most
 * maxRows × maxCols cells (attentionWindow.ts), quantised when the asker allows it. The answer owns
 * its data (never a view into the held tensor): it is posted or cloned away, and a view would drag
 * the whole tensor along.
 */
export function answerHead(query: HeadQuery, group: HeldGroup): HeadAnswer {
  const { attention, dims } = group;
  const { window, maxRows, maxCols, encoding: allowed } = query.shape ?? {};
  const causal = group.causal === true;
  // The layer mean is read from its cache ([1, 1, Tq, Tk], head 0): pooling the mean equals pooling
  // the float32 head sums and dividing once (poolHeadWindow), so cached and uncached answers agree.
  const mean = query.head === 'mean' ? layerMeanOf(group, query.layer) : undefined;
  if (window === undefined && maxRows === undefined && maxCols === undefined) {
    // The whole map, exact: what every consumer but the zoomable heatmap asks for.
    const data = mean ? mean.slice() : headView(attention, dims, query.layer, query.head as number).slice();
    return { kind: 'head', window: wholeWindow(dims[2], dims[3]), rows: dims[2], cols: dims[3], rowStep: 1, colStep: 1, encoding: 'float32', data };
  }
  const pooled = mean
    ? poolHeadWindow(mean, [1, 1, dims[2], dims[3]], 0, 0, window, maxRows, maxCols, causal)
    : poolHeadWindow(attention, dims, query.layer, query.head as number, window, maxRows, maxCols, causal);
  // Only pooled overviews are quantised; exact cells (tooltips, the zoomed heatmap) stay float32.
  const encoding = pooled.rowStep > 1 || pooled.colStep > 1 ? (allowed ?? 'float32') : 'float32';
  const data = encoding === 'float32' ? pooled.data : quantizeWeights(pooled.data, encoding);
  const { window: cells, rows, cols, rowStep, colStep } = pooled;
  return { kind: 'head', window: cells, rows, cols, rowStep, colStep, encoding, data };
}

/**
 * Layer means [Tq, Tk] per held tensor, computed on first use: a mean overview at 4096 tokens with
 * 8 heads would otherwise read 8 × 64 MB each time. Keyed by the tensor itself, so the means are
 * freed with it (a released run drops its tensors; nothing else keeps them).
 */
const layerMeans = new WeakMap<Float32Array, Map<number, Float32Array>>();

/** [L, H, Tq, Tk] -> [Tq, Tk]: the mean of a layer's heads (attentionViews.meanOfHeads), cached next to the tensor. Callers must not modify it. */
export function layerMeanOf(group: Pick<HeldGroup, 'attention' | 'dims' | 'causal'>, layer: number): Float32Array {
  let means = layerMeans.get(group.attention);
  if (!means) layerMeans.set(group.attention, (means = new Map()));
  let mean = means.get(layer);
  if (!mean) means.set(layer, (mean = meanOfHeads(group.attention, group.dims, layer, group.causal === true)));
  return mean;
}

/** Encoder–decoder: the cross-attention composed with the encoder's and the decoder's rollouts [Tt, Ts] (analysis/rollout.ts). */
function crossRolloutOf(groups: readonly HeldGroup[]): Float32Array {
  const named = (name: string) => groups.find((group) => group.name === name);
  const [encoder, decoder, cross] = [named('encoder'), named('decoder'), named('cross')];
  if (!encoder || !decoder || !cross) throw new InputError('Cross rollout needs the encoder, decoder and cross-attention groups of one run.');
  return crossAttentionRollout(encoder, decoder, cross);
}

/** A run's groups as the queries need them: self-attention groups carry their sequence's token ids (head roles). */
export function heldGroupsOf(result: Pick<AttentionResult, 'groups' | 'tokens' | 'target'>): HeldGroup[] {
  const ids = (sequence: 'source' | 'target') => (sequence === 'target' ? result.target?.tokens : result.tokens)?.map((token) => token.id);
  return result.groups.map((group: AttentionGroup) => (group.kind !== 'cross' && group.queries === group.keys ? { ...group, tokenIds: ids(group.queries) } : group));
}
