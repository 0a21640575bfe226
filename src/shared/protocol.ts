// The one contract between the extension host and the webview panel. Both sides import this file.
// Each direction is a discriminated union on `type`; attention travels as ArrayBuffers of
// little-endian float32, one head (or one token's rows) at a time, and only when the webview asks.

import type { HeadRole, HeadRoleScores } from '../core/analysis/headRoles';
import type { RunComparison } from '../core/explain/compare';
import type { HeadExplanation, HeadRef, RunVariation } from '../core/explain/types';
import type { MergeMode } from '../core/merge';
import type { AttentionGroup, ModelInfo, TokenSpan, WeightedToken } from '../core/types';
import type { BlockLayout, CellEncoding, CellWindow } from '../core/attentionWindow';
import type { RunComparisonPayload, RunComparisonUnavailable } from './runAlignment';

export type { HeadRole, HeadRoleScores };

/** Head index that stands for the mean over all heads of a layer. */
export const MEAN_HEAD = -1;

export type ColorScale = 'linear' | 'sqrt' | 'log';

/** What the panel's tokens are: the model's tokens, or units merged from them (core/merge.ts). */
export type UnitsMode = 'tokens' | MergeMode;
export const UNITS_MODES: readonly UnitsMode[] = ['tokens', 'chars', 'words'];

/** A token of a session; a merged unit also lists the indices of the model's tokens it holds. */
export type SessionToken = TokenSpan & { tokens?: number[] };

/** An attention group as the panel sees it: everything but the weights. */
export type GroupInfo = Omit<AttentionGroup, 'attention'>;

/** Everything the panel needs to lay out a run, without any attention weights. */
export interface SessionInfo {
  /** Increases with every run; replies for an older session are dropped. */
  sessionId: number;
  model: ModelInfo;
  /** The inspected text; token offsets index into it. */
  text: string;
  /** The tokens, or with `merge` the units (characters or words), which every index of the session's messages then means. */
  tokens: SessionToken[];
  /** Set when the tokens are merged units: attention summed over a unit's keys, averaged over its queries. */
  merge?: MergeMode;
  /** [L, H, T, T] of the attention held by the host (the first group's). */
  dims: [number, number, number, number];
  causal: boolean;
  /** The attention groups, in display order; messages name one by its index here. */
  groups: GroupInfo[];
  /** Encoder–decoder models: the decoder's tokens (rows of the decoder and cross groups). */
  target?: { text: string; tokens: SessionToken[]; generated: boolean };
  colorScale: ColorScale;
  /** Where the text came from, for the header (e.g. "sample.md:3:1–5:20"). */
  source: string;
  /** Notes to show above the view (e.g. "Inspected the first 512 of 900 tokens."). */
  notes: string[];
  /** The model's top next-token predictions after the last token, when it has an LM head. */
  predictions: { token: string; probability: number }[];
  elapsedMs: number;
  /** What the host needs to run this again after a window reload; the webview keeps it with its view state (setState). */
  rerun?: RerunInfo;
  /** Only on the first session of a panel restored after a reload: the view it showed before, to show again. */
  restoredView?: RestoredView;
}

/** A run as the host can repeat it: where the text was, the text itself (unless too long to keep), the target and units. */
export interface RerunInfo {
  /** The document's URI (toString()). */
  uri: string;
  /** [startLine, startCharacter, endLine, endCharacter] of the inspected range. */
  range: [number, number, number, number];
  /** The inspected text, kept when at most MAX_RERUN_TEXT_CHARS: run even if the document is gone or changed. */
  text?: string;
  /** Encoder–decoder models: the typed target (absent: the model's own output). */
  target?: string;
  units: UnitsMode;
}

/** Longest inspected text a panel keeps to run again after a reload (characters); longer ones keep only their range. */
export const MAX_RERUN_TEXT_CHARS = 20_000;

/** The panel's view: group, layer, head and pinned query token. */
export interface RestoredView {
  group: number;
  layer: number;
  head: number;
  pinnedToken: number | null;
}

// ---------------------------------------------------------------- host -> webview
// One interface per message; the unions are built from them, and the tag tables below are checked
// against the unions (`satisfies`), so adding a message without registering its tag fails to compile.

/** A new run is being computed (the panel shows a busy state, keeps the old view until replaced). */
export interface BusyMessage {
  type: 'busy';
  message: string;
}

/** A run finished: lay out tokens and request the heads to draw. */
export interface SessionMessage {
  type: 'session';
  session: SessionInfo;
}

export type { CellEncoding, CellWindow };
export const CELL_ENCODINGS: readonly CellEncoding[] = ['float32', 'uint16', 'uint8'];

/**
 * Reply to requestHead for (group, layer, head); head may be MEAN_HEAD. data is [rows, cols] over
 * `window`: each value the max over a rowStep × colStep block of source cells (1 × 1: the exact
 * weights). A request without window, maxRows and maxCols gets the whole [Tq, Tk] map, exact, float32.
 */
export interface HeadAttentionMessage extends BlockLayout {
  type: 'headAttention';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
  data: ArrayBuffer;
}

/** Reply to requestTokenRows: data is [H, Tk] float32, the attention rows of query `token` in every head of `layer` of `group`. */
export interface TokenRowsMessage {
  type: 'tokenRows';
  sessionId: number;
  group: number;
  layer: number;
  token: number;
  data: ArrayBuffer;
}

/** The editor cursor moved onto source token `token` of the inspected range. */
export interface FocusTokenMessage {
  type: 'focusToken';
  sessionId: number;
  token: number;
}

/** The colour scale setting changed. */
export interface SettingsMessage {
  type: 'settings';
  colorScale: ColorScale;
}

/** A run failed or was refused; the previous view, if any, stays. */
export interface ErrorMessage {
  type: 'error';
  message: string;
}

/**
 * Reply to requestExplain: the step-by-step explanation of one head for one query token, under the
 * request's variation (echoed, so replies pair with their request), or null with `error` (a model
 * that cannot vary its run, a request superseded by a newer one, …).
 */
export interface ExplanationMessage {
  type: 'explanation';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
  query: number;
  variation?: RunVariation;
  explanation: HeadExplanation | null;
  error?: string;
}

/** A RunComparison as it travels: the two [T, T] maps as ArrayBuffers of float32. */
export type ComparisonPayload = Omit<RunComparison, 'base' | 'varied'> & { base: ArrayBuffer; varied: ArrayBuffer };

/** Reply to requestComparison: the base and the varied run of one layer and head, or null with `error`. */
export interface ComparisonMessage {
  type: 'comparison';
  sessionId: number;
  layer: number;
  head: number;
  variation: RunVariation;
  comparison: ComparisonPayload | null;
  error?: string;
}

/**
 * Reply to requestThumbnails: every head of every layer of `group` as a small map, data float32
 * [L, H, rows, columns]. rows = min(Tq, size), columns = min(Tk, size); block i of n over T tokens
 * holds tokens [floor(i·T/n), floor((i+1)·T/n)) (thumbnailBin gives a token's block), and each value
 * is the mean weight over the block's allowed cells. A block that lies wholly in the masked future
 * of causal attention is NaN (drawn as masked); one the diagonal crosses averages its allowed cells only.
 */
export interface ThumbnailsMessage {
  type: 'thumbnails';
  sessionId: number;
  group: number;
  size: number;
  rows: number;
  columns: number;
  data: ArrayBuffer;
}

/**
 * Reply to requestRoles: every head's role scores on the current text (src/core/analysis/headRoles.ts),
 * index layer·H + head; null for a group without such roles (cross-attention, fewer than two tokens).
 */
export interface RolesMessage {
  type: 'roles';
  sessionId: number;
  group: number;
  roles: HeadRoleScores[] | null;
}

/** How requestAggregate combines the layers of a group: rollout (src/core/analysis/rollout.ts) or flow (flow.ts). */
export type AggregateMethod = 'rollout' | 'flow';
export const AGGREGATE_METHODS: readonly AggregateMethod[] = ['rollout', 'flow'];
/** The most tokens the panel's flow is computed for (the core's DEFAULT_FLOW_MAX_TOKENS; a unit test keeps them equal). */
export const AGGREGATE_FLOW_MAX_TOKENS = 48;

/**
 * Reply to requestAggregate: data is the [T, T] float32 map (row = output token, column = input
 * token, rows sum to 1), or an empty buffer with `error` (flow past its token limit, cross-attention, …).
 */
export interface AggregateMessage {
  type: 'aggregate';
  sessionId: number;
  group: number;
  method: AggregateMethod;
  data: ArrayBuffer;
  error?: string;
}

/**
 * Reply to requestRunComparison: the pinned run's and this run's [T, T] maps of group 0 at (layer, head)
 * (float32, each over its own tokens), the alignment used (runAlignment.ts) and labels; null with
 * `unavailable` saying why (no pinned run, or the pinned model lacks that layer or head).
 */
export interface RunComparisonMessage {
  type: 'runComparison';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
  comparison: RunComparisonPayload | null;
  unavailable?: RunComparisonUnavailable;
}

/**
 * The run the host keeps pinned for comparison (null: none). Sent when the page says ready (a page
 * shown again starts empty) and after every pinRun / unpinRun, so the page never forgets a pin the host keeps.
 */
export interface PinnedRunMessage {
  type: 'pinnedRun';
  run: { sessionId: number; label: string } | null;
}

export type HostToWebview =
  | PinnedRunMessage
  | RunComparisonMessage
  | BusyMessage
  | SessionMessage
  | HeadAttentionMessage
  | TokenRowsMessage
  | FocusTokenMessage
  | SettingsMessage
  | ErrorMessage
  | ExplanationMessage
  | ComparisonMessage
  | ThumbnailsMessage
  | RolesMessage
  | AggregateMessage;

// ---------------------------------------------------------------- webview -> host

export type { WeightedToken };

/** The webview's script has loaded and listens; the host posts nothing before this. */
export interface ReadyMessage {
  type: 'ready';
}

/** Most data cells per axis a requestHead may ask for (maxRows, maxCols): a heatmap's device pixels. */
export const MAX_POOLED_CELLS = 16384;

/** Asks for one head (or MEAN_HEAD) of a layer of a group, or a block of it; answered by HeadAttentionMessage. */
export interface RequestHeadMessage {
  type: 'requestHead';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
  /** The block wanted; absent = the whole map. */
  window?: CellWindow;
  /** At most this many data cells per axis (the heatmap's size in device pixels); a larger window is max-pooled in blocks of ceil(rows / maxRows) × ceil(cols / maxCols) cells. Absent = exact cells. */
  maxRows?: number;
  maxCols?: number;
  /**
   * How pooled data may travel (absent: float32); exact data (rowStep = colStep = 1) is always float32.
   * The webview chooses because only it knows the colour scale it paints with when it asks (the
   * setting can change while a reply travels) and how many ramp steps tell weights apart: uint8 where
   * the linear ramp's 256 steps are coarser than q / 255, uint16 for sqrt, float32 for log.
   */
  encoding?: CellEncoding;
}

/** Asks for the rows of query `token` in every head of a layer of a group; answered by TokenRowsMessage. */
export interface RequestTokenRowsMessage {
  type: 'requestTokenRows';
  sessionId: number;
  group: number;
  layer: number;
  token: number;
}

/**
 * The hovered, focused or pinned query token changed (token null: none); attended lists its top-k
 * keys. Indices are into the group's query and key sequences (GroupInfo.queries / keys).
 */
export interface TokenFocusMessage {
  type: 'tokenFocus';
  sessionId: number;
  group: number;
  token: number | null;
  layer: number;
  head: number;
  attended: WeightedToken[];
}

/** The user picked another group, layer or head in the side panel. */
export interface ViewChangedMessage {
  type: 'viewChanged';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
}

/** Encoder–decoder models: run again with this target text (null: the model's own greedy output). */
export interface SetTargetMessage {
  type: 'setTarget';
  sessionId: number;
  text: string | null;
}

/** Show the inspected run as tokens, characters or words: the host publishes it again as a new session (no re-run). */
export interface SetMergeMessage {
  type: 'setMerge';
  sessionId: number;
  merge: UnitsMode;
}

/** Asks for the step-by-step explanation of one head (not MEAN_HEAD) for one query token; answered by ExplanationMessage. */
export interface RequestExplainMessage {
  type: 'requestExplain';
  sessionId: number;
  group: number;
  layer: number;
  head: number;
  query: number;
  /** Explain a varied run (positions off, a swap, heads off) instead of the inspected one. */
  variation?: RunVariation;
}

/** Asks for the base and the varied run of the inspected text side by side at (layer, head); answered by ComparisonMessage. */
export interface RequestComparisonMessage {
  type: 'requestComparison';
  sessionId: number;
  layer: number;
  head: number;
  variation: RunVariation;
}

/** Largest thumbnail side a requestThumbnails may ask for (a 12 × 12 model at 64 is 2.4 MB). */
export const MAX_THUMBNAIL_SIZE = 64;

/** Asks for every head of every layer of a group pooled to at most size × size; answered by ThumbnailsMessage. */
export interface RequestThumbnailsMessage {
  type: 'requestThumbnails';
  sessionId: number;
  group: number;
  /** 1 … MAX_THUMBNAIL_SIZE. */
  size: number;
}

/** Asks for the role scores of every head of a group on the current text; answered by RolesMessage. */
export interface RequestRolesMessage {
  type: 'requestRoles';
  sessionId: number;
  group: number;
}

/** Asks for the rollout or flow of a self-attention group over all its layers; answered by AggregateMessage. */
export interface RequestAggregateMessage {
  type: 'requestAggregate';
  sessionId: number;
  group: number;
  method: AggregateMethod;
}

/** What the panel can export: a file of the shown head (svg, csv, png, json: the run in the CLI's `run --json` format) or CSV to the clipboard. */
export type ExportFormat = 'svg' | 'csv' | 'png' | 'json' | 'copyCsv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['svg', 'csv', 'png', 'json', 'copyCsv'];

/** Largest export content the host accepts from the panel (characters of text or of base64). */
export const MAX_EXPORT_CHARS = 32 * 1024 * 1024;

/**
 * Export of the shown head: svg/csv/copyCsv carry `content` (text built with exportFormats.ts),
 * png carries `base64` (the canvas's PNG), json carries neither (the host writes the run). `name`
 * is the suggested file name (no folders).
 */
export interface ExportMessage {
  type: 'export';
  sessionId: number;
  format: ExportFormat;
  name: string;
  content?: string;
  base64?: string;
}

/** Something went wrong inside the webview; the host logs it. */
export interface WebviewErrorMessage {
  type: 'webviewError';
  message: string;
}

/** Keep run `sessionId` (the current one) as the pinned run, across later runs, until unpinned. */
export interface PinRunMessage {
  type: 'pinRun';
  sessionId: number;
}

/** Forget the pinned run. */
export interface UnpinRunMessage {
  type: 'unpinRun';
}

/** Asks for the pinned run and this run side by side at (layer, head; MEAN_HEAD: the layer's mean); answered by RunComparisonMessage. */
export interface RequestRunComparisonMessage {
  type: 'requestRunComparison';
  sessionId: number;
  /** A self-attention group of the current run; the pinned run's group of the same name is compared with it. */
  group: number;
  layer: number;
  head: number;
}

export type WebviewToHost =
  | ReadyMessage
  | PinRunMessage
  | UnpinRunMessage
  | RequestRunComparisonMessage
  | RequestHeadMessage
  | RequestTokenRowsMessage
  | TokenFocusMessage
  | ViewChangedMessage
  | SetTargetMessage
  | SetMergeMessage
  | RequestExplainMessage
  | RequestComparisonMessage
  | RequestThumbnailsMessage
  | RequestRolesMessage
  | RequestAggregateMessage
  | ExportMessage
  | WebviewErrorMessage;

/** The webview's requests and the host message that answers each. */
export interface ReplyOf {
  requestHead: HeadAttentionMessage;
  requestTokenRows: TokenRowsMessage;
  requestExplain: ExplanationMessage;
  requestComparison: ComparisonMessage;
  requestThumbnails: ThumbnailsMessage;
  requestRoles: RolesMessage;
  requestRunComparison: RunComparisonMessage;
  requestAggregate: AggregateMessage;
}
export type HostRequest = Extract<WebviewToHost, { type: keyof ReplyOf }>;
export type HostReply = ReplyOf[keyof ReplyOf];

// ---------------------------------------------------------------- helpers shared by both sides

/** Exhaustiveness guard for switch statements over message types. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

/** Every host -> webview tag; `satisfies` makes a missing or unknown tag a compile error. */
export const HOST_TYPES = {
  busy: true,
  session: true,
  headAttention: true,
  tokenRows: true,
  focusToken: true,
  settings: true,
  error: true,
  explanation: true,
  comparison: true,
  thumbnails: true,
  roles: true,
  runComparison: true,
  aggregate: true,
  pinnedRun: true,
} as const satisfies Record<HostToWebview['type'], true>;

/** Every webview -> host tag; `satisfies` makes a missing or unknown tag a compile error. */
export const WEBVIEW_TYPES = {
  ready: true,
  requestHead: true,
  requestTokenRows: true,
  tokenFocus: true,
  viewChanged: true,
  setTarget: true,
  setMerge: true,
  requestExplain: true,
  requestComparison: true,
  requestThumbnails: true,
  requestRoles: true,
  pinRun: true,
  unpinRun: true,
  requestRunComparison: true,
  requestAggregate: true,
  export: true,
  webviewError: true,
} as const satisfies Record<WebviewToHost['type'], true>;

function hasTag<T extends object>(table: T, type: unknown): type is keyof T {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(table, type);
}

/** Longest target text the host accepts from the panel (characters). */
export const MAX_TARGET_CHARS = 2000;

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Most heads a variation may switch off. */
export const MAX_ABLATED_HEADS = 64;

function isIndex(value: unknown): value is number {
  return isInteger(value) && value >= 0;
}

/**
 * Validates a RunVariation from the webview: positions a boolean, swap two distinct non-negative
 * integers, ablate at most MAX_ABLATED_HEADS {layer, head} of non-negative integers. Returns a copy
 * with only those fields, or undefined when anything is malformed.
 */
export function parseVariation(raw: unknown): RunVariation | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const value = raw as Record<string, unknown>;
  const variation: RunVariation = {};
  if (value.positions !== undefined) {
    if (typeof value.positions !== 'boolean') return undefined;
    variation.positions = value.positions;
  }
  if (value.swap !== undefined) {
    const swap = value.swap;
    if (!Array.isArray(swap) || swap.length !== 2 || !isIndex(swap[0]) || !isIndex(swap[1]) || swap[0] === swap[1]) return undefined;
    variation.swap = [swap[0], swap[1]];
  }
  if (value.ablate !== undefined) {
    if (!Array.isArray(value.ablate) || value.ablate.length > MAX_ABLATED_HEADS) return undefined;
    const ablate: HeadRef[] = [];
    for (const item of value.ablate as unknown[]) {
      const ref = item as Record<string, unknown> | null;
      if (typeof ref !== 'object' || ref === null || !isIndex(ref.layer) || !isIndex(ref.head)) return undefined;
      ablate.push({ layer: ref.layer, head: ref.head });
    }
    variation.ablate = ablate;
  }
  return variation;
}

/** A stable text for a variation (request keys, caches): the same variation always gives the same key. */
export function variationKey(variation: RunVariation | undefined): string {
  if (!variation) return 'plain';
  const parts: string[] = [];
  if (variation.positions === false) parts.push('nopos');
  if (variation.swap) parts.push(`swap${Math.min(...variation.swap)}-${Math.max(...variation.swap)}`);
  if (variation.ablate && variation.ablate.length > 0) {
    const heads = [...new Set(variation.ablate.map((ref) => `${ref.layer}.${ref.head}`))].sort();
    parts.push(`off${heads.join(',')}`);
  }
  return parts.length > 0 ? parts.join('+') : 'plain';
}

/** Validates a message that arrived from the webview; anything malformed is rejected, not trusted. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const message = raw as Record<string, unknown>;
  if (!hasTag(WEBVIEW_TYPES, message.type)) return undefined;
  switch (message.type) {
    case 'ready':
      return { type: 'ready' };
    case 'requestHead': {
      const parsed = parseRequestHead(message);
      return typeof parsed === 'string' ? undefined : parsed;
    }
    case 'viewChanged':
      if (!isInteger(message.sessionId) || !isInteger(message.group) || !isInteger(message.layer) || !isInteger(message.head)) return undefined;
      return { type: message.type, sessionId: message.sessionId, group: message.group, layer: message.layer, head: message.head };
    case 'requestTokenRows':
      if (!isInteger(message.sessionId) || !isInteger(message.group) || !isInteger(message.layer) || !isInteger(message.token)) return undefined;
      return { type: 'requestTokenRows', sessionId: message.sessionId, group: message.group, layer: message.layer, token: message.token };
    case 'setTarget':
      if (!isInteger(message.sessionId)) return undefined;
      if (message.text !== null && (typeof message.text !== 'string' || message.text.length > MAX_TARGET_CHARS)) return undefined;
      return { type: 'setTarget', sessionId: message.sessionId, text: message.text };
    case 'setMerge':
      if (!isInteger(message.sessionId) || !(UNITS_MODES as readonly unknown[]).includes(message.merge)) return undefined;
      return { type: 'setMerge', sessionId: message.sessionId, merge: message.merge as UnitsMode };
    case 'tokenFocus': {
      if (!isInteger(message.sessionId) || !isInteger(message.group) || !isInteger(message.layer) || !isInteger(message.head)) return undefined;
      if (message.token !== null && !isInteger(message.token)) return undefined;
      if (!Array.isArray(message.attended)) return undefined;
      const attended: WeightedToken[] = [];
      for (const item of message.attended as unknown[]) {
        const entry = item as Record<string, unknown> | null;
        if (!entry || !isInteger(entry.token) || typeof entry.weight !== 'number') return undefined;
        attended.push({ token: entry.token, weight: entry.weight });
      }
      return { type: 'tokenFocus', sessionId: message.sessionId, group: message.group, token: message.token as number | null, layer: message.layer, head: message.head, attended };
    }
    case 'requestExplain': {
      if (!isInteger(message.sessionId) || !isIndex(message.group) || !isIndex(message.layer) || !isIndex(message.head) || !isIndex(message.query)) return undefined;
      const parsed: RequestExplainMessage = { type: 'requestExplain', sessionId: message.sessionId, group: message.group, layer: message.layer, head: message.head, query: message.query };
      if (message.variation !== undefined) {
        const variation = parseVariation(message.variation);
        if (!variation) return undefined;
        parsed.variation = variation;
      }
      return parsed;
    }
    case 'requestComparison': {
      if (!isInteger(message.sessionId) || !isIndex(message.layer) || !isIndex(message.head)) return undefined;
      const variation = parseVariation(message.variation);
      // A comparison of the plain run with itself is not a request the panel makes.
      if (!variation || variationKey(variation) === 'plain') return undefined;
      return { type: 'requestComparison', sessionId: message.sessionId, layer: message.layer, head: message.head, variation };
    }
    case 'requestThumbnails':
      if (!isInteger(message.sessionId) || !isIndex(message.group) || !isInteger(message.size) || message.size < 1 || message.size > MAX_THUMBNAIL_SIZE) return undefined;
      return { type: 'requestThumbnails', sessionId: message.sessionId, group: message.group, size: message.size };
    case 'requestRoles':
      if (!isInteger(message.sessionId) || !isIndex(message.group)) return undefined;
      return { type: 'requestRoles', sessionId: message.sessionId, group: message.group };
    case 'requestAggregate':
      if (!isInteger(message.sessionId) || !isIndex(message.group) || !(AGGREGATE_METHODS as readonly unknown[]).includes(message.method)) return undefined;
      return { type: 'requestAggregate', sessionId: message.sessionId, group: message.group, method: message.method as AggregateMethod };
    case 'export':
      return parseExport(message);
    case 'pinRun':
      if (!isInteger(message.sessionId)) return undefined;
      return { type: 'pinRun', sessionId: message.sessionId };
    case 'unpinRun':
      return { type: 'unpinRun' };
    case 'requestRunComparison':
      if (!isInteger(message.sessionId) || !isIndex(message.group) || !isIndex(message.layer) || !(isIndex(message.head) || message.head === MEAN_HEAD)) return undefined;
      return { type: 'requestRunComparison', sessionId: message.sessionId, group: message.group, layer: message.layer, head: message.head as number };
    case 'webviewError':
      return { type: 'webviewError', message: String(message.message) };
    default:
      return undefined;
  }
}

/**
 * Validates a requestHead: a window of integers with 0 ≤ row0 < row1 and 0 ≤ col0 < col1 (whether it
 * lies inside the map only the host knows: src/core/attentionWindow.ts windowProblem), maxRows and
 * maxCols integers in 1 … MAX_POOLED_CELLS, an encoding of CELL_ENCODINGS. Returns the message with
 * only those fields, or why it is malformed.
 */
export function parseRequestHead(message: Record<string, unknown>): RequestHeadMessage | string {
  if (!isInteger(message.sessionId) || !isInteger(message.group) || !isInteger(message.layer) || !isInteger(message.head)) return 'requestHead needs integer sessionId, group, layer and head';
  const parsed: RequestHeadMessage = { type: 'requestHead', sessionId: message.sessionId, group: message.group, layer: message.layer, head: message.head };
  if (message.window !== undefined) {
    const window = parseCellWindow(message.window);
    if (typeof window === 'string') return window;
    parsed.window = window;
  }
  for (const name of ['maxRows', 'maxCols'] as const) {
    const value = message[name];
    if (value === undefined) continue;
    if (!isInteger(value) || value < 1 || value > MAX_POOLED_CELLS) return `requestHead ${name} must be an integer in 1..${MAX_POOLED_CELLS}, not ${JSON.stringify(value)}`;
    parsed[name] = value;
  }
  if (message.encoding !== undefined) {
    if (!(CELL_ENCODINGS as readonly unknown[]).includes(message.encoding)) return `requestHead encoding must be one of ${CELL_ENCODINGS.join(', ')}, not ${JSON.stringify(message.encoding)}`;
    parsed.encoding = message.encoding as CellEncoding;
  }
  return parsed;
}

/** A CellWindow from the webview (four non-negative integers, each start below its end), or why it is not one. */
export function parseCellWindow(raw: unknown): CellWindow | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'window must be an object {row0, row1, col0, col1}';
  const value = raw as Record<string, unknown>;
  const bounds = ['row0', 'row1', 'col0', 'col1'] as const;
  for (const name of bounds) {
    if (!isInteger(value[name])) return `window.${name} must be an integer, not ${JSON.stringify(value[name])}`;
    if ((value[name] as number) < 0) return `window.${name} must not be negative (${value[name] as number})`;
  }
  const window = { row0: value.row0 as number, row1: value.row1 as number, col0: value.col0 as number, col1: value.col1 as number };
  if (window.row0 >= window.row1) return `window rows ${window.row0}..${window.row1} are empty: row0 must be below row1`;
  if (window.col0 >= window.col1) return `window columns ${window.col0}..${window.col1} are empty: col0 must be below col1`;
  return window;
}

/** Why a message from the webview was rejected, for the host's log (the parser itself only says undefined). */
export function webviewMessageProblem(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return 'not an object';
  const message = raw as Record<string, unknown>;
  if (!hasTag(WEBVIEW_TYPES, message.type)) return `unknown type ${JSON.stringify(message.type)}`;
  if (message.type === 'requestHead') {
    const parsed = parseRequestHead(message);
    if (typeof parsed === 'string') return parsed;
  }
  return `malformed ${message.type}`;
}

/** A suggested export file name: at most 120 characters of letters, digits, spaces, dots, dashes and underscores, no leading dot. */
const EXPORT_NAME = /^[\p{L}\p{N}_ -][\p{L}\p{N}_. -]{0,119}$/u;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseExport(message: Record<string, unknown>): ExportMessage | undefined {
  if (!isInteger(message.sessionId) || !(EXPORT_FORMATS as readonly unknown[]).includes(message.format)) return undefined;
  if (typeof message.name !== 'string' || !EXPORT_NAME.test(message.name)) return undefined;
  const format = message.format as ExportFormat;
  const parsed: ExportMessage = { type: 'export', sessionId: message.sessionId, format, name: message.name };
  const { content, base64 } = message;
  switch (format) {
    case 'svg':
    case 'csv':
    case 'copyCsv':
      if (typeof content !== 'string' || content.length === 0 || content.length > MAX_EXPORT_CHARS || base64 !== undefined) return undefined;
      if (format === 'svg' && !content.startsWith('<svg')) return undefined;
      parsed.content = content;
      return parsed;
    case 'png':
      if (typeof base64 !== 'string' || base64.length === 0 || base64.length > MAX_EXPORT_CHARS || base64.length % 4 !== 0 || !BASE64.test(base64) || content !== undefined) return undefined;
      // The PNG signature, base64-encoded.
      if (!base64.startsWith('iVBORw0KGgo')) return undefined;
      parsed.base64 = base64;
      return parsed;
    case 'json':
      if (content !== undefined || base64 !== undefined) return undefined;
      return parsed;
  }
}

/** Light check for messages arriving in the webview (they come from our own host). */
export function isHostMessage(raw: unknown): raw is HostToWebview {
  return typeof raw === 'object' && raw !== null && hasTag(HOST_TYPES, (raw as { type?: unknown }).type);
}

/** Copies a Float32Array view into its own ArrayBuffer, so posting it transfers exactly those bytes. */
export function toArrayBuffer(view: Float32Array): ArrayBuffer {
  const copy = new Float32Array(view.length);
  copy.set(view);
  return copy.buffer;
}
