// The step view's pure helpers (no DOM): how its numbers are written, which keys get a column when
// the input is long, the worked-out arithmetic of a small head output, and the vector sums that
// check Σ heads' writes + b_O against the sublayer output.

import type { HeadExplanation } from '../src/core/explain/types';
import { t } from './l10n';

export const MINUS = '\u2212';
export const NEG_INFINITY = `${MINUS}∞`;

/**
 * A number in at most `digits` significant digits, trailing zeros dropped, a real minus sign:
 * 0.6 → "0.6", 1.6000000000000003 → "1.6", -0.123456 → "−0.1235", 12345.6 → "1.235e4",
 * 0.0000123 → "1.23e−5". −Infinity (a masked score) reads "−∞".
 */
export function formatNumber(value: number, digits = 4): string {
  if (value === -Infinity) return NEG_INFINITY;
  if (value === Infinity) return '∞';
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  let text: string;
  if (magnitude >= 1e-3 && magnitude < 10 ** digits) {
    text = trimZeros(value.toPrecision(digits));
    // toPrecision may still answer in exponent form for values that round up to 10^digits.
    if (text.includes('e')) text = exponent(value, digits);
  } else {
    text = exponent(value, digits);
  }
  return text.replace('-', MINUS);
}

function exponent(value: number, digits: number): string {
  const [mantissa, power] = value.toExponential(Math.max(0, digits - 2)).split('e');
  return `${trimZeros(mantissa)}e${Number(power)}`.replace('-', MINUS).replace('-', MINUS);
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** The exact value for tooltips, aria-labels and data-value (JavaScript's shortest round-trip form). */
export function exactNumber(value: number): string {
  if (value === -Infinity) return '-Infinity';
  return String(value);
}

/** A probability as a percentage: "61.2%", "0.84%", "<0.01%". */
export function formatProbability(p: number): string {
  const percent = p * 100;
  if (percent >= 9.95) return `${percent.toFixed(1)}%`;
  if (percent >= 0.01) return `${percent.toPrecision(2)}%`;
  return p > 0 ? '<0.01%' : '0%';
}

/** "[0.1, −2, 3.5]" for up to `limit` entries, then "… (n more)". */
export function formatVector(values: readonly number[], limit = 8, digits = 4): string {
  const shown = values.slice(0, limit).map((v) => formatNumber(v, digits));
  const more = values.length > limit ? `, … ${t('({0} more)', values.length - limit)}` : '';
  return `[${shown.join(', ')}${more}]`;
}

/** The exact entries, for the detail line and tooltips: every entry up to `limit`. */
export function exactVector(values: readonly number[], limit = 64): string {
  const shown = values.slice(0, limit).map(exactNumber);
  const more = values.length > limit ? `, … ${t('({0} more)', values.length - limit)}` : '';
  return `[${shown.join(', ')}${more}]`;
}

export function norm(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}

/** Element-wise sum of equally long vectors (plus an optional bias). */
export function sumVectors(vectors: readonly (readonly number[])[], bias?: readonly number[] | null): number[] {
  const size = vectors[0]?.length ?? bias?.length ?? 0;
  const sum = new Array<number>(size).fill(0);
  for (const vector of vectors) for (let i = 0; i < size; i++) sum[i] += vector[i];
  if (bias) for (let i = 0; i < size; i++) sum[i] += bias[i];
  return sum;
}

export function maxAbsDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Whether a recomputed sum matches the model's own: within float32 rounding of its size. */
export function sumsMatch(recomputed: readonly number[], reported: readonly number[]): boolean {
  return maxAbsDifference(recomputed, reported) <= 1e-4 * Math.max(1, norm(reported));
}

export function sumOf(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

/** Keys that get a column when an input is long. */
export const MAX_COLUMNS = 16;

/**
 * Which keys (indices into explanation.keys) get a column, in key order. All of them up to `max`;
 * beyond that the first key, the query's neighbours (two each side, masked ones included so the
 * mask shows) and then the keys with the largest weights until `max` are reached.
 */
export function selectColumns(explanation: Pick<HeadExplanation, 'keys' | 'weights' | 'query'>, max = MAX_COLUMNS): number[] {
  const count = explanation.keys.length;
  if (count <= max) return Array.from({ length: count }, (_, j) => j);
  const chosen = new Set<number>([0]);
  const queryColumn = explanation.keys.findIndex((key) => key.index === explanation.query.index);
  if (queryColumn >= 0) {
    for (const offset of [0, -1, 1, -2, 2]) {
      const j = queryColumn + offset;
      if (j >= 0 && j < count) chosen.add(j);
    }
  }
  const byWeight = Array.from({ length: count }, (_, j) => j).sort((a, b) => explanation.weights[b] - explanation.weights[a] || a - b);
  for (const j of byWeight) {
    if (chosen.size >= max) break;
    chosen.add(j);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * "0.6·1 + 0.2·2 + 0.2·3 = 1.6": the head's output written out, for a one-dimensional v and at
 * most `maxTerms` unmasked keys; null otherwise (the view shows the output as a vector then).
 */
export function outputArithmetic(
  explanation: Pick<HeadExplanation, 'weights' | 'masked' | 'v' | 'output'>,
  maxTerms = 8,
): string | null {
  const { v, output, weights, masked } = explanation;
  if (!v || !output || output.length !== 1) return null;
  const terms: string[] = [];
  for (let j = 0; j < weights.length; j++) {
    if (masked[j]) continue;
    const value = v[j]?.[0];
    if (value === undefined) return null;
    const shownValue = formatNumber(value);
    terms.push(`${formatNumber(weights[j])}·${value < 0 ? `(${shownValue})` : shownValue}`);
  }
  if (terms.length === 0 || terms.length > maxTerms) return null;
  return `${terms.join(' + ')} = ${formatNumber(output[0])}`;
}

const STEP_NAMES: Record<string, () => string> = {
  q: () => t('q (the query vector)'),
  k: () => t('k (the key vectors)'),
  v: () => t('v (the value vectors)'),
  scores: () => t('raw scores q·k'),
  bias: () => t('position bias'),
  output: () => t("the head's output Σ w·v"),
  headWrite: () => t("this head's write through W_O"),
  headWrites: () => t("the heads' writes"),
  residual: () => t('the residual stream'),
  logitLens: () => t('the logit lens'),
};

/** A human list of unavailable steps: "q (the query vector), k (the key vectors) and v (the value vectors)". */
export function describeSteps(steps: readonly string[]): string {
  const names = steps.map((step) => (Object.prototype.hasOwnProperty.call(STEP_NAMES, step) ? STEP_NAMES[step]() : step));
  if (names.length <= 1) return names.join('');
  return t('{0} and {1}', names.slice(0, -1).join(t(', ')), names[names.length - 1]);
}

/** "Heads switched off: L0 H1, L2 H3". */
export function describeAblated(heads: readonly { layer: number; head: number }[]): string {
  return t('Heads switched off: {0}', heads.map((h) => `L${h.layer} H${h.head}`).join(', '));
}
