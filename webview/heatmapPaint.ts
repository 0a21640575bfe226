// Paints one [Tq, Tk] attention matrix — or the zoomed window of one, from exact or host-pooled
// cells — into canvas pixels with typed-array fills, no per-cell canvas calls: a 512 × 512 head is
// 262k cells and repaints in a few milliseconds. Masked (future) cells
// of causal attention get a grey hatch, never a ramp colour, so "not allowed" never reads as "zero".
// Rows are query tokens and columns key tokens; the two counts differ for cross-attention.

import type { ColorScale } from '../src/shared/protocol';
import { rampIndex } from './colorScale';

/** How one axis of the matrix maps tokens to device pixels. */
export interface AxisGeometry {
  /** The number of tokens along this axis (Tq for rows, Tk for columns). */
  tokens: number;
  /** Length of the axis in device pixels. */
  pixels: number;
  /** Device pixels per cell; 0 when there are more tokens than pixels and cells are pooled. */
  cellPx: number;
  /** Device pixels of background left between cells when they are large enough to show a grid. */
  gapPx: number;
}

export interface MatrixGeometry {
  rows: AxisGeometry;
  columns: AxisGeometry;
}

export interface MatrixPalette {
  /** Packed pixels indexed by rampIndex. */
  ramp: Uint32Array;
  maskBase: number;
  maskLine: number;
  /** The background, between cells. */
  gap: number;
  /** The hatch draws a line of hatchWidth pixels every hatchPeriod pixels along the anti-diagonal. */
  hatchPeriod: number;
  hatchWidth: number;
}

/** Cells this large (device px) or larger show a grid gap between them. */
const GRID_MIN_CELL_PX = 10;
/** Never draw an axis shorter than this, however few the pixels offered. */
const MIN_AXIS_PX = 16;

/** One axis on its own: the largest whole number of device pixels per cell that fits; pools cells when even 1 px does not. */
export function axisGeometry(tokens: number, availableDevicePx: number, maxCellDevicePx: number, gapPx: number): AxisGeometry {
  const available = Math.max(MIN_AXIS_PX, Math.floor(availableDevicePx));
  const cellPx = Math.min(Math.max(1, Math.floor(maxCellDevicePx)), Math.floor(available / tokens));
  if (cellPx >= 1) return { tokens, pixels: cellPx * tokens, cellPx, gapPx: cellPx >= GRID_MIN_CELL_PX ? gapPx : 0 };
  return { tokens, pixels: available, cellPx: 0, gapPx: 0 };
}

/**
 * [Tq rows, Tk columns] in at most width × height device pixels, with square cells: the same whole
 * number of pixels per cell on both axes while that is at least 1, else both axes pooled at the same
 * scale (an axis that then still has room for 1 px per token keeps whole cells).
 */
export function matrixGeometry(rows: number, columns: number, availableWidthPx: number, availableHeightPx: number, maxCellDevicePx: number, gapPx: number): MatrixGeometry {
  const width = Math.max(MIN_AXIS_PX, Math.floor(availableWidthPx));
  const height = Math.max(MIN_AXIS_PX, Math.floor(availableHeightPx));
  const cellPx = Math.min(Math.max(1, Math.floor(maxCellDevicePx)), Math.floor(width / columns), Math.floor(height / rows));
  if (cellPx >= 1) {
    const axis = (tokens: number): AxisGeometry => ({ tokens, pixels: cellPx * tokens, cellPx, gapPx: cellPx >= GRID_MIN_CELL_PX ? gapPx : 0 });
    return { rows: axis(rows), columns: axis(columns) };
  }
  const scale = Math.min(width / columns, height / rows);
  const pooled = (tokens: number): AxisGeometry => {
    const pixels = Math.max(Math.min(tokens, MIN_AXIS_PX), Math.floor(tokens * scale));
    return pixels >= tokens ? { tokens, pixels: tokens, cellPx: 1, gapPx: 0 } : { tokens, pixels, cellPx: 0, gapPx: 0 };
  };
  return { rows: pooled(rows), columns: pooled(columns) };
}

/** Device pixel along an axis -> token index, or -1 outside the matrix. */
export function tokenAtPixel(axis: AxisGeometry, devicePx: number): number {
  if (devicePx < 0 || devicePx >= axis.pixels) return -1;
  const index = axis.cellPx > 0 ? Math.floor(devicePx / axis.cellPx) : Math.floor((devicePx * axis.tokens) / axis.pixels);
  return Math.min(axis.tokens - 1, index);
}

/** Where token `index` starts along an axis, and how wide its cell is, in device pixels. */
export function cellSpan(axis: AxisGeometry, index: number): { start: number; size: number } {
  if (axis.cellPx > 0) return { start: index * axis.cellPx, size: axis.cellPx };
  const size = axis.pixels / axis.tokens;
  return { start: index * size, size };
}

/**
 * The weights a matrix is painted from: values[i * cols + j] · unit is the largest weight of source
 * rows row0 + [i·rowStep, (i+1)·rowStep) and columns col0 + [j·colStep, (j+1)·colStep) (steps of 1:
 * the exact weights). A whole [Tq, Tk] map is { row0: 0, col0: 0, rowStep: 1, colStep: 1, cols: Tk }.
 */
export interface CellSource {
  values: Float32Array | Uint16Array | Uint8Array;
  unit: number;
  row0: number;
  col0: number;
  rows: number;
  cols: number;
  rowStep: number;
  colStep: number;
}

/** A whole [Tq, Tk] map of exact weights as a CellSource. */
export function wholeSource(weights: Float32Array, Tq: number, Tk: number): CellSource {
  return { values: weights, unit: 1, row0: 0, col0: 0, rows: Tq, cols: Tk, rowStep: 1, colStep: 1 };
}

/** The source cell index holding token `token` of an axis that starts at `origin` with `step` tokens per cell. */
function sourceIndex(token: number, origin: number, step: number): number {
  return Math.floor((token - origin) / step);
}

/**
 * The view [Tq, Tk] (geometry's tokens) of a map, whose top-left cell is (view.row0, view.col0) of
 * the whole map, -> [Py, Px] packed pixels (row-major, Py = rows.pixels, Px = columns.pixels). Row t
 * is query view.row0 + t, column s key view.col0 + s. Null (still loading) paints every visible cell
 * as zero, so the shape and the mask show at once. `causal` (square maps only) hatches the keys after
 * each query. The source must cover the view; a bare Float32Array is the view's [Tq, Tk] exact weights.
 */
export function paintMatrix(
  out: Uint32Array,
  weights: CellSource | Float32Array | null,
  geometry: MatrixGeometry,
  causal: boolean,
  scale: ColorScale,
  palette: MatrixPalette,
  view: { row0: number; col0: number } = { row0: 0, col0: 0 },
): void {
  const { rows, columns } = geometry;
  const pixelCount = rows.pixels * columns.pixels;
  if (out.length !== pixelCount) throw new RangeError(`paintMatrix: expected ${pixelCount} pixels, got ${out.length}`);
  // A bare Float32Array is the view's own [Tq, Tk] exact weights.
  const source = weights instanceof Float32Array ? { ...wholeSource(weights, rows.tokens, columns.tokens), row0: view.row0, col0: view.col0 } : weights;
  if (source) {
    if (source.values.length !== source.rows * source.cols) throw new RangeError(`paintMatrix: expected ${source.rows}×${source.cols} weights, got ${source.values.length}`);
    const covers = (origin: number, count: number, step: number, first: number, tokens: number) => first >= origin && first + tokens <= origin + count * step;
    if (!covers(source.row0, source.rows, source.rowStep, view.row0, rows.tokens) || !covers(source.col0, source.cols, source.colStep, view.col0, columns.tokens)) {
      throw new RangeError(`paintMatrix: the weights do not cover the ${rows.tokens}×${columns.tokens} view at (${view.row0}, ${view.col0})`);
    }
  }
  if (rows.cellPx > 0 && columns.cellPx > 0) paintCells(out, source, geometry, causal, scale, palette, view);
  else paintPooled(out, source, geometry, causal, scale, palette, view);
}

// One band of device rows per query token: fill the band's first row cell by cell, copy it down,
// then hatch the masked tail of the band.
function paintCells(out: Uint32Array, source: CellSource | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette, view: { row0: number; col0: number }): void {
  const { rows, columns } = geometry;
  const Tq = rows.tokens;
  const Tk = columns.tokens;
  const P = columns.pixels;
  const rowPx = rows.cellPx;
  const columnPx = columns.cellPx;
  const rowInner = rowPx - rows.gapPx;
  const columnInner = columnPx - columns.gapPx;
  const sourceColumn = new Int32Array(Tk); // view column -> source column
  for (let s = 0; s < Tk; s++) sourceColumn[s] = source ? sourceIndex(view.col0 + s, source.col0, source.colStep) : 0;
  out.fill(palette.gap);
  for (let t = 0; t < Tq; t++) {
    const query = view.row0 + t;
    const bandY = t * rowPx;
    const bandStart = bandY * P;
    const rowOffset = source ? sourceIndex(query, source.row0, source.rowStep) * source.cols : 0;
    // Keys up to the query are allowed: the view's columns below query + 1 - col0.
    const visibleKeys = causal ? Math.max(0, Math.min(Tk, query + 1 - view.col0)) : Tk;
    for (let s = 0; s < visibleKeys; s++) {
      const start = bandStart + s * columnPx;
      out.fill(palette.ramp[source ? rampIndex(source.values[rowOffset + sourceColumn[s]] * source.unit, scale) : 0], start, start + columnInner);
    }
    const visibleEnd = bandStart + visibleKeys * columnPx;
    for (let dy = 1; dy < rowInner; dy++) out.copyWithin(bandStart + dy * P, bandStart, visibleEnd);
    if (visibleKeys < Tk) hatch(out, P, visibleKeys * columnPx, P, bandY, bandY + rowPx, palette);
  }
}

/** Token boundaries of a pooled axis (cellPx 0, or 1 where pixels = tokens): pixel p covers tokens [edges[p], edges[p + 1]). */
function axisEdges(axis: AxisGeometry): Int32Array {
  const edges = new Int32Array(axis.pixels + 1);
  for (let p = 0; p <= axis.pixels; p++) edges[p] = Math.floor((p * axis.tokens) / axis.pixels);
  return edges;
}

/** For each pixel of a pooled axis, the first and one-past-last source cell its tokens touch: [2 × pixels]. */
function sourceSpans(axis: AxisGeometry, first: number, origin: number, step: number): Int32Array {
  const edges = axisEdges(axis);
  const spans = new Int32Array(2 * axis.pixels);
  for (let p = 0; p < axis.pixels; p++) {
    spans[2 * p] = sourceIndex(first + edges[p], origin, step);
    spans[2 * p + 1] = edges[p + 1] > edges[p] ? sourceIndex(first + edges[p + 1] - 1, origin, step) + 1 : spans[2 * p];
  }
  return spans;
}

// More tokens than pixels: each pixel shows the largest weight of the source cells its tokens
// touch (themselves maxima when the host pooled them), so a single strong link survives the
// downscale; a pixel is masked only if its whole block of tokens is. Masked cells hold 0, so the
// max over a block the diagonal crosses is the max over its allowed cells.
function paintPooled(out: Uint32Array, source: CellSource | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette, view: { row0: number; col0: number }): void {
  const Py = geometry.rows.pixels;
  const Px = geometry.columns.pixels;
  const rowEdges = axisEdges(geometry.rows);
  const columnEdges = axisEdges(geometry.columns);
  const rowSpans = source ? sourceSpans(geometry.rows, view.row0, source.row0, source.rowStep) : null;
  const columnSpans = source ? sourceSpans(geometry.columns, view.col0, source.col0, source.colStep) : null;
  // Quantised cells (q / levels) index a colour table directly: the pixel's colour is that of the max q.
  const colourOfLevel = source && !(source.values instanceof Float32Array) ? levelColours(source.values instanceof Uint8Array ? 255 : 65535, source.unit, scale, palette.ramp) : null;
  const empty = palette.ramp[rampIndex(0, scale)];
  for (let py = 0; py < Py; py++) {
    const lastQuery = view.row0 + rowEdges[py + 1] - 1;
    const rowStart = py * Px;
    for (let px = 0; px < Px; px++) {
      if (causal && view.col0 + columnEdges[px] > lastQuery) {
        out[rowStart + px] = (px + py) % palette.hatchPeriod < palette.hatchWidth ? palette.maskLine : palette.maskBase;
        continue;
      }
      if (!source || !rowSpans || !columnSpans) {
        out[rowStart + px] = empty;
        continue;
      }
      let max = 0;
      const { values, cols } = source;
      const j0 = columnSpans[2 * px];
      const j1 = columnSpans[2 * px + 1];
      for (let i = rowSpans[2 * py]; i < rowSpans[2 * py + 1]; i++) {
        const rowOffset = i * cols;
        for (let j = j0; j < j1; j++) {
          const v = values[rowOffset + j];
          if (v > max) max = v;
        }
      }
      out[rowStart + px] = colourOfLevel ? colourOfLevel[max] : palette.ramp[rampIndex(max * source.unit, scale)];
    }
  }
}

/** The colour of every quantised level q (weight q · unit), per ramp, scale and level count: built once (65,536 entries for uint16). */
const levelColourTables = new WeakMap<Uint32Array, Map<string, Uint32Array>>();

function levelColours(levels: number, unit: number, scale: ColorScale, ramp: Uint32Array): Uint32Array {
  let tables = levelColourTables.get(ramp);
  if (!tables) levelColourTables.set(ramp, (tables = new Map()));
  const key = `${levels}:${unit}:${scale}`;
  let table = tables.get(key);
  if (!table) {
    table = new Uint32Array(levels + 1);
    for (let q = 0; q <= levels; q++) table[q] = ramp[rampIndex(q * unit, scale)];
    tables.set(key, table);
  }
  return table;
}

/** Hatches the device-pixel rectangle [x0, x1) × [y0, y1) of a P-wide image with anti-diagonal lines. */
function hatch(out: Uint32Array, P: number, x0: number, x1: number, y0: number, y1: number, palette: MatrixPalette): void {
  const { hatchPeriod: period, hatchWidth: width, maskBase, maskLine } = palette;
  for (let y = y0; y < y1; y++) {
    const rowStart = y * P;
    let phase = (x0 + y) % period;
    for (let x = x0; x < x1; x++) {
      out[rowStart + x] = phase < width ? maskLine : maskBase;
      phase = phase + 1 === period ? 0 : phase + 1;
    }
  }
}
