// Output of `attention-inspector explain`: one head, one query token, step by step, as a readable
// report or as one JSON object (the fields of HeadExplanation, the model as in `run --json`).
import type { HeadExplanation } from '../core/explain/types';
import { headName } from '../core/explain/variation';
import { jsonModel, jsonTokens } from './format';

export function toExplainJson(explanation: HeadExplanation): object {
  const { model: _model, tokens, ...steps } = explanation;
  return { model: jsonModel(explanation.model, explanation.causal), tokens: jsonTokens(tokens), ...steps };
}

const number = (value: number) => (Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, ''));
/** Up to 8 values in the text report; --json has them all. */
const vector = (values: readonly number[]) => `[${values.slice(0, 8).map(number).join(', ')}${values.length > 8 ? `, … (${values.length} values)` : ''}]`;

export function toExplainText(e: HeadExplanation): string {
  const lines: string[] = [];
  const kind = e.causal ? 'causal' : 'bidirectional';
  lines.push(`Model  ${e.model.name} (${e.model.backend}), layer ${e.layer} head ${e.head}, ${kind}${e.positions ? '' : ', positions off'}${e.ablated.length ? `, ${e.ablated.map(headName).join(', ')} off` : ''}`);
  lines.push(`Query  #${e.query.index} ${JSON.stringify(e.query.text)}   d_k = ${e.dK}, scale = ${number(e.scale)} (1/√d_k = 1/${number(Math.sqrt(e.dK))})`);
  if (e.q) lines.push(`q      ${vector(e.q)}`);
  lines.push('key        ' + ['score q·k', '× scale', e.bias ? '+ bias' : '', 'softmax in', 'weight', 'v'].filter(Boolean).join('  |  '));
  e.keys.forEach((key, j) => {
    const cells = [
      e.scores ? number(e.scores[j]) : '—',
      e.scores ? number(e.scores[j] * e.scale) : '—',
      ...(e.bias ? [number(e.bias[j])] : []),
      e.masked[j] ? '−∞ (masked)' : number(e.scaled[j] as number),
      number(e.weights[j]),
      e.v ? vector(e.v[j]) : '—',
    ];
    lines.push(`  #${j} ${JSON.stringify(key.text)}  ${cells.join('  |  ')}`);
  });
  lines.push(`Σ weights = ${number(e.weights.reduce((a, b) => a + b, 0))}`);
  if (e.output && e.v) {
    const terms = e.output.length === 1 && e.keys.length <= 8 ? e.weights.map((w, j) => `${number(w)}·${number(e.v![j][0])}`).filter((_, j) => !e.masked[j]).join(' + ') + ' = ' : '';
    lines.push(`output Σ w·v = ${terms}${vector(e.output)}`);
  }
  if (e.headWrites && e.attentionBias && e.attentionOutput) {
    const norm = (values: readonly number[]) => Math.sqrt(values.reduce((a, b) => a + b * b, 0));
    lines.push(`W_O mixes the concatenated heads: |write| per head ${e.headWrites.map((w, h) => `H${h} ${number(norm(w))}`).join(', ')}; |b_O| ${number(norm(e.attentionBias))}; |sublayer output| ${number(norm(e.attentionOutput))}`);
  }
  if (e.residual) {
    lines.push('residual |x|: layer  before  +attention  after-attention  +mlp  after');
    for (const r of e.residual) lines.push(`  L${r.layer}  ${[r.before, r.attention, r.afterAttention, r.mlp, r.after].map(number).join('  ')}`);
  }
  if (e.logitLens) {
    for (const { layer, top } of e.logitLens) lines.push(`lens L${layer}: ${top.map((p) => `${JSON.stringify(p.token)} ${(p.probability * 100).toFixed(1)}%`).join(', ')}`);
  }
  if (e.unavailable.length > 0) lines.push(`Not shown for this model: ${e.unavailable.join(', ')}${e.unavailableReason ? ` (${e.unavailableReason})` : ''}`);
  return lines.join('\n');
}
