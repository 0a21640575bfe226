// HeadExplanation fixtures for the step view's browser test: the worked example (我 爱 你, one
// dimension, a position bias that makes the weights 0.6 / 0.2 / 0.2) and a GPT-2-like head (3
// heads, d_model 6, causal, 40 tokens) whose numbers are computed here the way the model would.

import type { HeadExplanation } from '../../src/core/explain/types';
import type { TokenSpan } from '../../src/core/types';

function spans(texts: string[]): TokenSpan[] {
  let start = 0;
  return texts.map((text, id) => {
    const span = { id, text, start, end: start + text.length };
    start += text.length;
    return span;
  });
}

export function workedExample(): HeadExplanation {
  const tokens = spans(['我', '爱', '你']);
  return {
    model: { name: 'worked-example', kind: 'decoder', layers: 1, heads: 1, dModel: 1, vocabSize: 3, maxPositions: 3, backend: 'builtin' },
    tokens,
    group: 0,
    layer: 0,
    head: 0,
    query: { index: 0, text: '我' },
    dK: 1,
    scale: 1,
    causal: false,
    keys: tokens.map((t, index) => ({ index, text: t.text })),
    q: [0],
    k: [[0], [0], [0]],
    v: [[1], [2], [3]],
    scores: [0, 0, 0],
    bias: [Math.log(3), 0, 0],
    scaled: [Math.log(3), 0, 0],
    masked: [false, false, false],
    weights: [0.6, 0.2, 0.2],
    output: [1.6],
    headWrite: null,
    headWrites: null,
    attentionBias: null,
    attentionOutput: null,
    residual: null,
    logitLens: null,
    unavailable: ['headWrites', 'residual', 'logitLens'],
    unavailableReason: 'the worked example is one head on its own, with no W_O and no model around it',
    positions: true,
    ablated: [],
  };
}

/** Deterministic numbers in [-1, 1). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
}

export const GPT2_QUERY = 20;

export function gpt2Like(): HeadExplanation {
  const random = seeded(4242);
  const words = ['The', ' cat', ' sat', ' on', ' the', ' mat', ',', ' and', ' 我', '爱', '你', ' then', ' it', ' slept', '.', '\n'];
  const texts = Array.from({ length: 40 }, (_, i) => words[(i * 7 + 3) % words.length]);
  const tokens = spans(texts);
  const T = tokens.length;
  const heads = 3;
  const dModel = 6;
  const dK = dModel / heads;
  const scale = 1 / Math.sqrt(dK);
  const vector = (n: number, size = 1) => Array.from({ length: n }, () => random() * size);
  const q = vector(dK, 3);
  const k = Array.from({ length: T }, () => vector(dK, 2));
  const v = Array.from({ length: T }, () => vector(dK));
  const masked = Array.from({ length: T }, (_, j) => j > GPT2_QUERY);
  const scores = k.map((kj) => kj.reduce((sum, x, i) => sum + x * q[i], 0));
  const scaled = scores.map((s, j) => (masked[j] ? null : s * scale));
  const top = Math.max(...scaled.filter((s): s is number => s !== null));
  const exps = scaled.map((s) => (s === null ? 0 : Math.exp(s - top)));
  const total = exps.reduce((a, b) => a + b, 0);
  const weights = exps.map((e) => e / total);
  const output = Array.from({ length: dK }, (_, i) => weights.reduce((sum, w, j) => sum + w * v[j][i], 0));
  const headWrites = Array.from({ length: heads }, () => vector(dModel, 2));
  const attentionBias = vector(dModel, 0.2);
  const attentionOutput = headWrites[0].map((_, i) => headWrites.reduce((sum, w) => sum + w[i], 0) + attentionBias[i] + 1e-8);
  return {
    model: { name: 'gpt2-tiny', kind: 'decoder', layers: 2, heads, dModel, vocabSize: 50257, maxPositions: 1024, backend: 'builtin' },
    tokens,
    group: 0,
    layer: 1,
    head: 1,
    query: { index: GPT2_QUERY, text: texts[GPT2_QUERY] },
    dK,
    scale,
    causal: true,
    keys: tokens.map((t, index) => ({ index, text: t.text })),
    q,
    k,
    v,
    scores,
    bias: null,
    scaled,
    masked,
    weights,
    output,
    headWrite: headWrites[1],
    headWrites,
    attentionBias,
    attentionOutput,
    residual: [
      { layer: 0, before: 3.1, attention: 1.25, afterAttention: 3.4, mlp: 2.2, after: 4.05 },
      { layer: 1, before: 4.05, attention: 0.8, afterAttention: 4.2, mlp: 5.5, after: 7.9 },
    ],
    logitLens: [
      { layer: 0, top: [{ token: ' the', probability: 0.12 }, { token: '爱', probability: 0.051 }, { token: ',', probability: 0.004 }] },
      { layer: 1, top: [{ token: ' mat', probability: 0.61 }, { token: ' cat', probability: 0.2 }, { token: '\n', probability: 0.00005 }] },
    ],
    unavailable: [],
    positions: true,
    ablated: [{ layer: 0, head: 2 }],
  };
}
