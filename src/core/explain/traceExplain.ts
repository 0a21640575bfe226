// Turns the built-in model's trace of one head (gpt2/model.ts, Gpt2Trace) into the explanation the
// step view and `attention-inspector explain` show. Every number comes from the traced pass; the
// only new arithmetic is q·k_j (the pass multiplies a pre-scaled q) and the softmax input row.
import type { Gpt2Trace } from '../gpt2/model';
import { topPredictions } from '../predictions';
import type { AttentionResult } from '../types';
import type { HeadExplanation } from './types';

/** Rows of a flat [rows, width] buffer as plain arrays (for JSON and postMessage). */
function rowsOf(flat: Float32Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)));
}

export function explainFromTrace(result: AttentionResult, trace: Gpt2Trace, tokenText: (id: number) => string, lensTop = 5): HeadExplanation {
  const { model, tokens, causal } = result;
  const T = tokens.length;
  const H = model.heads;
  const D = model.dModel;
  const dK = D / H;
  const scores: number[] = [];
  const scaled: (number | null)[] = [];
  const masked: boolean[] = [];
  for (let j = 0; j < T; j++) {
    let dot = 0;
    for (let c = 0; c < dK; c++) dot += trace.q[c] * trace.k[j * dK + c];
    scores.push(dot);
    const isMasked = causal && j > trace.query;
    masked.push(isMasked);
    scaled.push(isMasked ? null : dot * trace.scale + (trace.bias ? trace.bias[j] : 0));
  }
  const label = (index: number) => tokens[index].label ?? tokens[index].text;
  return {
    model,
    tokens,
    group: 0,
    layer: trace.layer,
    head: trace.head,
    query: { index: trace.query, text: label(trace.query) },
    dK,
    scale: trace.scale,
    causal,
    keys: tokens.map((_, index) => ({ index, text: label(index) })),
    q: Array.from(trace.q),
    k: rowsOf(trace.k, T, dK),
    v: rowsOf(trace.v, T, dK),
    scores,
    bias: trace.bias ? Array.from(trace.bias) : null,
    scaled,
    masked,
    weights: Array.from(trace.weights),
    output: Array.from(trace.headOutputs.subarray(trace.head * dK, (trace.head + 1) * dK)),
    headWrite: Array.from(trace.headWrites.subarray(trace.head * D, (trace.head + 1) * D)),
    headWrites: rowsOf(trace.headWrites, H, D),
    attentionBias: Array.from(trace.attentionBias),
    attentionOutput: Array.from(trace.attentionOutput),
    residual: trace.residual,
    logitLens: trace.lensLogits.map((logits, layer) => ({
      layer,
      top: topPredictions(logits, lensTop, tokenText).map(({ token, probability }) => ({ token, probability })),
    })),
    unavailable: [],
    positions: true,
    ablated: [],
  };
}
