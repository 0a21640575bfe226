// The panel's view vocabulary: which (group, layer, head) is shown, how [ ] and { } step through
// them, and the checks a session must pass before the panel lays it out.

import type { TokenSequence, TokenSpan } from '../src/core/types';
import { MEAN_HEAD, type GroupInfo, type SessionInfo } from '../src/shared/protocol';
import { isColorScale } from './colorScale';
import { kvHeadsProblem, sequenceName } from './groups';
import { t } from './l10n';

export interface ViewSelection {
  layer: number;
  head: number;
}

export { stepHead, stepLayer } from '../src/shared/headOrder';

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
  return head === MEAN_HEAD ? t("average of {0} heads' weights", heads) : t('head {0}', head);
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
  if (typeof session !== 'object' || session === null) return t('the session is missing');
  if (!Number.isInteger(session.sessionId)) return t('the session has no id');
  if (!session.model || typeof session.model.name !== 'string') return t('the session has no model description');
  if (!Array.isArray(session.tokens)) return t('the session lists no tokens');
  if (session.target !== undefined) {
    const target = session.target as Partial<NonNullable<SessionInfo['target']>> | null;
    if (!target || typeof target.text !== 'string' || !Array.isArray(target.tokens) || typeof target.generated !== 'boolean') {
      return t('the target must have text, tokens and generated');
    }
  }
  if (!Array.isArray(session.groups) || session.groups.length === 0) return t('the session lists no attention groups');
  for (let index = 0; index < session.groups.length; index++) {
    const problem = groupProblem(session, session.groups[index]);
    if (problem) return t('attention group {0}: {1}', index, problem);
  }
  if (!isColorScale(session.colorScale)) return t('unknown colour scale {0}', JSON.stringify(session.colorScale));
  return undefined;
}

function groupProblem(session: SessionInfo, group: GroupInfo): string | undefined {
  if (typeof group !== 'object' || group === null) return t('missing');
  if (!GROUP_NAMES.has(group.name)) return t('unknown name {0}', JSON.stringify(group.name));
  if (!GROUP_KINDS.has(group.kind)) return t('unknown kind {0}', JSON.stringify(group.kind));
  if (typeof group.label !== 'string' || group.label === '') return t('no label');
  if (!isSequence(group.queries) || !isSequence(group.keys)) return t('queries and keys must be "source" or "target", got {0}', JSON.stringify([group.queries, group.keys]));
  if (!isDims(group.dims)) return t('dims must be four positive integers [L, H, Tq, Tk], got {0}', JSON.stringify(group.dims));
  const [layers, heads, queries, keys] = group.dims;
  if (layers > 4096 || heads > 4096) return t('implausible model size {0}×{1}', layers, heads);
  for (const [sequence, count, axis] of [[group.queries, queries, 'Tq'], [group.keys, keys, 'Tk']] as const) {
    if (sequence === 'target' && !session.target) return t('it reads the target, but the session has none');
    const listed = sequenceTokens(session, sequence).length;
    if (listed !== count) return t('the session lists {0} {1} tokens but dims say {2} = {3}', listed, sequenceName(sequence), axis, count);
  }
  if (group.causal && queries !== keys) return t('causal attention must be square, got {0}×{1}', queries, keys);
  return kvHeadsProblem(group.kvHeads, heads);
}
