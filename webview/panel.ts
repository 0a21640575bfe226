// The panel's controller: turns host messages into view-state transitions (viewState.ts) and user
// actions into requests. It owns the session, the view state and the attention store
// (attentionStore.ts); the DOM skeleton comes from layout.ts, and the views it hosts (heatmap,
// links, … listed in viewRegistry.ts) draw what each update's context gives them. Itself it keeps
// the side panel, the token strips and the focus line, and tells the host what the active token attends to.
// Token indices of the active token are into the current group's query sequence, attended tokens
// into its key sequence (the source text, or an encoder–decoder's target).

import { meanOfHeadRows, topAttended } from '../src/core/attentionViews';
import type { TokenSequence, WeightedToken } from '../src/core/types';
import { assertNever, MEAN_HEAD, type ColorScale, type GroupInfo, type HostToWebview, type SessionInfo } from '../src/shared/protocol';
import { AttentionStore, type Arrival } from './attentionStore';
import { headKey } from './cache';
import { isColorScale } from './colorScale';
import { formatPercent, tokenDisplay } from './displayText';
import { sequenceName, stepGroup } from './groups';
import { renderHeader } from './header';
import { installKeyboard } from './keyboard';
import { buildLayout, type PanelLayout } from './layout';
import { Requests } from './requests';
import { SidePanel } from './sidePanel';
import { sequenceTokens, sessionProblem, stepHead, stepLayer } from './state';
import { readTheme, type Theme } from './theme';
import { TokenSequences } from './tokenSequences';
import type { TokenStrip } from './tokenStrip';
import type { PaintedMap, PanelView, ViewChange, ViewContext, ViewHost } from './view';
import { VIEW_REGISTRY } from './viewRegistry';
import * as views from './viewState';
import type { HostChannel } from './vscodeApi';
import { t } from './l10n';

/** How many attended tokens are highlighted and sent to the editor. */
export const TOP_K = 5;
/** Up to this many tokens per axis the link columns sit beside the heatmap; longer runs give the heatmap the full width. */
const LINKS_BESIDE_MAX_TOKENS = 64;

export class Panel {
  private readonly layout: PanelLayout;
  private readonly sidePanel: SidePanel;
  private readonly sequences: TokenSequences;
  private readonly views: PanelView[];
  private readonly requests: Requests;
  private readonly store: AttentionStore;
  private readonly viewHost: ViewHost;
  private theme: Theme;

  private session: SessionInfo | null = null;
  /** Visible token texts of each sequence of the session. */
  private texts: Record<TokenSequence, string[]> = { source: [], target: [] };
  private state: views.ViewState = views.INITIAL_VIEW_STATE;
  private colorScale: ColorScale = 'sqrt';
  private lastFocusSignature = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostChannel,
  ) {
    this.theme = readTheme();
    this.requests = new Requests((message) => this.host.post(message));
    this.store = new AttentionStore(this.requests, (message) => this.reportProblem(message));
    this.viewHost = { post: (message) => this.host.post(message), request: (message) => this.requests.request(message) };
    this.store.onArrived((arrival) => this.arrived(arrival));
    this.sidePanel = new SidePanel({
      onSelect: (layer, head) => this.selectView(layer, head),
      onSelectGroup: (group) => this.selectGroup(group),
    });
    this.sequences = new TokenSequences({
      onHover: (sequence, token) => {
        if (this.isQuerySequence(sequence)) this.onHover(token);
      },
      onFocusChip: (sequence, token) => {
        if (this.isQuerySequence(sequence)) this.onFocusChip(token);
      },
      onToggle: (sequence, token) => {
        if (this.isQuerySequence(sequence)) this.togglePin(token);
      },
      onSubmitTarget: (text) => this.submitTarget(text),
    });
    const setup = {
      theme: this.theme,
      actions: { hover: (token: number | null) => this.onHover(token), togglePin: (token: number) => this.togglePin(token), selectHead: (layer: number, head: number) => this.selectView(layer, head), paintMap: (map: PaintedMap | null) => this.paintMap(map) },
    };
    this.views = VIEW_REGISTRY.map((registration) => {
      const view = registration.create(setup);
      view.element.dataset.view = registration.id;
      return view;
    });
    this.layout = buildLayout(root, { sidePanel: this.sidePanel.element, sequences: this.sequences.element, views: this.views.map((view) => view.element) });
    this.layout.unpinButton.addEventListener('click', () => this.unpin());

    installKeyboard(document, {
      moveToken: (delta) => this.moveToken(delta),
      jumpToken: (to) => this.moveTo(to === 'first' ? 0 : this.queryStrip().count - 1, true),
      stepHead: (delta) => {
        const group = this.currentGroup();
        if (group) this.selectView(this.state.layer, stepHead(this.state.head, group.dims[1], delta));
      },
      stepLayer: (delta) => {
        const group = this.currentGroup();
        if (group) this.selectView(stepLayer(this.state.layer, group.dims[0], delta), this.state.head);
      },
      stepGroup: (delta) => {
        if (this.session && this.session.groups.length > 1) this.selectGroup(stepGroup(this.state.group, this.session.groups.length, delta));
      },
      unpin: () => this.unpin(),
    });
  }

  handle(message: HostToWebview): void {
    switch (message.type) {
      case 'busy':
        this.layout.banners.showBusy(message.message);
        return;
      case 'session':
        this.openSession(message.session);
        return;
      case 'headAttention':
      case 'tokenRows':
        this.store.receive(message);
        return;
      case 'focusToken':
        this.focusSourceToken(message.sessionId, message.token);
        return;
      case 'pinnedRun':
        this.pinnedRun = message.run;
        this.updateViews({ kind: 'pinnedRun' });
        return;
      case 'settings':
        this.setColorScale(message.colorScale);
        return;
      case 'explanation':
      case 'comparison':
      case 'thumbnails':
      case 'roles':
      case 'runComparison':
      case 'aggregate':
        // Paired with the Steps, Compare or Model view's or the side panel's request (requests.ts); older sessions' replies are dropped.
        this.requests.settle(message);
        return;
      case 'error':
        this.layout.banners.hideBusy();
        this.layout.banners.showError(message.message);
        return;
      default:
        assertNever(message);
    }
  }

  /** VS Code switched theme: re-read the colours and repaint everything drawn with them. */
  themeChanged(): void {
    this.theme = readTheme();
    this.sidePanel.setTheme(this.theme);
    this.sequences.remeasure();
    this.updateViews({ kind: 'theme' });
  }

  /** The device pixel ratio changed. */
  measure(): void {
    this.updateViews({ kind: 'resize' });
  }

  /** A message the panel could not use: tell the host (it logs) and the user. */
  reportProblem(message: string): void {
    this.host.post({ type: 'webviewError', message });
    this.layout.banners.showError(message);
  }

  // ---------------------------------------------------------------- views

  /** Tells every view what changed (only while there is a session). */
  private updateViews(change: ViewChange, focus = this.focusInfo()): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) return;
    const context: ViewContext = {
      change,
      session,
      group,
      state: this.state,
      focus,
      texts: this.texts,
      theme: this.theme,
      colorScale: this.colorScale,
      store: this.store,
      host: this.viewHost,
      pinnedRun: this.pinnedRun,
      paintedMap: this.currentPaintedMap(),
    };
    for (const view of this.views) view.update(context);
  }

  private focusInfo(): { token: number | null; pinned: boolean; attended: WeightedToken[] | undefined } {
    const token = views.activeToken(this.state);
    return { token, pinned: this.state.pinned !== null, attended: token === null ? [] : this.attendedBy(token) };
  }

  /** The run the host keeps pinned (pinnedRun message). */
  private pinnedRun: { sessionId: number; label: string } | null = null;

  /** The painted map (ViewActions.paintMap) and the (session, group) it belongs to. */
  private paintedMap: { map: PaintedMap; key: string } | null = null;

  /** The painted map when it belongs to the shown session and group. */
  private currentPaintedMap(): PaintedMap | null {
    return this.paintedMap && this.paintedMap.key === `${this.session?.sessionId}:${this.state.group}` ? this.paintedMap.map : null;
  }

  private paintMap(map: PaintedMap | null): void {
    const group = this.currentGroup();
    const key = `${this.session?.sessionId}:${this.state.group}`;
    const valid = map && group && map.data.length === group.dims[2] * group.dims[3] ? { map, key } : null;
    if (!valid && !this.paintedMap) return;
    this.paintedMap = valid;
    this.refreshFocus(false);
  }

  /** The active token's top keys in the painted map, else in the shown head; undefined while that head has not arrived. */
  private attendedBy(token: number): WeightedToken[] | undefined {
    const group = this.currentGroup();
    if (!group) return undefined;
    const Tk = group.dims[3];
    const painted = this.currentPaintedMap();
    const data = painted ? painted.data : this.store.cachedHead(this.state.group, this.state.layer, this.state.head);
    if (data) return topAttended(data.subarray(token * Tk, token * Tk + Tk), TOP_K);
    // A map larger than the heatmap arrives pooled, never whole: the token's exact rows serve instead.
    const { group: groupIndex, layer, head } = this.state;
    const row = painted || this.requests.isPending(headKey(groupIndex, layer, head)) ? undefined : this.exactRow(token);
    return row ? topAttended(row, TOP_K) : undefined;
  }

  /** [Tk]: the active head's row of query `token` from its token rows [H, Tk] (the mean for MEAN_HEAD); asks for them when missing. */
  private exactRow(token: number): Float32Array | undefined {
    const group = this.currentGroup();
    if (!group) return undefined;
    const [, H, , Tk] = group.dims;
    const { group: groupIndex, layer, head } = this.state;
    const rows = this.store.cachedRows(groupIndex, layer, token);
    if (!rows) {
      this.store.requestRows(groupIndex, layer, token);
      return undefined;
    }
    if (head !== MEAN_HEAD) return rows.subarray(head * Tk, head * Tk + Tk);
    const mean = new Float32Array(Tk); // as the host's means, to the bit
    meanOfHeadRows(rows, 0, Tk, H, Tk, mean, 0, new Float64Array(Tk));
    return mean;
  }

  private arrived(arrival: Arrival): void {
    this.updateViews({ kind: 'arrived', arrival });
    const { group, layer, head } = this.state;
    if (arrival.kind === 'head' && arrival.group === group && arrival.layer === layer && arrival.head === head) this.refreshFocus(false);
    // The active token's rows stand in for a head that is never fetched whole (attendedBy).
    else if (arrival.kind === 'rows' && arrival.group === group && arrival.layer === layer && arrival.token === views.activeToken(this.state) && !this.store.cachedHead(group, layer, head)) this.refreshFocus(false);
  }

  // ---------------------------------------------------------------- the current group

  private currentGroup(): GroupInfo | undefined {
    return this.session?.groups[this.state.group];
  }

  private isQuerySequence(sequence: TokenSequence): boolean {
    return this.currentGroup()?.queries === sequence;
  }

  private queryStrip(): TokenStrip {
    return this.sequences.strip(this.currentGroup()?.queries ?? 'source');
  }

  private keyStrip(): TokenStrip {
    return this.sequences.strip(this.currentGroup()?.keys ?? 'source');
  }

  /** Lays out everything that depends on the group: head grid, strip roles, then the views (axes, link columns, legend). */
  private layoutGroup(): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) return;
    this.sidePanel.setGroup(this.state.group, group, this.theme);
    this.sidePanel.setSelected(this.state.layer, this.state.head);
    // Every head's role scores on this text, as badges in the side panel (the Model view asks too: one request).
    const groupIndex = this.state.group;
    void this.requests.request({ type: 'requestRoles', sessionId: session.sessionId, group: groupIndex }).then((reply) => {
      if (this.session?.sessionId === reply.sessionId && this.state.group === reply.group) this.sidePanel.setRoles(reply.roles);
    });
    this.sequences.setGroup(group);
    for (const sequence of ['source', 'target'] as const) {
      const strip = this.sequences.strip(sequence);
      strip.setActive(null, false);
      strip.setAttended([]);
    }
    const queries = this.texts[group.queries];
    const keys = this.texts[group.keys];
    this.layout.views.classList.toggle('stacked', Math.max(queries.length, keys.length) > LINKS_BESIDE_MAX_TOKENS);
    this.updateViews({ kind: 'group' });
  }

  private selectGroup(index: number): void {
    const session = this.session;
    if (!session) return;
    const next = views.selectGroup(this.state, session.groups, index);
    if (next === this.state) return;
    this.state = next;
    this.layoutGroup();
    if (this.state.pinned !== null) this.queryStrip().setCursor(this.state.pinned, false);
    this.host.post({ type: 'viewChanged', sessionId: session.sessionId, group: next.group, layer: next.layer, head: next.head });
    this.updateViews({ kind: 'view' });
    this.refreshFocus(false);
    this.saveState();
  }

  // ---------------------------------------------------------------- host messages

  private openSession(session: SessionInfo): void {
    const problem = sessionProblem(session);
    if (problem) {
      this.layout.banners.hideBusy();
      this.reportProblem(t('Cannot show this run: {0}.', problem));
      return;
    }
    this.state = views.openSession(this.state, this.currentGroup()?.name, session, this.host.loadState());
    this.session = session;
    this.colorScale = session.colorScale;
    this.store.reset(session);
    this.lastFocusSignature = noFocusSignature(session.sessionId);
    this.texts = { source: session.tokens.map(tokenDisplay), target: sequenceTokens(session, 'target').map(tokenDisplay) };

    this.root.querySelector(':scope > .placeholder')?.remove();
    const { banners } = this.layout;
    banners.hideBusy();
    banners.hideError();
    this.layout.headerSlot.replaceChildren(renderHeader(session));
    this.layout.workspace.hidden = false;
    this.layout.groupHint.hidden = session.groups.length < 2;
    this.sequences.setSession(session);
    this.sidePanel.setGroups(session.groups);
    this.updateViews({ kind: 'session' });
    this.layoutGroup();
    if (this.state.pinned !== null) this.queryStrip().setCursor(this.state.pinned, false);
    this.updateViews({ kind: 'view' });
    this.refreshFocus(false);
    this.saveState();
  }

  /** The editor cursor is on source token `token`: follow it when this group's queries are the source. */
  private focusSourceToken(sessionId: number, token: number): void {
    const session = this.session;
    if (!session || sessionId !== session.sessionId || !this.isQuerySequence('source')) return;
    if (Number.isInteger(token) && token >= 0 && token < session.tokens.length) this.moveTo(token, false);
  }

  private setColorScale(scale: ColorScale): void {
    if (!isColorScale(scale)) return;
    this.colorScale = scale;
    this.updateViews({ kind: 'colorScale' });
  }

  private submitTarget(text: string | null): void {
    const session = this.session;
    if (!session?.target) return;
    this.host.post({ type: 'setTarget', sessionId: session.sessionId, text });
  }

  // ---------------------------------------------------------------- the shown (layer, head)

  private selectView(layer: number, head: number): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) return;
    const next = views.selectView(this.state, group, layer, head);
    if (next === this.state) return;
    this.state = next;
    this.sidePanel.setSelected(layer, head);
    this.host.post({ type: 'viewChanged', sessionId: session.sessionId, group: next.group, layer, head });
    this.updateViews({ kind: 'view' });
    this.refreshFocus(false);
    this.saveState();
  }

  // ---------------------------------------------------------------- the active token

  private onHover(token: number | null): void {
    const strip = this.queryStrip();
    this.state = views.setPreview(this.state, token ?? (strip.containsFocus() ? strip.cursorToken : null));
    this.refreshFocus(false);
  }

  private onFocusChip(token: number): void {
    this.state = views.setPreview(this.state, token);
    this.queryStrip().setCursor(token, false);
    this.refreshFocus(true);
  }

  private togglePin(token: number): void {
    this.state = views.togglePin(this.state, token);
    this.queryStrip().setCursor(token, false);
    this.saveState();
    this.refreshFocus(false);
  }

  private unpin(): void {
    if (this.state.pinned === null) return;
    this.state = views.unpin(this.state);
    this.saveState();
    this.refreshFocus(false);
  }

  private moveToken(delta: number): void {
    if (!this.session) return;
    const active = views.activeToken(this.state);
    const from = active ?? this.queryStrip().cursorToken;
    this.moveTo(active === null ? from : from + delta, true);
  }

  /** Moves the focused query token (and the pin, when there is one); keyboard focus follows when asked. */
  private moveTo(token: number, takeFocus: boolean): void {
    const strip = this.queryStrip();
    const count = strip.count;
    if (count === 0) return;
    const wasPinned = this.state.pinned !== null;
    this.state = views.moveTo(this.state, token, count);
    if (wasPinned) this.saveState();
    const target = this.state.preview ?? 0;
    // Keyboard focus moves with the arrows only if it was in the strip (or nowhere); a host-driven
    // focus (editor cursor) must never pull focus out of the editor.
    const focus = takeFocus && (strip.containsFocus() || document.activeElement === document.body || document.activeElement === null);
    strip.setCursor(target, focus);
    this.refreshFocus(true);
  }

  /**
   * Repaints everything that follows the active token and tells the host what it attends to;
   * `reveal` scrolls the link columns to it (keyboard and editor moves, not the pointer).
   */
  private refreshFocus(reveal: boolean): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) return;
    const focus = this.focusInfo();
    const { token, pinned, attended } = focus;
    this.queryStrip().setActive(token, pinned);
    this.layout.unpinButton.hidden = !pinned;
    this.keyStrip().setAttended(attended ?? []);
    this.updateViews({ kind: 'focus', reveal }, focus);
    if (token === null) {
      this.layout.focusInfo.textContent = t('Hover, focus or click a token to see what it attends to.');
      this.postFocus(null, []);
      return;
    }
    const described = describeFocus(this.texts[group.queries], this.texts[group.keys], group, token, pinned, attended);
    const painted = this.currentPaintedMap();
    this.layout.focusInfo.textContent = painted ? t('{0} — in the {1}', described, painted.label) : described;
    // Without the row yet, the host hears about it when the head arrives.
    if (attended) this.postFocus(token, attended);
  }

  private postFocus(token: number | null, attended: WeightedToken[]): void {
    const session = this.session;
    if (!session) return;
    const { group, layer, head } = this.state;
    const message = { type: 'tokenFocus' as const, sessionId: session.sessionId, group, token, layer, head, attended };
    const signature = token === null ? noFocusSignature(session.sessionId) : JSON.stringify(message);
    if (signature === this.lastFocusSignature) return;
    this.lastFocusSignature = signature;
    this.host.post(message);
  }

  private saveState(): void {
    if (!this.session) return;
    const { group, layer, head, pinned } = this.state;
    const rerun = this.session.rerun ? { rerun: this.session.rerun } : {};
    this.host.saveState({ sessionId: this.session.sessionId, group, layer, head, pinnedToken: pinned, ...rerun });
  }
}

function noFocusSignature(sessionId: number): string {
  return `${sessionId}:none`;
}

/** "#3 “·fox” attends most to #2 “·brown” (41%)."; across sequences the key's sequence is named. */
function describeFocus(queries: string[], keys: string[], group: GroupInfo, token: number, pinned: boolean, attended: WeightedToken[] | undefined): string {
  const crossSequence = group.queries !== group.keys;
  const named = `#${token} “${queries[token]}”`;
  const token_ = crossSequence ? t('{0} {1}', sequenceName(group.queries), named) : named;
  const subject = pinned ? t('{0} (pinned)', token_) : token_;
  if (!attended) return t('{0}: loading…', subject);
  if (attended.length === 0) return t('{0} attends to nothing.', subject);
  const strongest = attended[0];
  const key = `#${strongest.token} “${keys[strongest.token]}”`;
  const target = !crossSequence && strongest.token === token ? t('itself') : crossSequence ? t('{0} {1}', sequenceName(group.keys), key) : key;
  return t('{0} attends most to {1} ({2}).', subject, target, formatPercent(strongest.weight));
}
