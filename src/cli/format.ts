// Output of `attention-inspector run`: a readable report, or one JSON object for scripts.
import * as os from 'os';
import { topAttended } from '../core/attentionViews';
import type { HeadStatsReport } from '../core/analysis/modelHeadStats';
import type { AttentionResult } from '../core/types';

export interface JsonReport {
  model: { name: string; layers: number; heads: number; causal: boolean; kind: string; backend: string; dModel: number; vocabSize: number };
  tokens: { id: number; text: string; start: number; end: number; label?: string }[];
  attention: { dims: [number, number, number, number]; dtype: 'float32'; data: string };
  truncatedFrom?: number;
  predictions?: { id: number; token: string; probability: number }[];
  elapsedMs: number;
}

/** The attention tensor as base64 of little-endian float32, whatever this machine's byte order. */
export function float32ToBase64(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (os.endianness() === 'LE') return bytes.toString('base64');
  const swapped = Buffer.from(bytes);
  swapped.swap32();
  return swapped.toString('base64');
}

/** Inverse of float32ToBase64, for tests and consumers of --json. */
export function base64ToFloat32(data: string): Float32Array {
  const bytes = Buffer.from(data, 'base64');
  if (os.endianness() !== 'LE') bytes.swap32();
  const values = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

export function toJsonReport(result: AttentionResult): JsonReport {
  const { model } = result;
  return {
    model: { name: model.name, layers: result.dims[0], heads: result.dims[1], causal: result.causal, kind: model.kind, backend: model.backend, dModel: model.dModel, vocabSize: model.vocabSize },
    tokens: result.tokens.map(({ id, text, start, end, label }) => ({ id, text, start, end, ...(label !== undefined ? { label } : {}) })),
    attention: { dims: result.dims, dtype: 'float32', data: float32ToBase64(result.attention) },
    ...(result.truncatedFrom !== undefined ? { truncatedFrom: result.truncatedFrom } : {}),
    ...(result.predictions ? { predictions: result.predictions } : {}),
    elapsedMs: Math.round(result.elapsedMs * 10) / 10,
  };
}

/** Tokens with offsets, the model's shape, and per head what the last token attends to most. */
export function toTextReport(result: AttentionResult, topK = 3): string {
  const [L, H, T] = result.dims;
  const { model } = result;
  const lines: string[] = [];
  lines.push(`Model  ${model.name} (${model.backend}): ${L} layers × ${H} heads, d_model ${model.dModel}, ${result.causal ? 'causal' : 'bidirectional'}`);
  lines.push(`Tokens ${T}${result.truncatedFrom !== undefined ? ` (first ${T} of ${result.truncatedFrom})` : ''}, ${result.elapsedMs.toFixed(0)} ms`);
  const idWidth = String(T - 1).length;
  result.tokens.forEach((token, t) => {
    lines.push(`  ${String(t).padStart(idWidth)}  [${token.start}, ${token.end})  ${token.label ?? JSON.stringify(token.text)}  id ${token.id}`);
  });
  const last = T - 1;
  lines.push(`Last token ${JSON.stringify(result.tokens[last].text)} attends to (top ${topK} per head):`);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const offset = ((l * H + h) * T + last) * T;
      const top = topAttended(result.attention.subarray(offset, offset + T), topK);
      const described = top.map(({ token, weight }) => `${JSON.stringify(result.tokens[token].text)}#${token} ${weight.toFixed(3)}`).join(', ');
      lines.push(`  L${l} H${h}  ${described}`);
    }
  }
  if (result.predictions && result.predictions.length > 0) {
    lines.push(`Next token: ${result.predictions.map((p) => `${JSON.stringify(p.token)} ${(p.probability * 100).toFixed(1)}%`).join(', ')}`);
  }
  return lines.join('\n');
}

/** A Markdown table of head statistics, best previous-token and induction heads named below it. */
export function formatHeadStats(report: HeadStatsReport): string {
  const lines = [
    `Head statistics over ${report.samples} held-out windows of ${report.tokensPerSample} tokens; induction over ${report.inductionSequences} sequences of ${report.inductionLength} random tokens repeated twice.`,
    '',
    '| layer | head | previous token | first token | self | entropy (nats) | induction |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.heads.map((h) => `| ${h.layer} | ${h.head} | ${h.previousToken.toFixed(3)} | ${h.firstToken.toFixed(3)} | ${h.selfAttention.toFixed(3)} | ${h.entropy.toFixed(2)} | ${h.induction.toFixed(3)} |`),
  ];
  const best = (key: 'previousToken' | 'induction') => report.heads.reduce((a, b) => (b[key] > a[key] ? b : a));
  const previous = best('previousToken');
  const induction = best('induction');
  lines.push('', `Best previous-token head: L${previous.layer} H${previous.head} (${previous.previousToken.toFixed(3)}). Best induction head: L${induction.layer} H${induction.head} (${induction.induction.toFixed(3)}).`);
  return lines.join('\n');
}
