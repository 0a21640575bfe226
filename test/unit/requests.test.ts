import * as assert from 'node:assert/strict';
import type { HeadAttentionMessage, SessionInfo, TokenRowsMessage, WebviewToHost } from '../../src/shared/protocol';
import { AttentionStore, type Arrival } from '../../webview/attentionStore';
import { Requests, requestKey } from '../../webview/requests';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function headReply(sessionId: number, layer: number, head: number, floats: number): HeadAttentionMessage {
  // The whole 2 × 2 map of the store's session (floats ≠ 4: a reply of the wrong length).
  return { type: 'headAttention', sessionId, group: 0, layer, head, window: { row0: 0, row1: 2, col0: 0, col1: 2 }, rows: 2, cols: 2, rowStep: 1, colStep: 1, encoding: 'float32', data: new Float32Array(floats).fill(0.25).buffer };
}

describe('typed request → reply helper (webview/requests.ts)', () => {
  it('posts a request once while it is in flight and resolves every asker with its reply', async () => {
    const posted: WebviewToHost[] = [];
    const requests = new Requests((message) => posted.push(message));
    requests.reset(1);
    const first = requests.request({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: -1 });
    const second = requests.request({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: -1 });
    requests.request({ type: 'requestTokenRows', sessionId: 1, group: 0, layer: 1, token: 3 });
    assert.deepEqual(posted.map((m) => m.type), ['requestHead', 'requestTokenRows'], 'the duplicate is not posted');
    assert.ok(requests.isPending('0:1:-1'));
    const reply = headReply(1, 1, -1, 4);
    assert.equal(requests.settle(reply), true);
    assert.equal(await first, reply);
    assert.equal(await second, reply);
    assert.ok(!requests.isPending('0:1:-1'));
    requests.request({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: -1 });
    assert.equal(posted.length, 3, 'asked again after the reply: posted again');
  });

  it('drops replies of older sessions and replies nobody asked for', async () => {
    const requests = new Requests(() => undefined);
    requests.reset(1);
    let settled = false;
    void requests.request({ type: 'requestHead', sessionId: 1, group: 0, layer: 0, head: 0 }).then(() => (settled = true));
    requests.reset(2);
    assert.ok(!requests.isPending('0:0:0'), 'a new session forgets what was in flight');
    assert.equal(requests.accepts(headReply(1, 0, 0, 4)), false);
    assert.equal(requests.settle(headReply(1, 0, 0, 4)), false, 'old session');
    assert.equal(requests.settle(headReply(2, 0, 0, 4)), false, 'not asked for');
    await tick();
    assert.equal(settled, false);
  });

  it('holds a new session\'s background requests (roles, thumbnails) until released, then posts them in order', async () => {
    const posted: WebviewToHost[] = [];
    const requests = new Requests((message) => posted.push(message));
    requests.reset(1);
    const roles = requests.request({ type: 'requestRoles', sessionId: 1, group: 0 });
    requests.request({ type: 'requestRoles', sessionId: 1, group: 0 });
    requests.request({ type: 'requestThumbnails', sessionId: 1, group: 0, size: 32 });
    requests.request({ type: 'requestHead', sessionId: 1, group: 0, layer: 0, head: 0 });
    assert.deepEqual(posted.map((m) => m.type), ['requestHead'], 'only the head goes out first');
    requests.releaseBackground();
    assert.deepEqual(posted.map((m) => m.type), ['requestHead', 'requestRoles', 'requestThumbnails'], 'released in the order asked, the duplicate once');
    requests.request({ type: 'requestRoles', sessionId: 1, group: 1 });
    assert.equal(posted.length, 4, 'after the release, background requests go straight out');
    const reply = { type: 'roles', sessionId: 1, group: 0, roles: null } as const;
    assert.equal(requests.settle(reply), true);
    assert.equal(await roles, reply);
    requests.reset(2);
    requests.request({ type: 'requestThumbnails', sessionId: 2, group: 0, size: 32 });
    assert.equal(posted.length, 4, 'a new session holds them again');
  });

  it('pairs requests and replies by the same key', () => {
    assert.equal(requestKey({ type: 'requestHead', sessionId: 1, group: 2, layer: 3, head: -1 }), requestKey({ ...headReply(1, 3, -1, 1), group: 2 }));
    const rows: TokenRowsMessage = { type: 'tokenRows', sessionId: 1, group: 1, layer: 0, token: 5, data: new ArrayBuffer(0) };
    assert.equal(requestKey({ type: 'requestTokenRows', sessionId: 1, group: 1, layer: 0, token: 5 }), requestKey(rows));
    assert.notEqual(requestKey({ type: 'requestTokenRows', sessionId: 1, group: 1, layer: 0, token: 5 }), requestKey({ type: 'requestHead', sessionId: 1, group: 1, layer: 0, head: 5 }));
  });
});

describe('attention store (webview/attentionStore.ts)', () => {
  const session = {
    sessionId: 4,
    groups: [{ name: 'self', label: 'Self-attention', kind: 'self', queries: 'source', keys: 'source', causal: false, dims: [2, 3, 2, 2] }],
  } as unknown as SessionInfo;

  function setup() {
    const posted: WebviewToHost[] = [];
    const problems: string[] = [];
    const arrivals: Arrival[] = [];
    const requests = new Requests((message) => posted.push(message));
    const store = new AttentionStore(requests, (problem) => problems.push(problem));
    store.onArrived((arrival) => arrivals.push(arrival));
    store.reset(session);
    return { posted, problems, arrivals, store, requests };
  }

  it('releases the held background requests once a reply of the session has been received and announced', async () => {
    const { posted, arrivals, store, requests } = setup();
    void requests.request({ type: 'requestRoles', sessionId: 4, group: 0 });
    store.requestHead(0, 0, 0);
    assert.deepEqual(posted.map((m) => m.type), ['requestHead']);
    store.receive(headReply(3, 0, 0, 4));
    await tick();
    assert.deepEqual(posted.map((m) => m.type), ['requestHead'], 'an older session\'s reply releases nothing');
    store.receive(headReply(4, 0, 0, 4));
    assert.equal(arrivals.length, 1, 'the head is announced (the views paint) before the roles are asked');
    assert.deepEqual(posted.map((m) => m.type), ['requestHead']);
    await tick();
    assert.deepEqual(posted.map((m) => m.type), ['requestHead', 'requestRoles']);
  });

  it('asks once, caches what arrives and announces it', async () => {
    const { posted, arrivals, store } = setup();
    store.requestHead(0, 1, 2);
    store.requestHead(0, 1, 2);
    assert.deepEqual(posted, [{ type: 'requestHead', sessionId: 4, group: 0, layer: 1, head: 2 }]);
    store.receive(headReply(4, 1, 2, 4));
    assert.deepEqual(Array.from(store.cachedHead(0, 1, 2) ?? []), [0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(arrivals.map((a) => [a.kind, a.key]), [['head', '0:1:2']]);
    store.requestHead(0, 1, 2);
    assert.equal(posted.length, 1, 'cached: not asked again');
    const rows: TokenRowsMessage = { type: 'tokenRows', sessionId: 4, group: 0, layer: 0, token: 1, data: new Float32Array(3 * 2).buffer };
    store.requestRows(0, 0, 1);
    store.receive(rows);
    assert.equal(store.cachedRows(0, 0, 1)?.length, 6);
    assert.deepEqual(arrivals.map((a) => a.kind), ['head', 'rows']);
  });

  it('reports replies of the wrong byte length, ignores other sessions and out-of-range replies', () => {
    const { problems, arrivals, store } = setup();
    store.receive(headReply(4, 0, 0, 3));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /has 12 bytes; expected 16 \(\[2, 2\] float32\)/);
    store.receive({ type: 'tokenRows', sessionId: 4, group: 0, layer: 0, token: 0, data: new ArrayBuffer(4) });
    assert.match(problems[1], /Token rows for token 0 of Self-attention have 4 bytes; expected 24/);
    store.receive(headReply(3, 0, 0, 4));
    store.receive(headReply(4, 2, 0, 4));
    store.receive({ ...headReply(4, 0, 0, 4), group: 1 });
    assert.equal(problems.length, 2);
    assert.deepEqual(arrivals, []);
    assert.equal(store.cachedHead(0, 0, 0), undefined);
  });

  it('asks for a window pooled to a size once, keyed by window, steps and encoding; caches the quantised reply; checks its shape', () => {
    const big = { sessionId: 6, groups: [{ ...session.groups[0], dims: [1, 2, 100, 90] }] } as unknown as SessionInfo;
    const posted: WebviewToHost[] = [];
    const problems: string[] = [];
    const arrivals: Arrival[] = [];
    const store = new AttentionStore(new Requests((message) => posted.push(message)), (problem) => problems.push(problem));
    store.onArrived((arrival) => arrivals.push(arrival));
    store.reset(big);
    const want = { window: { row0: 0, row1: 100, col0: 0, col1: 90 }, maxRows: 30, maxCols: 30, encoding: 'uint8' as const };
    store.requestBlock(0, 0, 1, want);
    store.requestBlock(0, 0, 1, want);
    assert.deepEqual(posted, [{ type: 'requestHead', sessionId: 6, group: 0, layer: 0, head: 1, window: want.window, maxRows: 30, maxCols: 30, encoding: 'uint8' }]);
    // ceil(100 / 30) = 4 rows and ceil(90 / 30) = 3 columns per block: 25 × 30 cells of one byte.
    const reply: HeadAttentionMessage = { type: 'headAttention', sessionId: 6, group: 0, layer: 0, head: 1, window: want.window, rows: 25, cols: 30, rowStep: 4, colStep: 3, encoding: 'uint8', data: new Uint8Array(750).fill(51).buffer };
    store.receive({ ...reply, rows: 24 });
    store.receive({ ...reply, data: new ArrayBuffer(749) });
    assert.equal(problems.length, 2);
    assert.match(problems[0], /24 × 30 cells do not match the window and steps \(25 × 30\)/);
    assert.match(problems[1], /has 749 bytes; expected 750 \(\[25, 30\] uint8\)/);
    store.receive(reply);
    const block = store.cachedBlock(0, 0, 1, want);
    assert.ok(block);
    assert.equal(block.values[0] * block.unit, 0.2);
    assert.deepEqual(arrivals.map((a) => [a.kind, a.key]), [['block', '0:0:1:r0-100:c0-90:s4x3:uint8']]);
    assert.equal(store.cachedHead(0, 0, 1), undefined, 'a pooled map is not the head');
    assert.equal(store.cachedBlock(0, 0, 1, { ...want, encoding: 'uint16' }), undefined, 'another encoding is another block');
    // A window that fits is asked for exactly (no size, no encoding); the whole map exactly is a plain requestHead.
    store.requestBlock(0, 0, 1, { window: { row0: 10, row1: 20, col0: 5, col1: 9 }, encoding: 'uint8' });
    store.requestBlock(0, 0, 0, { window: { row0: 0, row1: 100, col0: 0, col1: 90 }, maxRows: 100, maxCols: 90, encoding: 'uint8' });
    assert.deepEqual(posted.slice(1), [
      { type: 'requestHead', sessionId: 6, group: 0, layer: 0, head: 1, window: { row0: 10, row1: 20, col0: 5, col1: 9 } },
      { type: 'requestHead', sessionId: 6, group: 0, layer: 0, head: 0 },
    ]);
  });

  it('a new session empties the caches', () => {
    const { store } = setup();
    store.receive(headReply(4, 0, 0, 4));
    assert.ok(store.cachedHead(0, 0, 0));
    store.reset({ ...session, sessionId: 5 });
    assert.equal(store.cachedHead(0, 0, 0), undefined);
  });
});
