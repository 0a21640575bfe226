// The webview's typed request → reply helper: posts a request for attention, pairs the host's reply
// with it by key, keeps one request in flight per key (asking again while one is pending posts
// nothing), and drops replies that belong to an older session. Touches no DOM (unit-tested in Node).

import { variationKey, type HostReply, type HostRequest, type ReplyOf, type WebviewToHost } from '../src/shared/protocol';
import { headKey, rowsKey } from './cache';

/** The key that pairs a request with its reply: the cache key of what it asks for (cache.ts). */
export function requestKey(message: HostRequest | HostReply): string {
  switch (message.type) {
    case 'requestHead':
    case 'headAttention':
      // The whole map. A window or a pooling is keyed with the group's dims by AttentionStore.requestBlock (cache.ts blockKey), which passes its key.
      return headKey(message.group, message.layer, message.head);
    case 'requestTokenRows':
    case 'tokenRows':
      return rowsKey(message.group, message.layer, message.token);
    case 'requestExplain':
    case 'explanation':
      return `explain:${message.group}:${message.layer}:${message.head}:q${message.query}:${variationKey(message.variation)}`;
    case 'requestComparison':
    case 'comparison':
      return `compare:${message.layer}:${message.head}:${variationKey(message.variation)}`;
    case 'requestThumbnails':
    case 'thumbnails':
      return `thumbnails:${message.group}:${message.size}`;
    case 'requestRoles':
    case 'roles':
      return `roles:${message.group}`;
    case 'requestRunComparison':
    case 'runComparison':
      return `runCompare:${message.group}:${message.layer}:${message.head}`;
    case 'requestAggregate':
    case 'aggregate':
      return `aggregate:${message.group}:${message.method}`;
  }
}

/**
 * Requests for views that are not what the panel paints first (head-role badges, the Model view's
 * thumbnails): each reads the whole [L, H, T, T] tensor, seconds at 4096 tokens, and the host
 * answers in order, so asked alongside the first head they would make the heatmap wait. A new
 * session holds them until releaseBackground() (the first head or token rows have arrived).
 */
const BACKGROUND_REQUESTS: ReadonlySet<HostRequest['type']> = new Set(['requestRoles', 'requestThumbnails']);

interface Pending {
  promise: Promise<HostReply>;
  resolve(reply: HostReply): void;
}

export class Requests {
  private sessionId: number | null = null;
  private readonly pending = new Map<string, Pending>();
  /** Background requests asked before releaseBackground(), posted then in the order asked; null once released. */
  private held: WebviewToHost[] | null = null;

  constructor(private readonly post: (message: WebviewToHost) => void) {}

  /** A new session begins: requests in flight are forgotten (their promises never settle). */
  reset(sessionId: number): void {
    this.sessionId = sessionId;
    this.pending.clear();
    this.held = [];
  }

  /** The session's first view has what it paints: background requests held so far are posted, later ones go straight out. */
  releaseBackground(): void {
    const held = this.held;
    this.held = null;
    for (const message of held ?? []) this.post(message);
  }

  /**
   * Posts `message` unless a request with the same key is already in flight, and resolves with the
   * reply the host sends for it (the promise of the request in flight, when deduplicated).
   */
  request<R extends HostRequest>(message: R, key: string = requestKey(message)): Promise<ReplyOf[R['type']]> {
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight.promise as Promise<ReplyOf[R['type']]>;
    let resolve!: (reply: HostReply) => void;
    const promise = new Promise<HostReply>((done) => (resolve = done));
    this.pending.set(key, { promise, resolve });
    if (this.held && BACKGROUND_REQUESTS.has(message.type)) this.held.push(message);
    else this.post(message);
    return promise as Promise<ReplyOf[R['type']]>;
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** Whether a reply belongs to the current session (replies to an older session's requests are dropped). */
  accepts(reply: HostReply): boolean {
    return this.sessionId !== null && reply.sessionId === this.sessionId;
  }

  /** Resolves the request the reply answers; false when it is for another session or nothing asked for it. */
  settle(reply: HostReply, key: string = requestKey(reply)): boolean {
    if (!this.accepts(reply)) return false;
    const pending = this.pending.get(key);
    if (!pending) return false;
    this.pending.delete(key);
    pending.resolve(reply);
    return true;
  }
}
