// Deterministic attention tensors and sessions for the browser tests, built here (not by the code
// under test) so every expectation — which tokens a head attends to, what the mean is — is known.
// Decoder- and encoder-only runs have one 'self' group; encoder–decoder runs three (encoder self
// over the source, decoder masked self over the target, cross with target rows and source columns).

import { seededRandom } from '../../src/core/random';
import type { TokenSpan } from '../../src/core/types';

export { seededRandom };
import type { GroupInfo, HeadAttentionMessage, SessionInfo, WeightedToken } from '../../src/shared/protocol';

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
  /** One tensor per session.groups entry, [L, H, Tq, Tk] each. */
  attention: Float32Array[];
}

export interface FixtureOptions {
  sessionId: number;
  text: string;
  layers: number;
  heads: number;
  causal: boolean;
  seed: number;
  /** Grouped-query attention: this many K/V heads. */
  kvHeads?: number;
}

/**
 * Softmax rows with a different structure per head, so heads look different:
 *   (h + l) % 4 == 0: previous token, 1: first token (a sink), 2: same position, 3: broad and noisy.
 * [L, H, Tq, Tk]; when causal (Tq = Tk), keys after the query are exactly 0.
 */
export function makeAttention(L: number, H: number, Tq: number, Tk: number, causal: boolean, random: () => number): Float32Array {
  const attention = new Float32Array(L * H * Tq * Tk);
  const logits = new Float64Array(Tk);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const pattern = (h + l) % 4;
      for (let t = 0; t < Tq; t++) {
        const last = causal ? t : Tk - 1;
        let max = -Infinity;
        for (let s = 0; s <= last; s++) {
          const noise = (random() + random() + random() - 1.5) * (pattern === 3 ? 2.4 : 1.2);
          const bias = pattern === 0 ? (s === t - 1 ? 4 : 0) : pattern === 1 ? (s === 0 ? 3.5 : 0) : pattern === 2 ? (s === t ? 4 : 0) : 0;
          logits[s] = noise + bias + 0.35 * h * Math.sin(s + l);
          max = Math.max(max, logits[s]);
        }
        let sum = 0;
        for (let s = 0; s <= last; s++) sum += Math.exp(logits[s] - max);
        const row = ((l * H + h) * Tq + t) * Tk;
        for (let s = 0; s <= last; s++) attention[row + s] = Math.exp(logits[s] - max) / sum;
      }
    }
  }
  return attention;
}

const PREDICTIONS = [
  { token: ' the', probability: 0.234 },
  { token: '\n', probability: 0.121 },
  { token: ' a', probability: 0.087 },
];

/** A decoder-only (causal) or encoder-only run: one self-attention group over the text. */
export function buildFixture(options: FixtureOptions): Fixture {
  const tokens = tokenize(options.text);
  const T = tokens.length;
  const { layers: L, heads: H, causal } = options;
  const attention = makeAttention(L, H, T, T, causal, seededRandom(options.seed));
  const dims: [number, number, number, number] = [L, H, T, T];
  const group: GroupInfo = {
    name: 'self',
    label: causal ? 'Masked self-attention' : 'Self-attention',
    kind: causal ? 'masked-self' : 'self',
    queries: 'source',
    keys: 'source',
    dims,
    causal,
    ...(options.kvHeads !== undefined ? { kvHeads: options.kvHeads } : {}),
  };
  const session: SessionInfo = {
    sessionId: options.sessionId,
    model: { name: 'tiny-gpt2', kind: causal ? 'decoder' : 'encoder', layers: L, heads: H, dModel: 64, vocabSize: 512, maxPositions: 1024, backend: 'builtin' },
    text: options.text,
    tokens,
    dims,
    causal,
    groups: [group],
    colorScale: 'sqrt',
    source: 'sample/prose.md:3:1–5:20',
    notes: [`Inspected the first ${T} of ${T + 6} tokens (attentionInspector.maxTokens is ${T}).`],
    predictions: PREDICTIONS,
    elapsedMs: 42.4,
  };
  return { session, attention: [attention] };
}

export interface EncoderDecoderOptions {
  sessionId: number;
  source: string;
  target: string;
  /** True: the target is the model's greedy output; false: the user typed it. */
  generated: boolean;
  layers: number;
  /** Layers of the decoder (decoder self and cross groups) when it differs from the encoder's. */
  decoderLayers?: number;
  heads: number;
  seed: number;
  kvHeads?: number;
}

/** The decoder start token's label, shown like any token the tokenizer inserted. */
export const DECODER_START = '<pad>';

/** An encoder–decoder run: encoder self [S, S], decoder masked self [T, T], cross [T, S] (T counts the start token). */
export function buildEncoderDecoderFixture(options: EncoderDecoderOptions): Fixture {
  const sourceTokens = tokenize(options.source);
  const targetTokens: TokenSpan[] = [{ id: 0, text: '', start: 0, end: 0, label: DECODER_START }, ...tokenize(options.target).map((token, i) => ({ ...token, id: 300 + i }))];
  const S = sourceTokens.length;
  const T = targetTokens.length;
  const { layers: L, heads: H } = options;
  const D = options.decoderLayers ?? L;
  const random = seededRandom(options.seed);
  const kv = options.kvHeads !== undefined ? { kvHeads: options.kvHeads } : {};
  const groups: GroupInfo[] = [
    { name: 'encoder', label: 'Encoder self-attention', kind: 'self', queries: 'source', keys: 'source', dims: [L, H, S, S], causal: false, ...kv },
    { name: 'decoder', label: 'Decoder masked self-attention', kind: 'masked-self', queries: 'target', keys: 'target', dims: [D, H, T, T], causal: true, ...kv },
    { name: 'cross', label: 'Cross-attention', kind: 'cross', queries: 'target', keys: 'source', dims: [D, H, T, S], causal: false, ...kv },
  ];
  const attention = groups.map((group) => makeAttention(group.dims[0], H, group.dims[2], group.dims[3], group.causal, random));
  const session: SessionInfo = {
    sessionId: options.sessionId,
    model: { name: 'tiny-t5', kind: 'encoder-decoder', layers: L, heads: H, dModel: 64, vocabSize: 512, maxPositions: 512, backend: 'onnx', attentionSource: 'graph surgery' },
    text: options.source,
    tokens: sourceTokens,
    dims: groups[0].dims,
    causal: false,
    groups,
    target: { text: options.target, tokens: targetTokens, generated: options.generated },
    colorScale: 'sqrt',
    source: 'sample/translate.md:1:1–1:30',
    notes: [],
    predictions: PREDICTIONS,
    elapsedMs: 61.2,
  };
  return { session, attention };
}

/** [Tq, Tk] of one head of a group, or the mean of the layer's heads for head -1 (float32, like the host). */
export function headMatrix(fixture: Fixture, layer: number, head: number, group = 0): Float32Array {
  const [, H, Tq, Tk] = fixture.session.groups[group].dims;
  const attention = fixture.attention[group];
  const size = Tq * Tk;
  if (head >= 0) return attention.slice((layer * H + head) * size, (layer * H + head + 1) * size);
  const mean = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let sum = 0;
    for (let h = 0; h < H; h++) sum += attention[(layer * H + h) * size + i];
    mean[i] = sum / H;
  }
  return mean;
}

/** [H, Tk]: the rows of query `token` in every head of `layer` of a group. */
export function tokenRowsOf(fixture: Fixture, layer: number, token: number, group = 0): Float32Array {
  const [, H, Tq, Tk] = fixture.session.groups[group].dims;
  const attention = fixture.attention[group];
  const rows = new Float32Array(H * Tk);
  for (let h = 0; h < H; h++) rows.set(attention.subarray(((layer * H + h) * Tq + token) * Tk, ((layer * H + h) * Tq + token + 1) * Tk), h * Tk);
  return rows;
}

/** The k heaviest positive weights of a row, heaviest first (ties: earlier token first). */
export function expectedTopK(row: Float32Array, k: number): WeightedToken[] {
  return Array.from(row, (weight, token) => ({ token, weight }))
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.token - b.token)
    .slice(0, k);
}

/** Replaces one head of group 0 with a one-hot pattern: query t puts all its weight on key(t). */
export function plantHead(fixture: Fixture, layer: number, head: number, key: (t: number) => number): void {
  const [, H, T] = fixture.session.dims;
  const attention = fixture.attention[0];
  const base = (layer * H + head) * T * T;
  attention.fill(0, base, base + T * T);
  for (let t = 0; t < T; t++) attention[base + t * T + key(t)] = 1;
}

/** A headAttention reply carrying a whole [Tq, Tk] map of exact float32 weights, as the host answers a plain requestHead. */
export function wholeHeadReply(sessionId: number, group: number, layer: number, head: number, data: Float32Array, Tq: number, Tk: number): HeadAttentionMessage {
  return { type: 'headAttention', sessionId, group, layer, head, window: { row0: 0, row1: Tq, col0: 0, col1: Tk }, rows: Tq, cols: Tk, rowStep: 1, colStep: 1, encoding: 'float32', data: data.buffer as ArrayBuffer };
}
