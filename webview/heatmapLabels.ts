// Token labels along the heatmap's axes, drawn on their own canvases so a head switch (which only
// repaints the matrix) never redraws them: query tokens beside the rows, key tokens above the
// columns (two different sequences for cross-attention). Long inputs label every k-th token; the
// active token is always labelled, in the accent colour.

import { cssRgb } from './colorMath';
import { cellSpan, type AxisGeometry } from './heatmapPaint';
import type { Theme } from './theme';

export interface AxisLabels {
  /** One per token of the axis (query tokens for rows, key tokens for columns). */
  labels: string[];
  /** The axis the labels run along. */
  geometry: AxisGeometry;
  /** The cell size of the other axis too: labels use one font size on both axes. */
  fontGeometry: AxisGeometry;
  dpr: number;
  theme: Theme;
  active: number | null;
  /** Width of the row-label gutter or height of the column-label gutter, in CSS pixels. */
  gutterCss: number;
}

/** Labels closer than this (CSS px) would overlap, so only every k-th token is labelled. */
const MIN_LABEL_SPACING_CSS = 14;
const PADDING_CSS = 6;

export function labelStride(geometry: AxisGeometry, dpr: number): number {
  const cellCss = cellSpan(geometry, 0).size / dpr;
  return Math.max(1, Math.ceil(MIN_LABEL_SPACING_CSS / cellCss));
}

export function labelFontPx(geometry: AxisGeometry, dpr: number): number {
  const cellCss = cellSpan(geometry, 0).size / dpr;
  return Math.round(Math.min(12, Math.max(10, cellCss * 0.55)));
}

/** The widest label in CSS pixels (capped), to size the gutters. */
export function measureLabels(labels: string[], fontFamily: string, fontPx: number, maxCss: number): number {
  const context = document.createElement('canvas').getContext('2d');
  if (!context) return maxCss;
  context.font = `${fontPx}px ${fontFamily}`;
  let widest = 0;
  for (const label of labels) widest = Math.max(widest, context.measureText(label).width);
  return Math.min(maxCss, Math.ceil(widest) + 2 * PADDING_CSS);
}

/** Query labels, right-aligned beside each row. */
export function drawRowLabels(canvas: HTMLCanvasElement, axis: AxisLabels): void {
  const context = prepare(canvas, Math.round(axis.gutterCss * axis.dpr), axis.geometry.pixels);
  if (!context) return;
  const x = canvas.width - PADDING_CSS * axis.dpr;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  forEachLabel(axis, (index, center, active) => {
    setFont(context, axis, active);
    context.fillText(axis.labels[index], x, center);
  });
}

/** Key labels, written upwards above each column. */
export function drawColumnLabels(canvas: HTMLCanvasElement, axis: AxisLabels): void {
  const context = prepare(canvas, axis.geometry.pixels, Math.round(axis.gutterCss * axis.dpr));
  if (!context) return;
  const baseline = canvas.height - PADDING_CSS * axis.dpr;
  context.textAlign = 'left';
  context.textBaseline = 'middle';
  forEachLabel(axis, (index, center, active) => {
    setFont(context, axis, active);
    context.save();
    context.translate(center, baseline);
    context.rotate(-Math.PI / 2);
    context.fillText(axis.labels[index], 0, 0);
    context.restore();
  });
}

function prepare(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext('2d');
  context?.clearRect(0, 0, width, height);
  return context;
}

function setFont(context: CanvasRenderingContext2D, axis: AxisLabels, active: boolean): void {
  const px = labelFontPx(axis.fontGeometry, axis.dpr) * axis.dpr;
  context.font = `${active ? '600 ' : ''}${px}px ${axis.theme.labelFontFamily}`;
  context.fillStyle = cssRgb(active ? axis.theme.accent : axis.theme.muted);
}

/** Every stride-th label plus the active one; regular labels that would collide with it are skipped. */
function forEachLabel(axis: AxisLabels, draw: (index: number, centerDevicePx: number, active: boolean) => void): void {
  const stride = labelStride(axis.geometry, axis.dpr);
  const active = axis.active;
  // Labels of the first and last tiny cells would be cut in half by the canvas edge: keep them inside.
  const half = labelFontPx(axis.fontGeometry, axis.dpr) * axis.dpr * 0.5;
  const center = (index: number) => {
    const { start, size } = cellSpan(axis.geometry, index);
    return Math.min(Math.max(start + size / 2, half), axis.geometry.pixels - half);
  };
  for (let index = 0; index < axis.labels.length; index += stride) {
    if (active !== null && Math.abs(index - active) < stride) continue;
    draw(index, center(index), false);
  }
  if (active !== null && active >= 0 && active < axis.labels.length) draw(active, center(active), true);
}
