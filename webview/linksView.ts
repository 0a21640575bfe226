// The token links (bertviz's view) as a panel view: with an active token, its links in the current
// layer (every head for the mean view, else one), from the token's rows in the store; without,
// every query's strongest links in the shown head or mean. Drawn at most once a frame.

import { linksSvg } from '../src/shared/exportLinks';
import { MEAN_HEAD, type ExportFormat } from '../src/shared/protocol';
import { el } from './dom';
import { exportBar } from './exportBar';
import { describeGroup } from './groups';
import { headColorCss } from './theme';
import { describeHead } from './state';
import { svgToPngBase64 } from './svgRaster';
import { TokenLinks } from './tokenLinks';
import type { PanelView, ViewContext, ViewSetup } from './view';
import { t } from './l10n';

export class LinksView implements PanelView {
  readonly id = 'links';
  readonly element: HTMLElement;
  private readonly links: TokenLinks;
  private readonly title = el('span', 'links-title-text', undefined, t('Links'));
  private context: ViewContext | undefined;
  private frame = 0;
  private readonly observer: ResizeObserver;

  constructor(setup: ViewSetup) {
    this.links = new TokenLinks({ onHover: (token) => setup.actions.hover(token), onToggle: (token) => setup.actions.togglePin(token), onRowsInView: () => this.schedule() });
    this.element = el(
      'section',
      'links-section',
      { 'aria-labelledby': 'links-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'links-title' }, this.title)),
      this.links.element,
      exportBar(t('Export the shown links'), [{ format: 'svg', label: t('Export SVG') }, { format: 'png', label: t('Export PNG') }], (format) => void this.export(format)),
    );
    this.observer = new ResizeObserver(() => this.schedule());
    this.observer.observe(this.links.element);
  }

  update(context: ViewContext): void {
    this.context = context;
    const { change, state } = context;
    switch (change.kind) {
      case 'group': {
        const { group, texts } = context;
        this.links.setTokens(texts[group.queries] as string[], texts[group.keys] as string[], group.queries, group.keys);
        this.title.textContent = t('Links · {0}', describeGroup(group));
        return;
      }
      case 'focus': {
        const { token, attended } = context.focus;
        this.links.setActive(token, change.reveal);
        this.links.setAttended(token === null ? [] : (attended ?? []));
        this.schedule();
        return;
      }
      case 'arrived': {
        const arrival = change.arrival;
        if (arrival.kind === 'rows' && arrival.group === state.group && arrival.layer === state.layer && arrival.token === context.focus.token) this.draw();
        else if (arrival.kind === 'block' && context.focus.token === null && arrival.group === state.group && arrival.layer === state.layer && arrival.head === state.head) this.draw();
        return;
      }
      case 'theme':
        this.schedule();
        return;
      default:
        return;
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const context = this.context;
    if (!context) {
      this.links.clear();
      return;
    }
    const { group, state, store, theme } = context;
    const token = context.focus.token;
    const [, heads, , Tk] = group.dims;
    const painted = context.paintedMap;
    if (painted) {
      // The painted map (e.g. the rollout) instead of the head: its overview, or the active token's row.
      const color = headColorCss(theme, MEAN_HEAD);
      if (token === null) this.links.drawOverview(painted.data, color);
      else this.links.draw({ query: token, rows: painted.data.slice(token * Tk, token * Tk + Tk), heads: 1, keys: Tk, shownHeads: [0], colorOf: () => color });
      return;
    }
    if (token === null) {
      // One head's lines in its colour; the mean's in the foreground colour (headColorCss of MEAN_HEAD).
      const color = headColorCss(theme, state.head);
      const matrix = store.cachedHead(state.group, state.layer, state.head);
      if (matrix) {
        this.links.drawOverview(matrix, color);
        return;
      }
      // A long run's map arrives pooled, never whole: the exact rows of the queries in view, as a block.
      const [first, last] = this.links.rowsInView();
      const Tq = group.dims[2];
      if (last < first) {
        this.links.clear();
        return;
      }
      const want = { window: { row0: first, row1: last + 1, col0: 0, col1: Tk } };
      const block = store.cachedBlock(state.group, state.layer, state.head, want);
      if (block && block.encoding === 'float32' && block.rowStep === 1 && block.colStep === 1) {
        this.links.drawOverviewOf({ values: block.unit === 1 ? (block.values as Float32Array) : (block.values as Float32Array).map((v) => v * block.unit), row0: first, row1: Math.min(Tq, last + 1) }, color);
        return;
      }
      this.links.clear();
      store.requestBlock(state.group, state.layer, state.head, want);
      return;
    }
    const rows = store.cachedRows(state.group, state.layer, token);
    if (!rows) {
      this.links.clear();
      store.requestRows(state.group, state.layer, token);
      return;
    }
    const shownHeads = state.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => h) : [state.head];
    this.links.draw({ query: token, rows, heads, keys: Tk, shownHeads, colorOf: (head) => headColorCss(theme, head) });
  }

  /** The drawn links as SVG or PNG (the same figure rasterised); the host saves it (src/extension/panelExports.ts). */
  private async export(format: ExportFormat): Promise<void> {
    const context = this.context;
    if (!context) return;
    const { state, session, group } = context;
    const figure = this.links.figure(`${this.title.textContent ?? ''}, ${t('layer {0}, {1}', state.layer, describeHead(state.head, group.dims[1]))}`);
    if (!figure) return;
    const head = state.head === MEAN_HEAD ? 'mean' : `H${state.head}`;
    const base = { type: 'export' as const, sessionId: session.sessionId, format, name: `links-G${state.group}-L${state.layer}-${head}` };
    const svgText = linksSvg(figure);
    if (format === 'svg') context.host.post({ ...base, content: svgText });
    else if (format === 'png') {
      const base64 = await svgToPngBase64(svgText);
      if (base64) context.host.post({ ...base, base64 });
    }
  }

  dispose(): void {
    this.observer.disconnect();
  }
}
