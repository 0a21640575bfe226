// Paints one [T, T] attention matrix into canvas pixels with typed-array fills, no per-cell canvas
// calls: a T = 512 head is 262k cells and repaints in a few milliseconds. Masked (future) cells of
// causal attention get a grey hatch, never a ramp colour, so "not allowed" never reads as "zero".

import type { ColorScale } from '../src/shared/protocol';
import { rampIndex } from './colorScale';

export interface MatrixGeometry {
  /** T, the number of tokens on each axis. */
  tokens: number;
  /** Side of the square canvas in device pixels. */
  pixels: number;
  /** Device pixels per cell; 0 when there are more tokens than pixels and cells are pooled. */
  cellPx: number;
  /** Device pixels of background left between cells when they are large enough to show a grid. */
  gapPx: number;
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

/** Largest whole number of device pixels per cell that fits; pools cells when even 1 px does not fit. */
export function matrixGeometry(tokens: number, availableDevicePx: number, maxCellDevicePx: number, gapPx: number): MatrixGeometry {
  const available = Math.max(16, Math.floor(availableDevicePx));
  const cellPx = Math.min(Math.max(1, Math.floor(maxCellDevicePx)), Math.floor(available / tokens));
  if (cellPx >= 1) return { tokens, pixels: cellPx * tokens, cellPx, gapPx: cellPx >= 10 ? gapPx : 0 };
  return { tokens, pixels: available, cellPx: 0, gapPx: 0 };
}

/** Device pixel along an axis -> token index, or -1 outside the matrix. */
export function tokenAtPixel(geometry: MatrixGeometry, devicePx: number): number {
  if (devicePx < 0 || devicePx >= geometry.pixels) return -1;
  const index = geometry.cellPx > 0 ? Math.floor(devicePx / geometry.cellPx) : Math.floor((devicePx * geometry.tokens) / geometry.pixels);
  return Math.min(geometry.tokens - 1, index);
}

/** Where token `index` starts along an axis, and how wide its cell is, in device pixels. */
export function cellSpan(geometry: MatrixGeometry, index: number): { start: number; size: number } {
  if (geometry.cellPx > 0) return { start: index * geometry.cellPx, size: geometry.cellPx };
  const size = geometry.pixels / geometry.tokens;
  return { start: index * size, size };
}

/**
 * [T, T] weights -> [P, P] packed pixels (row-major, P = geometry.pixels).
 * weights[t * T + s] is query t attending to key s: row t, column s. Null (still loading) paints
 * every visible cell as zero, so the shape and the mask show at once without a T² allocation.
 */
export function paintMatrix(
  out: Uint32Array,
  weights: Float32Array | null,
  geometry: MatrixGeometry,
  causal: boolean,
  scale: ColorScale,
  palette: MatrixPalette,
): void {
  const P = geometry.pixels;
  if (out.length !== P * P) throw new RangeError(`paintMatrix: expected ${P * P} pixels, got ${out.length}`);
  if (weights && weights.length !== geometry.tokens * geometry.tokens) throw new RangeError(`paintMatrix: expected ${geometry.tokens}² weights, got ${weights.length}`);
  if (geometry.cellPx > 0) paintCells(out, weights, geometry, causal, scale, palette);
  else paintPooled(out, weights, geometry, causal, scale, palette);
}

// One band of device rows per query token: fill the band's first row cell by cell, copy it down,
// then hatch the masked tail of the band.
function paintCells(out: Uint32Array, weights: Float32Array | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette): void {
  const { tokens: T, pixels: P, cellPx: c, gapPx } = geometry;
  const inner = c - gapPx;
  out.fill(palette.gap);
  for (let t = 0; t < T; t++) {
    const bandY = t * c;
    const bandStart = bandY * P;
    const rowOffset = t * T;
    const visibleKeys = causal ? t + 1 : T;
    for (let s = 0; s < visibleKeys; s++) {
      const start = bandStart + s * c;
      out.fill(palette.ramp[weights ? rampIndex(weights[rowOffset + s], scale) : 0], start, start + inner);
    }
    const visibleEnd = bandStart + visibleKeys * c;
    for (let dy = 1; dy < inner; dy++) out.copyWithin(bandStart + dy * P, bandStart, visibleEnd);
    if (causal && visibleKeys < T) hatch(out, P, visibleKeys * c, P, bandY, bandY + c, palette);
  }
}

// More tokens than pixels: each pixel shows the largest weight of the block of cells it covers,
// so a single strong link survives the downscale; a pixel is masked only if its whole block is.
function paintPooled(out: Uint32Array, weights: Float32Array | null, geometry: MatrixGeometry, causal: boolean, scale: ColorScale, palette: MatrixPalette): void {
  const { tokens: T, pixels: P } = geometry;
  const edges = new Int32Array(P + 1);
  for (let p = 0; p <= P; p++) edges[p] = Math.floor((p * T) / P);
  for (let py = 0; py < P; py++) {
    const t0 = edges[py];
    const t1 = edges[py + 1];
    const rowStart = py * P;
    for (let px = 0; px < P; px++) {
      const s0 = edges[px];
      const s1 = edges[px + 1];
      if (causal && s0 > t1 - 1) {
        out[rowStart + px] = (px + py) % palette.hatchPeriod < palette.hatchWidth ? palette.maskLine : palette.maskBase;
        continue;
      }
      let max = 0;
      for (let t = t0; weights && t < t1; t++) {
        const rowOffset = t * T;
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

/** Hatches the device-pixel rectangle [x0, x1) × [y0, y1) with anti-diagonal lines. */
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
