// A small labelled attention map (a captioned canvas with token labels on both axes up to
// LABELLED_MAX_TOKENS), and the colours the side-by-side views use: the weight ramp and a diverging
// scale for differences. Shared by the Compare ("Positions & what if") and the pinned-run views.
import { cssRgb, mixColors } from './colorMath';
import { rampIndex } from './colorScale';
import { truncateLabel } from './displayText';
import { el } from './dom';
import { t } from './l10n';
import type { ViewContext } from './view';

/** Up to this many tokens a map carries its labels (and its values, for tests) beside the canvas. */
export const LABELLED_MAX_TOKENS = 48;
const MAP_PIXELS = 264;

/** The weight ramp of the current theme and colour scale. */
export function weightColor(value: number, context: ViewContext): string {
  return context.theme.rampCss[rampIndex(value, context.colorScale)];
}

/** Diverging scale: background at 0, toward one chart colour above and another below, √ of |value| / max. */
export function differenceColor(value: number, max: number, context: ViewContext): string {
  const { theme } = context;
  const toward = value >= 0 ? theme.chartColors[0] : (theme.chartColors[4] ?? theme.chartColors[1]);
  const amount = max > 0 ? Math.min(1, Math.abs(value) / max) : 0;
  return cssRgb(mixColors(theme.background, toward, Math.sqrt(amount)));
}

/** A [T, T] map as a figure: caption, canvas (data-map=role) and, for short inputs, axis labels. */
export function mapFigure(role: string, title: string, values: Float32Array, labels: readonly string[], context: ViewContext, color: (value: number) => string): HTMLElement {
  const T = labels.length;
  const cell = Math.max(2, Math.min(22, Math.floor(MAP_PIXELS / Math.max(1, T))));
  const canvas = el('canvas', 'cv-canvas', { role: 'img', 'data-map': role, 'data-cell': cell, 'aria-label': t('{0}, {1} by {2}', title, T, T) });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(cell * T * ratio);
  canvas.height = Math.round(cell * T * ratio);
  canvas.style.width = `${cell * T}px`;
  canvas.style.height = `${cell * T}px`;
  const draw = canvas.getContext('2d');
  if (draw) {
    draw.scale(ratio, ratio);
    draw.fillStyle = cssRgb(context.theme.background);
    draw.fillRect(0, 0, cell * T, cell * T);
    for (let q = 0; q < T; q++) {
      for (let k = 0; k < T; k++) {
        draw.fillStyle = color(values[q * T + k]);
        draw.fillRect(k * cell, q * cell, cell, cell);
      }
    }
  }
  const figure = el('figure', `cv-map cv-map-${role}`, { 'data-map': role }, el('figcaption', 'cv-map-title', {}, title));
  if (T > LABELLED_MAX_TOKENS) {
    figure.append(canvas);
    return figure;
  }
  canvas.dataset.values = Array.from(values, (v) => v.toFixed(6)).join(',');
  const font = `${Math.max(9, Math.min(13, cell - 3))}px`;
  const axis = (className: string) => {
    const labelled = el('div', className, { 'aria-hidden': 'true' }, ...labels.map((label) => el('span', 'cv-label', { title: label }, truncateLabel(label, 6))));
    labelled.style.setProperty('--cv-cell', `${cell}px`);
    labelled.style.setProperty('--cv-font', font);
    return labelled;
  };
  figure.append(el('div', 'cv-grid', {}, el('span', 'cv-corner'), axis('cv-col-labels'), axis('cv-row-labels'), canvas));
  return figure;
}
