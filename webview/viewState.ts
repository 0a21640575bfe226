// What the panel shows, as an immutable value: the attention group, layer and head, the pinned
// query token and the previewed (hovered or focused) one. Every transition is a pure function that
// returns a new state (or the same object when nothing changes); the panel applies the result and
// redraws. Touches no DOM (unit-tested in Node).

import { MEAN_HEAD, type GroupInfo, type SessionInfo } from '../src/shared/protocol';
import { clampView } from './groups';
import { isValidView } from './state';
import type { PersistedState } from './vscodeApi';

export interface ViewState {
  /** Index into the session's groups. */
  readonly group: number;
  readonly layer: number;
  /** A head of the layer, or MEAN_HEAD. */
  readonly head: number;
  /** Query token pinned by a click or Enter; null: none. */
  readonly pinned: number | null;
  /** Query token hovered or focused; null: none. */
  readonly preview: number | null;
}

export const INITIAL_VIEW_STATE: ViewState = { group: 0, layer: 0, head: MEAN_HEAD, pinned: null, preview: null };

/** The query token everything follows: the pinned one, else the previewed one. */
export function activeToken(state: ViewState): number | null {
  return state.pinned ?? state.preview;
}

/**
 * The state for a new session: the view the host restores with it (a panel restored after a window
 * reload), else the saved state when it is for this very session (a reloaded webview), else the
 * previous group (by name), layer and head when the new run has them.
 */
export function openSession(previous: ViewState, previousGroupName: string | undefined, session: SessionInfo, saved: PersistedState | undefined): ViewState {
  const restored = session.restoredView ?? (saved && saved.sessionId === session.sessionId ? saved : undefined);
  let group = restored ? restored.group : session.groups.findIndex((g) => g.name === previousGroupName);
  if (!Number.isInteger(group) || group < 0 || group >= session.groups.length) group = 0;
  const [layers, heads, queries] = session.groups[group].dims;
  let view = restored ?? { layer: previous.layer, head: previous.head };
  if (!isValidView(view, layers, heads)) view = { layer: 0, head: MEAN_HEAD };
  const pin = restored?.pinnedToken;
  const pinned = pin !== undefined && pin !== null && pin >= 0 && pin < queries ? pin : null;
  return { group, layer: view.layer, head: view.head, pinned, preview: null };
}

/** Another (layer, head) of the current group; unchanged when invalid or the same. */
export function selectView(state: ViewState, group: Pick<GroupInfo, 'dims'>, layer: number, head: number): ViewState {
  if (!isValidView({ layer, head }, group.dims[0], group.dims[1])) return state;
  if (layer === state.layer && head === state.head) return state;
  return { ...state, layer, head };
}

/**
 * Another attention group: the same layer and head when it has them (clamped otherwise); the pin
 * and preview survive only when the new group's queries are the same tokens. Unchanged when invalid.
 */
export function selectGroup(state: ViewState, groups: readonly Pick<GroupInfo, 'dims' | 'queries'>[], index: number): ViewState {
  if (index === state.group || !Number.isInteger(index) || index < 0 || index >= groups.length) return state;
  const previous = groups[state.group];
  const next = groups[index];
  const view = clampView(state.layer, state.head, next.dims[0], next.dims[1]);
  const sameQueries = previous !== undefined && next.queries === previous.queries;
  return {
    group: index,
    layer: view.layer,
    head: view.head,
    pinned: sameQueries ? state.pinned : null,
    preview: sameQueries ? state.preview : null,
  };
}

/** The previewed token (hover or keyboard focus); null: none. */
export function setPreview(state: ViewState, preview: number | null): ViewState {
  return preview === state.preview ? state : { ...state, preview };
}

/** Click or Enter on a token: pins it, or unpins it when it is the pinned one; it is previewed either way. */
export function togglePin(state: ViewState, token: number): ViewState {
  return { ...state, pinned: state.pinned === token ? null : token, preview: token };
}

export function unpin(state: ViewState): ViewState {
  return state.pinned === null ? state : { ...state, pinned: null };
}

/** Moves the previewed token (and the pin, when there is one) to `token`, clamped to 0..count-1; unchanged when count is 0. */
export function moveTo(state: ViewState, token: number, count: number): ViewState {
  if (count === 0) return state;
  const target = Math.max(0, Math.min(count - 1, token));
  return { ...state, pinned: state.pinned !== null ? target : null, preview: target };
}
