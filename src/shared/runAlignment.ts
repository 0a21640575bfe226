// Comparing two runs (issue 11 part 4): the pinned run and the current one, each a [T, T] map of
// one layer and head of its first attention group. Plain TypeScript (no vscode): the extension's
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

/** Two runs of group 0 at one layer and head, as runComparison carries them: each map [T, T] over its own tokens. */
export interface RunComparisonPayload {
  alignment: RunAlignment;
  pinned: ComparedRun & { map: ArrayBuffer };
  current: ComparedRun & { map: ArrayBuffer };
}

/** Why a run comparison has no maps. */
export type RunComparisonUnavailable = { reason: 'no-pin' } | { reason: 'missing-head'; layers: number; heads: number };

/** A run as the comparison needs it: its first group's attention [L, H, T, T] and token texts. */
export interface ComparableRun {
  sessionId: number;
  label: string;
  tokens: readonly string[];
  attention: Float32Array;
  dims: AttentionDims;
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

function mapOf(run: ComparableRun, layer: number, head: number): Float32Array | undefined {
  const [L, H, Tq, Tk] = run.dims;
  if (layer >= L || (head !== MEAN_HEAD && (head < 0 || head >= H)) || Tq !== Tk) return undefined;
  return head === MEAN_HEAD ? meanOfHeads(run.attention, run.dims, layer) : headView(run.attention, run.dims, layer, head);
}

function side(run: ComparableRun, map: Float32Array): ComparedRun & { map: ArrayBuffer } {
  return { sessionId: run.sessionId, label: run.label, tokens: [...run.tokens], layers: run.dims[0], heads: run.dims[1], map: toArrayBuffer(map) };
}

/**
 * The reply to requestRunComparison, or undefined when it is about another session than `current`.
 * No pinned run, or a pinned model without that layer or head, is a reply with `unavailable`.
 */
export function answerRunComparison(request: RequestRunComparisonMessage, pinned: ComparableRun | undefined, current: ComparableRun | undefined): RunComparisonMessage | undefined {
  if (!current || current.sessionId !== request.sessionId) return undefined;
  const base = { type: 'runComparison' as const, sessionId: request.sessionId, layer: request.layer, head: request.head };
  if (!pinned) return { ...base, comparison: null, unavailable: { reason: 'no-pin' } };
  const currentMap = mapOf(current, request.layer, request.head);
  if (!currentMap) return undefined;
  const pinnedMap = mapOf(pinned, request.layer, request.head);
  if (!pinnedMap) return { ...base, comparison: null, unavailable: { reason: 'missing-head', layers: pinned.dims[0], heads: pinned.dims[1] } };
  return { ...base, comparison: { alignment: alignRuns(pinned.tokens, current.tokens), pinned: side(pinned, pinnedMap), current: side(current, currentMap) } };
}
