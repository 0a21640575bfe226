// How an attention weight becomes a position on the colour ramp, per the colorScale setting.

import type { CellEncoding, ColorScale } from '../src/shared/protocol';

/** The log scale spans four decades: weights at or below this are drawn as zero. */
export const LOG_FLOOR = 1e-4;
const LOG_DECADES = -Math.log10(LOG_FLOOR);

export const RAMP_STEPS = 256;

/** weight in [0, 1] -> ramp position in [0, 1]; non-finite and non-positive weights map to 0. */
export function scaleWeight(weight: number, scale: ColorScale): number {
  if (!(weight > 0)) return 0;
  if (weight >= 1) return 1;
  switch (scale) {
    case 'linear':
      return weight;
    case 'sqrt':
      return Math.sqrt(weight);
    case 'log':
      return weight <= LOG_FLOOR ? 0 : (Math.log10(weight) + LOG_DECADES) / LOG_DECADES;
  }
}

/** weight -> index into a RAMP_STEPS-entry colour table. */
export function rampIndex(weight: number, scale: ColorScale): number {
  return Math.round(scaleWeight(weight, scale) * (RAMP_STEPS - 1));
}

/** Weights worth a tick on the legend of each scale. */
export function legendTicks(scale: ColorScale): { weight: number; label: string }[] {
  switch (scale) {
    case 'linear':
      return [0, 0.25, 0.5, 0.75, 1].map((weight) => ({ weight, label: String(weight) }));
    case 'sqrt':
      return [0, 0.1, 0.25, 0.5, 1].map((weight) => ({ weight, label: String(weight) }));
    case 'log':
      return [1e-4, 1e-3, 1e-2, 1e-1, 1].map((weight) => ({ weight, label: weight === 1 ? '1' : `1e${Math.round(Math.log10(weight))}` }));
  }
}

export function isColorScale(value: unknown): value is ColorScale {
  return value === 'linear' || value === 'sqrt' || value === 'log';
}

/**
 * How a pooled overview may travel so that its colours are those of the exact weights: linear maps
 * round(w · 255) to the ramp, which uint8 (q / 255) reproduces exactly; sqrt stretches small weights
 * (√(0.5 / 65535) · 255 < 1 ramp step, so uint16 moves a colour by at most one step and only below
 * w ≈ 1e-3, while uint8 would erase everything under 1 / 510); log resolves 1e-4, where even uint16's
 * 1.5e-5 is a visible step, so it stays float32.
 */
export function encodingFor(scale: ColorScale): CellEncoding {
  switch (scale) {
    case 'linear':
      return 'uint8';
    case 'sqrt':
      return 'uint16';
    case 'log':
      return 'float32';
  }
}
