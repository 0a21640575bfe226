// Medians and spreads of repeated timings.

/** The median of the samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Spread as the relative half-range: (max − min) / 2 / median, e.g. 0.05 for ±5 %. */
export function relativeSpread(samples: readonly number[]): number {
  if (samples.length < 2) return 0;
  return (Math.max(...samples) - Math.min(...samples)) / 2 / median(samples);
}

/** Milliseconds rounded for tables and JSON: 3 significant digits below 10, one decimal up to 1000, whole beyond. */
export function roundMs(ms: number): number {
  if (ms < 10) return Math.round(ms * 100) / 100;
  if (ms < 1000) return Math.round(ms * 10) / 10;
  return Math.round(ms);
}
