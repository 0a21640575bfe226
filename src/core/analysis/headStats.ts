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

/** [L, H, T, T] -> [L*H] patterns, head-major within a layer (index l*H + h). Needs T >= 2. */
export function headPatterns(attention: Float32Array, dims: readonly [number, number, number, number]): HeadPattern[] {
  const [L, H, T] = dims;
  if (T < 2) throw new RangeError('head patterns need at least two tokens');
  const patterns: HeadPattern[] = [];
  for (let m = 0; m < L * H; m++) {
    let previous = 0, first = 0, self = 0, entropy = 0;
    for (let t = 1; t < T; t++) {
      const row = (m * T + t) * T;
      previous += attention[row + t - 1];
      first += attention[row];
      self += attention[row + t];
      for (let s = 0; s < T; s++) {
        const p = attention[row + s];
        if (p > 0) entropy -= p * Math.log(p);
      }
    }
    const rows = T - 1;
    patterns.push({ previousToken: previous / rows, firstToken: first / rows, selfAttention: self / rows, entropy: entropy / rows });
  }
  return patterns;
}

/**
 * Induction score of every head on a sequence made of n tokens repeated twice ([r0..r(n-1), r0..r(n-1)]):
 * the mean weight from the second occurrence of r_i (position n+i) to the token that followed its
 * first occurrence (position i+1), over i = 0..n-2. A perfect induction head scores 1.
 * [L, H, 2n(+offset), 2n(+offset)] -> [L*H]; `offset` counts tokens placed before the first copy.
 */
export function inductionScores(attention: Float32Array, dims: readonly [number, number, number, number], n: number, offset = 0): number[] {
  const [L, H, T] = dims;
  if (T !== offset + 2 * n || n < 2) throw new RangeError(`induction needs T = offset + 2n with n >= 2, got T=${T}, n=${n}, offset=${offset}`);
  const scores: number[] = [];
  for (let m = 0; m < L * H; m++) {
    let total = 0;
    for (let i = 0; i < n - 1; i++) total += attention[(m * T + offset + n + i) * T + offset + i + 1];
    scores.push(total / (n - 1));
  }
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
