// The host's answers to the webview's requests for attention, from the attention of one run. Plain
// TypeScript (no vscode): the extension's controller and the browser tests' fake host
// (test/browser/harness.ts) answer with this same code.

import { attentionFlow } from '../core/analysis/flow';
import { headRolesOf } from '../core/analysis/headRoles';
import { attentionRollout, crossAttentionRollout } from '../core/analysis/rollout';
import { InputError } from '../core/errors';
import { headView, meanOfHeads, tokenRows, type AttentionDims } from '../core/attentionViews';
import { MEAN_OF_HEADS, poolHeadWindow, quantizeWeights, wholeWindow } from '../core/attentionWindow';
import type { RunComparison } from '../core/explain/compare';
import { AGGREGATE_FLOW_MAX_TOKENS, MEAN_HEAD, toArrayBuffer, type ComparisonPayload, type HostReply, type HostRequest, type ReplyOf } from './protocol';

/** The attention a run holds: one [L, H, Tq, Tk] tensor per group, in the session's group order. */
export interface AttentionSource {
  sessionId: number;
  /** causal: keys after the query are masked (square maps only); thumbnails draw wholly masked blocks as masked. */
  /**
   * tokenIds: the token ids of a self-attention group's sequence (queries = keys), for head roles;
   * absent for cross-attention (requestRoles then answers roles: null).
   */
  groups: readonly { attention: Float32Array; dims: AttentionDims; causal?: boolean; tokenIds?: readonly number[]; name?: string }[];
}

/** Whether a webview message is a request that answerRequest answers. */
export function isHostRequest(message: { type: string }): message is AttentionRequest {
  return message.type === 'requestHead' || message.type === 'requestTokenRows' || message.type === 'requestThumbnails' || message.type === 'requestRoles' || message.type === 'requestAggregate';
}

/** The requests answered from the run's attention alone (requestExplain and requestComparison run the model again: src/extension/stepRequests.ts). */
export type AttentionRequest = Extract<HostRequest, { type: 'requestHead' | 'requestTokenRows' | 'requestThumbnails' | 'requestRoles' | 'requestAggregate' }>;

/**
 * The reply to a request, or undefined when it is about another session (a newer run replaced it)
 * or a group the run does not have. A layer, head or token out of range throws a RangeError.
 */
export function answerRequest<R extends AttentionRequest>(request: R, source: AttentionSource | undefined): ReplyOf[R['type']] | undefined;
export function answerRequest(request: AttentionRequest, source: AttentionSource | undefined): HostReply | undefined {
  if (!source || source.sessionId !== request.sessionId) return undefined;
  const group = source.groups[request.group];
  if (!group) return undefined;
  const { attention, dims } = group;
  switch (request.type) {
    case 'requestHead': {
      const base = { type: 'headAttention' as const, sessionId: request.sessionId, group: request.group, layer: request.layer, head: request.head };
      if (request.window === undefined && request.maxRows === undefined && request.maxCols === undefined) {
        // The whole map, exact: what every consumer but the zoomable heatmap asks for.
        const data = request.head === MEAN_HEAD ? meanOfHeads(attention, dims, request.layer) : headView(attention, dims, request.layer, request.head);
        return { ...base, window: wholeWindow(dims[2], dims[3]), rows: dims[2], cols: dims[3], rowStep: 1, colStep: 1, encoding: 'float32', data: toArrayBuffer(data) };
      }
      const pooled = poolHeadWindow(attention, dims, request.layer, request.head === MEAN_HEAD ? MEAN_OF_HEADS : request.head, request.window, request.maxRows, request.maxCols);
      // Only pooled overviews are quantised; exact cells (tooltips, the zoomed heatmap) stay float32.
      const encoding = pooled.rowStep > 1 || pooled.colStep > 1 ? (request.encoding ?? 'float32') : 'float32';
      const data = encoding === 'float32' ? pooled.data.buffer : quantizeWeights(pooled.data, encoding).buffer;
      const { window, rows, cols, rowStep, colStep } = pooled;
      return { ...base, window, rows, cols, rowStep, colStep, encoding, data: data as ArrayBuffer };
    }
    case 'requestTokenRows': {
      const rows = tokenRows(group.attention, dims, request.layer, request.token);
      return { type: 'tokenRows', sessionId: request.sessionId, group: request.group, layer: request.layer, token: request.token, data: rows.buffer as ArrayBuffer };
    }
    case 'requestThumbnails': {
      const pooled = poolThumbnails(attention, dims, request.size, group.causal === true);
      return { type: 'thumbnails', sessionId: request.sessionId, group: request.group, size: request.size, rows: pooled.rows, columns: pooled.columns, data: pooled.data.buffer as ArrayBuffer };
    }
    case 'requestRoles': {
      const [L, H, Tq, Tk] = dims;
      const ids = group.tokenIds;
      const roles = ids && Tq === Tk && Tq >= 2 && ids.length === Tq ? headRolesOf(attention, [L, H, Tq], ids) : null;
      return { type: 'roles', sessionId: request.sessionId, group: request.group, roles };
    }
    case 'requestAggregate': {
      // An InputError (cross-attention, flow past its token limit) becomes the reply's error.
      const base = { type: 'aggregate' as const, sessionId: request.sessionId, group: request.group, method: request.method };
      try {
        const data = group.name === 'cross' && request.method === 'rollout' ? crossRolloutOf(source) : request.method === 'flow' ? attentionFlow(attention, dims, AGGREGATE_FLOW_MAX_TOKENS) : attentionRollout(attention, dims);
        return { ...base, data: data.buffer as ArrayBuffer };
      } catch (error) {
        return { ...base, data: new ArrayBuffer(0), error: error instanceof Error ? error.message : String(error) };
      }
    }
  }
}

/** Encoder–decoder: the cross-attention composed with the encoder's and the decoder's rollouts [Tt, Ts] (core/analysis/rollout.ts). */
function crossRolloutOf(source: AttentionSource): Float32Array {
  const named = (name: string) => source.groups.find((group) => group.name === name);
  const [encoder, decoder, cross] = [named('encoder'), named('decoder'), named('cross')];
  if (!encoder || !decoder || !cross) throw new InputError('Cross rollout needs the encoder, decoder and cross-attention groups of one run.');
  return crossAttentionRollout(encoder, decoder, cross);
}

/** Where block `index` of `blocks` over `tokens` starts: blocks hold tokens [binStart(i), binStart(i + 1)). */
export function binStart(index: number, tokens: number, blocks: number): number {
  return Math.floor((index * tokens) / blocks);
}

/** The block (of `blocks` over `tokens`, see binStart) that holds token `token`. */
export function thumbnailBin(token: number, tokens: number, blocks: number): number {
  // The largest i with floor(i·T/n) <= token.
  let bin = Math.min(blocks - 1, Math.floor(((token + 1) * blocks - 1) / tokens));
  while (bin > 0 && binStart(bin, tokens, blocks) > token) bin--;
  while (bin + 1 < blocks && binStart(bin + 1, tokens, blocks) <= token) bin++;
  return bin;
}

/**
 * Every head of [L, H, Tq, Tk] pooled to [L, H, rows, columns] with rows = min(Tq, size) and
 * columns = min(Tk, size): each value is the mean of its block's allowed cells (causal: keys up to
 * the query; a block with none is NaN). One pass over the attention, O(L·H·Tq·Tk).
 */
export function poolThumbnails(attention: Float32Array, dims: AttentionDims, size: number, causal: boolean): { rows: number; columns: number; data: Float32Array } {
  const [L, H, Tq, Tk] = dims;
  const side = Math.max(1, Math.floor(size));
  const rows = Math.min(Tq, side);
  const columns = Math.min(Tk, side);
  const masked = causal && Tq === Tk;
  const columnBin = new Int32Array(Tk);
  for (let s = 0; s < Tk; s++) columnBin[s] = thumbnailBin(s, Tk, columns);
  // Allowed cells per block: the same for every head.
  const counts = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
      const last = masked ? t : Tk - 1;
      for (let s = 0; s <= last; s++) counts[i * columns + columnBin[s]]++;
    }
  }
  const data = new Float32Array(L * H * rows * columns);
  const sums = new Float64Array(rows * columns);
  for (let map = 0; map < L * H; map++) {
    sums.fill(0);
    const base = map * Tq * Tk;
    for (let i = 0; i < rows; i++) {
      const row = i * columns;
      for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
        const offset = base + t * Tk;
        const last = masked ? t : Tk - 1;
        for (let s = 0; s <= last; s++) sums[row + columnBin[s]] += attention[offset + s];
      }
    }
    const out = map * rows * columns;
    for (let b = 0; b < rows * columns; b++) data[out + b] = counts[b] > 0 ? sums[b] / counts[b] : NaN;
  }
  return { rows, columns, data };
}

/** A RunComparison as the comparison message carries it: the two maps as their own float32 ArrayBuffers. */
export function toComparisonPayload(comparison: RunComparison): ComparisonPayload {
  return { ...comparison, base: toArrayBuffer(comparison.base), varied: toArrayBuffer(comparison.varied) };
}
