import * as assert from 'node:assert/strict';
import { HOST_TYPES, isHostMessage, parseWebviewMessage, WEBVIEW_TYPES, type HostToWebview, type WebviewToHost } from '../../src/shared/protocol';
import { answerRequest } from '../../src/shared/replies';

/** One well-formed message of every webview → host type (the Record makes a missing type a compile error). */
const WEBVIEW_SAMPLES: { [K in WebviewToHost['type']]: Extract<WebviewToHost, { type: K }> } = {
  ready: { type: 'ready' },
  requestHead: { type: 'requestHead', sessionId: 2, group: 1, layer: 0, head: -1 },
  requestTokenRows: { type: 'requestTokenRows', sessionId: 2, group: 0, layer: 1, token: 4 },
  tokenFocus: { type: 'tokenFocus', sessionId: 2, group: 0, token: 3, layer: 1, head: 0, attended: [{ token: 1, weight: 0.75 }, { token: 3, weight: 0.25 }] },
  viewChanged: { type: 'viewChanged', sessionId: 2, group: 2, layer: 1, head: 3 },
  setTarget: { type: 'setTarget', sessionId: 2, text: '2021-03-05' },
  setMerge: { type: 'setMerge', sessionId: 2, merge: 'chars' },
  requestExplain: { type: 'requestExplain', sessionId: 2, group: 0, layer: 1, head: 3, query: 4 },
  requestComparison: { type: 'requestComparison', sessionId: 2, layer: 0, head: 1, variation: { positions: false, swap: [0, 1], ablate: [{ layer: 1, head: 2 }] } },
  requestThumbnails: { type: 'requestThumbnails', sessionId: 2, group: 1, size: 32 },
  requestRoles: { type: 'requestRoles', sessionId: 2, group: 1 },
  requestAggregate: { type: 'requestAggregate', sessionId: 1, group: 0, method: 'flow' },
  export: { type: 'export', sessionId: 1, format: 'csv', name: 'attention-G0-L0-H0', content: 'a,b' },
  pinRun: { type: 'pinRun', sessionId: 2 },
  unpinRun: { type: 'unpinRun' },
  requestRunComparison: { type: 'requestRunComparison', sessionId: 2, group: 0, layer: 1, head: -1 },
  webviewError: { type: 'webviewError', message: 'boom' },
};

const HOST_SAMPLES: { [K in HostToWebview['type']]: Extract<HostToWebview, { type: K }> } = {
  busy: { type: 'busy', message: 'Running…' },
  session: { type: 'session', session: { sessionId: 1 } as never },
  headAttention: { type: 'headAttention', sessionId: 1, group: 0, layer: 0, head: 0, window: { row0: 0, row1: 4, col0: 2, col1: 6 }, rows: 2, cols: 2, rowStep: 2, colStep: 2, encoding: 'uint8', data: new ArrayBuffer(4) },
  tokenRows: { type: 'tokenRows', sessionId: 1, group: 0, layer: 0, token: 0, data: new ArrayBuffer(4) },
  focusToken: { type: 'focusToken', sessionId: 1, token: 2 },
  settings: { type: 'settings', colorScale: 'log' },
  error: { type: 'error', message: 'no' },
  explanation: { type: 'explanation', sessionId: 1, group: 0, layer: 0, head: 1, query: 2, explanation: null, error: 'no' },
  comparison: { type: 'comparison', sessionId: 1, layer: 0, head: 1, variation: { positions: false }, comparison: null, error: 'no' },
  thumbnails: { type: 'thumbnails', sessionId: 1, group: 0, size: 32, rows: 1, columns: 1, data: new ArrayBuffer(4) },
  roles: { type: 'roles', sessionId: 1, group: 0, roles: null },
  runComparison: { type: 'runComparison', sessionId: 1, group: 0, layer: 0, head: 1, comparison: null, unavailable: { reason: 'no-pin' } },
  aggregate: { type: 'aggregate', sessionId: 1, group: 0, method: 'rollout', data: new ArrayBuffer(4) },
  pinnedRun: { type: 'pinnedRun', run: { sessionId: 1, label: 'default · a.txt:1' } },
};

describe('protocol: every message type', () => {
  it('the tag tables list exactly the message types', () => {
    assert.deepEqual(Object.keys(WEBVIEW_TYPES).sort(), Object.keys(WEBVIEW_SAMPLES).sort());
    assert.deepEqual(Object.keys(HOST_TYPES).sort(), Object.keys(HOST_SAMPLES).sort());
  });

  for (const [type, message] of Object.entries(WEBVIEW_SAMPLES)) {
    it(`parses ${type} (a copy, without extra fields) and rejects it with a field missing or mistyped`, () => {
      const parsed = parseWebviewMessage({ ...message, extra: 'dropped' });
      assert.deepEqual(parsed, message);
      assert.notEqual(parsed, message);
      assert.ok(!isHostMessage(message), `${type} is not a host message`);
      for (const field of Object.keys(message).filter((key) => key !== 'type' && key !== 'message')) {
        const missing: Record<string, unknown> = { ...message };
        delete missing[field];
        assert.equal(parseWebviewMessage(missing), undefined, `${type} without ${field}`);
        assert.equal(parseWebviewMessage({ ...message, [field]: {} }), undefined, `${type} with ${field} an object`);
      }
    });
  }

  it('webviewError turns any message into a string; tokenFocus accepts token null; setTarget text null', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'webviewError', message: 42 }), { type: 'webviewError', message: '42' });
    assert.equal(parseWebviewMessage({ ...WEBVIEW_SAMPLES.tokenFocus, token: null, attended: [] })?.type, 'tokenFocus');
    assert.deepEqual(parseWebviewMessage({ type: 'setTarget', sessionId: 2, text: null }), { type: 'setTarget', sessionId: 2, text: null });
  });

  for (const [type, message] of Object.entries(HOST_SAMPLES)) {
    it(`recognises ${type} as a host message, and not as a webview message`, () => {
      assert.ok(isHostMessage(message));
      assert.equal(parseWebviewMessage(message), undefined);
    });
  }

  it('does not take inherited property names for message types', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(parseWebviewMessage({ type }), undefined, type);
      assert.ok(!isHostMessage({ type }), type);
    }
  });
});

describe('replies (src/shared/replies.ts)', () => {
  // [L=1, H=2, Tq=2, Tk=3]
  const attention = new Float32Array([0.5, 0.5, 0, 0.2, 0.3, 0.5, 0.1, 0.9, 0, 0.4, 0.4, 0.2]);
  const source = { sessionId: 3, groups: [{ attention, dims: [1, 2, 2, 3] as const }] };

  it('answers requestHead with one head or the mean, and requestTokenRows with every head\'s row', () => {
    const head = answerRequest({ type: 'requestHead', sessionId: 3, group: 0, layer: 0, head: 1 }, source);
    assert.deepEqual(
      { ...head, data: Array.from(new Float32Array(head!.data)) },
      { type: 'headAttention', sessionId: 3, group: 0, layer: 0, head: 1, window: { row0: 0, row1: 2, col0: 0, col1: 3 }, rows: 2, cols: 3, rowStep: 1, colStep: 1, encoding: 'float32', data: Array.from(attention.subarray(6, 12)) },
    );
    const mean = answerRequest({ type: 'requestHead', sessionId: 3, group: 0, layer: 0, head: -1 }, source);
    assert.deepEqual(Array.from(new Float32Array(mean!.data), (v) => Math.round(v * 100) / 100), [0.3, 0.7, 0, 0.3, 0.35, 0.35]);
    const rows = answerRequest({ type: 'requestTokenRows', sessionId: 3, group: 0, layer: 0, token: 1 }, source);
    assert.equal(rows?.type, 'tokenRows');
    assert.deepEqual(Array.from(new Float32Array(rows!.data), (v) => Math.round(v * 100) / 100), [0.2, 0.3, 0.5, 0.4, 0.4, 0.2]);
  });

  it('answers nothing for another session or a missing group', () => {
    assert.equal(answerRequest({ type: 'requestHead', sessionId: 2, group: 0, layer: 0, head: 0 }, source), undefined);
    assert.equal(answerRequest({ type: 'requestHead', sessionId: 3, group: 1, layer: 0, head: 0 }, source), undefined);
    assert.equal(answerRequest({ type: 'requestHead', sessionId: 3, group: 0, layer: 0, head: 0 }, undefined), undefined);
  });
});
