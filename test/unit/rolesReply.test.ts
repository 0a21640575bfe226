// The host's reply to requestRoles (src/shared/replies.ts): every head's role scores on the current
// text, the same numbers as the core's headRoles; null for cross-attention or a group without token
// ids; dropped for another session; the message parsed and validated like every other request.
import * as assert from 'node:assert/strict';
import { headRoles } from '../../src/core/analysis/headRoles';
import type { AttentionResult, TokenSpan } from '../../src/core/types';
import { parseWebviewMessage } from '../../src/shared/protocol';
import { answerRequest, isHostRequest } from '../../src/shared/replies';

/** [1, 2, T, T]: head 0 looks one back (the first token at itself), head 1 at the first token. */
function attentionOf(T: number): Float32Array {
  const a = new Float32Array(2 * T * T);
  for (let t = 0; t < T; t++) {
    a[t * T + Math.max(0, t - 1)] = 1;
    a[(T + t) * T] = 1;
  }
  return a;
}

describe('requestRoles → roles (src/shared/replies.ts)', () => {
  const ids = [5, 6, 7, 5, 6, 7];
  const T = ids.length;
  const attention = attentionOf(T);
  const dims: [number, number, number, number] = [1, 2, T, T];

  it('answers the scores headRoles computes, per head, for a self-attention group with token ids', () => {
    const reply = answerRequest({ type: 'requestRoles', sessionId: 4, group: 0 }, { sessionId: 4, groups: [{ attention, dims, causal: true, tokenIds: ids }] });
    assert.ok(reply && reply.type === 'roles' && reply.roles);
    assert.equal(reply.sessionId, 4);
    assert.equal(reply.group, 0);
    assert.equal(reply.roles.length, 2);
    const [previous, first] = reply.roles;
    assert.deepEqual([previous.layer, previous.head, first.layer, first.head], [0, 0, 0, 1]);
    assert.equal(previous.previousToken, 1);
    assert.equal(first.firstToken, 1);
    // The text repeats (5 6 7 5 6 7): a one-back head puts nothing on the same token; the induction score is defined.
    assert.equal(previous.sameToken, 0);
    assert.notEqual(previous.induction, null);
    const tokens: TokenSpan[] = ids.map((id, t) => ({ id, text: `t${id}`, start: t, end: t + 1 }));
    const result = {
      tokens,
      groups: [{ name: 'self', label: 'Self-attention', kind: 'masked-self', queries: 'source', keys: 'source', dims, attention, causal: true }],
    } as unknown as AttentionResult;
    assert.deepEqual(reply.roles, headRoles(result, 0));
  });

  it('roles: null without token ids (cross-attention), for a single token, or for a non-square map; undefined for another session or group', () => {
    const cross = answerRequest({ type: 'requestRoles', sessionId: 4, group: 0 }, { sessionId: 4, groups: [{ attention, dims }] });
    assert.deepEqual(cross, { type: 'roles', sessionId: 4, group: 0, roles: null });
    const one = answerRequest({ type: 'requestRoles', sessionId: 4, group: 0 }, { sessionId: 4, groups: [{ attention: new Float32Array(2), dims: [1, 2, 1, 1], tokenIds: [3] }] });
    assert.equal(one?.roles, null);
    const wide = answerRequest({ type: 'requestRoles', sessionId: 4, group: 0 }, { sessionId: 4, groups: [{ attention: new Float32Array(2 * 2 * 3), dims: [1, 2, 2, 3], tokenIds: [3, 4] }] });
    assert.equal(wide?.roles, null);
    assert.equal(answerRequest({ type: 'requestRoles', sessionId: 3, group: 0 }, { sessionId: 4, groups: [{ attention, dims, tokenIds: ids }] }), undefined);
    assert.equal(answerRequest({ type: 'requestRoles', sessionId: 4, group: 1 }, { sessionId: 4, groups: [{ attention, dims, tokenIds: ids }] }), undefined);
  });

  it('the request is parsed strictly and is one the attention replies answer', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'requestRoles', sessionId: 2, group: 1, extra: true }), { type: 'requestRoles', sessionId: 2, group: 1 });
    assert.equal(parseWebviewMessage({ type: 'requestRoles', sessionId: 2, group: -1 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestRoles', sessionId: '2', group: 0 }), undefined);
    assert.ok(isHostRequest({ type: 'requestRoles' }));
  });
});
