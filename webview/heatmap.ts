// The attention heatmap of one (group, layer, head): rows are query tokens, columns key tokens, so
// a cross-attention map is Tq × Tk (target rows, source columns). Three canvases (matrix, row
// labels, column labels) sized in device pixels for crisp square cells at any devicePixelRatio; a
// DOM tooltip reads "query → key: weight" under the pointer. From the keyboard the matrix is one Tab
// stop: the arrows (Home/End, PageUp/PageDown) move a focus cell, outlined by one box (no DOM node
// per cell), and a live region announces "Query q, key k, weight w"; Enter or Space pins its query.

import type { TokenSequence } from '../src/core/types';
import type { ColorScale } from '../src/shared/protocol';
import { packRgb } from './colorMath';
import { formatWeight, truncateLabel } from './displayText';
import { el } from './dom';
import { sequenceName } from './groups';
import { drawColumnLabels, drawRowLabels, measureLabels, type AxisLabels } from './heatmapLabels';
import { cellSpan, matrixGeometry, paintMatrix, tokenAtPixel, type AxisGeometry, type MatrixGeometry, type MatrixPalette } from './heatmapPaint';
import type { Theme } from './theme';
import { t } from './l10n';

/** What the two axes show: the query tokens (rows) and the key tokens (columns), already made visible. */
export interface HeatmapAxes {
  queries: string[];
  keys: string[];
  querySequence: TokenSequence;
  keySequence: TokenSequence;
  /** Whether keys after each query are masked (square maps only). */
  causal: boolean;
}

export interface HeatmapEvents {
  /** A cell was clicked: pin its query token. */
  onPickQuery(token: number): void;
}

const MAX_CELL_CSS = 28;
const MAX_MATRIX_CSS = 960;
const LABEL_CHARS = 14;
const ROW_GUTTER_MAX_CSS = 120;
const COLUMN_GUTTER_MAX_CSS = 96;
const LABEL_MEASURE_PX = 12;
/** The corner above the row labels names both axes ("K/V: source →"): the row gutter is never narrower. */
const CORNER_MIN_CSS = 92;

export class Heatmap {
  readonly element: HTMLElement;
  private readonly matrix: HTMLCanvasElement;
  private readonly rowLabels: HTMLCanvasElement;
  private readonly columnLabels: HTMLCanvasElement;
  private readonly matrixWrap: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly rowMarker: HTMLElement;
  private readonly cellMarker: HTMLElement;
  private readonly focusMarker: HTMLElement;
  private readonly announcer: HTMLElement;
  /** The keyboard's focus cell (query row, key column), null until the matrix is first focused. */
  private focusCell: { query: number; key: number } | null = null;

  private readonly axisKey: HTMLElement;
  private readonly axisQuery: HTMLElement;
  private readonly axesSummary: HTMLElement;
  private queryTexts: string[] = [];
  private keyTexts: string[] = [];
  private queryLabels: string[] = [];
  private keyLabels: string[] = [];
  private causal = false;
  private querySequence: TokenSequence = 'source';
  private keySequence: TokenSequence = 'source';
  private data: Float32Array | null = null;
  private dataKey = '';
  private scale: ColorScale = 'sqrt';
  private active: number | null = null;
  private geometry: MatrixGeometry | null = null;
  private dpr = 1;
  private availableCss = 0;
  private rowGutterCss = 0;
  private columnGutterCss = 0;
  private image: ImageData | null = null;
  private pointer: { x: number; y: number } | null = null;
  private pointerFrame = 0;

  constructor(
    private theme: Theme,
    private readonly events: HeatmapEvents,
    /** A second heatmap in the panel (e.g. the rollout view) names its matrix class and element ids with another prefix. */
    prefix = 'heatmap',
  ) {
    this.axesSummary = el('p', `visually-hidden ${prefix}-axes`, { id: `${prefix}-axes` });
    this.announcer = el('div', `visually-hidden ${prefix}-announce`, { 'aria-live': 'polite', 'aria-atomic': 'true', id: `${prefix}-announce` });
    this.matrix = el('canvas', prefix === 'heatmap' ? 'heatmap-matrix' : `heatmap-matrix-alt ${prefix}-matrix`, {
      role: 'application',
      'aria-roledescription': t('heatmap'),
      tabindex: 0,
      'aria-label': t('Attention heatmap'),
      'aria-describedby': `${prefix}-axes ${prefix}-keys`,
    });
    this.rowLabels = el('canvas', 'heatmap-row-labels', { 'aria-hidden': 'true' });
    this.columnLabels = el('canvas', 'heatmap-column-labels', { 'aria-hidden': 'true' });
    this.tooltip = el('div', 'heatmap-tooltip', { role: 'tooltip', hidden: true });
    this.rowMarker = el('div', 'row-marker', { 'aria-hidden': 'true', hidden: true });
    this.cellMarker = el('div', 'cell-marker', { 'aria-hidden': 'true', hidden: true });
    this.focusMarker = el('div', 'cell-focus', { 'aria-hidden': 'true', hidden: true });
    this.matrixWrap = el('div', 'heatmap-matrix-wrap', undefined, this.matrix, this.rowMarker, this.cellMarker, this.focusMarker, this.tooltip);
    this.axisKey = el('span', 'axis-key', undefined, t('key →'));
    this.axisQuery = el('span', 'axis-query', undefined, t('query ↓'));
    const corner = el('div', 'heatmap-corner', { 'aria-hidden': 'true' }, this.axisKey, this.axisQuery);
    const keysHint = el('p', 'visually-hidden', { id: `${prefix}-keys` }, t('Arrow keys move between cells; Home and End go to the first and last key, Page Up and Page Down to the first and last query; Enter pins the query.'));
    this.element = el('div', 'heatmap-grid', undefined, corner, this.columnLabels, this.rowLabels, this.matrixWrap, this.axesSummary, keysHint, this.announcer);
    this.matrix.addEventListener('keydown', (event) => this.onKey(event));
    this.matrix.addEventListener('focus', () => this.showFocusCell(true));
    this.matrix.addEventListener('blur', () => (this.focusMarker.hidden = true));

    this.matrix.addEventListener('mousemove', (event) => this.schedulePointer(event.offsetX, event.offsetY));
    this.matrix.addEventListener('mouseleave', () => this.schedulePointer(-1, -1));
    this.matrix.addEventListener('click', (event) => {
      const cell = this.cellAtCss(event.offsetX, event.offsetY);
      if (cell) this.events.onPickQuery(cell.query);
    });
  }

  /** A new run or another group: the tokens along each axis and whether the future is masked. */
  setAxes(axes: HeatmapAxes): void {
    this.queryTexts = axes.queries;
    this.keyTexts = axes.keys;
    this.queryLabels = axes.queries.map((text) => truncateLabel(text, LABEL_CHARS));
    this.keyLabels = axes.keys.map((text) => truncateLabel(text, LABEL_CHARS));
    this.causal = axes.causal;
    this.querySequence = axes.querySequence;
    this.keySequence = axes.keySequence;
    this.axisKey.textContent = t('K/V: {0} →', sequenceName(axes.keySequence));
    this.axisQuery.textContent = t('Q: {0} ↓', sequenceName(axes.querySequence));
    this.axesSummary.textContent =
      t('Rows: {0} {1} tokens (queries): {2}.', axes.queries.length, sequenceName(axes.querySequence), axes.queries.join(' ')) +
      ' ' +
      t('Columns: {0} {1} tokens (keys): {2}.', axes.keys.length, sequenceName(axes.keySequence), axes.keys.join(' '));
    this.element.dataset.rows = String(axes.queries.length);
    this.element.dataset.columns = String(axes.keys.length);
    this.data = null;
    this.dataKey = '';
    this.active = null;
    this.geometry = null;
    this.focusCell = null;
    this.layout();
  }

  /** Shows [Tq, Tk] weights (or an empty matrix while they load); `key` names the view for data-painted. */
  setData(data: Float32Array | null, key: string, description: string): void {
    this.data = data;
    this.dataKey = data ? key : '';
    this.matrix.setAttribute('aria-label', t('Attention heatmap, {0}, {1} query by {2} key tokens', description, this.queryTexts.length, this.keyTexts.length));
    this.paintMatrix();
    this.refreshTooltip();
    // Another head (or its weights arrived): the focused cell reads its new weight.
    if (document.activeElement === this.matrix) this.showFocusCell(true);
  }

  /** The painted matrix as a PNG, base64 without the data: prefix (null before anything is painted). */
  toPngBase64(): string | null {
    if (!this.data || this.matrix.width === 0) return null;
    const url = this.matrix.toDataURL('image/png');
    const comma = url.indexOf(',');
    return comma >= 0 ? url.slice(comma + 1) : null;
  }

  setLoading(loading: boolean): void {
    this.element.classList.toggle('loading', loading);
  }

  setScale(scale: ColorScale): void {
    if (scale === this.scale) return;
    this.scale = scale;
    this.paintMatrix();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.paintMatrix();
    this.paintLabels();
  }

  setActive(token: number | null): void {
    if (token === this.active) return;
    this.active = token;
    this.paintLabels();
    this.placeRowMarker();
  }

  /** The width the matrix and its row labels may use changed (CSS px). */
  resize(availableCss: number): void {
    const dpr = window.devicePixelRatio || 1;
    if (Math.abs(availableCss - this.availableCss) < 1 && dpr === this.dpr) return;
    this.availableCss = availableCss;
    this.layout();
  }

  private layout(): void {
    const Tq = this.queryTexts.length;
    const Tk = this.keyTexts.length;
    this.dpr = window.devicePixelRatio || 1;
    if (Tq === 0 || Tk === 0 || this.availableCss <= 0) return;
    this.rowGutterCss = Math.max(CORNER_MIN_CSS, measureLabels(this.queryLabels, this.theme.labelFontFamily, LABEL_MEASURE_PX, ROW_GUTTER_MAX_CSS));
    this.columnGutterCss = measureLabels(this.keyLabels, this.theme.labelFontFamily, LABEL_MEASURE_PX, COLUMN_GUTTER_MAX_CSS);
    const widthCss = Math.min(MAX_MATRIX_CSS, this.availableCss - this.rowGutterCss);
    const gapPx = Math.max(1, Math.round(this.dpr));
    this.geometry = matrixGeometry(Tq, Tk, widthCss * this.dpr, MAX_MATRIX_CSS * this.dpr, MAX_CELL_CSS * this.dpr, gapPx);
    const { rows, columns } = this.geometry;
    this.element.style.setProperty('--row-gutter', `${this.rowGutterCss}px`);
    this.element.style.setProperty('--column-gutter', `${this.columnGutterCss}px`);
    this.element.style.setProperty('--matrix-width', `${columns.pixels / this.dpr}px`);
    this.element.style.setProperty('--matrix-height', `${rows.pixels / this.dpr}px`);
    this.matrix.width = columns.pixels;
    this.matrix.height = rows.pixels;
    this.image = null;
    this.paintMatrix();
    this.paintLabels();
    this.placeRowMarker();
    if (document.activeElement === this.matrix) this.showFocusCell(false);
  }

  private palette(): MatrixPalette {
    const step = Math.max(1, Math.round(this.dpr));
    return {
      ramp: this.theme.ramp,
      maskBase: packRgb(this.theme.maskBase),
      maskLine: packRgb(this.theme.maskLine),
      gap: packRgb(this.theme.background),
      hatchPeriod: 6 * step,
      hatchWidth: 2 * step,
    };
  }

  private paintMatrix(): void {
    const geometry = this.geometry;
    if (!geometry) return;
    const context = this.matrix.getContext('2d');
    if (!context) return;
    const width = geometry.columns.pixels;
    const height = geometry.rows.pixels;
    if (!this.image || this.image.width !== width || this.image.height !== height) this.image = context.createImageData(width, height);
    const pixels = new Uint32Array(this.image.data.buffer);
    paintMatrix(pixels, this.data, geometry, this.causal, this.scale, this.palette());
    context.putImageData(this.image, 0, 0);
    if (this.dataKey) this.matrix.dataset.painted = this.dataKey;
    else delete this.matrix.dataset.painted;
  }

  private paintLabels(): void {
    const geometry = this.geometry;
    if (!geometry) return;
    // One font size on both axes, from the smaller cells (pooled axes have fractional cells).
    const fontGeometry = cellSpan(geometry.rows, 0).size <= cellSpan(geometry.columns, 0).size ? geometry.rows : geometry.columns;
    const axis = (labels: string[], along: AxisGeometry, gutterCss: number, active: number | null): AxisLabels => ({
      labels,
      geometry: along,
      fontGeometry,
      dpr: this.dpr,
      theme: this.theme,
      active,
      gutterCss,
    });
    drawRowLabels(this.rowLabels, axis(this.queryLabels, geometry.rows, this.rowGutterCss, this.active));
    // The active token is a query: it marks a row; the columns are keys and have none.
    drawColumnLabels(this.columnLabels, axis(this.keyLabels, geometry.columns, this.columnGutterCss, this.sameSequence() ? this.active : null));
  }

  /** True when rows and columns are the same tokens (self-attention). */
  private sameSequence(): boolean {
    return this.querySequence === this.keySequence;
  }

  private placeRowMarker(): void {
    const geometry = this.geometry;
    if (!geometry || this.active === null) {
      this.rowMarker.hidden = true;
      return;
    }
    const { start, size } = cellSpan(geometry.rows, this.active);
    this.rowMarker.hidden = false;
    this.rowMarker.style.top = `${start / this.dpr}px`;
    this.rowMarker.style.height = `${Math.max(1, size / this.dpr)}px`;
  }

  private cellAtCss(xCss: number, yCss: number): { query: number; key: number } | undefined {
    const geometry = this.geometry;
    if (!geometry) return undefined;
    const query = tokenAtPixel(geometry.rows, yCss * this.dpr);
    const key = tokenAtPixel(geometry.columns, xCss * this.dpr);
    return query < 0 || key < 0 ? undefined : { query, key };
  }

  // ---------------------------------------------------------------- keyboard

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const Tq = this.queryTexts.length;
    const Tk = this.keyTexts.length;
    if (Tq === 0 || Tk === 0) return;
    const cell = this.focusCell ?? this.initialFocusCell();
    let { query, key } = cell;
    switch (event.key) {
      case 'ArrowLeft':
        key = Math.max(0, key - 1);
        break;
      case 'ArrowRight':
        key = Math.min(Tk - 1, key + 1);
        break;
      case 'ArrowUp':
        query = Math.max(0, query - 1);
        break;
      case 'ArrowDown':
        query = Math.min(Tq - 1, query + 1);
        break;
      case 'Home':
        key = 0;
        break;
      case 'End':
        key = Tk - 1;
        break;
      case 'PageUp':
        query = 0;
        break;
      case 'PageDown':
        query = Tq - 1;
        break;
      case 'Enter':
      case ' ':
        event.preventDefault();
        event.stopPropagation();
        this.events.onPickQuery(query);
        return;
      default:
        return;
    }
    // Handled here: the panel-wide ←/→ (move the focused token) must not see these keys.
    event.preventDefault();
    event.stopPropagation();
    this.focusCell = { query, key };
    this.showFocusCell(true);
  }

  /** Where the keyboard starts: the active query's row (or the first), on its own key where there is one. */
  private initialFocusCell(): { query: number; key: number } {
    const query = Math.min(this.active ?? 0, this.queryTexts.length - 1);
    return { query, key: Math.min(this.sameSequence() ? query : 0, this.keyTexts.length - 1) };
  }

  /** Outlines the focus cell and (announce) says what it holds. */
  private showFocusCell(announce: boolean): void {
    const geometry = this.geometry;
    if (this.queryTexts.length === 0 || this.keyTexts.length === 0) return;
    const cell = (this.focusCell ??= this.initialFocusCell());
    const { query, key } = cell;
    this.matrix.dataset.focusQuery = String(query);
    this.matrix.dataset.focusKey = String(key);
    if (geometry) {
      const column = cellSpan(geometry.columns, key);
      const row = cellSpan(geometry.rows, query);
      this.focusMarker.hidden = false;
      this.focusMarker.style.left = `${column.start / this.dpr}px`;
      this.focusMarker.style.top = `${row.start / this.dpr}px`;
      this.focusMarker.style.width = `${Math.max(3, column.size / this.dpr)}px`;
      this.focusMarker.style.height = `${Math.max(3, row.size / this.dpr)}px`;
    }
    if (announce) this.announcer.textContent = t('Query {0} “{1}”, key {2} “{3}”, weight {4}', query, this.queryTexts[query], key, this.keyTexts[key], this.weightText(query, key));
  }

  private weightText(query: number, key: number): string {
    if (this.causal && key > query) return t('masked (a future token)');
    return this.data ? formatWeight(this.data[query * this.keyTexts.length + key]) : t('loading…');
  }

  // Pointer moves arrive far more often than frames; the tooltip updates once per frame.
  private schedulePointer(x: number, y: number): void {
    this.pointer = x < 0 ? null : { x, y };
    if (this.pointerFrame) return;
    this.pointerFrame = requestAnimationFrame(() => {
      this.pointerFrame = 0;
      this.refreshTooltip();
    });
  }

  private refreshTooltip(): void {
    const geometry = this.geometry;
    const cell = this.pointer && this.cellAtCss(this.pointer.x, this.pointer.y);
    if (!geometry || !this.pointer || !cell) {
      this.tooltip.hidden = true;
      this.cellMarker.hidden = true;
      return;
    }
    const { query, key } = cell;
    const weightText = this.weightText(query, key);
    this.tooltip.textContent = `“${this.queryTexts[query]}” #${query} → “${this.keyTexts[key]}” #${key}: ${weightText}`;
    this.tooltip.hidden = false;
    const flipX = this.pointer.x > (geometry.columns.pixels / this.dpr) * 0.6;
    const flipY = this.pointer.y > (geometry.rows.pixels / this.dpr) * 0.75;
    this.tooltip.classList.toggle('flip-x', flipX);
    this.tooltip.classList.toggle('flip-y', flipY);
    this.tooltip.style.left = `${this.pointer.x}px`;
    this.tooltip.style.top = `${this.pointer.y}px`;
    const column = cellSpan(geometry.columns, key);
    const row = cellSpan(geometry.rows, query);
    this.cellMarker.hidden = false;
    this.cellMarker.style.left = `${column.start / this.dpr}px`;
    this.cellMarker.style.top = `${row.start / this.dpr}px`;
    this.cellMarker.style.width = `${Math.max(2, column.size / this.dpr)}px`;
    this.cellMarker.style.height = `${Math.max(2, row.size / this.dpr)}px`;
  }
}
