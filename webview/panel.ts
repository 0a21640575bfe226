// The panel's controller: turns host messages into views and user actions into requests. It owns
// the session, the shown (group, layer, head), the active query token (pinned, else hovered/focused)
// and the caches of attention received; the widgets it wires together only draw what they are given.
// Token indices of the active token are into the current group's query sequence, attended tokens
// into its key sequence (the source text, or an encoder–decoder's target).

import { topAttended } from '../src/core/attentionViews';
import type { TokenSequence } from '../src/core/types';
import { assertNever, MEAN_HEAD, type ColorScale, type GroupInfo, type HostToWebview, type SessionInfo, type WeightedToken } from '../src/shared/protocol';
import { Banners } from './banners';
import { headKey, LruCache, rowsKey } from './cache';
import { isColorScale } from './colorScale';
import { formatPercent, tokenDisplay } from './displayText';
import { el } from './dom';
import { clampView, describeGroup, kvGroupOf, kvHeadsOf, stepGroup } from './groups';
import { renderHeader } from './header';
import { Heatmap } from './heatmap';
import { installKeyboard } from './keyboard';
import { Legend } from './legend';
import { SidePanel } from './sidePanel';
import { describeHead, isValidView, sequenceTokens, sessionProblem, stepHead, stepLayer } from './state';
import { headColorCss, readTheme, type Theme } from './theme';
import { TokenLinks } from './tokenLinks';
import { TokenSequences } from './tokenSequences';
import type { TokenStrip } from './tokenStrip';
import type { HostChannel } from './vscodeApi';

/** How many attended tokens are highlighted and sent to the editor. */
export const TOP_K = 5;
const HEAD_CACHE_BYTES = 48 * 1024 * 1024;
const ROW_CACHE_BYTES = 8 * 1024 * 1024;
/** Up to this many tokens per axis the link columns sit beside the heatmap; longer runs give the heatmap the full width. */
const LINKS_BESIDE_MAX_TOKENS = 64;

type HeadAttentionMessage = Extract<HostToWebview, { type: 'headAttention' }>;
type TokenRowsMessage = Extract<HostToWebview, { type: 'tokenRows' }>;

export class Panel {
  private readonly banners = new Banners();
  private readonly headerSlot = el('div', 'header-slot');
  private readonly workspace: HTMLElement;
  private readonly sidePanel: SidePanel;
  private readonly sequences: TokenSequences;
  private readonly links: TokenLinks;
  private readonly linksTitle = el('span', 'links-title-text', undefined, 'Links');
  private readonly heatmap: Heatmap;
  private readonly heatmapSection: HTMLElement;
  private readonly views: HTMLElement;
  private readonly legend = new Legend();
  private readonly viewTitle = el('span', 'view-title-text');
  private readonly viewSwatch = el('span', 'view-swatch', { 'aria-hidden': 'true' });
  private readonly focusInfo = el('p', 'focus-info', { 'aria-live': 'polite' });
  private readonly unpinButton = el('button', 'unpin', { type: 'button', hidden: true, title: 'Unpin (Escape)' }, 'Unpin');
  private readonly groupHint: HTMLElement;
  private theme: Theme;

  private session: SessionInfo | null = null;
  /** Visible token texts of each sequence of the session. */
  private texts: Record<TokenSequence, string[]> = { source: [], target: [] };
  private group = 0;
  private layer = 0;
  private head = MEAN_HEAD;
  private colorScale: ColorScale = 'sqrt';
  private pinned: number | null = null;
  private preview: number | null = null;
  private readonly heads = new LruCache<Float32Array>(HEAD_CACHE_BYTES);
  private readonly rows = new LruCache<Float32Array>(ROW_CACHE_BYTES, 8);
  private readonly pendingHeads = new Set<string>();
  private readonly pendingRows = new Set<string>();
  private lastFocusSignature = '';
  private linksFrame = 0;
  private measureFrame = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostChannel,
  ) {
    this.theme = readTheme();
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
    this.links = new TokenLinks({ onHover: (token) => this.onHover(token), onToggle: (token) => this.togglePin(token) });
    this.heatmap = new Heatmap(this.theme, { onPickQuery: (token) => this.togglePin(token) });
    this.unpinButton.addEventListener('click', () => this.unpin());

    const key = (text: string) => el('kbd', undefined, undefined, text);
    this.groupHint = el('span', 'group-hint', { hidden: true }, key('g'), key('G'), ' group  ');
    const hints = el(
      'p',
      'hints',
      undefined,
      key('←'),
      key('→'),
      ' token  ',
      key('['),
      key(']'),
      ' head  ',
      key('{'),
      key('}'),
      ' layer  ',
      this.groupHint,
      key('Enter'),
      ' or click to pin  ',
      key('Esc'),
      ' unpin',
    );
    const tokensSection = el(
      'section',
      'tokens-section',
      { 'aria-labelledby': 'tokens-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'tokens-title' }, 'Tokens'), this.focusInfo, this.unpinButton),
      this.sequences.element,
      hints,
    );
    this.heatmapSection = el(
      'section',
      'heatmap-section',
      { 'aria-labelledby': 'view-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title view-title', { id: 'view-title' }, this.viewSwatch, this.viewTitle), this.legend.element),
      this.heatmap.element,
    );
    const linksSection = el(
      'section',
      'links-section',
      { 'aria-labelledby': 'links-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'links-title' }, this.linksTitle)),
      this.links.element,
    );
    this.views = el('div', 'views', undefined, this.heatmapSection, linksSection);
    this.workspace = el('div', 'workspace', { hidden: true }, this.sidePanel.element, el('main', 'main-column', undefined, tokensSection, this.views));
    root.prepend(this.banners.element, this.headerSlot);
    root.append(this.workspace);

    installKeyboard(document, {
      moveToken: (delta) => this.moveToken(delta),
      jumpToken: (to) => this.moveTo(to === 'first' ? 0 : this.queryStrip().count - 1, true),
      stepHead: (delta) => {
        const group = this.currentGroup();
        if (group) this.selectView(this.layer, stepHead(this.head, group.dims[1], delta));
      },
      stepLayer: (delta) => {
        const group = this.currentGroup();
        if (group) this.selectView(stepLayer(this.layer, group.dims[0], delta), this.head);
      },
      stepGroup: (delta) => {
        if (this.session && this.session.groups.length > 1) this.selectGroup(stepGroup(this.group, this.session.groups.length, delta));
      },
      unpin: () => this.unpin(),
    });
    // Laying out inside the observer's callback would resize what it observes in the same frame.
    new ResizeObserver(() => this.scheduleMeasure()).observe(this.heatmapSection);
    new ResizeObserver(() => this.scheduleLinks()).observe(this.links.element);
  }

  handle(message: HostToWebview): void {
    switch (message.type) {
      case 'busy':
        this.banners.showBusy(message.message);
        return;
      case 'session':
        this.openSession(message.session);
        return;
      case 'headAttention':
        this.receiveHead(message);
        return;
      case 'tokenRows':
        this.receiveRows(message);
        return;
      case 'focusToken':
        this.focusSourceToken(message.sessionId, message.token);
        return;
      case 'settings':
        this.setColorScale(message.colorScale);
        return;
      case 'error':
        this.banners.hideBusy();
        this.banners.showError(message.message);
        return;
      default:
        assertNever(message);
    }
  }

  /** VS Code switched theme: re-read the colours and repaint everything drawn with them. */
  themeChanged(): void {
    this.theme = readTheme();
    this.heatmap.setTheme(this.theme);
    this.sidePanel.setTheme(this.theme);
    this.updateViewTitle();
    const group = this.currentGroup();
    if (group) this.legend.update(this.colorScale, this.theme, group.causal);
    this.scheduleLinks();
  }

  private scheduleMeasure(): void {
    if (this.measureFrame) return;
    this.measureFrame = requestAnimationFrame(() => {
      this.measureFrame = 0;
      this.measure();
    });
  }

  /** The device pixel ratio or the available width changed. */
  measure(): void {
    if (!this.session) return;
    this.heatmap.resize(this.heatmapSection.clientWidth);
  }

  /** A message the panel could not use: tell the host (it logs) and the user. */
  reportProblem(message: string): void {
    this.host.post({ type: 'webviewError', message });
    this.banners.showError(message);
  }

  // ---------------------------------------------------------------- the current group

  private currentGroup(): GroupInfo | undefined {
    return this.session?.groups[this.group];
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

  /** Lays out everything that depends on the group: head grid, axes, link columns, strip roles, legend. */
  private layoutGroup(): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) return;
    this.sidePanel.setGroup(this.group, group, this.theme);
    this.sidePanel.setSelected(this.layer, this.head);
    this.sequences.setGroup(group);
    for (const sequence of ['source', 'target'] as const) {
      const strip = this.sequences.strip(sequence);
      strip.setActive(null, false);
      strip.setAttended([]);
    }
    const queries = this.texts[group.queries];
    const keys = this.texts[group.keys];
    this.views.classList.toggle('stacked', Math.max(queries.length, keys.length) > LINKS_BESIDE_MAX_TOKENS);
    this.heatmap.setAxes({ queries, keys, querySequence: group.queries, keySequence: group.keys, causal: group.causal });
    this.heatmap.setScale(this.colorScale);
    this.heatmap.setData(null, '', this.describeView());
    this.links.setTokens(queries, keys, group.queries, group.keys);
    this.linksTitle.textContent = `Links · ${describeGroup(group)}`;
    this.legend.update(this.colorScale, this.theme, group.causal);
    this.measure();
  }

  /**
   * Shows another attention group: the same layer and head when it has them (clamped otherwise);
   * a pin or hover on the query sequence survives only when the new group's queries are the same tokens.
   */
  private selectGroup(index: number): void {
    const session = this.session;
    if (!session || index === this.group || !Number.isInteger(index) || index < 0 || index >= session.groups.length) return;
    const previous = session.groups[this.group];
    const next = session.groups[index];
    const [layers, heads] = next.dims;
    const view = clampView(this.layer, this.head, layers, heads);
    if (next.queries !== previous.queries) {
      this.pinned = null;
      this.preview = null;
    }
    this.group = index;
    this.layer = view.layer;
    this.head = view.head;
    this.layoutGroup();
    if (this.pinned !== null) this.queryStrip().setCursor(this.pinned, false);
    this.host.post({ type: 'viewChanged', sessionId: session.sessionId, group: index, layer: view.layer, head: view.head });
    this.showView();
    this.refreshFocus(false);
    this.saveState();
  }

  // ---------------------------------------------------------------- host messages

  private openSession(session: SessionInfo): void {
    const problem = sessionProblem(session);
    if (problem) {
      this.banners.hideBusy();
      this.reportProblem(`Cannot show this run: ${problem}.`);
      return;
    }
    const saved = this.host.loadState();
    const restored = saved && saved.sessionId === session.sessionId ? saved : undefined;
    // Keep the group, layer and head the user was looking at when the new run has them.
    const previousName = this.currentGroup()?.name;
    let group = restored ? restored.group : session.groups.findIndex((g) => g.name === previousName);
    if (!Number.isInteger(group) || group < 0 || group >= session.groups.length) group = 0;
    const [layers, heads, queries] = session.groups[group].dims;
    let view = restored ?? { layer: this.layer, head: this.head };
    if (!isValidView(view, layers, heads)) view = { layer: 0, head: MEAN_HEAD };
    this.session = session;
    this.group = group;
    this.layer = view.layer;
    this.head = view.head;
    this.colorScale = session.colorScale;
    const pin = restored?.pinnedToken;
    this.pinned = pin !== undefined && pin !== null && pin >= 0 && pin < queries ? pin : null;
    this.preview = null;
    this.heads.clear();
    this.rows.clear();
    this.pendingHeads.clear();
    this.pendingRows.clear();
    this.lastFocusSignature = noFocusSignature(session.sessionId);
    this.texts = { source: session.tokens.map(tokenDisplay), target: sequenceTokens(session, 'target').map(tokenDisplay) };

    this.root.querySelector(':scope > .placeholder')?.remove();
    this.banners.hideBusy();
    this.banners.hideError();
    this.headerSlot.replaceChildren(renderHeader(session));
    this.workspace.hidden = false;
    this.groupHint.hidden = session.groups.length < 2;
    this.sequences.setSession(session);
    this.sidePanel.setGroups(session.groups);
    this.layoutGroup();
    if (this.pinned !== null) this.queryStrip().setCursor(this.pinned, false);
    this.showView();
    this.refreshFocus(false);
    this.saveState();
  }

  private receiveHead(message: HeadAttentionMessage): void {
    const session = this.session;
    if (!session || message.sessionId !== session.sessionId) return; // a reply for an older run
    const group = session.groups[message.group];
    if (!group) return;
    const [layers, heads, Tq, Tk] = group.dims;
    if (!isValidView(message, layers, heads)) return;
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== Tq * Tk * 4) {
      this.reportProblem(
        `Attention for ${group.label}, layer ${message.layer}, ${describeHead(message.head, heads)} has ${byteLengthOf(message.data)} bytes; expected ${Tq * Tk * 4} ([${Tq}, ${Tk}] float32).`,
      );
      return;
    }
    const key = headKey(message.group, message.layer, message.head);
    const data = new Float32Array(message.data);
    this.pendingHeads.delete(key);
    this.heads.set(key, data);
    if (message.group === this.group && message.layer === this.layer && message.head === this.head) {
      this.heatmap.setData(data, key, this.describeView());
      this.heatmap.setLoading(false);
      this.refreshFocus(false);
    }
  }

  private receiveRows(message: TokenRowsMessage): void {
    const session = this.session;
    if (!session || message.sessionId !== session.sessionId) return;
    const group = session.groups[message.group];
    if (!group) return;
    const [layers, heads, Tq, Tk] = group.dims;
    if (!Number.isInteger(message.layer) || message.layer < 0 || message.layer >= layers || !Number.isInteger(message.token) || message.token < 0 || message.token >= Tq) return;
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== heads * Tk * 4) {
      this.reportProblem(`Token rows for token ${message.token} of ${group.label} have ${byteLengthOf(message.data)} bytes; expected ${heads * Tk * 4} ([${heads}, ${Tk}] float32).`);
      return;
    }
    const key = rowsKey(message.group, message.layer, message.token);
    this.pendingRows.delete(key);
    this.rows.set(key, new Float32Array(message.data));
    if (message.group === this.group && message.layer === this.layer && message.token === this.activeToken()) this.drawLinks();
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
    this.heatmap.setScale(scale);
    const group = this.currentGroup();
    if (group) this.legend.update(scale, this.theme, group.causal);
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
    if (!session || !group || !isValidView({ layer, head }, group.dims[0], group.dims[1])) return;
    if (layer === this.layer && head === this.head) return;
    this.layer = layer;
    this.head = head;
    this.sidePanel.setSelected(layer, head);
    this.host.post({ type: 'viewChanged', sessionId: session.sessionId, group: this.group, layer, head });
    this.showView();
    this.refreshFocus(false);
    this.saveState();
  }

  /** Paints the current view from the cache, or asks the host for it (the old picture stays, dimmed). */
  private showView(): void {
    const session = this.session;
    if (!session) return;
    this.updateViewTitle();
    const key = headKey(this.group, this.layer, this.head);
    const data = this.heads.get(key);
    if (data) {
      this.heatmap.setData(data, key, this.describeView());
      this.heatmap.setLoading(false);
      return;
    }
    this.heatmap.setLoading(true);
    if (this.pendingHeads.has(key)) return;
    this.pendingHeads.add(key);
    this.host.post({ type: 'requestHead', sessionId: session.sessionId, group: this.group, layer: this.layer, head: this.head });
  }

  private describeHeadInGroup(): string {
    const group = this.currentGroup();
    if (!group) return '';
    const heads = group.dims[1];
    const kvHeads = kvHeadsOf(group);
    const head = describeHead(this.head, heads);
    return kvHeads !== undefined && this.head !== MEAN_HEAD ? `${head} (K/V head ${kvGroupOf(this.head, heads, kvHeads)})` : head;
  }

  private describeView(): string {
    const group = this.currentGroup();
    const prefix = group && this.session && this.session.groups.length > 1 ? `${group.label}, ` : '';
    return `${prefix}layer ${this.layer}, ${this.describeHeadInGroup()}`;
  }

  private updateViewTitle(): void {
    const group = this.currentGroup();
    const heads = group?.dims[1] ?? 0;
    const prefix = group && this.session && this.session.groups.length > 1 ? `${group.label} · ` : '';
    this.viewTitle.textContent = `${prefix}Layer ${this.layer} · ${this.describeHeadInGroup()}`;
    const colors = this.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => headColorCss(this.theme, h)) : [headColorCss(this.theme, this.head)];
    this.viewSwatch.style.setProperty('--swatch', colors.length > 1 ? `linear-gradient(90deg, ${colors.join(', ')})` : colors[0] ?? 'transparent');
  }

  // ---------------------------------------------------------------- the active token

  private activeToken(): number | null {
    return this.pinned ?? this.preview;
  }

  private onHover(token: number | null): void {
    const strip = this.queryStrip();
    this.preview = token ?? (strip.containsFocus() ? strip.cursorToken : null);
    this.refreshFocus(false);
  }

  private onFocusChip(token: number): void {
    this.preview = token;
    this.queryStrip().setCursor(token, false);
    this.refreshFocus(true);
  }

  private togglePin(token: number): void {
    this.pinned = this.pinned === token ? null : token;
    this.preview = token;
    this.queryStrip().setCursor(token, false);
    this.saveState();
    this.refreshFocus(false);
  }

  private unpin(): void {
    if (this.pinned === null) return;
    this.pinned = null;
    this.saveState();
    this.refreshFocus(false);
  }

  private moveToken(delta: number): void {
    if (!this.session) return;
    const active = this.activeToken();
    const from = active ?? this.queryStrip().cursorToken;
    this.moveTo(active === null ? from : from + delta, true);
  }

  /** Moves the focused query token (and the pin, when there is one); keyboard focus follows when asked. */
  private moveTo(token: number, takeFocus: boolean): void {
    const strip = this.queryStrip();
    const count = strip.count;
    if (count === 0) return;
    const target = Math.max(0, Math.min(count - 1, token));
    if (this.pinned !== null) {
      this.pinned = target;
      this.saveState();
    }
    this.preview = target;
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
    const token = this.activeToken();
    const pinned = this.pinned !== null;
    const queryStrip = this.queryStrip();
    const keyStrip = this.keyStrip();
    queryStrip.setActive(token, pinned);
    this.heatmap.setActive(token);
    this.links.setActive(token, reveal);
    this.unpinButton.hidden = !pinned;
    if (token === null) {
      keyStrip.setAttended([]);
      this.links.setAttended([]);
      this.focusInfo.textContent = 'Hover, focus or click a token to see what it attends to.';
      this.scheduleLinks();
      this.postFocus(null, []);
      return;
    }
    const Tk = group.dims[3];
    const data = this.heads.get(headKey(this.group, this.layer, this.head));
    const attended = data ? topAttended(data.subarray(token * Tk, token * Tk + Tk), TOP_K) : undefined;
    keyStrip.setAttended(attended ?? []);
    this.links.setAttended(attended ?? []);
    this.focusInfo.textContent = describeFocus(this.texts[group.queries], this.texts[group.keys], group, token, pinned, attended);
    this.scheduleLinks();
    // Without the row yet, the host hears about it when the head arrives.
    if (attended) this.postFocus(token, attended);
  }

  private postFocus(token: number | null, attended: WeightedToken[]): void {
    const session = this.session;
    if (!session) return;
    const message = { type: 'tokenFocus' as const, sessionId: session.sessionId, group: this.group, token, layer: this.layer, head: this.head, attended };
    const signature = token === null ? noFocusSignature(session.sessionId) : JSON.stringify(message);
    if (signature === this.lastFocusSignature) return;
    this.lastFocusSignature = signature;
    this.host.post(message);
  }

  private scheduleLinks(): void {
    if (this.linksFrame) return;
    this.linksFrame = requestAnimationFrame(() => {
      this.linksFrame = 0;
      this.drawLinks();
    });
  }

  /**
   * The link columns: with an active token, its links in the current layer (every head for the
   * mean view, else one); without, every query's strongest links in the shown head or mean.
   */
  private drawLinks(): void {
    const session = this.session;
    const group = this.currentGroup();
    if (!session || !group) {
      this.links.clear();
      return;
    }
    const token = this.activeToken();
    const [, heads, , Tk] = group.dims;
    if (token === null) {
      const matrix = this.heads.get(headKey(this.group, this.layer, this.head));
      // One head's lines in its colour; the mean's in the foreground colour (headColorCss of MEAN_HEAD).
      if (matrix) this.links.drawOverview(matrix, headColorCss(this.theme, this.head));
      else this.links.clear();
      return;
    }
    const key = rowsKey(this.group, this.layer, token);
    const rows = this.rows.get(key);
    if (!rows) {
      this.links.clear();
      if (!this.pendingRows.has(key)) {
        this.pendingRows.add(key);
        this.host.post({ type: 'requestTokenRows', sessionId: session.sessionId, group: this.group, layer: this.layer, token });
      }
      return;
    }
    const shownHeads = this.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => h) : [this.head];
    this.links.draw({ query: token, rows, heads, keys: Tk, shownHeads, colorOf: (head) => headColorCss(this.theme, head) });
  }

  private saveState(): void {
    if (!this.session) return;
    this.host.saveState({ sessionId: this.session.sessionId, group: this.group, layer: this.layer, head: this.head, pinnedToken: this.pinned });
  }
}

function noFocusSignature(sessionId: number): string {
  return `${sessionId}:none`;
}

function byteLengthOf(data: unknown): number {
  return data instanceof ArrayBuffer ? data.byteLength : 0;
}

/** "#3 “·fox” attends most to #2 “·brown” (41%)."; across sequences the key's sequence is named. */
function describeFocus(queries: string[], keys: string[], group: GroupInfo, token: number, pinned: boolean, attended: WeightedToken[] | undefined): string {
  const crossSequence = group.queries !== group.keys;
  const subject = `${crossSequence ? `${group.queries} ` : ''}#${token} “${queries[token]}”${pinned ? ' (pinned)' : ''}`;
  if (!attended) return `${subject}: loading…`;
  if (attended.length === 0) return `${subject} attends to nothing.`;
  const strongest = attended[0];
  const target = !crossSequence && strongest.token === token ? 'itself' : `${crossSequence ? `${group.keys} ` : ''}#${strongest.token} “${keys[strongest.token]}”`;
  return `${subject} attends most to ${target} (${formatPercent(strongest.weight)}).`;
}
