// The heatmap's first request of a run is answered ahead (src/shared/overviewPrefetch.ts): once the
// panel has asked for a pooled overview, the next run's session makes the host answer the same
// overview at once. The webview's request must then get that reply — equal to the naive max-pool of
// the new run's map (test/support/naivePooling.ts) and computed once — and every other request must
// be answered as before.
import * as assert from 'node:assert/strict';
import { answerAttentionQuery, type AttentionQuery, type HeldGroup } from '../../src/core/attentionQueries';
import { decodeCells, MEAN_OF_HEADS } from '../../src/core/attentionWindow';
import type { HeldAttention } from '../../src/core/heldAttention';
import { OverviewPrefetch } from '../../src/shared/overviewPrefetch';
import { MEAN_HEAD, type HeadAttentionMessage, type RequestHeadMessage } from '../../src/shared/protocol';
import type { HeldSource } from '../../src/shared/replies';
import { naiveMaxPool } from '../support/naivePooling';
import { randomCausalAttention } from '../support/randomAttention';

type Dims = [number, number, number, number];

/** A later turn of the event loop: a zero-delay timer set before this one has run (timers of equal delay fire in order). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A run held in process whose queries are counted. */
function countedSource(sessionId: number, dims: Dims, seed: number): { source: HeldSource; queries: AttentionQuery[]; group: HeldGroup } {
  const group: HeldGroup = { attention: randomCausalAttention(dims, seed), dims, causal: true };
  const queries: AttentionQuery[] = [];
  const attention: HeldAttention = {
    query: async (query) => {
      queries.push(query);
      return answerAttentionQuery(query, [group]);
    },
    materialize: () => Promise.reject(new Error('not here')),
    release: () => undefined,
  };
  return { source: { sessionId, attention }, queries, group };
}

function overviewRequest(sessionId: number, T: number, layer: number, head: number, max: number): RequestHeadMessage {
  return { type: 'requestHead', sessionId, group: 0, layer, head, window: { row0: 0, row1: T, col0: 0, col1: T }, maxRows: max, maxCols: max, encoding: 'float32' };
}

/** The reply's cells against a naive max-pool (float64 sums for the mean) of the run's map. */
function assertOverviewOf(reply: HeadAttentionMessage, group: HeldGroup, layer: number, head: number, step: number): void {
  const [, , T] = group.dims;
  const expected = naiveMaxPool(group.attention, group.dims, layer, head === MEAN_HEAD ? MEAN_OF_HEADS : head, { row0: 0, row1: T, col0: 0, col1: T }, step, step);
  const { values } = decodeCells(reply.data, reply.encoding);
  assert.deepEqual([reply.rows, reply.cols, reply.rowStep], [expected.length, expected[0].length, step]);
  for (let i = 0; i < reply.rows; i++) {
    for (let j = 0; j < reply.cols; j++) assert.ok(Math.abs(values[i * reply.cols + j] - expected[i][j]) <= 1e-6, `cell ${i},${j}`);
  }
}

describe('the heatmap overview answered ahead (OverviewPrefetch)', () => {
  it('after an overview of one run, the next run’s same overview is answered once, ahead, and equals the naive pooled map', async () => {
    const prefetch = new OverviewPrefetch();
    const first = countedSource(1, [2, 3, 40, 40], 1);
    const firstReply = await prefetch.answer(overviewRequest(1, 40, 1, MEAN_HEAD, 8), first.source, [first.group.dims]);
    assertOverviewOf(firstReply as HeadAttentionMessage, first.group, 1, MEAN_HEAD, 5);

    const second = countedSource(2, [2, 3, 57, 57], 2);
    prefetch.prefetch(second.source, [second.group.dims]);
    assert.equal(second.queries.length, 1, 'the overview was asked for as soon as the session went out');
    assert.deepEqual(second.queries[0], { kind: 'head', group: 0, layer: 1, head: 'mean', shape: { window: { row0: 0, row1: 57, col0: 0, col1: 57 }, maxRows: 8, maxCols: 8, encoding: 'float32' } });

    const reply = (await prefetch.answer(overviewRequest(2, 57, 1, MEAN_HEAD, 8), second.source, [second.group.dims])) as HeadAttentionMessage;
    assert.equal(second.queries.length, 1, 'the webview’s request took the reply answered ahead');
    assert.equal(reply.sessionId, 2);
    assertOverviewOf(reply, second.group, 1, MEAN_HEAD, 8);

    // Asked again (the webview's cache evicted it): answered afresh, equal.
    const again = (await prefetch.answer(overviewRequest(2, 57, 1, MEAN_HEAD, 8), second.source, [second.group.dims])) as HeadAttentionMessage;
    assert.equal(second.queries.length, 2);
    assert.deepEqual(new Float32Array(again.data), new Float32Array(reply.data));
  });

  it('after an overview, the heads ] and [ step to are answered ahead, once the reply has gone; ] then costs no query', async () => {
    const prefetch = new OverviewPrefetch();
    const run = countedSource(1, [2, 3, 40, 40], 10);
    const dims = [run.group.dims];
    await prefetch.answer(overviewRequest(1, 40, 1, MEAN_HEAD, 8), run.source, dims);
    assert.equal(run.queries.length, 1, 'nothing ahead before the reply has gone');
    await turn();
    const heads = (from: number) => run.queries.slice(from).map((query) => query.kind === 'head' && query.head);
    assert.deepEqual(heads(1), [0, 2], 'mean → head 0 (]) and head 2 ([), as the panel steps');
    const next = (await prefetch.answer(overviewRequest(1, 40, 1, 0, 8), run.source, dims)) as HeadAttentionMessage;
    assert.equal(run.queries.length, 3, '] took the reply answered ahead');
    assertOverviewOf(next, run.group, 1, 0, 5);
    await turn();
    // From head 0: head 1 is new, the mean is asked again (its reply was taken), head 2 is dropped.
    assert.deepEqual(heads(3), [1, 'mean']);
    // A head that is no neighbour is answered when asked; a zoomed window starts no guesses.
    await prefetch.answer(overviewRequest(1, 40, 0, 2, 8), run.source, dims);
    assert.equal(run.queries.length, 6);
    await turn();
    const before = run.queries.length;
    await prefetch.answer({ ...overviewRequest(1, 40, 0, 1, 8), window: { row0: 0, row1: 10, col0: 0, col1: 40 } }, run.source, dims);
    await turn();
    assert.equal(run.queries.length, before + 1);
  });

  it('a different first request is answered as usual, and the guess follows the last overview asked for', async () => {
    const prefetch = new OverviewPrefetch();
    const first = countedSource(1, [2, 3, 40, 40], 3);
    await prefetch.answer(overviewRequest(1, 40, 0, MEAN_HEAD, 8), first.source, [first.group.dims]);
    await prefetch.answer(overviewRequest(1, 40, 0, 2, 8), first.source, [first.group.dims]); // the user picked head 2
    // A window (zoom) or a few exact rows are not overviews: they do not change the guess.
    await prefetch.answer({ ...overviewRequest(1, 40, 1, 1, 8), window: { row0: 0, row1: 10, col0: 0, col1: 40 } }, first.source, [first.group.dims]);
    await prefetch.answer({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: 0, window: { row0: 3, row1: 4, col0: 0, col1: 40 } }, first.source, [first.group.dims]);

    const second = countedSource(2, [2, 3, 40, 40], 4);
    prefetch.prefetch(second.source, [second.group.dims]);
    assert.deepEqual(second.queries.map((query) => query.kind === 'head' && [query.layer, query.head]), [[0, 2]]);
    const other = (await prefetch.answer(overviewRequest(2, 40, 1, 0, 8), second.source, [second.group.dims])) as HeadAttentionMessage;
    assert.equal(second.queries.length, 2, 'another head: answered when asked');
    assertOverviewOf(other, second.group, 1, 0, 5);
  });

  it('before any overview, a large run gets the layer mean of the last mean shown computed ahead (cached), and answers equal', async () => {
    const prefetch = new OverviewPrefetch();
    const small = countedSource(1, [2, 2, 12, 12], 7);
    await prefetch.answer({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: MEAN_HEAD }, small.source, [small.group.dims]); // whole and exact: no size known
    const large = countedSource(2, [2, 2, 260, 260], 8);
    prefetch.prefetch(large.source, [large.group.dims]);
    assert.deepEqual(large.queries, [{ kind: 'prepareLayerMean', group: 0, layer: 1 }]);
    // Zero the layer's heads: an answer that still equals the original was read from the mean computed ahead.
    const original: HeldGroup = { ...large.group, attention: large.group.attention.slice() };
    large.group.attention.fill(0, 260 * 260 * 2, 260 * 260 * 4);
    const reply = (await prefetch.answer(overviewRequest(2, 260, 1, MEAN_HEAD, 50), large.source, [large.group.dims])) as HeadAttentionMessage;
    assertOverviewOf(reply, original, 1, MEAN_HEAD, 6);
    // A single head shown last: nothing to prepare.
    const other = countedSource(3, [2, 2, 260, 260], 9);
    const fresh = new OverviewPrefetch();
    await fresh.answer({ type: 'requestHead', sessionId: 1, group: 0, layer: 1, head: 0 }, small.source, [small.group.dims]);
    fresh.prefetch(other.source, [other.group.dims]);
    assert.deepEqual(other.queries, []);
  });

  it('guesses nothing for a run without that layer or head, or whose map is not pooled; a stale session gets no reply', async () => {
    const prefetch = new OverviewPrefetch();
    const first = countedSource(1, [3, 4, 40, 40], 5);
    await prefetch.answer(overviewRequest(1, 40, 2, 3, 8), first.source, [first.group.dims]);
    for (const [sessionId, dims] of [[2, [2, 4, 40, 40]], [3, [3, 2, 40, 40]], [4, [3, 4, 8, 8]]] as [number, Dims][]) {
      const run = countedSource(sessionId, dims, sessionId);
      prefetch.prefetch(run.source, [dims]);
      assert.equal(run.queries.length, 0, `nothing asked of a ${dims.join('×')} run`);
    }
    const run = countedSource(5, [3, 4, 40, 40], 6);
    prefetch.prefetch(run.source, [run.group.dims]);
    assert.equal(run.queries.length, 1);
    assert.equal(await prefetch.answer(overviewRequest(4, 40, 2, 3, 8), run.source, [run.group.dims]), undefined, 'a request about an older session');
  });
});
