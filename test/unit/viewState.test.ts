import * as assert from 'node:assert/strict';
import { MEAN_HEAD, type GroupInfo, type SessionInfo } from '../../src/shared/protocol';
import { activeToken, INITIAL_VIEW_STATE, moveTo, openSession, selectGroup, selectView, setPreview, togglePin, unpin, type ViewState } from '../../webview/viewState';

function group(name: GroupInfo['name'], queries: GroupInfo['queries'], keys: GroupInfo['keys'], dims: GroupInfo['dims']): GroupInfo {
  return { name, label: name, kind: name === 'cross' ? 'cross' : 'self', queries, keys, causal: false, dims };
}

const ENCODER = group('encoder', 'source', 'source', [2, 4, 6, 6]);
const DECODER = group('decoder', 'target', 'target', [3, 2, 4, 4]);
const CROSS = group('cross', 'target', 'source', [3, 2, 4, 6]);

function session(sessionId: number, groups: GroupInfo[]): SessionInfo {
  return { sessionId, groups } as unknown as SessionInfo;
}

describe('view state transitions (webview/viewState.ts)', () => {
  const state: ViewState = { group: 0, layer: 1, head: 2, pinned: 3, preview: 4 };

  it('the active token is the pinned one, else the previewed one', () => {
    assert.equal(activeToken(state), 3);
    assert.equal(activeToken({ ...state, pinned: null }), 4);
    assert.equal(activeToken(INITIAL_VIEW_STATE), null);
  });

  it('selectView changes layer and head, and returns the same state when invalid or unchanged', () => {
    assert.deepEqual(selectView(state, ENCODER, 0, MEAN_HEAD), { ...state, layer: 0, head: MEAN_HEAD });
    assert.equal(selectView(state, ENCODER, 1, 2), state);
    assert.equal(selectView(state, ENCODER, 2, 0), state, 'layer out of range');
    assert.equal(selectView(state, ENCODER, 0, 4), state, 'head out of range');
    assert.equal(selectView(state, ENCODER, 0.5, 0), state);
    assert.equal(Object.isFrozen(state) || state.layer === 1, true, 'the input is not modified');
  });

  it('selectGroup clamps the view and keeps the pin only when the queries are the same tokens', () => {
    const groups = [ENCODER, DECODER, CROSS];
    const fromDecoder: ViewState = { group: 1, layer: 2, head: 1, pinned: 2, preview: 1 };
    assert.deepEqual(selectGroup(fromDecoder, groups, 2), { group: 2, layer: 2, head: 1, pinned: 2, preview: 1 }, 'decoder → cross: same target queries');
    assert.deepEqual(selectGroup(fromDecoder, groups, 0), { group: 0, layer: 1, head: 1, pinned: null, preview: null }, 'decoder → encoder: layer clamped, pin dropped');
    assert.deepEqual(selectGroup({ ...fromDecoder, head: MEAN_HEAD }, groups, 0).head, MEAN_HEAD);
    assert.deepEqual(selectGroup({ group: 0, layer: 0, head: 3, pinned: null, preview: null }, groups, 1).head, 1, 'head clamped');
    for (const index of [1, 3, -1, 0.5]) assert.equal(selectGroup(fromDecoder, groups, index), fromDecoder, `index ${index}`);
  });

  it('openSession restores the saved state of the same session', () => {
    const s = session(7, [ENCODER, DECODER, CROSS]);
    const restored = openSession(INITIAL_VIEW_STATE, undefined, s, { sessionId: 7, group: 2, layer: 1, head: 0, pinnedToken: 3 });
    assert.deepEqual(restored, { group: 2, layer: 1, head: 0, pinned: 3, preview: null });
    const badPin = openSession(INITIAL_VIEW_STATE, undefined, s, { sessionId: 7, group: 2, layer: 1, head: 0, pinnedToken: 4 });
    assert.equal(badPin.pinned, null, 'a pin beyond the group\'s queries is dropped');
    const badView = openSession(INITIAL_VIEW_STATE, undefined, s, { sessionId: 7, group: 0, layer: 5, head: 0, pinnedToken: null });
    assert.deepEqual(badView, { group: 0, layer: 0, head: MEAN_HEAD, pinned: null, preview: null });
  });

  it('openSession of a new run keeps the previous group (by name), layer and head when it has them', () => {
    const s = session(8, [ENCODER, DECODER, CROSS]);
    const previous: ViewState = { group: 1, layer: 1, head: 1, pinned: 2, preview: 3 };
    assert.deepEqual(openSession(previous, 'cross', s, { sessionId: 7, group: 0, layer: 0, head: 0, pinnedToken: 1 }), { group: 2, layer: 1, head: 1, pinned: null, preview: null });
    assert.deepEqual(openSession(previous, 'self', s, undefined), { group: 0, layer: 1, head: 1, pinned: null, preview: null }, 'unknown group name: the first');
    assert.deepEqual(openSession({ ...previous, head: 3 }, 'decoder', s, undefined), { group: 1, layer: 0, head: MEAN_HEAD, pinned: null, preview: null }, 'head 3 of 2: back to the mean');
  });

  it('pins, unpins, previews and moves', () => {
    const none: ViewState = { group: 0, layer: 0, head: 0, pinned: null, preview: null };
    const pinned = togglePin(none, 2);
    assert.deepEqual(pinned, { ...none, pinned: 2, preview: 2 });
    assert.deepEqual(togglePin(pinned, 2), { ...none, pinned: null, preview: 2 }, 'a second click unpins');
    assert.deepEqual(togglePin(pinned, 4), { ...none, pinned: 4, preview: 4 }, 'a click elsewhere moves the pin');
    assert.deepEqual(unpin(pinned), { ...none, pinned: null, preview: 2 });
    assert.equal(unpin(none), none);
    assert.deepEqual(setPreview(none, 5), { ...none, preview: 5 });
    assert.equal(setPreview(none, null), none);
    assert.deepEqual(moveTo(none, 9, 6), { ...none, preview: 5 }, 'clamped to the last token; no pin appears');
    assert.deepEqual(moveTo(pinned, -3, 6), { ...none, pinned: 0, preview: 0 }, 'the pin moves along');
    assert.equal(moveTo(pinned, 1, 0), pinned, 'no tokens: unchanged');
    assert.deepEqual(none, { group: 0, layer: 0, head: 0, pinned: null, preview: null }, 'inputs are never modified');
  });
});
