// The step and compare requests of the protocol: requestExplain / requestComparison parsing (every
// malformed field rejected, the variation checked strictly), variation keys, the request keys that
// pair replies, and the comparison payload.
import * as assert from 'node:assert/strict';
import { MAX_ABLATED_HEADS, parseVariation, parseWebviewMessage, variationKey } from '../../src/shared/protocol';
import { toComparisonPayload } from '../../src/shared/replies';
import { requestKey } from '../../webview/requests';

const EXPLAIN = { type: 'requestExplain', sessionId: 3, group: 0, layer: 1, head: 2, query: 5 } as const;
const COMPARE = { type: 'requestComparison', sessionId: 3, layer: 0, head: 1, variation: { positions: false } } as const;

describe('protocol: requestExplain and requestComparison', () => {
  it('parses a requestExplain with and without a variation, dropping unknown fields', () => {
    assert.deepEqual(parseWebviewMessage({ ...EXPLAIN, extra: 1 }), EXPLAIN);
    const variation = { positions: false, swap: [1, 0], ablate: [{ layer: 0, head: 3 }] };
    assert.deepEqual(parseWebviewMessage({ ...EXPLAIN, variation: { ...variation, extra: true } }), { ...EXPLAIN, variation });
  });

  for (const field of ['sessionId', 'group', 'layer', 'head', 'query'] as const) {
    it(`rejects requestExplain with ${field} missing, fractional, a string or (except sessionId) negative`, () => {
      const missing: Record<string, unknown> = { ...EXPLAIN };
      delete missing[field];
      assert.equal(parseWebviewMessage(missing), undefined);
      assert.equal(parseWebviewMessage({ ...EXPLAIN, [field]: 1.5 }), undefined);
      assert.equal(parseWebviewMessage({ ...EXPLAIN, [field]: '1' }), undefined);
      if (field !== 'sessionId') assert.equal(parseWebviewMessage({ ...EXPLAIN, [field]: -1 }), undefined, 'MEAN_HEAD has no steps');
    });
  }

  it('parses a requestComparison and rejects it without a variation or with one that varies nothing', () => {
    assert.deepEqual(parseWebviewMessage(COMPARE), COMPARE);
    assert.equal(parseWebviewMessage({ ...COMPARE, variation: undefined }), undefined);
    assert.equal(parseWebviewMessage({ ...COMPARE, variation: {} }), undefined);
    assert.equal(parseWebviewMessage({ ...COMPARE, variation: { positions: true } }), undefined);
    assert.equal(parseWebviewMessage({ ...COMPARE, variation: { ablate: [] } }), undefined);
    for (const field of ['sessionId', 'layer', 'head'] as const) {
      const missing: Record<string, unknown> = { ...COMPARE };
      delete missing[field];
      assert.equal(parseWebviewMessage(missing), undefined, `without ${field}`);
      assert.equal(parseWebviewMessage({ ...COMPARE, [field]: 0.5 }), undefined, `${field} fractional`);
    }
    assert.equal(parseWebviewMessage({ ...COMPARE, head: -1 }), undefined);
  });

  it('checks every field of a variation strictly', () => {
    assert.deepEqual(parseVariation({}), {});
    assert.deepEqual(parseVariation({ positions: true }), { positions: true });
    const bad: unknown[] = [
      null,
      [],
      'positions',
      { positions: 'false' },
      { positions: 0 },
      { swap: [1] },
      { swap: [1, 2, 3] },
      { swap: [2, 2] },
      { swap: [-1, 2] },
      { swap: [0.5, 2] },
      { swap: '0,1' },
      { ablate: {} },
      { ablate: [{ layer: 0 }] },
      { ablate: [{ layer: 0, head: -1 }] },
      { ablate: [{ layer: 1.5, head: 0 }] },
      { ablate: [null] },
      { ablate: Array.from({ length: MAX_ABLATED_HEADS + 1 }, (_, head) => ({ layer: 0, head })) },
    ];
    for (const variation of bad) {
      assert.equal(parseVariation(variation), undefined, JSON.stringify(variation));
      assert.equal(parseWebviewMessage({ ...EXPLAIN, variation }), undefined, `requestExplain with ${JSON.stringify(variation)}`);
      assert.equal(parseWebviewMessage({ ...COMPARE, variation }), undefined, `requestComparison with ${JSON.stringify(variation)}`);
    }
    const most = Array.from({ length: MAX_ABLATED_HEADS }, (_, head) => ({ layer: 1, head }));
    assert.equal(parseVariation({ ablate: most })?.ablate?.length, MAX_ABLATED_HEADS);
  });

  it('keys variations stably and keeps different variations apart in request keys', () => {
    assert.equal(variationKey(undefined), 'plain');
    assert.equal(variationKey({ positions: true, ablate: [] }), 'plain');
    assert.equal(variationKey({ swap: [2, 1] }), variationKey({ swap: [1, 2] }));
    assert.equal(variationKey({ ablate: [{ layer: 1, head: 0 }, { layer: 0, head: 2 }] }), variationKey({ ablate: [{ layer: 0, head: 2 }, { layer: 1, head: 0 }] }));
    const plain = requestKey(EXPLAIN);
    const noPositions = requestKey({ ...EXPLAIN, variation: { positions: false } });
    assert.notEqual(plain, noPositions);
    assert.equal(noPositions, requestKey({ sessionId: 3, group: 0, layer: 1, head: 2, query: 5, type: 'explanation', variation: { positions: false }, explanation: null }), 'a reply pairs with its request');
    assert.notEqual(requestKey(COMPARE), requestKey({ ...COMPARE, variation: { positions: false, swap: [0, 1] } }));
    assert.equal(requestKey(COMPARE), requestKey({ type: 'comparison', sessionId: 3, layer: 0, head: 1, variation: { positions: false }, comparison: null }));
  });

  it('sends a comparison with its maps as float32 ArrayBuffers of exactly T × T', () => {
    const base = new Float32Array([1, 0, 0.5, 0.5]);
    const varied = new Float32Array(8).subarray(4);
    varied.set([1, 0, 0.25, 0.75]);
    const payload = toComparisonPayload({
      variation: { positions: false }, layer: 0, head: 0, tokens: [], variedTokens: [], variedIndex: [0, 1], base, varied, maxDifference: 0.25,
      baseVariation: {}, basePredictions: [], variedPredictions: [],
    });
    assert.deepEqual([...new Float32Array(payload.base)], [...base]);
    assert.equal(payload.varied.byteLength, 16);
    assert.deepEqual([...new Float32Array(payload.varied)], [1, 0, 0.25, 0.75]);
  });
});
