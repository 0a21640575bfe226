// The attention the panel has received: LRU caches of heads ([Tq, Tk], or a window of one, pooled
// to the heatmap's pixels: HeadBlock) and token rows ([H, Tk]),
// the requests in flight (through requests.ts, one per key), the checks that a reply has the
// byte length its group's dims say, and an "arrived" event that views and the panel subscribe to.
// Touches no DOM.

import { bytesPerCell, decodeCells, pooledShape, windowProblem, type BlockLayout } from '../src/core/attentionWindow';
import { CELL_ENCODINGS, type CellEncoding, type CellWindow, type HeadAttentionMessage, type SessionInfo, type TokenRowsMessage } from '../src/shared/protocol';
import { blockKey, headKey, LruCache, rowsKey } from './cache';
import type { Requests } from './requests';
import { describeHead, isValidView } from './state';
import { groupLabel } from './groups';
import { t } from './l10n';

const HEAD_CACHE_BYTES = 48 * 1024 * 1024;
const ROW_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * A block of one head as received: values[i * cols + j] · unit is the max over source rows
 * window.row0 + [i·rowStep, (i+1)·rowStep) and columns window.col0 + [j·colStep, (j+1)·colStep).
 */
export interface HeadBlock extends BlockLayout {
  /** [rows, cols] as they travelled (quantised ones stay small). */
  values: Float32Array | Uint16Array | Uint8Array;
  /** value = values[i] · unit. */
  unit: number;
  byteLength: number;
}

/** What a view wants of a head: a window, at most maxRows × maxCols cells (absent: exact), quantised to `encoding` where pooled. */
export interface BlockWant {
  window: CellWindow;
  maxRows?: number;
  maxCols?: number;
  encoding?: CellEncoding;
}

/** Attention that has just arrived and been cached: 'head' is a whole exact map, 'block' any other window or pooling. */
export type Arrival =
  | { kind: 'head'; key: string; group: number; layer: number; head: number; data: Float32Array }
  | { kind: 'block'; key: string; group: number; layer: number; head: number; block: HeadBlock }
  | { kind: 'rows'; key: string; group: number; layer: number; token: number; data: Float32Array };

export type ArrivalListener = (arrival: Arrival) => void;

export class AttentionStore {
  private session: SessionInfo | null = null;
  private readonly heads = new LruCache<HeadBlock>(HEAD_CACHE_BYTES);
  private readonly rows = new LruCache<Float32Array>(ROW_CACHE_BYTES, 8);
  private readonly listeners = new Set<ArrivalListener>();

  /** reportProblem: a reply the store cannot use (wrong byte length) is reported, not cached. */
  constructor(
    private readonly requests: Requests,
    private readonly reportProblem: (message: string) => void,
  ) {}

  /** A new session: everything cached or in flight belongs to the old one and goes. */
  reset(session: SessionInfo): void {
    this.session = session;
    this.heads.clear();
    this.rows.clear();
    this.requests.reset(session.sessionId);
  }

  /** [Tq, Tk] of (group, layer, head) when it has arrived; asks for nothing. */
  cachedHead(group: number, layer: number, head: number): Float32Array | undefined {
    return this.heads.get(headKey(group, layer, head))?.values as Float32Array | undefined;
  }

  /** The key a wanted block is cached under (cache.ts blockKey); undefined without a session or group. */
  blockKeyOf(group: number, layer: number, head: number, want: BlockWant): string | undefined {
    const dims = this.session?.groups[group]?.dims;
    if (!dims) return undefined;
    const shape = pooledShape(want.window, want.maxRows, want.maxCols);
    return blockKey(group, layer, head, { window: want.window, rowStep: shape.rowStep, colStep: shape.colStep, encoding: want.encoding ?? 'float32' }, dims[2], dims[3]);
  }

  /** A block of (group, layer, head) when it has arrived (the whole exact map included); asks for nothing. */
  cachedBlock(group: number, layer: number, head: number, want: BlockWant): HeadBlock | undefined {
    const key = this.blockKeyOf(group, layer, head, want);
    return key === undefined ? undefined : this.heads.get(key);
  }

  /** Asks the host for a block unless it is cached or already asked for; the whole exact map is asked for as a plain requestHead. */
  requestBlock(group: number, layer: number, head: number, want: BlockWant): void {
    const session = this.session;
    const key = this.blockKeyOf(group, layer, head, want);
    if (!session || key === undefined || this.heads.has(key)) return;
    if (key === headKey(group, layer, head)) {
      this.requestHead(group, layer, head);
      return;
    }
    const { window, maxRows, maxCols, encoding } = want;
    const shape = pooledShape(window, maxRows, maxCols);
    const pooled = shape.rowStep > 1 || shape.colStep > 1;
    void this.requests.request(
      {
        type: 'requestHead',
        sessionId: session.sessionId,
        group,
        layer,
        head,
        window: { ...window },
        ...(maxRows !== undefined ? { maxRows } : {}),
        ...(maxCols !== undefined ? { maxCols } : {}),
        ...(pooled && encoding && encoding !== 'float32' ? { encoding } : {}),
      },
      key,
    );
  }

  /** [H, Tk] of query `token` in every head of (group, layer) when it has arrived; asks for nothing. */
  cachedRows(group: number, layer: number, token: number): Float32Array | undefined {
    return this.rows.get(rowsKey(group, layer, token));
  }

  /** Asks the host for a head unless it is cached or already asked for; resolves when it arrives. */
  requestHead(group: number, layer: number, head: number): void {
    const session = this.session;
    if (!session || this.heads.has(headKey(group, layer, head))) return;
    void this.requests.request({ type: 'requestHead', sessionId: session.sessionId, group, layer, head });
  }

  /** Asks the host for a token's rows unless they are cached or already asked for. */
  requestRows(group: number, layer: number, token: number): void {
    const session = this.session;
    if (!session || this.rows.has(rowsKey(group, layer, token))) return;
    void this.requests.request({ type: 'requestTokenRows', sessionId: session.sessionId, group, layer, token });
  }

  /** Subscribes to arrivals; returns the unsubscribe function. */
  onArrived(listener: ArrivalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A reply from the host: checked against the session's dims, cached, then announced. */
  receive(message: HeadAttentionMessage | TokenRowsMessage): void {
    const session = this.session;
    if (!session || !this.requests.accepts(message)) return; // a reply for an older run
    // After this reply is drawn (the views paint in the arrival below), the requests held for the other views go out.
    queueMicrotask(() => this.requests.releaseBackground());
    const group = session.groups[message.group];
    if (!group) return;
    const [layers, heads, Tq, Tk] = group.dims;
    if (message.type === 'headAttention') {
      if (!isValidView(message, layers, heads)) return;
      const block = this.headBlockOf(message, Tq, Tk);
      if (typeof block === 'string') {
        this.reportProblem(t('Attention for {0}, layer {1}, {2}: {3}', groupLabel(group), message.layer, describeHead(message.head, heads), block));
        return;
      }
      const key = blockKey(message.group, message.layer, message.head, block, Tq, Tk);
      this.heads.set(key, block);
      this.requests.settle(message, key);
      if (key === headKey(message.group, message.layer, message.head)) this.emit({ kind: 'head', key, group: message.group, layer: message.layer, head: message.head, data: block.values as Float32Array });
      else this.emit({ kind: 'block', key, group: message.group, layer: message.layer, head: message.head, block });
      return;
    }
    if (!Number.isInteger(message.layer) || message.layer < 0 || message.layer >= layers || !Number.isInteger(message.token) || message.token < 0 || message.token >= Tq) return;
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== heads * Tk * 4) {
      this.reportProblem(t('Token rows for token {0} of {1} have {2} bytes; expected {3} ([{4}, {5}] float32).', message.token, groupLabel(group), byteLengthOf(message.data), heads * Tk * 4, heads, Tk));
      return;
    }
    const key = rowsKey(message.group, message.layer, message.token);
    const data = new Float32Array(message.data);
    this.rows.set(key, data);
    this.requests.settle(message, key);
    this.emit({ kind: 'rows', key, group: message.group, layer: message.layer, token: message.token, data });
  }

  /** A headAttention reply as a block, or what is wrong with it (its window, shape or byte length). */
  private headBlockOf(message: HeadAttentionMessage, Tq: number, Tk: number): HeadBlock | string {
    const { window, rowStep, colStep, encoding } = message;
    const windowText = window && typeof window === 'object' ? windowProblem(window, Tq, Tk) : t('no window');
    if (windowText) return windowText;
    if (!(CELL_ENCODINGS as readonly unknown[]).includes(encoding)) return t('unknown encoding {0}', String(encoding));
    if (!Number.isInteger(rowStep) || !Number.isInteger(colStep) || rowStep < 1 || colStep < 1) return t('steps {0} × {1} are not positive integers', String(rowStep), String(colStep));
    const rows = Math.ceil((window.row1 - window.row0) / rowStep);
    const cols = Math.ceil((window.col1 - window.col0) / colStep);
    if (message.rows !== rows || message.cols !== cols) return t('{0} × {1} cells do not match the window and steps ({2} × {3})', String(message.rows), String(message.cols), rows, cols);
    const expected = rows * cols * bytesPerCell(encoding);
    if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== expected) {
      return t('has {0} bytes; expected {1} ([{2}, {3}] {4})', byteLengthOf(message.data), expected, rows, cols, encoding);
    }
    const { values, unit } = decodeCells(message.data, encoding);
    return { window: { row0: window.row0, row1: window.row1, col0: window.col0, col1: window.col1 }, rows, cols, rowStep, colStep, encoding, values, unit, byteLength: values.byteLength };
  }

  private emit(arrival: Arrival): void {
    for (const listener of [...this.listeners]) listener(arrival);
  }
}

function byteLengthOf(data: unknown): number {
  return data instanceof ArrayBuffer ? data.byteLength : 0;
}
