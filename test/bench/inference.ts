// One interleaved run per size: every contender is warmed up, then each repetition runs every
// contender once, starting with a different one each time, so load drift on a shared machine hits
// all of them alike. Medians and spreads per contender and size.
import * as v8 from 'v8';
import * as vm from 'vm';
import { CONTENDER_LABELS, fitsInMemory, type Contender, type ContenderKey } from './contenders';
import type { BenchInput } from './inputs';
import { startPeakMeasurement } from './memory';
import { median, relativeSpread } from './stats';

export interface SizeResult {
  ms: Partial<Record<ContenderKey, number>>;
  spread: Partial<Record<ContenderKey, number>>;
  extras: Partial<Record<ContenderKey, Record<string, number>>>;
}

export interface InferencePlan {
  /** Timed repetitions at T (after one warm-up run). */
  repeats(T: number): number;
  /** Time limit of one run at T (ms). */
  timeoutMs(T: number): number;
  /** [L, H] of the model, for the attention's bytes (memory check). */
  layers: number;
  heads: number;
}

v8.setFlagsFromString('--expose-gc');
/** A full collection between runs, so one contender's dropped [L, H, T, T] result does not burden the next. */
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** One run with the memory it added at its peak (this process and the contender's), in bytes. */
async function measuredRun(contender: Contender, input: BenchInput, timeoutMs: number, peaks: Map<Contender, number>): Promise<number> {
  collectGarbage();
  const added = startPeakMeasurement([process.pid, ...contender.pids()]);
  const ms = await contender.run(input, timeoutMs);
  const bytes = added();
  if (bytes !== undefined) peaks.set(contender, Math.max(peaks.get(contender) ?? 0, bytes));
  return ms;
}

export async function runInterleaved(contenders: Contender[], inputs: BenchInput[], plan: InferencePlan, notice: (line: string) => void, progress: (line: string) => void = () => undefined): Promise<Map<number, SizeResult>> {
  const results = new Map<number, SizeResult>();
  const failed = new Set<ContenderKey>();
  for (const input of inputs) {
    const T = input.tokens;
    const bytes = plan.layers * plan.heads * T * T * 4;
    const active: Contender[] = [];
    const peaks = new Map<Contender, number>();
    const firstRuns = new Map<Contender, number>();
    for (const contender of contenders) {
      if (failed.has(contender.key)) continue;
      collectGarbage();
      if (!fitsInMemory(contender, bytes)) {
        notice(`${CONTENDER_LABELS[contender.key]} skipped from ${T} tokens on: about ${(contender.memoryFactor * bytes / 2 ** 30).toFixed(1)} GiB needed (${contender.memoryFactor.toFixed(1)}× the attention), not available`);
        // Larger sizes need more still: its memory (a child's, an onnxruntime arena) goes back now.
        failed.add(contender.key);
        contender.dispose();
        continue;
      }
      try {
        // Warm-up: loading (at the first size), first-run allocation, JIT. Its time is kept as firstRunMs.
        firstRuns.set(contender, await measuredRun(contender, input, plan.timeoutMs(T), peaks));
        active.push(contender);
      } catch (error) {
        failed.add(contender.key);
        notice(`${CONTENDER_LABELS[contender.key]} failed at ${T} tokens and is left out from here on: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const samples = new Map<Contender, number[]>(active.map((contender) => [contender, []]));
    progress(`${T} tokens: warmed up, ${plan.repeats(T)} interleaved repetitions of ${active.length} backends`);
    for (let round = 0; round < plan.repeats(T); round++) {
      for (let i = 0; i < active.length; i++) {
        const contender = active[(round + i) % active.length];
        if (!samples.has(contender)) continue;
        try {
          samples.get(contender)!.push(await measuredRun(contender, input, plan.timeoutMs(T), peaks));
        } catch (error) {
          samples.delete(contender);
          failed.add(contender.key);
          notice(`${CONTENDER_LABELS[contender.key]} failed at ${T} tokens and is left out from here on: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    const result: SizeResult = { ms: {}, spread: {}, extras: {} };
    for (const [contender, times] of samples) {
      result.ms[contender.key] = median(times);
      result.spread[contender.key] = relativeSpread(times);
      const peak = peaks.get(contender);
      result.extras[contender.key] = { firstRunMs: Math.round(firstRuns.get(contender) ?? NaN) };
      if (peak !== undefined) {
        result.extras[contender.key] = { ...result.extras[contender.key], addedPeakMB: Math.round((10 * peak) / 2 ** 20) / 10, attentionMB: Math.round((10 * bytes) / 2 ** 20) / 10 };
        // What this size measured replaces the guess for the next, larger size (at least the result itself).
        contender.memoryFactor = Math.max(1.2, peak / bytes);
      }
    }
    results.set(T, result);
  }
  return results;
}
