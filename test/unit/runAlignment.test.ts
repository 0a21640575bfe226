// Comparing a pinned run with the current one (src/shared/runAlignment.ts): the alignment rule
// (identical token texts in order → by token; otherwise by position over the shorter run), the
// difference (checked against one computed here cell by cell), the reply to requestRunComparison
// and the parsing of pinRun / unpinRun / requestRunComparison.
import * as assert from 'node:assert/strict';
import { MEAN_HEAD, parseWebviewMessage } from '../../src/shared/protocol';
import { alignRuns, alignedDifference, answerRunComparison, cropMap, type ComparableGroup, type ComparableRun } from '../../src/shared/runAlignment';

function selfGroup(name: string, tokens: string[], layers: number, heads: number, seed: number): ComparableGroup {
  const T = tokens.length;
  const attention = new Float32Array(layers * heads * T * T);
  for (let i = 0; i < attention.length; i++) attention[i] = ((i * 7919 + seed * 104729) % 1000) / 1000;
  return { name, self: true, tokens, attention, dims: [layers, heads, T, T] };
}

function run(sessionId: number, tokens: string[], layers: number, heads: number, seed: number): ComparableRun {
  return { sessionId, label: `model · run ${sessionId}`, groups: [selfGroup('self', tokens, layers, heads, seed)] };
}

function head(r: ComparableRun, layer: number, h: number, group = 0): number[] {
  const { dims, attention } = r.groups[group];
  const [, H, T] = dims;
  const start = (layer * H + h) * T * T;
  return Array.from(attention.subarray(start, start + T * T));
}

describe('runAlignment', () => {
  it('aligns identical token sequences by token, all of them', () => {
    assert.deepEqual(alignRuns(['The', ' cat', ' sat'], ['The', ' cat', ' sat']), { rule: 'token', count: 3 });
  });

  it('aligns different sequences by position over the shorter one', () => {
    assert.deepEqual(alignRuns(['The', ' cat', ' sat'], ['A', ' dog']), { rule: 'position', count: 2 });
    assert.deepEqual(alignRuns(['a', 'b'], ['a', 'c']), { rule: 'position', count: 2 });
    // Same texts but one more token: not the same sequence.
    assert.deepEqual(alignRuns(['a', 'b'], ['a', 'b', 'c']), { rule: 'position', count: 2 });
  });

  it('computes current − pinned over the first N tokens of each', () => {
    const pinned = Float32Array.from({ length: 9 }, (_, i) => i / 10);
    const current = Float32Array.from({ length: 16 }, (_, i) => (i % 5) / 7);
    const { difference, maxAbs } = alignedDifference(pinned, 3, current, 4, 3);
    let expectedMax = 0;
    for (let t = 0; t < 3; t++) {
      for (let s = 0; s < 3; s++) {
        const expected = current[t * 4 + s] - pinned[t * 3 + s];
        assert.ok(Math.abs(difference[t * 3 + s] - expected) < 1e-6, `cell ${t},${s}`);
        expectedMax = Math.max(expectedMax, Math.abs(expected));
      }
    }
    assert.ok(Math.abs(maxAbs - expectedMax) < 1e-6);
    assert.deepEqual(Array.from(cropMap(current, 4, 2)), [current[0], current[1], current[4], current[5]]);
  });

  it('answers with both full maps of the same layer and head, and the alignment', () => {
    const pinned = run(1, ['The', ' cat', ' sat'], 2, 3, 1);
    const current = run(4, ['A', ' dog', ' ran', ' off'], 2, 3, 2);
    const reply = answerRunComparison({ type: 'requestRunComparison', sessionId: 4, group: 0, layer: 1, head: 2 }, pinned, current);
    assert.ok(reply?.comparison);
    assert.deepEqual(reply.comparison.alignment, { rule: 'position', count: 3 });
    assert.deepEqual(Array.from(new Float32Array(reply.comparison.pinned.map)), head(pinned, 1, 2));
    assert.deepEqual(Array.from(new Float32Array(reply.comparison.current.map)), head(current, 1, 2));
    assert.deepEqual(reply.comparison.current.tokens, current.groups[0].tokens);
    assert.equal(reply.comparison.pinned.label, 'model · run 1');
    const same = answerRunComparison({ type: 'requestRunComparison', sessionId: 4, group: 0, layer: 0, head: MEAN_HEAD }, run(1, [...current.groups[0].tokens], 2, 3, 5), current);
    assert.deepEqual(same?.comparison?.alignment, { rule: 'token', count: 4 });
  });

  it('says why when there is no pinned run or its model lacks the head; drops other sessions', () => {
    const current = run(4, ['a', 'b'], 2, 3, 2);
    assert.deepEqual(answerRunComparison({ type: 'requestRunComparison', sessionId: 4, group: 0, layer: 0, head: 0 }, undefined, current)?.unavailable, { reason: 'no-pin' });
    const small = run(1, ['a', 'b'], 1, 2, 1);
    const reply = answerRunComparison({ type: 'requestRunComparison', sessionId: 4, group: 0, layer: 1, head: 2 }, small, current);
    assert.equal(reply?.comparison, null);
    assert.deepEqual(reply?.unavailable, { reason: 'missing-head', layers: 1, heads: 2 });
    assert.equal(answerRunComparison({ type: 'requestRunComparison', sessionId: 3, group: 0, layer: 0, head: 0 }, small, current), undefined);
  });

  it('parses pinRun, unpinRun and requestRunComparison, rejecting malformed ones', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'pinRun', sessionId: 3, extra: 1 }), { type: 'pinRun', sessionId: 3 });
    assert.deepEqual(parseWebviewMessage({ type: 'unpinRun' }), { type: 'unpinRun' });
    assert.deepEqual(parseWebviewMessage({ type: 'requestRunComparison', sessionId: 3, group: 1, layer: 1, head: -1 }), { type: 'requestRunComparison', sessionId: 3, group: 1, layer: 1, head: -1 });
    assert.equal(parseWebviewMessage({ type: 'requestRunComparison', sessionId: 3, layer: 1, head: -1 }), undefined, 'the group is required');
    assert.equal(parseWebviewMessage({ type: 'pinRun', sessionId: '3' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestRunComparison', sessionId: 3, group: 0, layer: -1, head: 0 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'requestRunComparison', sessionId: 3, group: 0, layer: 0, head: -2 }), undefined);
  });
  it('compares the same group by name (the decoder of an encoder–decoder with the pinned decoder), pairs "self" with either, refuses cross-attention', () => {
    const encoderDecoder = (sessionId: number, seed: number): ComparableRun => ({
      sessionId,
      label: `t5 · run ${sessionId}`,
      groups: [
        selfGroup('encoder', ['a', 'b', 'c'], 2, 2, seed),
        selfGroup('decoder', ['<pad>', 'x', 'y', 'z'], 2, 2, seed + 1),
        { name: 'cross', self: false, tokens: ['<pad>', 'x', 'y', 'z'], attention: new Float32Array(2 * 2 * 4 * 3), dims: [2, 2, 4, 3] },
      ],
    });
    const pinned = encoderDecoder(1, 3);
    const current = encoderDecoder(2, 7);
    const decoder = answerRunComparison({ type: 'requestRunComparison', sessionId: 2, group: 1, layer: 1, head: 0 }, pinned, current);
    assert.deepEqual(decoder?.comparison?.pinned.tokens, ['<pad>', 'x', 'y', 'z']);
    assert.deepEqual(Array.from(new Float32Array(decoder!.comparison!.pinned.map)), head(pinned, 1, 0, 1));
    assert.deepEqual(Array.from(new Float32Array(decoder!.comparison!.current.map)), head(current, 1, 0, 1));
    assert.equal(decoder?.group, 1);
    assert.deepEqual(answerRunComparison({ type: 'requestRunComparison', sessionId: 2, group: 2, layer: 0, head: 0 }, pinned, current)?.unavailable, { reason: 'cross' });
    // A decoder-only run pinned ("self") pairs with the decoder; an encoder–decoder pinned against a "self" run picks its first self group.
    const gpt = run(1, ['x', 'y'], 2, 2, 9);
    assert.deepEqual(answerRunComparison({ type: 'requestRunComparison', sessionId: 2, group: 1, layer: 0, head: 0 }, gpt, current)?.comparison?.pinned.tokens, ['x', 'y']);
    const onlyCross: ComparableRun = { sessionId: 1, label: 'x', groups: [current.groups[2]] };
    assert.deepEqual(answerRunComparison({ type: 'requestRunComparison', sessionId: 2, group: 0, layer: 0, head: 0 }, onlyCross, current)?.unavailable, { reason: 'missing-group', name: 'encoder' });
  });
});
