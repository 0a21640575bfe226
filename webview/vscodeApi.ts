// The webview's only way out: VS Code's acquireVsCodeApi() (callable once per page load), wrapped
// so every message is typed by the protocol and the persisted UI state has one shape.

import type { WebviewToHost } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The small UI state kept across reloads of the webview (VS Code's setState/getState). */
export interface PersistedState {
  sessionId: number;
  /** Index into the session's attention groups. */
  group: number;
  layer: number;
  head: number;
  pinnedToken: number | null;
  /** The session's RerunInfo, kept as the host sent it: after a window reload VS Code hands this state to the host, which checks it. */
  rerun?: unknown;
}

export interface HostChannel {
  post(message: WebviewToHost): void;
  loadState(): PersistedState | undefined;
  saveState(state: PersistedState): void;
}

export function connectToHost(): HostChannel {
  // Opened outside VS Code (a plain browser), there is no host: posting does nothing.
  const api: VsCodeApi =
    typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };
  return {
    post: (message) => api.postMessage(message),
    loadState: () => asPersistedState(api.getState()),
    saveState: (state) => {
      api.setState(state);
    },
  };
}

function asPersistedState(raw: unknown): PersistedState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const state = raw as Record<string, unknown>;
  const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
  if (!isInt(state.sessionId) || !isInt(state.layer) || !isInt(state.head)) return undefined;
  const pinnedToken = isInt(state.pinnedToken) ? state.pinnedToken : null;
  // State saved before groups existed has none: the first group is the one it showed.
  const group = isInt(state.group) ? state.group : 0;
  const rerun = typeof state.rerun === 'object' && state.rerun !== null ? { rerun: state.rerun } : {};
  return { sessionId: state.sessionId, group, layer: state.layer, head: state.head, pinnedToken, ...rerun };
}
