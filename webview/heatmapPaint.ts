// Paints one [Tq, Tk] attention matrix into canvas pixels with typed-array fills, no per-cell canvas
// calls: a 512 × 512 head is 262k cells and repaints in a few milliseconds. Masked (future) cells
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
 * [Tq, Tk] weights -> [Py, Px] packed pixels (row-major, Py = rows.pixels, Px = columns.pixels).
 * weights[t * Tk + s] is query t attending to key s: row t, column s. Null (still loading) paints
 * every visible cell as zero, so the shape and the mask show at once without a Tq·Tk allocation.
 * `causal` (square maps only) hatches the keys after each query.
 */
export function paintMatrix(
  out: Uint32Array,
  weights: Float32Array | null,
  geometry: MatrixGeometry,
  causal: boolean,
  scale: ColorScale,
  palette: MatrixPalette,
): void {
  const { rows, columns } = geometry;
  const pixelCount = rows.pixels * columns.pixels;
  if (out.length !== pixelCount) throw new RangeError(`paintMatrix: expected ${pixelCount} pixels, got ${out.length}`);
  if (weights && weights.length !== rows.tokens * columns.tokens) {
    throw new RangeError(`paintMatrix: expected ${rows.tokens}×${columns.tokens} weights, got ${weights.length}`);
  }
  if (rows.cellPx > 0 && columns.cellPx > 0) paintCells(out, weights, geometry, causal, scale, palette);
  else paintPooled(out, weights, geometry, causal, scale, palette);
}

// One band of device rows per query token: fill the band's first row cell by cell, copy it down,
// then hatch the masked tail of the band.
function paintCells(out: Uint32Array, weights: Float32Array | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette): void {
  const { rows, columns } = geometry;
  const Tq = rows.tokens;
  const Tk = columns.tokens;
  const P = columns.pixels;
  const rowPx = rows.cellPx;
  const columnPx = columns.cellPx;
  const rowInner = rowPx - rows.gapPx;
  const columnInner = columnPx - columns.gapPx;
  out.fill(palette.gap);
  for (let t = 0; t < Tq; t++) {
    const bandY = t * rowPx;
    const bandStart = bandY * P;
    const rowOffset = t * Tk;
    const visibleKeys = causal ? Math.min(Tk, t + 1) : Tk;
    for (let s = 0; s < visibleKeys; s++) {
      const start = bandStart + s * columnPx;
      out.fill(palette.ramp[weights ? rampIndex(weights[rowOffset + s], scale) : 0], start, start + columnInner);
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

// More tokens than pixels: each pixel shows the largest weight of the block of cells it covers,
// so a single strong link survives the downscale; a pixel is masked only if its whole block is.
function paintPooled(out: Uint32Array, weights: Float32Array | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette): void {
  const Tk = geometry.columns.tokens;
  const Py = geometry.rows.pixels;
  const Px = geometry.columns.pixels;
  const rowEdges = axisEdges(geometry.rows);
  const columnEdges = axisEdges(geometry.columns);
  for (let py = 0; py < Py; py++) {
    const t0 = rowEdges[py];
    const t1 = rowEdges[py + 1];
    const rowStart = py * Px;
    for (let px = 0; px < Px; px++) {
      const s0 = columnEdges[px];
      const s1 = columnEdges[px + 1];
      if (causal && s0 > t1 - 1) {
        out[rowStart + px] = (px + py) % palette.hatchPeriod < palette.hatchWidth ? palette.maskLine : palette.maskBase;
        continue;
      }
      let max = 0;
      for (let t = t0; weights && t < t1; t++) {
        const rowOffset = t * Tk;
        const end = causal ? Math.min(s1, t + 1) : s1;
        for (let s = s0; s < end; s++) {
          const w = weights[rowOffset + s];
          if (w > max) max = w;
        }
      }
      out[rowStart + px] = palette.ramp[rampIndex(max, scale)];
    }
  }
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
