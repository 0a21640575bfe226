import * as assert from 'node:assert/strict';
import { MAX_POOLED_CELLS, MAX_TARGET_CHARS, isHostMessage, parseWebviewMessage, toArrayBuffer, webviewMessageProblem } from '../../src/shared/protocol';
import { makeNonce, renderWebviewHtml } from '../../src/shared/webviewHtml';

describe('protocol', () => {
  it('accepts every well-formed webview message', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'requestHead', sessionId: 3, group: 2, layer: 1, head: -1 }), { type: 'requestHead', sessionId: 3, group: 2, layer: 1, head: -1 });
    const windowed = { type: 'requestHead', sessionId: 3, group: 0, layer: 1, head: 2, window: { row0: 0, row1: 4096, col0: 10, col1: 20 }, maxRows: 960, maxCols: 480, encoding: 'uint16' } as const;
    assert.deepEqual(parseWebviewMessage({ ...windowed, window: { ...windowed.window, extra: 1 }, extra: 2 }), windowed);
    assert.deepEqual(parseWebviewMessage({ type: 'requestHead', sessionId: 3, group: 0, layer: 1, head: 2, maxCols: 1 }), { type: 'requestHead', sessionId: 3, group: 0, layer: 1, head: 2, maxCols: 1 });
    assert.deepEqual(parseWebviewMessage({ type: 'requestTokenRows', sessionId: 3, group: 0, layer: 0, token: 7 }), { type: 'requestTokenRows', sessionId: 3, group: 0, layer: 0, token: 7 });
    assert.deepEqual(
      parseWebviewMessage({ type: 'tokenFocus', sessionId: 1, group: 1, token: 2, layer: 0, head: 1, attended: [{ token: 0, weight: 0.5 }] }),
      { type: 'tokenFocus', sessionId: 1, group: 1, token: 2, layer: 0, head: 1, attended: [{ token: 0, weight: 0.5 }] },
    );
    assert.deepEqual(parseWebviewMessage({ type: 'tokenFocus', sessionId: 1, group: 0, token: null, layer: 0, head: 1, attended: [] })?.type, 'tokenFocus');
    assert.deepEqual(parseWebviewMessage({ type: 'viewChanged', sessionId: 1, group: 2, layer: 1, head: 0 }), { type: 'viewChanged', sessionId: 1, group: 2, layer: 1, head: 0 });
    assert.deepEqual(parseWebviewMessage({ type: 'setTarget', sessionId: 4, text: '2021-03-05' }), { type: 'setTarget', sessionId: 4, text: '2021-03-05' });
    assert.deepEqual(parseWebviewMessage({ type: 'setTarget', sessionId: 4, text: null }), { type: 'setTarget', sessionId: 4, text: null });
    assert.deepEqual(parseWebviewMessage({ type: 'webviewError', message: 'boom' }), { type: 'webviewError', message: 'boom' });
  });

  it('rejects malformed or unknown messages instead of trusting them', () => {
    for (const raw of [
      null,
      42,
      'ready',
      {},
      { type: 'nope' },
      { type: 'requestHead', sessionId: '3', group: 0, layer: 1, head: 0 },
      { type: 'requestHead', sessionId: 3, group: 0, layer: 1.5, head: 0 },
      { type: 'requestHead', sessionId: 3, layer: 1, head: 0 },
      { type: 'requestTokenRows', sessionId: 3, group: 0, layer: 0 },
      { type: 'tokenFocus', sessionId: 1, group: 0, token: 'x', layer: 0, head: 0, attended: [] },
      { type: 'tokenFocus', sessionId: 1, group: 0, token: 1, layer: 0, head: 0, attended: [{ token: 1 }] },
      { type: 'tokenFocus', sessionId: 1, token: 1, layer: 0, head: 0, attended: [] },
      { type: 'setTarget', sessionId: 1 },
      { type: 'setTarget', sessionId: 1, text: 42 },
      { type: 'setTarget', sessionId: 1, text: 'x'.repeat(MAX_TARGET_CHARS + 1) },
      { type: 'session' },
    ]) {
      assert.equal(parseWebviewMessage(raw), undefined, JSON.stringify(raw));
    }
  });

  it('rejects requestHead windows, sizes and encodings that are not well formed, saying why', () => {
    const base = { type: 'requestHead', sessionId: 3, group: 0, layer: 1, head: 0 };
    const window = { row0: 2, row1: 6, col0: 0, col1: 4 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, window: { ...window, row0: -1 } }, /window\.row0 must not be negative \(-1\)/],
      [{ ...base, window: { ...window, col1: -4 } }, /window\.col1 must not be negative/],
      [{ ...base, window: { ...window, row1: 2 } }, /window rows 2\.\.2 are empty: row0 must be below row1/],
      [{ ...base, window: { ...window, col0: 5 } }, /window columns 5\.\.4 are empty: col0 must be below col1/],
      [{ ...base, window: { ...window, row1: 6.5 } }, /window\.row1 must be an integer, not 6\.5/],
      [{ ...base, window: { ...window, col0: '0' } }, /window\.col0 must be an integer, not "0"/],
      [{ ...base, window: { row0: 0, row1: 1, col0: 0 } }, /window\.col1 must be an integer/],
      [{ ...base, window: [0, 1, 0, 1] }, /window must be an object/],
      [{ ...base, window: null }, /window must be an object/],
      [{ ...base, maxRows: 0 }, /maxRows must be an integer in 1\.\.16384, not 0/],
      [{ ...base, maxCols: 1.5 }, /maxCols must be an integer in 1\.\.16384, not 1\.5/],
      [{ ...base, maxCols: MAX_POOLED_CELLS + 1 }, /maxCols must be an integer in 1\.\.16384/],
      [{ ...base, encoding: 'float16' }, /encoding must be one of float32, uint16, uint8, not "float16"/],
    ];
    for (const [raw, reason] of cases) {
      assert.equal(parseWebviewMessage(raw), undefined, JSON.stringify(raw));
      assert.match(webviewMessageProblem(raw), reason, JSON.stringify(raw));
    }
    assert.match(webviewMessageProblem({ type: 'nope' }), /unknown type "nope"/);
    assert.match(webviewMessageProblem({ type: 'requestTokenRows' }), /malformed requestTokenRows/);
  });

  it('recognises host messages by type', () => {
    assert.ok(isHostMessage({ type: 'headAttention' }));
    assert.ok(!isHostMessage({ type: 'requestHead' }));
    assert.ok(!isHostMessage(undefined));
  });

  it('toArrayBuffer copies exactly the viewed floats', () => {
    const big = new Float32Array([1, 2, 3, 4, 5]);
    const buffer = toArrayBuffer(big.subarray(1, 3));
    assert.equal(buffer.byteLength, 8);
    assert.deepEqual(Array.from(new Float32Array(buffer)), [2, 3]);
  });
});

describe('webview HTML', () => {
  it('allows scripts only with the nonce and loads nothing from elsewhere', () => {
    const nonce = makeNonce(() => 7);
    assert.equal(nonce.length, 32);
    const html = renderWebviewHtml({ cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x/dist/webview.js', styleUri: 'https://x/media/webview.css', nonce });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.ok(scripts.length > 0 && scripts.every((tag) => tag.includes(`nonce="${nonce}"`)));
  });
});
