// The host's answers to the webview's requests for attention: the thin protocol wrapper over the
// core's queries (src/core/attentionQueries.ts). A request becomes a query, the query is answered
// where the attention is held (in this process, or in the onnxruntime child: core/heldAttention.ts),
// and the answer becomes the reply. Plain TypeScript (no vscode): the extension's controller and the
// browser tests' fake host (test/browser/harness.ts) answer with this same code.

import { answerAttentionQuery, type AttentionAnswer, type AttentionQuery, type HeldGroup } from '../core/attentionQueries';
import type { HeldAttention } from '../core/heldAttention';
import type { RunComparison } from '../core/explain/compare';
import { AGGREGATE_FLOW_MAX_TOKENS, MEAN_HEAD, toArrayBuffer, type ComparisonPayload, type HostReply, type HostRequest, type ReplyOf } from './protocol';

export { binStart, poolThumbnails, thumbnailBin } from '../core/attentionQueries';

/** The attention a run holds in this process: one [L, H, Tq, Tk] tensor per group, in the session's group order. */
export interface AttentionSource {
  sessionId: number;
  groups: readonly HeldGroup[];
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
  const answer = answerAttentionQuery(queryOf(request), source.groups);
  return answer && replyOf(request, answer);
}

/** A run whose attention is held elsewhere (or here), asked through its handle. */
export interface HeldSource {
  sessionId: number;
  attention: HeldAttention;
}

/** answerRequest for attention behind a handle: the query crosses to the holder, only the answer comes back. */
export async function answerHeldRequest<R extends AttentionRequest>(request: R, source: HeldSource | undefined): Promise<ReplyOf[R['type']] | undefined>;
export async function answerHeldRequest(request: AttentionRequest, source: HeldSource | undefined): Promise<HostReply | undefined> {
  if (!source || source.sessionId !== request.sessionId) return undefined;
  const answer = await source.attention.query(queryOf(request));
  return answer && replyOf(request, answer);
}

/** The core query a webview request asks. */
export function queryOf(request: AttentionRequest): AttentionQuery {
  switch (request.type) {
    case 'requestHead': {
      // Everything but the address is how the head is to be shaped: it goes through to the core untouched.
      const { group, layer, head, window, maxRows, maxCols, encoding } = request;
      const shape = { window, maxRows, maxCols, encoding };
      return { kind: 'head', group, layer, head: head === MEAN_HEAD ? 'mean' : head, shape };
    }
    case 'requestTokenRows':
      return { kind: 'tokenRows', group: request.group, layer: request.layer, token: request.token };
    case 'requestThumbnails':
      return { kind: 'thumbnails', group: request.group, size: request.size };
    case 'requestRoles':
      return { kind: 'roles', group: request.group };
    case 'requestAggregate':
      return { kind: 'aggregate', group: request.group, method: request.method, flowMaxTokens: AGGREGATE_FLOW_MAX_TOKENS };
  }
}

/** The reply message carrying an answer to a request. */
function replyOf(request: AttentionRequest, answer: AttentionAnswer): HostReply {
  const { sessionId, group } = request;
  switch (request.type) {
    case 'requestHead': {
      const { window, rows, cols, rowStep, colStep, encoding, data } = answer as Extract<AttentionAnswer, { kind: 'head' }>;
      return { type: 'headAttention', sessionId, group, layer: request.layer, head: request.head, window, rows, cols, rowStep, colStep, encoding, data: ownBuffer(data) };
    }
    case 'requestTokenRows': {
      const { data } = answer as Extract<AttentionAnswer, { kind: 'tokenRows' }>;
      return { type: 'tokenRows', sessionId, group, layer: request.layer, token: request.token, data: ownBuffer(data) };
    }
    case 'requestThumbnails': {
      const { rows, columns, data } = answer as Extract<AttentionAnswer, { kind: 'thumbnails' }>;
      return { type: 'thumbnails', sessionId, group, size: request.size, rows, columns, data: ownBuffer(data) };
    }
    case 'requestRoles': {
      const { roles } = answer as Extract<AttentionAnswer, { kind: 'roles' }>;
      return { type: 'roles', sessionId, group, roles };
    }
    case 'requestAggregate': {
      const { data, error } = answer as Extract<AttentionAnswer, { kind: 'aggregate' }>;
      return { type: 'aggregate', sessionId, group, method: request.method, data: ownBuffer(data), ...(error !== undefined ? { error } : {}) };
    }
  }
}

/** The answer's bytes as an ArrayBuffer of exactly its size (answers normally own theirs: no copy then). */
function ownBuffer(data: Float32Array | Uint16Array | Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data instanceof Float32Array ? toArrayBuffer(data) : (data.slice().buffer as ArrayBuffer);
}

/** A RunComparison as the comparison message carries it: the two maps as their own float32 ArrayBuffers. */
export function toComparisonPayload(comparison: RunComparison): ComparisonPayload {
  return { ...comparison, base: toArrayBuffer(comparison.base), varied: toArrayBuffer(comparison.varied) };
}
