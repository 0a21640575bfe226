// The panel's view vocabulary: which (group, layer, head) is shown, how [ ] and { } step through
// them, and the checks a session must pass before the panel lays it out.

import type { TokenSequence, TokenSpan } from '../src/core/types';
import { MEAN_HEAD, type GroupInfo, type SessionInfo } from '../src/shared/protocol';
import { isColorScale } from './colorScale';
import { kvHeadsProblem } from './groups';

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
  return head === MEAN_HEAD ? `average of ${heads} heads' weights` : `head ${head}`;
}

/** The tokens a sequence of the session names: the inspected text's, or the decoder's. */
export function sequenceTokens(session: SessionInfo, sequence: TokenSequence): TokenSpan[] {
  return sequence === 'target' ? (session.target?.tokens ?? []) : session.tokens;
}

const GROUP_NAMES: ReadonlySet<string> = new Set(['self', 'encoder', 'decoder', 'cross']);
const GROUP_KINDS: ReadonlySet<string> = new Set(['self', 'masked-self', 'cross']);
const isSequence = (value: unknown): value is TokenSequence => value === 'source' || value === 'target';
const isDims = (dims: unknown): dims is [number, number, number, number] =>
  Array.isArray(dims) && dims.length === 4 && dims.every((d) => Number.isInteger(d) && d > 0);

/** Why a session cannot be shown, or undefined when it is consistent. */
export function sessionProblem(session: SessionInfo): string | undefined {
  if (typeof session !== 'object' || session === null) return 'the session is missing';
  if (!Number.isInteger(session.sessionId)) return 'the session has no id';
  if (!session.model || typeof session.model.name !== 'string') return 'the session has no model description';
  if (!Array.isArray(session.tokens)) return 'the session lists no tokens';
  if (session.target !== undefined) {
    const target = session.target as Partial<NonNullable<SessionInfo['target']>> | null;
    if (!target || typeof target.text !== 'string' || !Array.isArray(target.tokens) || typeof target.generated !== 'boolean') {
      return 'the target must have text, tokens and generated';
    }
  }
  if (!Array.isArray(session.groups) || session.groups.length === 0) return 'the session lists no attention groups';
  for (let index = 0; index < session.groups.length; index++) {
    const problem = groupProblem(session, session.groups[index]);
    if (problem) return `attention group ${index}: ${problem}`;
  }
  if (!isColorScale(session.colorScale)) return `unknown colour scale ${JSON.stringify(session.colorScale)}`;
  return undefined;
}

function groupProblem(session: SessionInfo, group: GroupInfo): string | undefined {
  if (typeof group !== 'object' || group === null) return 'missing';
  if (!GROUP_NAMES.has(group.name)) return `unknown name ${JSON.stringify(group.name)}`;
  if (!GROUP_KINDS.has(group.kind)) return `unknown kind ${JSON.stringify(group.kind)}`;
  if (typeof group.label !== 'string' || group.label === '') return 'no label';
  if (!isSequence(group.queries) || !isSequence(group.keys)) return `queries and keys must be "source" or "target", got ${JSON.stringify([group.queries, group.keys])}`;
  if (!isDims(group.dims)) return `dims must be four positive integers [L, H, Tq, Tk], got ${JSON.stringify(group.dims)}`;
  const [layers, heads, queries, keys] = group.dims;
  if (layers > 4096 || heads > 4096) return `implausible model size ${layers}×${heads}`;
  for (const [sequence, count, axis] of [[group.queries, queries, 'Tq'], [group.keys, keys, 'Tk']] as const) {
    if (sequence === 'target' && !session.target) return `it reads the target, but the session has none`;
    const listed = sequenceTokens(session, sequence).length;
    if (listed !== count) return `the session lists ${listed} ${sequence} tokens but dims say ${axis} = ${count}`;
  }
  if (group.causal && queries !== keys) return `causal attention must be square, got ${queries}×${keys}`;
  return kvHeadsProblem(group.kvHeads, heads);
}
