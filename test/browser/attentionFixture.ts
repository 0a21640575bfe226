// A deterministic attention tensor and session for the browser tests, built here (not by the code
// under test) so every expectation — which tokens a head attends to, what the mean is — is known.

import { seededRandom } from '../../src/core/random';
import type { TokenSpan } from '../../src/core/types';

export { seededRandom };
import type { SessionInfo, WeightedToken } from '../../src/shared/protocol';

/** GPT-2-like pre-tokens: words carry their leading space; newlines and tabs are tokens of their own. */
export function tokenize(text: string): TokenSpan[] {
  const tokens: TokenSpan[] = [];
  const pattern = / ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\n|\t| +/g;
  for (const match of text.matchAll(pattern)) {
    const start = match.index ?? 0;
    tokens.push({ id: 100 + tokens.length, text: match[0], start, end: start + match[0].length });
  }
  return tokens;
}

export interface Fixture {
  session: SessionInfo;
  /** [L, H, T, T] */
  attention: Float32Array;
}

export interface FixtureOptions {
  sessionId: number;
  text: string;
  layers: number;
  heads: number;
  causal: boolean;
  seed: number;
}

/**
 * Softmax rows with a different structure per head, so heads look different:
 *   h % 4 == 0: previous token, 1: first token (a sink), 2: itself, 3: broad and noisy.
 * [L, H, T, T]; when causal, keys after the query are exactly 0.
 */
export function buildFixture(options: FixtureOptions): Fixture {
  const tokens = tokenize(options.text);
  const T = tokens.length;
  const { layers: L, heads: H, causal } = options;
  const random = seededRandom(options.seed);
  const attention = new Float32Array(L * H * T * T);
  const logits = new Float64Array(T);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const pattern = (h + l) % 4;
      for (let t = 0; t < T; t++) {
        const last = causal ? t : T - 1;
        let max = -Infinity;
        for (let s = 0; s <= last; s++) {
          const noise = (random() + random() + random() - 1.5) * (pattern === 3 ? 2.4 : 1.2);
          const bias = pattern === 0 ? (s === t - 1 ? 4 : 0) : pattern === 1 ? (s === 0 ? 3.5 : 0) : pattern === 2 ? (s === t ? 4 : 0) : 0;
          logits[s] = noise + bias + 0.35 * h * Math.sin(s + l);
          max = Math.max(max, logits[s]);
        }
        let sum = 0;
        for (let s = 0; s <= last; s++) sum += Math.exp(logits[s] - max);
        const row = ((l * H + h) * T + t) * T;
        for (let s = 0; s <= last; s++) attention[row + s] = Math.exp(logits[s] - max) / sum;
      }
    }
  }
  const session: SessionInfo = {
    sessionId: options.sessionId,
    model: { name: 'tiny-gpt2', kind: causal ? 'decoder' : 'encoder', layers: L, heads: H, dModel: 64, vocabSize: 512, maxPositions: 1024, backend: 'builtin' },
    text: options.text,
    tokens,
    dims: [L, H, T, T],
    causal,
    colorScale: 'sqrt',
    source: 'sample/prose.md:3:1–5:20',
    notes: [`Inspected the first ${T} of ${T + 6} tokens (attentionInspector.maxTokens is ${T}).`],
    predictions: [
      { token: ' the', probability: 0.234 },
      { token: '\n', probability: 0.121 },
      { token: ' a', probability: 0.087 },
    ],
    elapsedMs: 42.4,
  };
  return { session, attention };
}

/** [T, T] of one head, or the mean of the layer's heads for head -1 (float32, like the host). */
export function headMatrix(fixture: Fixture, layer: number, head: number): Float32Array {
  const [, H, T] = fixture.session.dims;
  if (head >= 0) return fixture.attention.slice((layer * H + head) * T * T, (layer * H + head + 1) * T * T);
  const mean = new Float32Array(T * T);
  for (let i = 0; i < T * T; i++) {
    let sum = 0;
    for (let h = 0; h < H; h++) sum += fixture.attention[(layer * H + h) * T * T + i];
    mean[i] = sum / H;
  }
  return mean;
}

/** [H, T]: the rows of query `token` in every head of `layer`. */
export function tokenRowsOf(fixture: Fixture, layer: number, token: number): Float32Array {
  const [, H, T] = fixture.session.dims;
  const rows = new Float32Array(H * T);
  for (let h = 0; h < H; h++) rows.set(fixture.attention.subarray(((layer * H + h) * T + token) * T, ((layer * H + h) * T + token + 1) * T), h * T);
  return rows;
}

/** The k heaviest positive weights of a row, heaviest first (ties: earlier token first). */
export function expectedTopK(row: Float32Array, k: number): WeightedToken[] {
  return Array.from(row, (weight, token) => ({ token, weight }))
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.token - b.token)
    .slice(0, k);
}
