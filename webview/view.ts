// The contract between the panel and the views it hosts (the heatmap, the token links, and any
// view added later). The panel owns the session, the view state and the attention store; a view
// only draws what its context says, asks the store (or the host) for the data it lacks, and tells
// the panel about pointer or keyboard picks through its actions. Views are listed in viewRegistry.ts.

import type { TokenSequence, WeightedToken } from '../src/core/types';
import type { ColorScale, GroupInfo, HostRequest, ReplyOf, SessionInfo, WebviewToHost } from '../src/shared/protocol';
import type { Arrival, AttentionStore } from './attentionStore';
import type { Theme } from './theme';
import type { ViewState } from './viewState';

/** Why update() is called: what changed since the previous call. */
export type ViewChange =
  /** A new session: lay everything out (the group change follows in the same call). */
  | { kind: 'session' }
  /** Another attention group (or a new session): axes, token sequences, legends. */
  | { kind: 'group' }
  /** Another layer or head of the group. */
  | { kind: 'view' }
  /** The active query token or its attended keys changed; reveal: scroll it into view (keyboard, editor). */
  | { kind: 'focus'; reveal: boolean }
  /** Attention the store was waiting for arrived (any view may use it, or ignore it). */
  | { kind: 'arrived'; arrival: Arrival }
  | { kind: 'theme' }
  | { kind: 'colorScale' }
  /** The device pixel ratio changed: re-measure canvases. */
  | { kind: 'resize' }
  /** The host said which run it keeps pinned (ViewContext.pinnedRun). */
  | { kind: 'pinnedRun' };

/** The active query token, as every view shows it. */
export interface FocusInfo {
  /** Query token index (into group.queries' sequence), or null. */
  token: number | null;
  pinned: boolean;
  /** Its top keys (into group.keys' sequence), heaviest first; undefined while its head has not arrived. */
  attended: WeightedToken[] | undefined;
}

/** A way to the extension host. */
export interface ViewHost {
  /** Posts any message (e.g. webviewError). */
  post(message: WebviewToHost): void;
  /**
   * Asks the host for attention and resolves with its reply; the same request in flight is posted
   * once, replies of older sessions are dropped. The store's cache is filled and its arrived event
   * fires before the promise resolves.
   */
  request<R extends HostRequest>(message: R): Promise<ReplyOf[R['type']]>;
}

/** What the panel gives a view on every update. */
export interface ViewContext {
  readonly change: ViewChange;
  readonly session: SessionInfo;
  /** session.groups[state.group]. */
  readonly group: GroupInfo;
  readonly state: ViewState;
  readonly focus: FocusInfo;
  /** Visible token texts of each sequence of the session (spaces as ·, …). */
  readonly texts: Readonly<Record<TokenSequence, readonly string[]>>;
  readonly theme: Theme;
  readonly colorScale: ColorScale;
  /** Heads and token rows received; cachedHead/cachedRows read, requestHead/requestRows ask. */
  readonly store: AttentionStore;
  readonly host: ViewHost;
  /** A map painted in place of the shown head (ViewActions.paintMap), for this session and group; null: the head. */
  readonly paintedMap: PaintedMap | null;
  /** The run the host keeps pinned for comparison, as it last said (null: none or not said yet). */
  readonly pinnedRun: { sessionId: number; label: string } | null;
}

/** What a view can ask of the panel (the same as a click or hover in the token strips). */
export interface ViewActions {
  /** A query token is hovered (null: none). */
  hover(token: number | null): void;
  /** A query token is clicked: pin it, or unpin it when pinned. */
  togglePin(token: number): void;
  /** Show this layer and head of the current group (the same as picking it in the side panel). */
  selectHead(layer: number, head: number): void;
  /**
   * Paint this [Tq, Tk] map of the current group (e.g. the rollout) for the active token — on the editor,
   * the key strip and the focus line — instead of the shown head; null: the shown head again.
   * Forgotten when the run or the group changes.
   */
  paintMap(map: PaintedMap | null): void;
}

/** A map painted in place of the shown head: its rows are the current group's query tokens. */
export interface PaintedMap {
  /** Names the map in the focus line ("attention rollout"). */
  label: string;
  /** [Tq, Tk], row-major. */
  data: Float32Array;
}

/** What a view gets when it is created, before any session. */
export interface ViewSetup {
  readonly theme: Theme;
  readonly actions: ViewActions;
}

export interface PanelView {
  /** Unique, stable: becomes data-view on the element. */
  readonly id: string;
  /** Placed in the panel's views area, in registry order. */
  readonly element: HTMLElement;
  /** Called only when there is a session, after every change (see ViewChange). */
  update(context: ViewContext): void;
  dispose?(): void;
}

export interface ViewRegistration {
  id: string;
  create(setup: ViewSetup): PanelView;
}
