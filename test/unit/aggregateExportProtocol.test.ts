// requestAggregate (rollout / flow over all layers) answered by src/shared/replies.ts with the core's
// functions, and the panel's export message validated strictly (format enum, size cap, name, PNG).
import * as assert from 'node:assert/strict';
import { attentionFlow, DEFAULT_FLOW_MAX_TOKENS } from '../../src/core/analysis/flow';
import { attentionRollout } from '../../src/core/analysis/rollout';
import { AGGREGATE_FLOW_MAX_TOKENS, MAX_EXPORT_CHARS, parseWebviewMessage } from '../../src/shared/protocol';
import { answerRequest, isHostRequest } from '../../src/shared/replies';

function uniformCausal(L: number, H: number, T: number): Float32Array {
  const a = new Float32Array(L * H * T * T);
  for (let m = 0; m < L * H; m++) for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) a[m * T * T + i * T + j] = 1 / (i + 1);
  return a;
}

describe('requestAggregate and export messages', () => {
  it('parses requestAggregate strictly and answers it with the core rollout and flow', () => {
    const request = parseWebviewMessage({ type: 'requestAggregate', sessionId: 3, group: 0, method: 'rollout', extra: 1 });
    assert.deepEqual(request, { type: 'requestAggregate', sessionId: 3, group: 0, method: 'rollout' });
    assert.equal(parseWebviewMessage({ type: 'requestAggregate', sessionId: 3, group: 0, method: 'mean' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestAggregate', sessionId: 3, group: -1, method: 'flow' }), undefined);
    assert.ok(request && isHostRequest(request));
    const T = 5;
    const attention = uniformCausal(2, 2, T);
    const source = { sessionId: 3, groups: [{ attention, dims: [2, 2, T, T] as [number, number, number, number], causal: true }] };
    const rollout = answerRequest({ type: 'requestAggregate', sessionId: 3, group: 0, method: 'rollout' }, source)!;
    assert.deepEqual(new Float32Array(rollout.data), attentionRollout(attention, [2, 2, T, T]));
    const flow = answerRequest({ type: 'requestAggregate', sessionId: 3, group: 0, method: 'flow' }, source)!;
    assert.deepEqual(new Float32Array(flow.data), attentionFlow(attention, [2, 2, T, T]));
    assert.equal(answerRequest({ type: 'requestAggregate', sessionId: 4, group: 0, method: 'flow' }, source), undefined);
    // Past the flow limit: an error, no data.
    assert.equal(AGGREGATE_FLOW_MAX_TOKENS, DEFAULT_FLOW_MAX_TOKENS);
    const big = DEFAULT_FLOW_MAX_TOKENS + 1;
    const bigSource = { sessionId: 3, groups: [{ attention: uniformCausal(1, 1, big), dims: [1, 1, big, big] as [number, number, number, number] }] };
    const refused = answerRequest({ type: 'requestAggregate', sessionId: 3, group: 0, method: 'flow' }, bigSource)!;
    assert.equal(refused.data.byteLength, 0);
    assert.match(refused.error ?? '', /limited to 48 tokens/);
  });

  it('validates export messages: format, content per format, size cap, file name, PNG signature', () => {
    const base = { type: 'export', sessionId: 1, name: 'attention-G0-L1-H2' };
    assert.deepEqual(parseWebviewMessage({ ...base, format: 'csv', content: 'a,b\r\n' }), { ...base, format: 'csv', content: 'a,b\r\n' });
    assert.ok(parseWebviewMessage({ ...base, format: 'svg', content: '<svg xmlns="http://www.w3.org/2000/svg"/>' }));
    assert.ok(parseWebviewMessage({ ...base, format: 'copyCsv', content: 'x' }));
    assert.deepEqual(parseWebviewMessage({ ...base, format: 'json' }), { ...base, format: 'json' });
    assert.ok(parseWebviewMessage({ ...base, format: 'png', base64: 'iVBORw0KGgoAAAANSUhEUg==' }));
    const bad: unknown[] = [
      { ...base, format: 'exe', content: 'x' },
      { ...base, format: 'svg', content: '<html>' },
      { ...base, format: 'csv' },
      { ...base, format: 'csv', content: '' },
      { ...base, format: 'csv', content: 'x'.repeat(MAX_EXPORT_CHARS + 1) },
      { ...base, format: 'json', content: '{}' },
      { ...base, format: 'png', base64: 'not base64!' },
      { ...base, format: 'png', base64: 'R0lGODlh' },
      { ...base, format: 'png', content: 'iVBORw0KGgo=' },
      { ...base, format: 'csv', content: 'x', name: '../../etc/passwd' },
      { ...base, format: 'csv', content: 'x', name: '.hidden' },
      { ...base, format: 'csv', content: 'x', name: 7 },
      { ...base, format: 'csv', content: 'x', sessionId: '1' },
    ];
    for (const message of bad) assert.equal(parseWebviewMessage(message), undefined, JSON.stringify(message).slice(0, 80));
  });
});
