// The panel's controller: turns host messages into views and user actions into requests. It owns
// the session, the shown (layer, head), the active token (pinned, else hovered/focused) and the
// caches of attention received; the widgets it wires together only draw what they are given.

import { topAttended } from '../src/core/attentionViews';
import { assertNever, MEAN_HEAD, type ColorScale, type HostToWebview, type SessionInfo, type WeightedToken } from '../src/shared/protocol';
import { Banners } from './banners';
import { LruCache } from './cache';
import { isColorScale } from './colorScale';
import { formatPercent, tokenDisplay } from './displayText';
import { el } from './dom';
import { renderHeader } from './header';
import { Heatmap } from './heatmap';
import { installKeyboard } from './keyboard';
import { Legend } from './legend';
import { SidePanel } from './sidePanel';
import { describeHead, isValidView, sessionProblem, stepHead, stepLayer, viewKey } from './state';
import { headColorCss, readTheme, type Theme } from './theme';
import { TokenLinks } from './tokenLinks';
import { TokenStrip } from './tokenStrip';
import type { HostChannel } from './vscodeApi';

/** How many attended tokens are highlighted and sent to the editor. */
export const TOP_K = 5;
const HEAD_CACHE_BYTES = 48 * 1024 * 1024;
const ROW_CACHE_BYTES = 8 * 1024 * 1024;

type HeadAttentionMessage = Extract<HostToWebview, { type: 'headAttention' }>;
type TokenRowsMessage = Extract<HostToWebview, { type: 'tokenRows' }>;

export class Panel {
  private readonly banners = new Banners();
  private readonly headerSlot = el('div', 'header-slot');
  private readonly workspace: HTMLElement;
  private readonly sidePanel: SidePanel;
  private readonly strip: TokenStrip;
  private readonly links: TokenLinks;
  private readonly heatmap: Heatmap;
  private readonly heatmapSection: HTMLElement;
  private readonly legend = new Legend();
  private readonly viewTitle = el('span', 'view-title-text');
  private readonly viewSwatch = el('span', 'view-swatch', { 'aria-hidden': 'true' });
  private readonly focusInfo = el('p', 'focus-info', { 'aria-live': 'polite' });
  private readonly unpinButton = el('button', 'unpin', { type: 'button', hidden: true, title: 'Unpin (Escape)' }, 'Unpin');
  private theme: Theme;

  private session: SessionInfo | null = null;
  private tokenTexts: string[] = [];
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
    this.sidePanel = new SidePanel({ onSelect: (layer, head) => this.selectView(layer, head) });
    this.strip = new TokenStrip({
      onHover: (token) => this.onHover(token),
      onFocusChip: (token) => this.onFocusChip(token),
      onToggle: (token) => this.togglePin(token),
    });
    this.links = new TokenLinks(this.strip);
    this.heatmap = new Heatmap(this.theme, { onPickQuery: (token) => this.togglePin(token) });
    this.unpinButton.addEventListener('click', () => this.unpin());

    const hints = el(
      'p',
      'hints',
      undefined,
      el('kbd', undefined, undefined, '←'),
      el('kbd', undefined, undefined, '→'),
      ' token  ',
      el('kbd', undefined, undefined, '['),
      el('kbd', undefined, undefined, ']'),
      ' head  ',
      el('kbd', undefined, undefined, '{'),
      el('kbd', undefined, undefined, '}'),
      ' layer  ',
      el('kbd', undefined, undefined, 'Enter'),
      ' or click to pin  ',
      el('kbd', undefined, undefined, 'Esc'),
      ' unpin',
    );
    const tokensSection = el(
      'section',
      'tokens-section',
      { 'aria-labelledby': 'tokens-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'tokens-title' }, 'Tokens'), this.focusInfo, this.unpinButton),
      this.strip.element,
      hints,
    );
    this.heatmapSection = el(
      'section',
      'heatmap-section',
      { 'aria-labelledby': 'view-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title view-title', { id: 'view-title' }, this.viewSwatch, this.viewTitle), this.legend.element),
      this.heatmap.element,
    );
    this.workspace = el('div', 'workspace', { hidden: true }, this.sidePanel.element, el('main', 'main-column', undefined, tokensSection, this.heatmapSection));
    root.prepend(this.banners.element, this.headerSlot);
    root.append(this.workspace);

    installKeyboard(document, {
      moveToken: (delta) => this.moveToken(delta),
      jumpToken: (to) => this.moveTo(to === 'first' ? 0 : this.strip.count - 1, true),
      stepHead: (delta) => {
        if (this.session) this.selectView(this.layer, stepHead(this.head, this.session.dims[1], delta));
      },
      stepLayer: (delta) => {
        if (this.session) this.selectView(stepLayer(this.layer, this.session.dims[0], delta), this.head);
      },
      unpin: () => this.unpin(),
    });
    // Laying out inside the observer's callback would resize what it observes in the same frame.
    new ResizeObserver(() => this.scheduleMeasure()).observe(this.heatmapSection);
    new ResizeObserver(() => this.scheduleLinks()).observe(this.strip.flow);
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
        if (this.session && message.sessionId === this.session.sessionId && Number.isInteger(message.token) && message.token >= 0 && message.token < this.strip.count) {
          this.moveTo(message.token, false);
        }
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
    if (this.session) this.legend.update(this.colorScale, this.theme, this.session.causal);
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

  // ---------------------------------------------------------------- host messages

  private openSession(session: SessionInfo): void {
    const problem = sessionProblem(session);
    if (problem) {
      this.banners.hideBusy();
      this.reportProblem(`Cannot show this run: ${problem}.`);
      return;
    }
    const [layers, heads, tokens] = session.dims;
    const saved = this.host.loadState();
    const restored = saved && saved.sessionId === session.sessionId ? saved : undefined;
    // Keep the layer and head the user was looking at when the new run has them.
    let view = restored ?? { layer: this.layer, head: this.head };
    if (!isValidView(view, layers, heads)) view = { layer: 0, head: MEAN_HEAD };
    this.session = session;
    this.layer = view.layer;
    this.head = view.head;
    this.colorScale = session.colorScale;
    const pin = restored?.pinnedToken;
    this.pinned = pin !== undefined && pin !== null && pin >= 0 && pin < tokens ? pin : null;
    this.preview = null;
    this.heads.clear();
    this.rows.clear();
    this.pendingHeads.clear();
    this.pendingRows.clear();
    this.lastFocusSignature = noFocusSignature(session.sessionId);
    this.tokenTexts = session.tokens.map(tokenDisplay);

    this.root.querySelector(':scope > .placeholder')?.remove();
    this.banners.hideBusy();
    this.banners.hideError();
    this.headerSlot.replaceChildren(renderHeader(session));
    this.workspace.hidden = false;
    this.strip.setTokens(session.tokens);
    this.links.clear();
    this.sidePanel.setDims(layers, heads, this.theme);
    this.sidePanel.setSelected(this.layer, this.head);
    this.heatmap.setTokens(this.tokenTexts, session.causal);
    this.heatmap.setScale(this.colorScale);
    this.heatmap.setData(null, '', this.describeView());
    this.legend.update(this.colorScale, this.theme, session.causal);
    this.measure();
    if (this.pinned !== null) this.strip.setCursor(this.pinned, false);
    this.showView();
    this.refreshFocus();
    this.saveState();
  }

  private receiveHead(message: HeadAttentionMessage): void {
    const session = this.session;
    if (!session || message.sessionId !== session.sessionId) return; // a reply for an older run
    const [layers, heads, T] = session.dims;
    if (!isValidView(message, layers, heads)) return;
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== T * T * 4) {
      this.reportProblem(`Attention for layer ${message.layer}, ${describeHead(message.head, heads)} has ${byteLengthOf(message.data)} bytes; expected ${T * T * 4} ([${T}, ${T}] float32).`);
      return;
    }
    const key = viewKey(message.layer, message.head);
    const data = new Float32Array(message.data);
    this.pendingHeads.delete(key);
    this.heads.set(key, data);
    if (message.layer === this.layer && message.head === this.head) {
      this.heatmap.setData(data, key, this.describeView());
      this.heatmap.setLoading(false);
      this.refreshFocus();
    }
  }

  private receiveRows(message: TokenRowsMessage): void {
    const session = this.session;
    if (!session || message.sessionId !== session.sessionId) return;
    const [layers, heads, T] = session.dims;
    if (!Number.isInteger(message.layer) || message.layer < 0 || message.layer >= layers || !Number.isInteger(message.token) || message.token < 0 || message.token >= T) return;
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== heads * T * 4) {
      this.reportProblem(`Token rows for token ${message.token} have ${byteLengthOf(message.data)} bytes; expected ${heads * T * 4} ([${heads}, ${T}] float32).`);
      return;
    }
    const key = viewKey(message.layer, message.token);
    this.pendingRows.delete(key);
    this.rows.set(key, new Float32Array(message.data));
    if (message.layer === this.layer && message.token === this.activeToken()) this.drawLinks();
  }

  private setColorScale(scale: ColorScale): void {
    if (!isColorScale(scale)) return;
    this.colorScale = scale;
    this.heatmap.setScale(scale);
    if (this.session) this.legend.update(scale, this.theme, this.session.causal);
  }

  // ---------------------------------------------------------------- the shown (layer, head)

  private selectView(layer: number, head: number): void {
    const session = this.session;
    if (!session || !isValidView({ layer, head }, session.dims[0], session.dims[1])) return;
    if (layer === this.layer && head === this.head) return;
    this.layer = layer;
    this.head = head;
    this.sidePanel.setSelected(layer, head);
    this.host.post({ type: 'viewChanged', sessionId: session.sessionId, layer, head });
    this.showView();
    this.refreshFocus();
    this.saveState();
  }

  /** Paints the current view from the cache, or asks the host for it (the old picture stays, dimmed). */
  private showView(): void {
    const session = this.session;
    if (!session) return;
    this.updateViewTitle();
    const key = viewKey(this.layer, this.head);
    const data = this.heads.get(key);
    if (data) {
      this.heatmap.setData(data, key, this.describeView());
      this.heatmap.setLoading(false);
      return;
    }
    this.heatmap.setLoading(true);
    if (this.pendingHeads.has(key)) return;
    this.pendingHeads.add(key);
    this.host.post({ type: 'requestHead', sessionId: session.sessionId, layer: this.layer, head: this.head });
  }

  private describeView(): string {
    const heads = this.session?.dims[1] ?? 0;
    return `layer ${this.layer}, ${describeHead(this.head, heads)}`;
  }

  private updateViewTitle(): void {
    const heads = this.session?.dims[1] ?? 0;
    this.viewTitle.textContent = `Layer ${this.layer} · ${describeHead(this.head, heads)}`;
    const colors = this.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => headColorCss(this.theme, h)) : [headColorCss(this.theme, this.head)];
    this.viewSwatch.style.setProperty('--swatch', colors.length > 1 ? `linear-gradient(90deg, ${colors.join(', ')})` : colors[0] ?? 'transparent');
  }

  // ---------------------------------------------------------------- the active token

  private activeToken(): number | null {
    return this.pinned ?? this.preview;
  }

  private onHover(token: number | null): void {
    this.preview = token ?? (this.strip.containsFocus() ? this.strip.cursorToken : null);
    this.refreshFocus();
  }

  private onFocusChip(token: number): void {
    this.preview = token;
    this.strip.setCursor(token, false);
    this.refreshFocus();
  }

  private togglePin(token: number): void {
    this.pinned = this.pinned === token ? null : token;
    this.preview = token;
    this.strip.setCursor(token, false);
    this.saveState();
    this.refreshFocus();
  }

  private unpin(): void {
    if (this.pinned === null) return;
    this.pinned = null;
    this.saveState();
    this.refreshFocus();
  }

  private moveToken(delta: number): void {
    if (!this.session) return;
    const active = this.activeToken();
    const from = active ?? this.strip.cursorToken;
    this.moveTo(active === null ? from : from + delta, true);
  }

  /** Moves the focused token (and the pin, when there is one); keyboard focus follows when asked. */
  private moveTo(token: number, takeFocus: boolean): void {
    const count = this.strip.count;
    if (count === 0) return;
    const target = Math.max(0, Math.min(count - 1, token));
    if (this.pinned !== null) {
      this.pinned = target;
      this.saveState();
    }
    this.preview = target;
    // Keyboard focus moves with the arrows only if it was in the strip (or nowhere); a host-driven
    // focus (editor cursor) must never pull focus out of the editor.
    const focus = takeFocus && (this.strip.containsFocus() || document.activeElement === document.body || document.activeElement === null);
    this.strip.setCursor(target, focus);
    this.refreshFocus();
  }

  /** Repaints everything that follows the active token and tells the host what it attends to. */
  private refreshFocus(): void {
    const session = this.session;
    if (!session) return;
    const token = this.activeToken();
    const pinned = this.pinned !== null;
    this.strip.setActive(token, pinned);
    this.heatmap.setActive(token);
    this.unpinButton.hidden = !pinned;
    if (token === null) {
      this.strip.setAttended([]);
      this.links.clear();
      this.focusInfo.textContent = 'Hover, focus or click a token to see what it attends to.';
      this.postFocus(null, []);
      return;
    }
    const T = session.dims[2];
    const data = this.heads.get(viewKey(this.layer, this.head));
    const attended = data ? topAttended(data.subarray(token * T, token * T + T), TOP_K) : undefined;
    this.strip.setAttended(attended ?? []);
    this.focusInfo.textContent = describeFocus(this.tokenTexts, token, pinned, attended);
    this.drawLinks();
    // Without the row yet, the host hears about it when the head arrives.
    if (attended) this.postFocus(token, attended);
  }

  private postFocus(token: number | null, attended: WeightedToken[]): void {
    const session = this.session;
    if (!session) return;
    const message = { type: 'tokenFocus' as const, sessionId: session.sessionId, token, layer: this.layer, head: this.head, attended };
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

  /** Links from the active token in the current layer: every head for the mean view, else one. */
  private drawLinks(): void {
    const session = this.session;
    const token = this.activeToken();
    if (!session || token === null) {
      this.links.clear();
      return;
    }
    const [, heads, T] = session.dims;
    const key = viewKey(this.layer, token);
    const rows = this.rows.get(key);
    if (!rows) {
      this.links.clear();
      if (!this.pendingRows.has(key)) {
        this.pendingRows.add(key);
        this.host.post({ type: 'requestTokenRows', sessionId: session.sessionId, layer: this.layer, token });
      }
      return;
    }
    const shownHeads = this.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => h) : [this.head];
    this.links.draw({ query: token, rows, heads, tokens: T, shownHeads, colorOf: (head) => headColorCss(this.theme, head) });
  }

  private saveState(): void {
    if (!this.session) return;
    this.host.saveState({ sessionId: this.session.sessionId, layer: this.layer, head: this.head, pinnedToken: this.pinned });
  }
}

function noFocusSignature(sessionId: number): string {
  return `${sessionId}:none`;
}

function byteLengthOf(data: unknown): number {
  return data instanceof ArrayBuffer ? data.byteLength : 0;
}

function describeFocus(texts: string[], token: number, pinned: boolean, attended: WeightedToken[] | undefined): string {
  const subject = `#${token} “${texts[token]}”${pinned ? ' (pinned)' : ''}`;
  if (!attended) return `${subject}: loading…`;
  if (attended.length === 0) return `${subject} attends to nothing.`;
  const strongest = attended[0];
  const target = strongest.token === token ? 'itself' : `#${strongest.token} “${texts[strongest.token]}”`;
  return `${subject} attends most to ${target} (${formatPercent(strongest.weight)}).`;
}
