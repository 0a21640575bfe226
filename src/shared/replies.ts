// The host's answers to the webview's requests for attention, from the attention of one run. Plain
// TypeScript (no vscode): the extension's controller and the browser tests' fake host
// (test/browser/harness.ts) answer with this same code.

import { headView, meanOfHeads, tokenRows, type AttentionDims } from '../core/attentionViews';
import type { RunComparison } from '../core/explain/compare';
import { MEAN_HEAD, toArrayBuffer, type ComparisonPayload, type HostReply, type HostRequest, type ReplyOf } from './protocol';

/** The attention a run holds: one [L, H, Tq, Tk] tensor per group, in the session's group order. */
export interface AttentionSource {
  sessionId: number;
  groups: readonly { attention: Float32Array; dims: AttentionDims }[];
}

/** Whether a webview message is a request that answerRequest answers. */
export function isHostRequest(message: { type: string }): message is AttentionRequest {
  return message.type === 'requestHead' || message.type === 'requestTokenRows';
}

/** The requests answered from the run's attention alone (requestExplain and requestComparison run the model again: src/extension/stepRequests.ts). */
export type AttentionRequest = Extract<HostRequest, { type: 'requestHead' | 'requestTokenRows' }>;

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
      const data = request.head === MEAN_HEAD ? meanOfHeads(attention, dims, request.layer) : headView(attention, dims, request.layer, request.head);
      return { type: 'headAttention', sessionId: request.sessionId, group: request.group, layer: request.layer, head: request.head, data: toArrayBuffer(data) };
    }
    case 'requestTokenRows': {
      const rows = tokenRows(group.attention, dims, request.layer, request.token);
      return { type: 'tokenRows', sessionId: request.sessionId, group: request.group, layer: request.layer, token: request.token, data: rows.buffer as ArrayBuffer };
    }
  }
}

/** A RunComparison as the comparison message carries it: the two maps as their own float32 ArrayBuffers. */
export function toComparisonPayload(comparison: RunComparison): ComparisonPayload {
  return { ...comparison, base: toArrayBuffer(comparison.base), varied: toArrayBuffer(comparison.varied) };
}
