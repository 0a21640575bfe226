// The attention heatmap of one (group, layer, head): rows are query tokens, columns key tokens, so
// a cross-attention map is Tq × Tk (target rows, source columns). Three canvases (matrix, row
// labels, column labels) sized in device pixels for crisp square cells at any devicePixelRatio; a
// DOM tooltip reads "query → key: weight" under the pointer. From the keyboard the matrix is one Tab
// stop: the arrows (Home/End, PageUp/PageDown) move a focus cell, outlined by one box (no DOM node
// per cell), and a live region announces "Query q, key k, weight w"; Enter or Space pins its query.
// A map larger than the matrix's pixels zooms: the wheel around the pointer, + and − around the
// focus cell, 0 back to the whole map; the arrows pan by moving the focus cell (Shift: half a view).
// The owner (events.onView) fetches each zoomed window, pooled to the pixels or exact when it fits.

import type { TokenSequence } from '../src/core/types';
import type { ColorScale } from '../src/shared/protocol';
import { packRgb } from './colorMath';
import { formatWeight, truncateLabel } from './displayText';
import { el } from './dom';
import { sequenceName } from './groups';
import { drawColumnLabels, drawRowLabels, measureLabels, type AxisLabels } from './heatmapLabels';
import { cellSpan, matrixGeometry, paintMatrix, tokenAtPixel, wholeSource, type AxisGeometry, type CellSource, type MatrixGeometry, type MatrixPalette } from './heatmapPaint';
import type { CellWindow } from '../src/shared/protocol';
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
  /** The zoomed window changed (or the pixels it is drawn on): fetch wantedBlock() and setBlock it. Without it the heatmap zooms within the data it was given. */
  onView?(): void;
  /** The exact weight of a cell when the painted data is pooled (undefined while it loads: call refreshWeights when it arrives). */
  exactWeight?(query: number, key: number): number | undefined;
}

/** What the heatmap wants painted for its current window: exact cells, or pooled to at most maxRows × maxCols. */
export interface WantedBlock {
  window: CellWindow;
  maxRows?: number;
  maxCols?: number;
}

const MAX_CELL_CSS = 28;
const MAX_MATRIX_CSS = 960;
const LABEL_CHARS = 14;
const ROW_GUTTER_MAX_CSS = 120;
const COLUMN_GUTTER_MAX_CSS = 96;
const LABEL_MEASURE_PX = 12;
/** The corner above the row labels names both axes ("K/V: source →"): the row gutter is never narrower. */
const CORNER_MIN_CSS = 92;
/** The smallest zoomed window, in tokens per axis. */
const MIN_ZOOM_TOKENS = 8;
/** One + or − (or a wheel delta of WHEEL_DELTA_PER_STEP) halves or doubles the window. */
const ZOOM_FACTOR = 2;
const WHEEL_DELTA_PER_STEP = 300;

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
  /** What the matrix is painted from (exact or pooled cells of some window), null while nothing has arrived. */
  private source: CellSource | null = null;
  private dataKey = '';
  /** The window of the whole map on screen: rows [row0, row1), columns [col0, col1). */
  private view: CellWindow = { row0: 0, row1: 0, col0: 0, col1: 0 };
  /** Whether the whole map is larger than the matrix's pixels (only then it zooms). */
  private zoomable = false;
  readonly zoomBar: HTMLElement;
  private readonly zoomText: HTMLElement;
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
    const keysHint = el('p', 'visually-hidden', { id: `${prefix}-keys` }, t('Arrow keys move between cells; Home and End go to the first and last key, Page Up and Page Down to the first and last query; Enter pins the query. On a map larger than the screen, + and − zoom, 0 shows the whole map, and Shift with an arrow moves half a view.'));
    this.zoomText = el('span', 'heatmap-zoom-text', { 'aria-live': 'polite' });
    const resetZoom = el('button', 'heatmap-zoom-reset', { type: 'button', title: t('Show the whole map (0)') }, t('Reset zoom'));
    resetZoom.addEventListener('click', () => this.resetZoom());
    this.zoomBar = el('div', 'heatmap-zoom', { hidden: true }, this.zoomText, resetZoom);
    this.element = el('div', 'heatmap-grid', undefined, corner, this.columnLabels, this.rowLabels, this.matrixWrap, this.zoomBar, this.axesSummary, keysHint, this.announcer);
    this.matrix.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
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
    this.source = null;
    this.dataKey = '';
    this.active = null;
    this.geometry = null;
    this.focusCell = null;
    this.view = { row0: 0, row1: axes.queries.length, col0: 0, col1: axes.keys.length };
    this.layout();
  }

  /** Shows [Tq, Tk] weights (or an empty matrix while they load); `key` names the view for data-painted. */
  setData(data: Float32Array | null, key: string, description: string): void {
    this.setBlock(data ? wholeSource(data, this.queryTexts.length, this.keyTexts.length) : null, key, description);
  }

  /** Shows exact or pooled cells covering the current window (wantedBlock); `key` names them for data-painted. */
  setBlock(source: CellSource | null, key: string, description: string): void {
    this.source = source;
    this.dataKey = source ? key : '';
    this.matrix.setAttribute('aria-label', t('Attention heatmap, {0}, {1} query by {2} key tokens', description, this.queryTexts.length, this.keyTexts.length));
    this.invalidate('matrix');
    this.refreshTooltip();
    // Another head (or its weights arrived): the focused cell reads its new weight.
    if (document.activeElement === this.matrix) this.showFocusCell(true);
  }

  /** The painted matrix as a PNG, base64 without the data: prefix (null before anything is painted). */
  toPngBase64(): string | null {
    this.flushPaint();
    if (!this.source || this.matrix.width === 0) return null;
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
    this.invalidate('matrix');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.invalidate('matrix');
    this.invalidate('labels');
  }

  setActive(token: number | null): void {
    if (token === this.active) return;
    this.active = token;
    this.invalidate('labels');
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
    const geometryOf = (rows: number, columns: number) => matrixGeometry(rows, columns, widthCss * this.dpr, MAX_MATRIX_CSS * this.dpr, MAX_CELL_CSS * this.dpr, gapPx);
    const whole = geometryOf(Tq, Tk);
    this.zoomable = !(whole.rows.cellPx > 0 && whole.columns.cellPx > 0);
    if (!this.zoomable) this.view = { row0: 0, row1: Tq, col0: 0, col1: Tk };
    const { row0, row1, col0, col1 } = this.view;
    this.geometry = geometryOf(row1 - row0, col1 - col0);
    this.updateZoomBar();
    const { rows, columns } = this.geometry;
    this.element.style.setProperty('--row-gutter', `${this.rowGutterCss}px`);
    this.element.style.setProperty('--column-gutter', `${this.columnGutterCss}px`);
    this.element.style.setProperty('--matrix-width', `${columns.pixels / this.dpr}px`);
    this.element.style.setProperty('--matrix-height', `${rows.pixels / this.dpr}px`);
    this.matrix.width = columns.pixels;
    this.matrix.height = rows.pixels;
    this.image = null;
    this.invalidate('matrix');
    this.invalidate('labels');
    this.placeRowMarker();
    if (document.activeElement === this.matrix) this.showFocusCell(false);
    this.events.onView?.();
  }

  // ---------------------------------------------------------------- zoom

  /** The window on screen and how finely it is drawn: exact cells when they fit the pixels, else pooled to them. */
  wantedBlock(): WantedBlock | undefined {
    const geometry = this.geometry;
    if (!geometry) return undefined;
    const window = { ...this.view };
    if (geometry.rows.cellPx > 0 && geometry.columns.cellPx > 0) return { window };
    return { window, maxRows: geometry.rows.pixels, maxCols: geometry.columns.pixels };
  }

  /** The window on screen (the whole map unless zoomed). */
  viewWindow(): CellWindow {
    return { ...this.view };
  }

  isZoomed(): boolean {
    const { row0, row1, col0, col1 } = this.view;
    return row0 > 0 || col0 > 0 || row1 < this.queryTexts.length || col1 < this.keyTexts.length;
  }

  /** Back to the whole map. */
  resetZoom(): void {
    if (!this.isZoomed()) return;
    this.setView({ row0: 0, row1: this.queryTexts.length, col0: 0, col1: this.keyTexts.length });
  }

  /** The exact weights arrived for a pooled map: say them in the tooltip and the announcement. */
  refreshWeights(): void {
    this.refreshTooltip();
    if (document.activeElement === this.matrix) this.showFocusCell(true);
  }

  private setView(view: CellWindow): void {
    const { row0, row1, col0, col1 } = this.view;
    if (view.row0 === row0 && view.row1 === row1 && view.col0 === col0 && view.col1 === col1) return;
    this.view = view;
    // The data painted so far stands in (stretched) until the owner gives this window's; it no longer names what is painted.
    if (this.events.onView) this.dataKey = '';
    this.layout();
  }

  /**
   * Zooms by `factor` (< 1: in) keeping the token at fractions (fx, fy) of the view where it is.
   * Each axis keeps at least MIN_ZOOM_TOKENS tokens and at most the whole map.
   */
  private zoomBy(factor: number, fx: number, fy: number): boolean {
    if (!this.zoomable) return false;
    const axis = (start: number, end: number, tokens: number, at: number): [number, number] => {
      const count = end - start;
      const wanted = factor < 1 ? Math.min(count - 1, Math.floor(count * factor)) : Math.max(count + 1, Math.ceil(count * factor));
      const next = Math.max(Math.min(tokens, MIN_ZOOM_TOKENS), Math.min(tokens, wanted));
      const anchor = start + at * count;
      const first = Math.max(0, Math.min(tokens - next, Math.round(anchor - at * next)));
      return [first, first + next];
    };
    const [row0, row1] = axis(this.view.row0, this.view.row1, this.queryTexts.length, fy);
    const [col0, col1] = axis(this.view.col0, this.view.col1, this.keyTexts.length, fx);
    const { view } = this;
    if (row0 === view.row0 && row1 === view.row1 && col0 === view.col0 && col1 === view.col1) return false;
    this.setView({ row0, row1, col0, col1 });
    return true;
  }

  private onWheel(event: WheelEvent): void {
    if (!this.zoomable || event.deltaY === 0 || !this.geometry) return;
    const widthCss = this.geometry.columns.pixels / this.dpr;
    const heightCss = this.geometry.rows.pixels / this.dpr;
    const fx = Math.min(1, Math.max(0, event.offsetX / widthCss));
    const fy = Math.min(1, Math.max(0, event.offsetY / heightCss));
    const factor = Math.min(ZOOM_FACTOR, Math.max(1 / ZOOM_FACTOR, Math.pow(ZOOM_FACTOR, event.deltaY / WHEEL_DELTA_PER_STEP)));
    // The page scrolls on when there is nothing more to zoom (the whole map, or the smallest window).
    if (this.zoomBy(factor, fx, fy)) event.preventDefault();
  }

  /** Zooms around the keyboard's focus cell. */
  private zoomAroundFocus(factor: number): void {
    const cell = this.focusCell ?? this.initialFocusCell();
    const { row0, row1, col0, col1 } = this.view;
    const fy = Math.min(1, Math.max(0, (cell.query + 0.5 - row0) / (row1 - row0)));
    const fx = Math.min(1, Math.max(0, (cell.key + 0.5 - col0) / (col1 - col0)));
    this.zoomBy(factor, fx, fy);
  }

  /** Pans the view (keeping its size) so that the focus cell is inside it. */
  private revealFocusCell(): void {
    const cell = this.focusCell;
    if (!cell || !this.zoomable) return;
    const follow = (start: number, end: number, at: number): number => (at < start ? at : at >= end ? at - (end - start) + 1 : start);
    const row0 = follow(this.view.row0, this.view.row1, cell.query);
    const col0 = follow(this.view.col0, this.view.col1, cell.key);
    this.setView({ row0, row1: row0 + this.view.row1 - this.view.row0, col0, col1: col0 + this.view.col1 - this.view.col0 });
  }

  private updateZoomBar(): void {
    const zoomed = this.isZoomed();
    this.zoomBar.hidden = !zoomed;
    this.element.dataset.view = `${this.view.row0}-${this.view.row1}:${this.view.col0}-${this.view.col1}`;
    if (zoomed) this.zoomText.textContent = t('Zoomed: queries {0}–{1}, keys {2}–{3} of {4} × {5}', this.view.row0, this.view.row1 - 1, this.view.col0, this.view.col1 - 1, this.queryTexts.length, this.keyTexts.length);
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

  /** What is to be painted at the end of this task (flushPaint). */
  private dirty = { matrix: false, labels: false };
  private paintQueued = false;

  /**
   * Marks the matrix or the labels for painting once, at the end of the current task: opening a run
   * sets axes, scale, an empty map and the size one after another, and each used to paint the whole
   * canvas (three paints of 662 × 662 pixels and of 4096 labels before the weights arrived).
   */
  private invalidate(part: 'matrix' | 'labels'): void {
    this.dirty[part] = true;
    if (this.paintQueued) return;
    this.paintQueued = true;
    queueMicrotask(() => this.flushPaint());
  }

  /** Paints what was marked; anything that reads the canvas calls it first. */
  private flushPaint(): void {
    this.paintQueued = false;
    const { matrix, labels } = this.dirty;
    this.dirty = { matrix: false, labels: false };
    if (matrix) this.paintMatrix();
    if (labels) this.paintLabels();
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
    paintMatrix(pixels, this.coversView(this.source) ? this.source : null, geometry, this.causal, this.scale, this.palette(), this.view);
    context.putImageData(this.image, 0, 0);
    if (this.dataKey) this.matrix.dataset.painted = this.dataKey;
    else delete this.matrix.dataset.painted;
  }

  /** Whether source holds every cell of the view (a coarser or larger window stands in while the view's own loads). */
  private coversView(source: CellSource | null): source is CellSource {
    if (!source) return false;
    const { row0, row1, col0, col1 } = this.view;
    return row0 >= source.row0 && col0 >= source.col0 && row1 <= source.row0 + source.rows * source.rowStep && col1 <= source.col0 + source.cols * source.colStep;
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
    const { row0, row1, col0, col1 } = this.view;
    const inView = (token: number | null, start: number, end: number) => (token !== null && token >= start && token < end ? token - start : null);
    drawRowLabels(this.rowLabels, axis(this.queryLabels.slice(row0, row1), geometry.rows, this.rowGutterCss, inView(this.active, row0, row1)));
    // The active token is a query: it marks a row; the columns are keys and have none.
    drawColumnLabels(this.columnLabels, axis(this.keyLabels.slice(col0, col1), geometry.columns, this.columnGutterCss, this.sameSequence() ? inView(this.active, col0, col1) : null));
  }

  /** True when rows and columns are the same tokens (self-attention). */
  private sameSequence(): boolean {
    return this.querySequence === this.keySequence;
  }

  private placeRowMarker(): void {
    const geometry = this.geometry;
    if (!geometry || this.active === null || this.active < this.view.row0 || this.active >= this.view.row1) {
      this.rowMarker.hidden = true;
      return;
    }
    const { start, size } = cellSpan(geometry.rows, this.active - this.view.row0);
    this.rowMarker.hidden = false;
    this.rowMarker.style.top = `${start / this.dpr}px`;
    this.rowMarker.style.height = `${Math.max(1, size / this.dpr)}px`;
  }

  private cellAtCss(xCss: number, yCss: number): { query: number; key: number } | undefined {
    const geometry = this.geometry;
    if (!geometry) return undefined;
    const query = tokenAtPixel(geometry.rows, yCss * this.dpr);
    const key = tokenAtPixel(geometry.columns, xCss * this.dpr);
    return query < 0 || key < 0 ? undefined : { query: this.view.row0 + query, key: this.view.col0 + key };
  }

  // ---------------------------------------------------------------- keyboard

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const Tq = this.queryTexts.length;
    const Tk = this.keyTexts.length;
    if (Tq === 0 || Tk === 0) return;
    const cell = this.focusCell ?? this.initialFocusCell();
    let { query, key } = cell;
    // Shift with an arrow moves half a view: panning a zoomed map.
    const across = event.shiftKey ? Math.max(1, Math.floor((this.view.col1 - this.view.col0) / 2)) : 1;
    const down = event.shiftKey ? Math.max(1, Math.floor((this.view.row1 - this.view.row0) / 2)) : 1;
    switch (event.key) {
      case 'ArrowLeft':
        key = Math.max(0, key - across);
        break;
      case 'ArrowRight':
        key = Math.min(Tk - 1, key + across);
        break;
      case 'ArrowUp':
        query = Math.max(0, query - down);
        break;
      case 'ArrowDown':
        query = Math.min(Tq - 1, query + down);
        break;
      case '+':
      case '=':
      case '-':
      case '_':
      case '0':
        if (!this.zoomable) return;
        event.preventDefault();
        event.stopPropagation();
        this.focusCell = cell;
        if (event.key === '0') this.resetZoom();
        else this.zoomAroundFocus(event.key === '+' || event.key === '=' ? 1 / ZOOM_FACTOR : ZOOM_FACTOR);
        this.showFocusCell(true);
        return;
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
    this.revealFocusCell();
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
    const { row0, row1, col0, col1 } = this.view;
    this.focusMarker.hidden = true;
    if (geometry && query >= row0 && query < row1 && key >= col0 && key < col1) {
      const column = cellSpan(geometry.columns, key - col0);
      const row = cellSpan(geometry.rows, query - row0);
      this.focusMarker.hidden = false;
      this.focusMarker.style.left = `${column.start / this.dpr}px`;
      this.focusMarker.style.top = `${row.start / this.dpr}px`;
      this.focusMarker.style.width = `${Math.max(3, column.size / this.dpr)}px`;
      this.focusMarker.style.height = `${Math.max(3, row.size / this.dpr)}px`;
    }
    if (announce) this.announcer.textContent = t('Query {0} “{1}”, key {2} “{3}”, weight {4}', query, this.queryTexts[query], key, this.keyTexts[key], this.weightText(query, key));
  }

  /** The exact weight of a cell: from the painted data when it holds exact cells, else from events.exactWeight (e.g. the query's fetched row). */
  private weightText(query: number, key: number): string {
    if (this.causal && key > query) return t('masked (a future token)');
    const source = this.source;
    if (source && source.rowStep === 1 && source.colStep === 1) {
      const i = query - source.row0;
      const j = key - source.col0;
      if (i >= 0 && i < source.rows && j >= 0 && j < source.cols) return formatWeight(source.values[i * source.cols + j] * source.unit);
    }
    const exact = this.events.exactWeight?.(query, key);
    return exact === undefined ? t('loading…') : formatWeight(exact);
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
    const column = cellSpan(geometry.columns, key - this.view.col0);
    const row = cellSpan(geometry.rows, query - this.view.row0);
    this.cellMarker.hidden = false;
    this.cellMarker.style.left = `${column.start / this.dpr}px`;
    this.cellMarker.style.top = `${row.start / this.dpr}px`;
    this.cellMarker.style.width = `${Math.max(2, column.size / this.dpr)}px`;
    this.cellMarker.style.height = `${Math.max(2, row.size / this.dpr)}px`;
  }
}
