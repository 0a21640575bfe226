// How an attention weight becomes a position on the colour ramp, per the colorScale setting.

import type { ColorScale } from '../src/shared/protocol';

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
