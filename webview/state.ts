// The panel's view vocabulary: which (layer, head) is shown, how [ ] and { } step through them,
// and the checks a session must pass before the panel lays it out.

import { MEAN_HEAD, type SessionInfo } from '../src/shared/protocol';
import { isColorScale } from './colorScale';

export interface ViewSelection {
  layer: number;
  head: number;
}

/** Steps through the heads of a layer in the order mean, 0, 1, .., H-1, wrapping at both ends. */
export function stepHead(head: number, heads: number, delta: number): number {
  const count = heads + 1;
  const position = head === MEAN_HEAD ? 0 : head + 1;
  const next = (((position + delta) % count) + count) % count;
  return next === 0 ? MEAN_HEAD : next - 1;
}

/** Steps through layers 0..L-1, wrapping at both ends. */
export function stepLayer(layer: number, layers: number, delta: number): number {
  return (((layer + delta) % layers) + layers) % layers;
}

export function viewKey(layer: number, head: number): string {
  return `${layer}:${head}`;
}

export function isValidView(view: ViewSelection, layers: number, heads: number): boolean {
  return (
    Number.isInteger(view.layer) &&
    view.layer >= 0 &&
    view.layer < layers &&
    Number.isInteger(view.head) &&
    (view.head === MEAN_HEAD || (view.head >= 0 && view.head < heads))
  );
}

export function describeHead(head: number, heads: number): string {
  return head === MEAN_HEAD ? `mean of ${heads} heads` : `head ${head}`;
}

/** Why a session cannot be shown, or undefined when it is consistent. */
export function sessionProblem(session: SessionInfo): string | undefined {
  if (typeof session !== 'object' || session === null) return 'the session is missing';
  if (!Number.isInteger(session.sessionId)) return 'the session has no id';
  const dims = session.dims;
  if (!Array.isArray(dims) || dims.length !== 4 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    return `dims must be four positive integers [L, H, T, T], got ${JSON.stringify(dims)}`;
  }
  const [layers, heads, tokens, keys] = dims;
  if (tokens !== keys) return `attention must be square, got ${tokens}×${keys}`;
  if (!Array.isArray(session.tokens) || session.tokens.length !== tokens) {
    return `the session lists ${Array.isArray(session.tokens) ? session.tokens.length : 0} tokens but dims say ${tokens}`;
  }
  if (!session.model || typeof session.model.name !== 'string') return 'the session has no model description';
  if (layers > 4096 || heads > 4096) return `implausible model size ${layers}×${heads}`;
  if (!isColorScale(session.colorScale)) return `unknown colour scale ${JSON.stringify(session.colorScale)}`;
  return undefined;
}
