// The heatmap as a panel view: its section (title with the head's colour swatch, colour legend)
// and the matrix of the shown (group, layer, head), painted from the store or, while the host
// sends it, the previous picture dimmed. A map larger than the matrix's pixels is asked for pooled
// to them (max-pooled by the host, quantised as far as the colour scale allows: encodingFor), a
// zoomed window exactly once it fits; tooltips read exact weights from the query's token rows.

import { meanOfHeadRows } from '../src/core/attentionViews';
import { heatmapSvg, matrixCsv, type LabelledMatrix } from '../src/shared/exportFormats';
import { MEAN_HEAD, type ExportFormat } from '../src/shared/protocol';
import type { BlockWant, HeadBlock } from './attentionStore';
import { encodingFor } from './colorScale';
import { headKey } from './cache';
import { el } from './dom';
import { exportBar } from './exportBar';
import { groupLabel, kvGroupOf, kvHeadsOf } from './groups';
import { Heatmap } from './heatmap';
import { Legend } from './legend';
import { describeHead } from './state';
import { headColorCss, type Theme } from './theme';
import { svgToPngBase64 } from './svgRaster';
import type { PanelView, ViewContext, ViewSetup } from './view';
import { t } from './l10n';

export class HeatmapView implements PanelView {
  readonly id = 'heatmap';
  readonly element: HTMLElement;
  private readonly heatmap: Heatmap;
  private readonly legend = new Legend();
  private readonly viewTitle = el('span', 'view-title-text');
  private readonly viewSwatch = el('span', 'view-swatch', { 'aria-hidden': 'true' });
  private theme: Theme;
  private context: ViewContext | undefined;
  private measureFrame = 0;
  private readonly observer: ResizeObserver;

  constructor(setup: ViewSetup) {
    this.theme = setup.theme;
    this.heatmap = new Heatmap(setup.theme, {
      onPickQuery: (token) => setup.actions.togglePin(token),
      onView: () => this.showWanted(),
      exactWeight: (query, key) => this.exactWeight(query, key),
    });
    this.element = el(
      'section',
      'heatmap-section',
      { 'aria-labelledby': 'view-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title view-title', { id: 'view-title' }, this.viewSwatch, this.viewTitle), this.legend.element),
      this.heatmap.element,
      this.exportBar(),
    );
    // Laying out inside the observer's callback would resize what it observes in the same frame.
    this.observer = new ResizeObserver(() => this.scheduleMeasure());
    this.observer.observe(this.element);
  }

  update(context: ViewContext): void {
    this.context = context;
    const { change, state } = context;
    switch (change.kind) {
      case 'session':
        if (context.theme !== this.theme) this.setTheme(context.theme);
        return;
      case 'group': {
        const { group, texts } = context;
        const queries = texts[group.queries] as string[];
        const keys = texts[group.keys] as string[];
        this.heatmap.setAxes({ queries, keys, querySequence: group.queries, keySequence: group.keys, causal: group.causal });
        this.heatmap.setScale(context.colorScale);
        this.heatmap.setData(null, '', describeView(context));
        this.legend.update(context.colorScale, context.theme, group.causal);
        this.measure();
        return;
      }
      case 'view':
        this.updateTitle(context);
        this.showWanted();
        return;
      case 'arrived': {
        const arrival = change.arrival;
        if (arrival.group !== state.group || arrival.layer !== state.layer) return;
        if (arrival.kind === 'rows') {
          // A query's exact row, for the tooltip over a pooled map.
          this.heatmap.refreshWeights();
          return;
        }
        if (arrival.head !== state.head) return;
        // Only what the current window wants is painted: a reply for an older window or pooling is only cached.
        if (arrival.key !== this.wantedKey) return;
        if (arrival.kind === 'head') this.heatmap.setData(arrival.data, arrival.key, describeView(context));
        else this.heatmap.setBlock(sourceOf(arrival.block), arrival.key, describeView(context));
        this.heatmap.setLoading(false);
        return;
      }
      case 'focus':
        this.heatmap.setActive(context.focus.token);
        return;
      case 'theme':
        this.setTheme(context.theme);
        this.updateTitle(context);
        this.legend.update(context.colorScale, context.theme, context.group.causal);
        return;
      case 'colorScale':
        this.heatmap.setScale(context.colorScale);
        this.legend.update(context.colorScale, context.theme, context.group.causal);
        // A pooled overview quantised for the old scale may be too coarse for the new one.
        this.showWanted();
        return;
      case 'resize':
        this.measure();
        return;
    }
  }

  /** The key of the block the heatmap shows or waits for. */
  private wantedKey = '';

  /**
   * Paints what the heatmap's window wants from the cache, or asks the host for it (the old picture
   * stays, dimmed): the whole head when it is cached or fits the pixels, else the window pooled to
   * the pixels, or exact once it fits.
   */
  private showWanted(): void {
    const context = this.context;
    const wanted = this.heatmap.wantedBlock();
    if (!context || !wanted) return;
    const { state, store } = context;
    const description = describeView(context);
    const whole = store.cachedHead(state.group, state.layer, state.head);
    if (whole) {
      // The exact whole map serves every window.
      this.wantedKey = headKey(state.group, state.layer, state.head);
      this.heatmap.setData(whole, this.wantedKey, description);
      this.heatmap.setLoading(false);
      return;
    }
    const want: BlockWant = { ...wanted, encoding: encodingFor(context.colorScale) };
    this.wantedKey = store.blockKeyOf(state.group, state.layer, state.head, want) ?? '';
    const block = store.cachedBlock(state.group, state.layer, state.head, want);
    if (block) {
      this.heatmap.setBlock(sourceOf(block), this.wantedKey, description);
      this.heatmap.setLoading(false);
      return;
    }
    this.heatmap.setLoading(true);
    store.requestBlock(state.group, state.layer, state.head, want);
  }

  /** The exact weight of (query, key) of the shown head from the query's token rows [H, Tk] (the mean over them for MEAN_HEAD); asks for them when missing. */
  private exactWeight(query: number, key: number): number | undefined {
    const context = this.context;
    if (!context) return undefined;
    const { state, store, group } = context;
    const [, H, , Tk] = group.dims;
    const rows = store.cachedRows(state.group, state.layer, query);
    if (!rows) {
      store.requestRows(state.group, state.layer, query);
      return undefined;
    }
    if (state.head !== MEAN_HEAD) return rows[state.head * Tk + key];
    // As the host's means, to the bit.
    const mean = new Float32Array(1);
    meanOfHeadRows(rows, key, Tk, H, 1, mean, 0, new Float64Array(1));
    return mean[0];
  }

  /** Export SVG / CSV / PNG / JSON and Copy CSV of the shown head: the host saves or copies (src/extension/panelExports.ts). */
  private exportBar(): HTMLElement {
    const choices = [
      { format: 'svg', label: t('Export SVG') },
      { format: 'csv', label: t('Export CSV') },
      { format: 'png', label: t('Export PNG') },
      { format: 'json', label: t('Export JSON') },
      { format: 'copyCsv', label: t('Copy CSV') },
    ] as const;
    return exportBar(t('Export the shown head'), choices, (format) => void this.export(format));
  }

  private async export(format: ExportFormat): Promise<void> {
    const context = this.context;
    if (!context) return;
    const { state, session } = context;
    const head = state.head === MEAN_HEAD ? 'mean' : `H${state.head}`;
    const name = `attention-G${state.group}-L${state.layer}-${head}`;
    const base = { type: 'export' as const, sessionId: session.sessionId, format, name };
    if (format === 'json') {
      context.host.post(base);
      return;
    }
    // A pooled map has no exact head in the cache: an export asks for the whole head once.
    const { group: groupIndex, layer, head: headIndex } = state;
    if (!context.store.cachedHead(groupIndex, layer, headIndex)) await context.host.request({ type: 'requestHead', sessionId: session.sessionId, group: groupIndex, layer, head: headIndex });
    const matrix = this.shownMatrix(context);
    if (format === 'png') {
      // The SVG figure (labels, legend) rasterised; past the rasteriser's size, the canvas's cells.
      const base64 = (matrix ? await svgToPngBase64(heatmapSvg(matrix)) : null) ?? this.heatmap.toPngBase64();
      if (base64) context.host.post({ ...base, base64 });
      return;
    }
    if (!matrix) return;
    context.host.post({ ...base, content: format === 'svg' ? heatmapSvg(matrix) : matrixCsv(matrix) });
  }

  /** The shown head with its token labels, when its weights have arrived. */
  private shownMatrix(context: ViewContext): LabelledMatrix | undefined {
    const { group, state, texts } = context;
    const values = context.store.cachedHead(state.group, state.layer, state.head);
    if (!values) return undefined;
    return { rowLabels: texts[group.queries], columnLabels: texts[group.keys], values, title: describeView(context) };
  }

  private setTheme(theme: Theme): void {
    this.theme = theme;
    this.heatmap.setTheme(theme);
  }

  private scheduleMeasure(): void {
    if (this.measureFrame) return;
    this.measureFrame = requestAnimationFrame(() => {
      this.measureFrame = 0;
      this.measure();
    });
  }

  /** The device pixel ratio or the available width changed. */
  private measure(): void {
    if (!this.context) return;
    this.heatmap.resize(this.element.clientWidth);
  }

  private updateTitle(context: ViewContext): void {
    const { group, session, state, theme } = context;
    const heads = group.dims[1];
    const title = t('Layer {0} · {1}', state.layer, describeHeadInGroup(context));
    this.viewTitle.textContent = session.groups.length > 1 ? `${groupLabel(group)} · ${title}` : title;
    const colors = state.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => headColorCss(theme, h)) : [headColorCss(theme, state.head)];
    this.viewSwatch.style.setProperty('--swatch', colors.length > 1 ? `linear-gradient(90deg, ${colors.join(', ')})` : colors[0] ?? 'transparent');
  }

  dispose(): void {
    this.observer.disconnect();
  }
}

/** A received block as the painter reads it. */
function sourceOf(block: HeadBlock) {
  return { values: block.values, unit: block.unit, row0: block.window.row0, col0: block.window.col0, rows: block.rows, cols: block.cols, rowStep: block.rowStep, colStep: block.colStep };
}

function describeHeadInGroup({ group, state }: ViewContext): string {
  const heads = group.dims[1];
  const kvHeads = kvHeadsOf(group);
  const head = describeHead(state.head, heads);
  return kvHeads !== undefined && state.head !== MEAN_HEAD ? t('{0} (K/V head {1})', head, kvGroupOf(state.head, heads, kvHeads)) : head;
}

function describeView(context: ViewContext): string {
  const view = t('layer {0}, {1}', context.state.layer, describeHeadInGroup(context));
  return context.session.groups.length > 1 ? t('{0}, {1}', groupLabel(context.group), view) : view;
}
