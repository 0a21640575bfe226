// The attention the panel has received: LRU caches of heads ([Tq, Tk]) and token rows ([H, Tk]),
// the requests in flight (through requests.ts, one per key), the checks that a reply has the
// byte length its group's dims say, and an "arrived" event that views and the panel subscribe to.
// Touches no DOM.

import type { HeadAttentionMessage, SessionInfo, TokenRowsMessage } from '../src/shared/protocol';
import { headKey, LruCache, rowsKey } from './cache';
import type { Requests } from './requests';
import { describeHead, isValidView } from './state';
import { groupLabel } from './groups';
import { t } from './l10n';

const HEAD_CACHE_BYTES = 48 * 1024 * 1024;
const ROW_CACHE_BYTES = 8 * 1024 * 1024;

/** Attention that has just arrived and been cached. */
export type Arrival =
  | { kind: 'head'; key: string; group: number; layer: number; head: number; data: Float32Array }
  | { kind: 'rows'; key: string; group: number; layer: number; token: number; data: Float32Array };

export type ArrivalListener = (arrival: Arrival) => void;

export class AttentionStore {
  private session: SessionInfo | null = null;
  private readonly heads = new LruCache<Float32Array>(HEAD_CACHE_BYTES);
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
    return this.heads.get(headKey(group, layer, head));
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
    const group = session.groups[message.group];
    if (!group) return;
    const [layers, heads, Tq, Tk] = group.dims;
    if (message.type === 'headAttention') {
      if (!isValidView(message, layers, heads)) return;
      if (!(message.data instanceof ArrayBuffer) || message.data.byteLength !== Tq * Tk * 4) {
        this.reportProblem(
          t('Attention for {0}, layer {1}, {2} has {3} bytes; expected {4} ([{5}, {6}] float32).', groupLabel(group), message.layer, describeHead(message.head, heads), byteLengthOf(message.data), Tq * Tk * 4, Tq, Tk),
        );
        return;
      }
      const key = headKey(message.group, message.layer, message.head);
      const data = new Float32Array(message.data);
      this.heads.set(key, data);
      this.requests.settle(message, key);
      this.emit({ kind: 'head', key, group: message.group, layer: message.layer, head: message.head, data });
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

  private emit(arrival: Arrival): void {
    for (const listener of [...this.listeners]) listener(arrival);
  }
}

function byteLengthOf(data: unknown): number {
  return data instanceof ArrayBuffer ? data.byteLength : 0;
}
