// Comparing two runs (issue 11 part 4): the pinned run and the current one, each a [T, T] map of
// one layer and head of a self-attention group (the same group by name in both: "self", or an
// encoder–decoder's "encoder" or "decoder"; cross-attention has two token sequences and is not compared). Plain TypeScript (no vscode): the extension's
// controller and the browser tests' fake host answer requestRunComparison with this code.
//
// The rule: when both runs have the same token sequence (identical token texts, in order) the maps
// are aligned by token, cell for cell; otherwise by position, over the first min(T1, T2) tokens of
// each (row t, column s of one against row t, column s of the other).

import { headView, meanOfHeads, type AttentionDims } from '../core/attentionViews';
import { MEAN_HEAD, toArrayBuffer, type RequestRunComparisonMessage, type RunComparisonMessage } from './protocol';

/** How two runs' maps are laid over each other: `count` tokens of each, from the first. */
export interface RunAlignment {
  rule: 'token' | 'position';
  count: number;
}

/** One side of a run comparison: which run, its label (model · source), token texts and model shape. */
export interface ComparedRun {
  sessionId: number;
  label: string;
  tokens: string[];
  layers: number;
  heads: number;
}

/** Two runs of one group at one layer and head, as runComparison carries them: each map [T, T] over its own tokens. */
export interface RunComparisonPayload {
  alignment: RunAlignment;
  pinned: ComparedRun & { map: ArrayBuffer };
  current: ComparedRun & { map: ArrayBuffer };
}

/** Why a run comparison has no maps. */
export type RunComparisonUnavailable =
  | { reason: 'no-pin' }
  | { reason: 'missing-head'; layers: number; heads: number }
  /** The pinned run has no self-attention group of this name (e.g. a decoder-only model against an encoder–decoder's decoder). */
  | { reason: 'missing-group'; name: string }
  /** Cross-attention: queries and keys come from two sequences; the view compares self-attention groups. */
  | { reason: 'cross' };

/** One attention group of a run as the comparison needs it: [L, H, Tq, Tk] and the token texts of its queries. */
export interface ComparableGroup {
  name: string;
  /** Queries and keys are one sequence (self-attention). */
  self: boolean;
  tokens: readonly string[];
  attention: Float32Array;
  dims: AttentionDims;
}

/** A run as the comparison needs it: every group, in the session's order. */
export interface ComparableRun {
  sessionId: number;
  label: string;
  groups: readonly ComparableGroup[];
}

/** By token when the token texts are identical in order, else by position over the shorter run. */
export function alignRuns(pinned: readonly string[], current: readonly string[]): RunAlignment {
  const same = pinned.length === current.length && pinned.every((text, index) => text === current[index]);
  return same ? { rule: 'token', count: pinned.length } : { rule: 'position', count: Math.min(pinned.length, current.length) };
}

/** The top-left count × count block of a [T, T] map. */
export function cropMap(map: Float32Array, T: number, count: number): Float32Array {
  const out = new Float32Array(count * count);
  for (let t = 0; t < count; t++) out.set(map.subarray(t * T, t * T + count), t * count);
  return out;
}

/** current − pinned over the aligned count × count cells, and the largest |difference|. */
export function alignedDifference(pinned: Float32Array, pinnedT: number, current: Float32Array, currentT: number, count: number): { difference: Float32Array; maxAbs: number } {
  const a = cropMap(pinned, pinnedT, count);
  const b = cropMap(current, currentT, count);
  const difference = new Float32Array(count * count);
  let maxAbs = 0;
  for (let i = 0; i < difference.length; i++) {
    difference[i] = b[i] - a[i];
    if (Math.abs(difference[i]) > maxAbs) maxAbs = Math.abs(difference[i]);
  }
  return { difference, maxAbs };
}

function mapOf(group: ComparableGroup, layer: number, head: number): Float32Array | undefined {
  const [L, H, Tq, Tk] = group.dims;
  if (layer >= L || (head !== MEAN_HEAD && (head < 0 || head >= H)) || Tq !== Tk) return undefined;
  return head === MEAN_HEAD ? meanOfHeads(group.attention, group.dims, layer) : headView(group.attention, group.dims, layer, head);
}

function side(run: ComparableRun, group: ComparableGroup, map: Float32Array): ComparedRun & { map: ArrayBuffer } {
  return { sessionId: run.sessionId, label: run.label, tokens: [...group.tokens], layers: group.dims[0], heads: group.dims[1], map: toArrayBuffer(map) };
}

/**
 * The reply to requestRunComparison, or undefined when it is about another session than `current`.
 * No pinned run, or a pinned model without that layer or head, is a reply with `unavailable`.
 */
export function answerRunComparison(request: RequestRunComparisonMessage, pinned: ComparableRun | undefined, current: ComparableRun | undefined): RunComparisonMessage | undefined {
  if (!current || current.sessionId !== request.sessionId) return undefined;
  const group = current.groups[request.group];
  if (!group) return undefined;
  const base = { type: 'runComparison' as const, sessionId: request.sessionId, group: request.group, layer: request.layer, head: request.head };
  if (!group.self) return { ...base, comparison: null, unavailable: { reason: 'cross' } };
  if (!pinned) return { ...base, comparison: null, unavailable: { reason: 'no-pin' } };
  const currentMap = mapOf(group, request.layer, request.head);
  if (!currentMap) return undefined;
  // The same group by name: "self" against "self", "decoder" against "decoder"; a decoder-only model's
  // "self" and an encoder–decoder's "decoder" are both causal self-attention over the text, so they pair too.
  const pinnedGroup = pinned.groups.find((candidate) => candidate.self && candidate.name === group.name) ?? pinned.groups.find((candidate) => candidate.self && pairs(candidate.name, group.name));
  if (!pinnedGroup) return { ...base, comparison: null, unavailable: { reason: 'missing-group', name: group.name } };
  const pinnedMap = mapOf(pinnedGroup, request.layer, request.head);
  if (!pinnedMap) return { ...base, comparison: null, unavailable: { reason: 'missing-head', layers: pinnedGroup.dims[0], heads: pinnedGroup.dims[1] } };
  return { ...base, comparison: { alignment: alignRuns(pinnedGroup.tokens, group.tokens), pinned: side(pinned, pinnedGroup, pinnedMap), current: side(current, group, currentMap) } };
}

/** Groups of different names that read the same kind of sequence: "self" pairs with "encoder" (a BERT against an encoder) or "decoder" (a GPT against a decoder). */
function pairs(a: string, b: string): boolean {
  return a === 'self' || b === 'self';
}
