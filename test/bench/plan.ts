// What one bench run measures, by mode: sizes, models, repetitions and time limits.
import { LONG_MODEL, type LongModelShape } from './longModel';
import type { BenchOptions } from './options';

export interface BenchPlan {
  /** Sizes on the default model (media/models/default). */
  shortSizes: number[];
  /** Sizes on the generated long model. */
  longSizes: number[];
  longModel: LongModelShape;
  repeats(T: number): number;
  timeoutMs(T: number): number;
  panel: { layers: number; heads: number; sizes: number[]; repeats: number; stepTimeoutMs: number };
  peak: { size: number; runs: number };
}

export function planFor(options: BenchOptions): BenchPlan {
  if (options.smoke) {
    return {
      shortSizes: [8, 16],
      longSizes: [24, 32],
      longModel: { layers: 2, heads: 2, dModel: 32, positions: 64 },
      repeats: () => 1,
      timeoutMs: () => 60_000,
      panel: { layers: 2, heads: 2, sizes: [32], repeats: 1, stepTimeoutMs: 20_000 },
      peak: { size: 128, runs: 3 },
    };
  }
  const [small, large] = options.quick ? [3, 1] : [9, 3];
  return {
    shortSizes: [16, 128, 512],
    longSizes: [2048, 4096],
    longModel: LONG_MODEL,
    repeats: (T) => (T >= 2048 ? large : small),
    // The TypeScript block needs tens of seconds at 4096 tokens on a busy 2-core machine.
    timeoutMs: (T) => (T >= 2048 ? 600_000 : 120_000),
    panel: { layers: 6, heads: 8, sizes: [2048, 4096], repeats: options.quick ? 1 : 3, stepTimeoutMs: 60_000 },
    peak: { size: 1024, runs: options.quick ? 5 : 15 },
  };
}
