// Output of `attention-inspector explain`: one head, one query token, step by step, as a readable
// report or as one JSON object (the fields of HeadExplanation, the model as in `run --json`).
import type { HeadExplanation } from '../core/explain/types';
import { headName } from '../core/explain/variation';
import type { RunComparison } from '../core/explain/compare';
import { describeVariation } from '../core/explain/variation';
import { float32ToBase64, jsonModel, jsonTokens } from './format';

/**
 * A float32 value as the shortest decimal that is the same float32 (0.6000000238418579 -> 0.6): the
 * number is unchanged for anyone who reads it back into a Float32Array, and the JSON reads like the
 * arithmetic it shows.
 */
export function float32Decimal(value: number): number {
  if (!Number.isFinite(value)) return value;
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

const float32Vector = (values: readonly number[] | null) => (values === null ? null : values.map(float32Decimal));
const float32Rows = (rows: readonly number[][] | null) => (rows === null ? null : rows.map((row) => row.map(float32Decimal)));

export function toExplainJson(explanation: HeadExplanation): object {
  const { model: _model, tokens, ...steps } = explanation;
  // Values the model holds as float32 are printed as their shortest float32 decimals; sums computed
  // in float64 here (scores, scaled, residual norms) keep their digits.
  return {
    model: jsonModel(explanation.model, explanation.causal),
    tokens: jsonTokens(tokens),
    ...steps,
    q: float32Vector(steps.q),
    k: float32Rows(steps.k),
    v: float32Rows(steps.v),
    bias: float32Vector(steps.bias),
    weights: float32Vector(steps.weights),
    output: float32Vector(steps.output),
    headWrite: float32Vector(steps.headWrite),
    headWrites: float32Rows(steps.headWrites),
    attentionBias: float32Vector(steps.attentionBias),
    attentionOutput: float32Vector(steps.attentionOutput),
  };
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

/** `compare --json`: both maps as base64 float32 [T, T] in the base run's token order. */
export function toComparisonJson(c: RunComparison): object {
  const T = c.tokens.length;
  return {
    layer: c.layer,
    head: c.head,
    variation: c.variation,
    baseVariation: c.baseVariation,
    tokens: jsonTokens(c.tokens),
    variedTokens: jsonTokens(c.variedTokens),
    variedIndex: c.variedIndex,
    dims: [T, T],
    dtype: 'float32',
    base: float32ToBase64(c.base),
    varied: float32ToBase64(c.varied),
    maxDifference: c.maxDifference,
    ...(c.permutation ? { permutation: c.permutation } : {}),
    basePredictions: c.basePredictions,
    variedPredictions: c.variedPredictions,
  };
}

export function toComparisonText(c: RunComparison): string {
  const T = c.tokens.length;
  const last = T - 1;
  const lines: string[] = [];
  const base = describeVariation(c.baseVariation) || 'plain run';
  lines.push(`Layer ${c.layer} head ${c.head}: ${base} vs ${describeVariation(c.variation)}`);
  lines.push(`Last token ${JSON.stringify(c.tokens[last].text)}: weights over the tokens (base → varied, in the base run's order)`);
  c.tokens.forEach((token, s) => lines.push(`  #${s} ${JSON.stringify(token.text)}  ${number(c.base[last * T + s])} → ${number(c.varied[last * T + s])}`));
  lines.push(`Largest difference over the whole map: ${number(c.maxDifference)}`);
  if (c.permutation) {
    const { deviation, expected, scope } = c.permutation;
    const where = scope === 'last-row' ? "the last token's row" : 'every row';
    lines.push(
      expected
        ? `Without positions the model cannot tell the order: ${where} is a permutation of the base run's (largest deviation ${deviation.toExponential(1)}).`
        : `Permutation check on ${where}: largest deviation ${number(deviation)}${c.variation.positions === false ? '' : ' — with positions on, order matters'}.`,
    );
  }
  const predictions = (list: RunComparison['basePredictions']) => list.map((p) => `${JSON.stringify(p.token)} ${(p.probability * 100).toFixed(1)}%`).join(', ');
  lines.push(`Next token, base:   ${predictions(c.basePredictions)}`);
  lines.push(`Next token, varied: ${predictions(c.variedPredictions)}`);
  return lines.join('\n');
}
