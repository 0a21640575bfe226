// The attention heatmap of one (layer, head): rows are query tokens, columns key tokens. Three
// canvases (matrix, row labels, column labels) sized in device pixels for crisp cells at any
// devicePixelRatio; a DOM tooltip reads "query → key: weight" under the pointer.

import type { ColorScale } from '../src/shared/protocol';
import { packRgb } from './colorMath';
import { formatWeight, truncateLabel } from './displayText';
import { el } from './dom';
import { drawColumnLabels, drawRowLabels, measureLabels, type AxisLabels } from './heatmapLabels';
import { cellSpan, matrixGeometry, paintMatrix, tokenAtPixel, type MatrixGeometry, type MatrixPalette } from './heatmapPaint';
import type { Theme } from './theme';

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

export class Heatmap {
  readonly element: HTMLElement;
  private readonly matrix: HTMLCanvasElement;
  private readonly rowLabels: HTMLCanvasElement;
  private readonly columnLabels: HTMLCanvasElement;
  private readonly matrixWrap: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly rowMarker: HTMLElement;
  private readonly cellMarker: HTMLElement;

  private texts: string[] = [];
  private labels: string[] = [];
  private causal = false;
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
  ) {
    this.matrix = el('canvas', 'heatmap-matrix', { role: 'img', 'aria-label': 'Attention heatmap' });
    this.rowLabels = el('canvas', 'heatmap-row-labels', { 'aria-hidden': 'true' });
    this.columnLabels = el('canvas', 'heatmap-column-labels', { 'aria-hidden': 'true' });
    this.tooltip = el('div', 'heatmap-tooltip', { role: 'tooltip', hidden: true });
    this.rowMarker = el('div', 'row-marker', { 'aria-hidden': 'true', hidden: true });
    this.cellMarker = el('div', 'cell-marker', { 'aria-hidden': 'true', hidden: true });
    this.matrixWrap = el('div', 'heatmap-matrix-wrap', undefined, this.matrix, this.rowMarker, this.cellMarker, this.tooltip);
    const corner = el(
      'div',
      'heatmap-corner',
      { 'aria-hidden': 'true' },
      el('span', 'axis-key', undefined, 'key →'),
      el('span', 'axis-query', undefined, 'query ↓'),
    );
    this.element = el('div', 'heatmap-grid', undefined, corner, this.columnLabels, this.rowLabels, this.matrixWrap);

    this.matrix.addEventListener('mousemove', (event) => this.schedulePointer(event.offsetX, event.offsetY));
    this.matrix.addEventListener('mouseleave', () => this.schedulePointer(-1, -1));
    this.matrix.addEventListener('click', (event) => {
      const cell = this.cellAtCss(event.offsetX, event.offsetY);
      if (cell) this.events.onPickQuery(cell.query);
    });
  }

  /** A new run: token texts (already made visible) and whether the future is masked. */
  setTokens(texts: string[], causal: boolean): void {
    this.texts = texts;
    this.labels = texts.map((text) => truncateLabel(text, LABEL_CHARS));
    this.causal = causal;
    this.data = null;
    this.dataKey = '';
    this.active = null;
    this.geometry = null;
    this.layout();
  }

  /** Shows [T, T] weights (or an empty matrix while they load); `key` names the view for data-painted. */
  setData(data: Float32Array | null, key: string, description: string): void {
    this.data = data;
    this.dataKey = data ? key : '';
    this.matrix.setAttribute('aria-label', `Attention heatmap, ${description}, ${this.texts.length} by ${this.texts.length} tokens`);
    this.paintMatrix();
    this.refreshTooltip();
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
    const T = this.texts.length;
    this.dpr = window.devicePixelRatio || 1;
    if (T === 0 || this.availableCss <= 0) return;
    this.rowGutterCss = measureLabels(this.labels, this.theme.labelFontFamily, LABEL_MEASURE_PX, ROW_GUTTER_MAX_CSS);
    this.columnGutterCss = measureLabels(this.labels, this.theme.labelFontFamily, LABEL_MEASURE_PX, COLUMN_GUTTER_MAX_CSS);
    const matrixCss = Math.min(MAX_MATRIX_CSS, this.availableCss - this.rowGutterCss);
    const gapPx = Math.max(1, Math.round(this.dpr));
    this.geometry = matrixGeometry(T, matrixCss * this.dpr, MAX_CELL_CSS * this.dpr, gapPx);
    const sideCss = this.geometry.pixels / this.dpr;
    this.element.style.setProperty('--row-gutter', `${this.rowGutterCss}px`);
    this.element.style.setProperty('--column-gutter', `${this.columnGutterCss}px`);
    this.element.style.setProperty('--matrix-size', `${sideCss}px`);
    this.matrix.width = this.geometry.pixels;
    this.matrix.height = this.geometry.pixels;
    this.image = null;
    this.paintMatrix();
    this.paintLabels();
    this.placeRowMarker();
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
    if (!this.image || this.image.width !== geometry.pixels) this.image = context.createImageData(geometry.pixels, geometry.pixels);
    const pixels = new Uint32Array(this.image.data.buffer);
    paintMatrix(pixels, this.data, geometry, this.causal, this.scale, this.palette());
    context.putImageData(this.image, 0, 0);
    if (this.dataKey) this.matrix.dataset.painted = this.dataKey;
    else delete this.matrix.dataset.painted;
  }

  private paintLabels(): void {
    const geometry = this.geometry;
    if (!geometry) return;
    const axis = (gutterCss: number): AxisLabels => ({ labels: this.labels, geometry, dpr: this.dpr, theme: this.theme, active: this.active, gutterCss });
    drawRowLabels(this.rowLabels, axis(this.rowGutterCss));
    drawColumnLabels(this.columnLabels, axis(this.columnGutterCss));
  }

  private placeRowMarker(): void {
    const geometry = this.geometry;
    if (!geometry || this.active === null) {
      this.rowMarker.hidden = true;
      return;
    }
    const { start, size } = cellSpan(geometry, this.active);
    this.rowMarker.hidden = false;
    this.rowMarker.style.top = `${start / this.dpr}px`;
    this.rowMarker.style.height = `${Math.max(1, size / this.dpr)}px`;
  }

  private cellAtCss(xCss: number, yCss: number): { query: number; key: number } | undefined {
    const geometry = this.geometry;
    if (!geometry) return undefined;
    const query = tokenAtPixel(geometry, yCss * this.dpr);
    const key = tokenAtPixel(geometry, xCss * this.dpr);
    return query < 0 || key < 0 ? undefined : { query, key };
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
    const T = this.texts.length;
    const masked = this.causal && key > query;
    const source = this.data;
    const weightText = masked ? 'masked (a future token)' : source ? formatWeight(source[query * T + key]) : 'loading…';
    this.tooltip.textContent = `“${this.texts[query]}” #${query} → “${this.texts[key]}” #${key}: ${weightText}`;
    this.tooltip.hidden = false;
    const sideCss = geometry.pixels / this.dpr;
    const flipX = this.pointer.x > sideCss * 0.6;
    const flipY = this.pointer.y > sideCss * 0.75;
    this.tooltip.classList.toggle('flip-x', flipX);
    this.tooltip.classList.toggle('flip-y', flipY);
    this.tooltip.style.left = `${this.pointer.x}px`;
    this.tooltip.style.top = `${this.pointer.y}px`;
    const column = cellSpan(geometry, key);
    const row = cellSpan(geometry, query);
    this.cellMarker.hidden = false;
    this.cellMarker.style.left = `${column.start / this.dpr}px`;
    this.cellMarker.style.top = `${row.start / this.dpr}px`;
    this.cellMarker.style.width = `${Math.max(2, column.size / this.dpr)}px`;
    this.cellMarker.style.height = `${Math.max(2, row.size / this.dpr)}px`;
  }
}
