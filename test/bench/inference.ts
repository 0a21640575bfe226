// One interleaved run per size: every contender is warmed up, then each repetition runs every
// contender once, starting with a different one each time, so load drift on a shared machine hits
// all of them alike. Medians and spreads per contender and size.
import * as v8 from 'v8';
import * as vm from 'vm';
import { CONTENDER_LABELS, fitsInMemory, type Contender, type ContenderKey } from './contenders';
import type { BenchInput } from './inputs';
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

export async function runInterleaved(contenders: Contender[], inputs: BenchInput[], plan: InferencePlan, notice: (line: string) => void): Promise<Map<number, SizeResult>> {
  const results = new Map<number, SizeResult>();
  const failed = new Set<ContenderKey>();
  for (const input of inputs) {
    const T = input.tokens;
    const bytes = plan.layers * plan.heads * T * T * 4;
    const active: Contender[] = [];
    for (const contender of contenders) {
      if (failed.has(contender.key)) continue;
      collectGarbage();
      if (!fitsInMemory(contender, bytes)) {
        notice(`${CONTENDER_LABELS[contender.key]} skipped at ${T} tokens: about ${(contender.memoryFactor * bytes / 2 ** 30).toFixed(1)} GiB needed, not free`);
        continue;
      }
      try {
        await contender.run(input, plan.timeoutMs(T)); // warm-up: loading, first-run allocation, JIT
        active.push(contender);
      } catch (error) {
        failed.add(contender.key);
        notice(`${CONTENDER_LABELS[contender.key]} failed at ${T} tokens and is left out from here on: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const samples = new Map<Contender, number[]>(active.map((contender) => [contender, []]));
    for (let round = 0; round < plan.repeats(T); round++) {
      for (let i = 0; i < active.length; i++) {
        const contender = active[(round + i) % active.length];
        if (!samples.has(contender)) continue;
        collectGarbage();
        try {
          samples.get(contender)!.push(await contender.run(input, plan.timeoutMs(T)));
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
      const extras = contender.extras?.();
      if (extras && Object.keys(extras).length > 0) result.extras[contender.key] = extras;
      // A measured peak replaces the assumed memory factor for the next, larger size.
      if (extras?.peakRssMB) contender.memoryFactor = Math.max(1.2, (extras.peakRssMB * 2 ** 20) / bytes);
    }
    results.set(T, result);
  }
  return results;
}
