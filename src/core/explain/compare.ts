// Two runs of the same text side by side: a base run and a varied one (positions off, two tokens
// swapped, heads switched off). For a swap the base is the same variation without the swap (so a
// swap with positions off is compared with positions off); otherwise the base is the plain run. For one layer and head it returns both attention maps in the
// plain run's token order, and checks the positional-encoding lesson: without positions, a causal
// model's last token weighs its prefix the same whatever the order at layer 0 (a bidirectional model:
// every token, every layer), so after undoing a swap the two rows agree exactly.
import { InputError } from '../errors';
import type { AttentionBackend, AttentionResult, CancellationSignal, Prediction, RunOptions, TokenSpan } from '../types';
import type { RunVariation } from './types';
import { swapOrder } from './variation';

export interface RunComparison {
  variation: RunVariation;
  layer: number;
  head: number;
  /** The plain run's tokens; both maps below are indexed by them. */
  tokens: TokenSpan[];
  /** The varied run's tokens in the order it saw them (differs from `tokens` only by a swap). */
  variedTokens: TokenSpan[];
  /** variedIndex[t] = the varied run's position of base token t (the identity without a swap; a swap moves whole characters, variation.ts). */
  variedIndex: number[];
  /** [T, T] the plain run's attention of this layer and head. */
  base: Float32Array;
  /** [T, T] the varied run's, rows and columns put back in the plain order (so base - varied is a difference per token pair). */
  varied: Float32Array;
  /** max |base - varied| over the whole map. */
  maxDifference: number;
  /** The variation the base run had (see baseVariation). */
  baseVariation: RunVariation;
  /**
   * With a swap: the permutation property, checked on this layer's last query row (causal models)
   * or the whole map (bidirectional) — the largest difference after undoing the swap. `expected`
   * says whether it must be 0 here: positions off, and layer 0 (causal, last token not swapped) or any
   * layer (bidirectional).
   */
  permutation?: { scope: 'last-row' | 'all-rows'; deviation: number; expected: boolean };
  basePredictions: Prediction[];
  variedPredictions: Prediction[];
}

/** What a varied run is compared with: the same variation without its swap, or the plain run. */
export function baseVariation(variation: RunVariation): RunVariation {
  if (!variation.swap) return {};
  const base: RunVariation = {};
  if (variation.positions === false) base.positions = false;
  if (variation.ablate && variation.ablate.length > 0) base.ablate = variation.ablate;
  return base;
}

export function compareRuns(base: AttentionResult, varied: AttentionResult, variation: RunVariation, layer: number, head: number): RunComparison {
  const [L, H, T] = base.dims;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new InputError(`Layer ${layer} does not exist: this model has layers 0–${L - 1}.`);
  if (!Number.isInteger(head) || head < 0 || head >= H) throw new InputError(`Head ${head} does not exist: this model has heads 0–${H - 1}.`);
  if (varied.dims[2] !== T) throw new Error('the two runs have different lengths');
  const variedIndex = new Array<number>(T);
  swapOrder(base.tokens, variation.swap).forEach((original, position) => (variedIndex[original] = position));
  const offset = (layer * H + head) * T * T;
  const baseMap = base.attention.slice(offset, offset + T * T);
  const variedMap = new Float32Array(T * T);
  let maxDifference = 0;
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < T; s++) {
      variedMap[t * T + s] = varied.attention[offset + variedIndex[t] * T + variedIndex[s]];
      maxDifference = Math.max(maxDifference, Math.abs(variedMap[t * T + s] - baseMap[t * T + s]));
    }
  }
  let permutation: RunComparison['permutation'];
  if (variation.swap) {
    const scope = base.causal ? 'last-row' : 'all-rows';
    let deviation = 0;
    for (let t = scope === 'last-row' ? T - 1 : 0; t < T; t++) {
      for (let s = 0; s < T; s++) deviation = Math.max(deviation, Math.abs(variedMap[t * T + s] - baseMap[t * T + s]));
    }
    const lastStays = !base.causal || variedIndex[T - 1] === T - 1;
    permutation = { scope, deviation, expected: variation.positions === false && (layer === 0 || !base.causal) && lastStays };
  }
  return {
    variation,
    layer,
    head,
    tokens: base.tokens,
    variedTokens: varied.tokens,
    variedIndex,
    base: baseMap,
    varied: variedMap,
    maxDifference,
    baseVariation: baseVariation(variation),
    ...(permutation ? { permutation } : {}),
    basePredictions: base.predictions ?? [],
    variedPredictions: varied.predictions ?? [],
  };
}

/** Runs the base and the varied run of `text` on one backend (built-in: see RunOptions.variation) and compares them. */
export async function runComparison(
  backend: AttentionBackend,
  text: string,
  options: RunOptions,
  variation: RunVariation,
  layer: number,
  head: number,
  cancellation?: CancellationSignal,
): Promise<RunComparison> {
  const base = await backend.run(text, { ...options, variation: baseVariation(variation) }, cancellation);
  const varied = await backend.run(text, { ...options, variation }, cancellation);
  return compareRuns(base, varied, variation, layer, head);
}
