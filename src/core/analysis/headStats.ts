// What each head does, in numbers: the statistics the model card reports and the panel can show.
// All functions read the flat attention tensor [L, H, T, T] (att[((l*H + h)*T + t)*T + s]).

export interface HeadPattern {
  /** Mean weight from token t to token t-1, over t = 1..T-1. */
  previousToken: number;
  /** Mean weight on the first token, over t = 1..T-1 (t = 0 can only attend to itself). */
  firstToken: number;
  /** Mean weight of a token on itself, over t = 1..T-1. */
  selfAttention: number;
  /** Mean entropy of a row in nats, over t = 1..T-1 (uniform causal row t: ln(t+1)). */
  entropy: number;
}

// The per-head formulas below read one head's [T, T] block at att[offset .. offset + T*T) and are the only
// place each score is computed: the model card's statistics (headPatterns, inductionScores, via
// modelHeadStats) and the live head roles of the current text (headRoles.ts) both call them.

/** Mean of att[t, t-1] over t = 1..T-1. [T, T] block at offset -> scalar. */
export function previousTokenScore(attention: Float32Array, offset: number, T: number): number {
  let total = 0;
  for (let t = 1; t < T; t++) total += attention[offset + t * T + t - 1];
  return total / (T - 1);
}

/** Mean of att[t, 0] over t = 1..T-1. */
export function firstTokenScore(attention: Float32Array, offset: number, T: number): number {
  let total = 0;
  for (let t = 1; t < T; t++) total += attention[offset + t * T];
  return total / (T - 1);
}

/** Mean of att[t, t] over t = 1..T-1. */
export function selfScore(attention: Float32Array, offset: number, T: number): number {
  let total = 0;
  for (let t = 1; t < T; t++) total += attention[offset + t * T + t];
  return total / (T - 1);
}

/** Mean over t = 1..T-1 of the row entropy -sum_s p log p, in nats (a row uniform over n keys: ln n). */
export function meanRowEntropy(attention: Float32Array, offset: number, T: number): number {
  return rowEntropySum(attention, offset, T, 1, T, 0) / (T - 1);
}

/**
 * `sum` plus the entropies of rows [t0, t1), added in row order: summing the rows in pieces, each
 * piece continuing the last one's sum, gives meanRowEntropy's sum to the bit (headRoles yields between pieces).
 */
export function rowEntropySum(attention: Float32Array, offset: number, T: number, t0: number, t1: number, sum: number): number {
  let entropy = sum;
  for (let t = t0; t < t1; t++) {
    const row = offset + t * T;
    for (let s = 0; s < T; s++) {
      const p = attention[row + s];
      if (p > 0) entropy -= p * Math.log(p);
    }
  }
  return entropy;
}

/** A query row and the keys whose summed weight it is scored on (distinct key indices). */
export interface RowKeys {
  query: number;
  keys: readonly number[];
}

/** Mean over the listed rows of the weight each query puts on its keys; null when no rows are listed. */
export function meanWeightOnKeys(attention: Float32Array, offset: number, T: number, rows: readonly RowKeys[]): number | null {
  if (rows.length === 0) return null;
  let total = 0;
  for (const { query, keys } of rows) {
    for (const key of keys) total += attention[offset + query * T + key];
  }
  return total / rows.length;
}

/**
 * The rows where a sequence of token ids repeats itself, for the same-token and induction scores:
 * for every position t whose id occurred before (at positions s < t),
 *   same:      keys = those earlier occurrences s
 *   induction: keys = the positions right after them, s + 1 (<= t, distinct)
 * Both lists are empty when no id occurs twice.
 */
export function repeatRows(ids: readonly number[]): { same: RowKeys[]; induction: RowKeys[] } {
  const same: RowKeys[] = [];
  const induction: RowKeys[] = [];
  const seen = new Map<number, number[]>();
  ids.forEach((id, t) => {
    const earlier = seen.get(id);
    if (earlier) {
      same.push({ query: t, keys: [...earlier] });
      induction.push({ query: t, keys: earlier.map((s) => s + 1) });
      earlier.push(t);
    } else seen.set(id, [t]);
  });
  return { same, induction };
}

/** [L, H, T, T] -> [L*H] patterns, head-major within a layer (index l*H + h). Needs T >= 2. */
export function headPatterns(attention: Float32Array, dims: readonly [number, number, number, number]): HeadPattern[] {
  const [L, H, T] = dims;
  if (T < 2) throw new RangeError('head patterns need at least two tokens');
  const patterns: HeadPattern[] = [];
  for (let m = 0; m < L * H; m++) {
    const offset = m * T * T;
    patterns.push({
      previousToken: previousTokenScore(attention, offset, T),
      firstToken: firstTokenScore(attention, offset, T),
      selfAttention: selfScore(attention, offset, T),
      entropy: meanRowEntropy(attention, offset, T),
    });
  }
  return patterns;
}

/**
 * Induction score of every head on a sequence made of n tokens repeated twice ([r0..r(n-1), r0..r(n-1)]):
 * the mean weight from the second occurrence of r_i (position n+i) to the token that followed its
 * first occurrence (position i+1), over i = 0..n-2. A perfect induction head scores 1.
 * [L, H, 2n(+offset), 2n(+offset)] -> [L*H]; `offset` counts tokens placed before the first copy.
 * (headRoles' induction on such a sequence also counts i = n-1, whose key is the second copy's start.)
 */
export function inductionScores(attention: Float32Array, dims: readonly [number, number, number, number], n: number, offset = 0): number[] {
  const [L, H, T] = dims;
  if (T !== offset + 2 * n || n < 2) throw new RangeError(`induction needs T = offset + 2n with n >= 2, got T=${T}, n=${n}, offset=${offset}`);
  const rows: RowKeys[] = Array.from({ length: n - 1 }, (_, i) => ({ query: offset + n + i, keys: [offset + i + 1] }));
  const scores: number[] = [];
  for (let m = 0; m < L * H; m++) scores.push(meanWeightOnKeys(attention, m * T * T, T, rows) as number);
  return scores;
}

/** Element-wise mean of equally long statistic lists (one list per sample). */
export function averagePatterns(samples: HeadPattern[][]): HeadPattern[] {
  if (samples.length === 0) return [];
  return samples[0].map((_, index) => {
    const mean = (key: keyof HeadPattern) => samples.reduce((sum, sample) => sum + sample[index][key], 0) / samples.length;
    return { previousToken: mean('previousToken'), firstToken: mean('firstToken'), selfAttention: mean('selfAttention'), entropy: mean('entropy') };
  });
}
