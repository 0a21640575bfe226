// The heatmap's first request for a new run is predictable: the overview (the whole map, max-pooled
// to the heatmap's size) of the group, layer and head the panel showed last, since the panel keeps
// them across runs. Answering it as soon as the session is posted, instead of when the request
// arrives, overlaps its cost (the mean of 8 heads at 4096 tokens reads 268 MB) with the webview's
// own work on the new session (token strip, layout), which runs in another process. A request
// answered ahead is handed the same pending reply, so nothing is computed twice; a wrong guess
// costs one overview and is dropped with the next session. Before the panel has asked for any
// overview (its maps so far were small enough to travel whole) the size is unknown: then, when it
// showed a layer's mean of heads, that mean (the costly part) is computed ahead and cached.
//
// Likewise for browsing: once an overview has been sent, the overviews of the heads [ and ] step to
// (headOrder.ts) are answered in a later turn of the event loop, so stepping through heads with
// the keyboard costs the transfer and the paint, not the pooling of 16 M weights at 4096 tokens.

import type { AttentionDims } from '../core/attentionViews';
import { pooledShape, wholeWindow } from '../core/attentionWindow';
import { stepHead } from './headOrder';
import { MEAN_HEAD, type HostReply, type RequestHeadMessage } from './protocol';
import { answerHeldRequest, type AttentionRequest, type HeldSource } from './replies';

/** What an overview request asks, less the run it is about. */
type OverviewShape = Pick<RequestHeadMessage, 'group' | 'layer' | 'head' | 'maxRows' | 'maxCols' | 'encoding'>;

export class OverviewPrefetch {
  /** The last pooled whole-map head request answered: what the heatmap will ask of the next run. */
  private last: OverviewShape | undefined;
  /** The last head shown (any request for a head of the session). */
  private lastHead: Pick<RequestHeadMessage, 'group' | 'layer' | 'head'> | undefined;
  /** Replies answered ahead, by request key: the next run's first overview, or the neighbouring heads'. */
  private ahead = new Map<string, Promise<HostReply | undefined>>();
  /** The neighbours' overviews are answered in a later turn: this cancels a pending one. */
  private neighbours: ReturnType<typeof setTimeout> | undefined;

  /**
   * The reply to a webview request: the one answered ahead when this is that request, else answered
   * now where the attention is held (answerHeldRequest). dims: the session's groups' dims, to tell
   * an overview request (whole map, pooled) from the others.
   */
  answer(request: AttentionRequest, source: HeldSource | undefined, dims: readonly AttentionDims[]): Promise<HostReply | undefined> {
    if (request.type === 'requestHead' && source?.sessionId === request.sessionId) {
      this.lastHead = { group: request.group, layer: request.layer, head: request.head };
      const groupDims = dims[request.group];
      const shape = overviewShape(request, groupDims);
      if (shape) this.last = shape;
      const key = keyOf(request);
      const ready = this.ahead.get(key);
      this.ahead.delete(key);
      const reply = ready ?? answerHeldRequest(request, source);
      if (shape && groupDims) this.answerNeighbours(request, source, groupDims);
      return reply;
    }
    return answerHeldRequest(request, source);
  }

  /** After the overview `request`, answers those of the heads before and after it (stepHead), once the reply has gone. */
  private answerNeighbours(request: RequestHeadMessage, source: HeldSource, dims: AttentionDims): void {
    if (this.neighbours) clearTimeout(this.neighbours);
    this.neighbours = setTimeout(() => {
      this.neighbours = undefined;
      // Only the current head's neighbours are kept: browsing elsewhere drops the older guesses.
      const wanted = [1, -1].map((delta) => ({ ...request, head: stepHead(request.head, dims[1], delta) }));
      for (const key of [...this.ahead.keys()]) if (!wanted.some((neighbour) => keyOf(neighbour) === key)) this.ahead.delete(key);
      for (const neighbour of wanted) this.answerAhead(neighbour, source);
    }, 0);
  }

  /** Starts answering a request ahead (once per key). */
  private answerAhead(request: RequestHeadMessage, source: HeldSource): void {
    const key = keyOf(request);
    if (this.ahead.has(key)) return;
    const reply = answerHeldRequest(request, source);
    // An error surfaces when the webview's own request takes this reply; until then it is not unhandled.
    reply.catch(() => undefined);
    this.ahead.set(key, reply);
  }

  /**
   * A new run's session was just posted: starts answering the overview its heatmap will ask for
   * first, when the last one fits the new run (the group, layer and head exist and the map is
   * pooled at that size); without one, computes the layer mean of the last head shown when that was
   * a mean. Call it after the session has left, so its message is not held up.
   */
  prefetch(source: HeldSource, dims: readonly AttentionDims[]): void {
    this.clear();
    const last = this.last;
    const groupDims = last && dims[last.group];
    if (last && groupDims && fits(last, groupDims)) {
      const [, , Tq, Tk] = groupDims;
      const request: RequestHeadMessage = { type: 'requestHead', sessionId: source.sessionId, ...last, window: wholeWindow(Tq, Tk) };
      if (overviewShape(request, groupDims)) {
        this.answerAhead(request, source);
        return;
      }
    }
    const head = this.lastHead;
    const headDims = head && dims[head.group];
    if (head && headDims && head.head === MEAN_HEAD && fits(head, headDims) && headDims[2] * headDims[3] >= PREPARE_MEAN_MIN_CELLS) {
      source.attention.query({ kind: 'prepareLayerMean', group: head.group, layer: head.layer }).catch(() => undefined);
    }
  }

  /** Forgets the replies answered ahead (a new run, the panel closed or the run was released). */
  clear(): void {
    this.ahead.clear();
    if (this.neighbours) clearTimeout(this.neighbours);
    this.neighbours = undefined;
  }
}

/** Below this many cells per map a layer mean costs too little to compute ahead (256 × 256 tokens). */
const PREPARE_MEAN_MIN_CELLS = 256 * 256;

/** Whether a run with these dims has the group's layer and head. */
function fits(view: Pick<RequestHeadMessage, 'layer' | 'head'>, [L, H]: AttentionDims): boolean {
  return view.layer < L && (view.head === MEAN_HEAD || view.head < H);
}

/** The request's shape when it asks for a whole map, pooled (larger than maxRows × maxCols); else undefined. */
function overviewShape(request: RequestHeadMessage, dims: AttentionDims | undefined): OverviewShape | undefined {
  if (!dims || !request.window || request.maxRows === undefined || request.maxCols === undefined) return undefined;
  const [, , Tq, Tk] = dims;
  const { row0, row1, col0, col1 } = request.window;
  if (row0 !== 0 || col0 !== 0 || row1 !== Tq || col1 !== Tk) return undefined;
  const { rowStep, colStep } = pooledShape(request.window, request.maxRows, request.maxCols);
  if (rowStep === 1 && colStep === 1) return undefined;
  const { group, layer, head, maxRows, maxCols, encoding } = request;
  return { group, layer, head, maxRows, maxCols, encoding };
}

function keyOf(request: RequestHeadMessage): string {
  const { sessionId, group, layer, head, window, maxRows, maxCols, encoding } = request;
  const cells = window && [window.row0, window.row1, window.col0, window.col1];
  return JSON.stringify([sessionId, group, layer, head, cells, maxRows, maxCols, encoding ?? 'float32']);
}
