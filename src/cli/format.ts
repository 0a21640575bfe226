// Output of `attention-inspector run`: a readable report, or one JSON object for scripts.
import * as os from 'os';
import { topAttended } from '../core/attentionViews';
import type { HeadStatsReport } from '../core/analysis/modelHeadStats';
import { describeSources } from '../core/attentionGroups';
import { isMergeMode } from '../core/merge';
import type { AttentionGroup, AttentionResult, ModelInfo, TokenSpan } from '../core/types';

/** A token; with --merge a unit, which adds the indices (`tokens`) and vocabulary ids (`ids`) of the tokens it merges (its `id` is -1 when it has several). */
type JsonToken = { id: number; text: string; start: number; end: number; label?: string; tokens?: number[]; ids?: number[] };

export interface JsonGroup {
  name: AttentionGroup['name'];
  label: string;
  kind: AttentionGroup['kind'];
  /** Which tokens the rows (queries) and columns (keys/values) are: "source" = tokens, "target" = target.tokens. */
  queries: AttentionGroup['queries'];
  keys: AttentionGroup['keys'];
  causal: boolean;
  kvHeads?: number;
  /** [L, H, Tq, Tk] */
  dims: [number, number, number, number];
  dtype: 'float32';
  /** base64 float32; absent when the tensor is the report's `attention` (then dataIn says so: it is carried once). */
  data?: string;
  dataIn?: 'attention';
}

export interface JsonReport {
  model: { name: string; layers: number; heads: number; causal: boolean; kind: string; backend: string; kernels?: string; dModel: number; vocabSize: number };
  tokens: JsonToken[];
  /** Set by --merge: `tokens` (and target.tokens) are characters or words, and the attention is merged to match. */
  merge?: 'chars' | 'words';
  /** The first group's attention (for encoder–decoder models: encoder self-attention). */
  attention: { dims: [number, number, number, number]; dtype: 'float32'; data: string };
  /** Every attention group: one for decoder- and encoder-only models, three for encoder–decoder ones. */
  groups: JsonGroup[];
  /** Encoder–decoder models: the decoder input (start token first); generated = the model's greedy output. */
  target?: { text: string; generated: boolean; tokens: JsonToken[] };
  truncatedFrom?: number;
  /** truncatedFrom is a lower bound (long inputs are tokenized only as far as needed). */
  truncatedFromAtLeast?: boolean;
  /** NaN or infinite weights or outputs, by name. */
  warnings?: string[];
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

export function jsonTokens(tokens: readonly (TokenSpan & { tokens?: number[]; ids?: number[] })[]): JsonToken[] {
  return tokens.map(({ id, text, start, end, label, tokens: members, ids }) => ({
    id,
    text,
    start,
    end,
    ...(label !== undefined ? { label } : {}),
    ...(members !== undefined ? { tokens: [...members] } : {}),
    ...(ids !== undefined ? { ids: [...ids] } : {}),
  }));
}

/** The model object of `run --json` (and `explain --json`). */
export function jsonModel(model: ModelInfo, causal: boolean): JsonReport['model'] {
  return { name: model.name, layers: model.layers, heads: model.heads, causal, kind: model.kind, backend: model.backend, ...(model.kernels ? { kernels: model.kernels } : {}), dModel: model.dModel, vocabSize: model.vocabSize };
}

export function toJsonReport(result: AttentionResult): JsonReport {
  return jsonReportWith(result, float32ToBase64) as JsonReport;
}

/**
 * The report with each tensor encoded by `encode` (base64 here; writeJson's streamed Base64Tensor for
 * `run --json`). The first group's tensor is `attention` itself, so that group says `dataIn` instead.
 */
export function jsonReportWith<T>(result: AttentionResult, encode: (values: Float32Array) => T): Omit<JsonReport, 'attention' | 'groups'> & { attention: Omit<JsonReport['attention'], 'data'> & { data: T }; groups: (Omit<JsonGroup, 'data'> & { data?: T })[] } {
  return {
    model: jsonModel(result.model, result.causal),
    tokens: jsonTokens(result.tokens),
    ...mergeField(result),
    attention: { dims: result.dims, dtype: 'float32', data: encode(result.attention) },
    groups: result.groups.map((group) => ({
      name: group.name,
      label: group.label,
      kind: group.kind,
      queries: group.queries,
      keys: group.keys,
      causal: group.causal,
      ...(group.kvHeads !== undefined ? { kvHeads: group.kvHeads } : {}),
      dims: group.dims,
      dtype: 'float32' as const,
      ...(group.attention === result.attention ? { dataIn: 'attention' as const } : { data: encode(group.attention) }),
    })),
    ...(result.target ? { target: { text: result.target.text, generated: result.target.generated, tokens: jsonTokens(result.target.tokens) } } : {}),
    ...(result.truncatedFrom !== undefined ? { truncatedFrom: result.truncatedFrom } : {}),
    ...(result.truncatedFromAtLeast ? { truncatedFromAtLeast: true } : {}),
    ...(result.warnings ? { warnings: result.warnings } : {}),
    ...(result.predictions ? { predictions: result.predictions } : {}),
    elapsedMs: Math.round(result.elapsedMs * 10) / 10,
  };
}

/** A group's tensor from a report (its own data, or the report's attention when it says dataIn). */
export function groupAttention(report: JsonReport, index: number): Float32Array {
  const group = report.groups[index];
  return base64ToFloat32(group.dataIn === 'attention' ? report.attention.data : (group.data ?? ''));
}

/** `merge` of a merged result (core/merge.ts), for --json. */
function mergeField(result: AttentionResult): { merge?: 'chars' | 'words' } {
  const merge: unknown = (result as { merge?: unknown }).merge;
  return isMergeMode(merge) ? { merge } : {};
}

/** Tokens with offsets, the model's shape, and per group and head what the last query token attends to most. */
export function toTextReport(result: AttentionResult, topK = 3): string {
  const [L, H, T] = result.dims;
  const { model } = result;
  const lines: string[] = [];
  const kind = model.kind === 'encoder-decoder' ? 'encoder–decoder' : result.causal ? 'causal' : 'bidirectional';
  lines.push(`Model  ${model.name} (${model.backend}${model.kernels ? `, ${model.kernels} kernels` : ''}): ${L} layers × ${H} heads, d_model ${model.dModel}, ${kind}`);
  const unmerged = (result as { unmerged?: AttentionResult }).unmerged;
  lines.push(`${unmerged ? `Units ${T} of ${unmerged.tokens.length} tokens` : `Tokens ${T}`}${result.truncatedFrom !== undefined ? ` (first ${T} of ${result.truncatedFromAtLeast ? 'more than ' : ''}${result.truncatedFrom})` : ''}, ${result.elapsedMs.toFixed(0)} ms`);
  pushTokens(lines, result.tokens);
  if (result.target) {
    lines.push(`Target ${JSON.stringify(result.target.text)} (${result.target.generated ? "the model's greedy output" : 'typed'}), ${result.target.tokens.length} decoder tokens`);
    pushTokens(lines, result.target.tokens);
  }
  for (const group of result.groups) {
    const [GL, GH, Tq, Tk] = group.dims;
    const queries = group.queries === 'target' && result.target ? result.target.tokens : result.tokens;
    const keys = group.keys === 'target' && result.target ? result.target.tokens : result.tokens;
    const last = Tq - 1;
    const gqa = group.kvHeads !== undefined ? `, ${GH} query heads share ${group.kvHeads} K/V heads` : '';
    lines.push(`${group.label} (${describeSources(group)}${gqa}): last query ${shown(queries[last])} attends to (top ${topK} per head):`);
    for (let l = 0; l < GL; l++) {
      for (let h = 0; h < GH; h++) {
        const offset = ((l * GH + h) * Tq + last) * Tk;
        const top = topAttended(group.attention.subarray(offset, offset + Tk), topK);
        const described = top.map(({ token, weight }) => `${shown(keys[token])}#${token} ${weight.toFixed(3)}`).join(', ');
        lines.push(`  L${l} H${h}  ${described}`);
      }
    }
  }
  if (result.predictions && result.predictions.length > 0) {
    lines.push(`Next token: ${result.predictions.map((p) => `${JSON.stringify(p.token)} ${(p.probability * 100).toFixed(1)}%`).join(', ')}`);
  }
  return lines.join('\n');
}

function shown(token: TokenSpan): string {
  return token.label ?? JSON.stringify(token.text);
}

function pushTokens(lines: string[], tokens: readonly TokenSpan[]): void {
  const idWidth = String(tokens.length - 1).length;
  tokens.forEach((token, t) => {
    const members = (token as { tokens?: number[] }).tokens;
    // A merged unit (--merge) names the tokens it holds instead of one id.
    const id = members && members.length > 1 ? `tokens ${members[0]}–${members[members.length - 1]}` : `id ${token.id}`;
    lines.push(`  ${String(t).padStart(idWidth)}  [${token.start}, ${token.end})  ${shown(token)}  ${id}`);
  });
}

/** A Markdown table of head statistics, best previous-token and induction heads named below it. */
export function formatHeadStats(report: HeadStatsReport): string {
  const words = report.inductionWordVocabulary > 0;
  const lines = [
    `Head statistics over ${report.samples} held-out windows of ${report.tokensPerSample} tokens; induction over ${report.inductionSequences} sequences of ${report.inductionLength} random tokens repeated twice` +
      (words ? `, and (induction, words) over ${report.inductionSequences} sequences of ${report.inductionLength} distinct words drawn from the ${report.inductionWordVocabulary} most frequent single-token words of the held-out text (${report.inductionWordExamples.map((w) => JSON.stringify(w)).join(', ')}, …), repeated twice.` : '.'),
    '',
    `| layer | head | previous token | first token | self | entropy (nats) | induction |${words ? ' induction (words) |' : ''}`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: |${words ? ' ---: |' : ''}`,
    ...report.heads.map((h) => `| ${h.layer} | ${h.head} | ${h.previousToken.toFixed(3)} | ${h.firstToken.toFixed(3)} | ${h.selfAttention.toFixed(3)} | ${h.entropy.toFixed(2)} | ${h.induction.toFixed(3)} |${words ? ` ${(h.inductionWords ?? 0).toFixed(3)} |` : ''}`),
  ];
  const best = (key: 'previousToken' | 'induction' | 'inductionWords') => report.heads.reduce((a, b) => ((b[key] ?? 0) > (a[key] ?? 0) ? b : a));
  const previous = best('previousToken');
  const induction = best('induction');
  lines.push('', `Best previous-token head: L${previous.layer} H${previous.head} (${previous.previousToken.toFixed(3)}). Best induction head: L${induction.layer} H${induction.head} (${induction.induction.toFixed(3)}).`);
  if (words) {
    const onWords = best('inductionWords');
    lines[lines.length - 1] += ` Best induction head on common words: L${onWords.layer} H${onWords.head} (${(onWords.inductionWords ?? 0).toFixed(3)}).`;
  }
  return lines.join('\n');
}
