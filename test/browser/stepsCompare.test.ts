// The panel's Steps view and its "Positions & what if" (Compare) view in headless Chromium, with
// the test playing the host: it answers requestExplain with an explanation whose weights are the
// fixture's attention row, and requestComparison with maps it builds here; then it reads what the
// user sees (cell values, statements, canvas values and pixels) and takes screenshots into
// test-results/webview-steps-*.png and webview-compare-*.png.

import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { HeadExplanation } from '../../src/core/explain/types';
import type { ComparisonPayload, RequestComparisonMessage, RequestExplainMessage } from '../../src/shared/protocol';
import { buildFixture, headMatrix, type Fixture } from './attentionFixture';
import { LIGHT_THEME, HIGH_CONTRAST_THEME } from './harness';
import { frames, is, painted, SCREENSHOTS, usePanelBrowser } from './panelSupport';
import { seeded } from './stepViewFixtures';

const TEXT = 'The cat sat on the mat because it was tired';

function fixture(): Fixture {
  return buildFixture({ sessionId: 11, text: TEXT, layers: 2, heads: 4, causal: true, seed: 77 });
}

/** The 我爱你 worked example: three one-character tokens. */
function chineseFixture(): Fixture {
  const data = buildFixture({ sessionId: 12, text: 'x y z', layers: 1, heads: 2, causal: true, seed: 5 });
  const tokens = ['我', '爱', '你'].map((text, index) => ({ id: 1000 + index, text, start: index, end: index + 1 }));
  data.session = { ...data.session, text: '我爱你', tokens, predictions: [{ token: '。', probability: 0.4 }] };
  return data;
}

/** An explanation of (layer, head, query) consistent with the fixture: its weights are the attention row, scores recomputed from them. */
function explanationFor(data: Fixture, request: RequestExplainMessage): HeadExplanation {
  const T = data.session.tokens.length;
  const row = Array.from(headMatrix(data, request.layer, request.head).subarray(request.query * T, request.query * T + T));
  const random = seeded(request.query * 31 + request.head);
  const dK = 4;
  const scale = 1 / Math.sqrt(dK);
  const masked = row.map((_, j) => j > request.query);
  const scaled = row.map((w, j) => (masked[j] ? null : Math.log(Math.max(w, 1e-30))));
  const vector = () => Array.from({ length: dK }, () => random());
  return {
    model: { name: 'tiny-gpt2', kind: 'decoder', layers: 2, heads: 4, dModel: 16, vocabSize: 512, maxPositions: 1024, backend: 'builtin' },
    tokens: data.session.tokens,
    group: request.group,
    layer: request.layer,
    head: request.head,
    query: { index: request.query, text: data.session.tokens[request.query].text },
    dK,
    scale,
    causal: true,
    keys: data.session.tokens.map((token, index) => ({ index, text: token.text })),
    q: vector(),
    k: row.map(vector),
    v: row.map(vector),
    scores: scaled.map((s) => (s === null ? 0 : s / scale)),
    bias: null,
    scaled,
    masked,
    weights: row,
    output: vector(),
    headWrite: null,
    headWrites: null,
    attentionBias: null,
    attentionOutput: null,
    residual: null,
    logitLens: null,
    unavailable: ['headWrites', 'residual', 'logitLens'],
    unavailableReason: 'a test fixture',
    positions: request.variation?.positions !== false,
    ablated: request.variation?.ablate ?? [],
  };
}

/** Base = the fixture's head; varied = each row's weights reversed over its visible keys (a clear, known change). */
function comparisonFor(data: Fixture, request: RequestComparisonMessage, permutation?: ComparisonPayload['permutation']): ComparisonPayload {
  const T = data.session.tokens.length;
  const base = headMatrix(data, request.layer, request.head).slice();
  const varied = new Float32Array(T * T);
  for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) varied[t * T + s] = base[t * T + (t - s)];
  let maxDifference = 0;
  for (let i = 0; i < T * T; i++) maxDifference = Math.max(maxDifference, Math.abs(varied[i] - base[i]));
  const identity = data.session.tokens.map((_, i) => i);
  return {
    variation: request.variation,
    layer: request.layer,
    head: request.head,
    tokens: data.session.tokens,
    variedTokens: data.session.tokens,
    variedIndex: identity,
    base: base.buffer as ArrayBuffer,
    varied: varied.buffer as ArrayBuffer,
    maxDifference,
    baseVariation: {},
    ...(permutation ? { permutation } : {}),
    basePredictions: [{ id: 1, token: ' dog', probability: 0.3 }],
    variedPredictions: [{ id: 2, token: ' cat', probability: 0.2 }],
  };
}

async function pickHead(page: Page, layer: number, head: number): Promise<void> {
  await page.click(`.head-option[data-layer="${layer}"][data-head="${head}"]`);
  await painted(page, layer, head);
}

async function canvasValues(page: Page, map: string): Promise<number[]> {
  const text = await page.getAttribute(`[data-view="compare"] canvas[data-map="${map}"]`, 'data-values');
  assert.ok(text, `the ${map} map carries its values`);
  return text.split(',').map(Number);
}

/** The colour at the centre of cell (t, s) of a compare map. */
async function mapPixel(page: Page, map: string, t: number, s: number): Promise<[number, number, number]> {
  return page.evaluate(
    ({ map, t, s }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-view="compare"] canvas[data-map="${map}"]`)!;
      const cell = Number(canvas.dataset.cell);
      const ratio = canvas.width / canvas.clientWidth;
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const context = copy.getContext('2d', { willReadFrequently: true })!;
      context.drawImage(canvas, 0, 0);
      const pixel = context.getImageData(Math.floor((s + 0.5) * cell * ratio), Math.floor((t + 0.5) * cell * ratio), 1, 1).data;
      return [pixel[0], pixel[1], pixel[2]] as [number, number, number];
    },
    { map, t, s },
  );
}

describe('Steps and Positions & what if views in headless Chromium', function () {
  this.timeout(60000);
  const openPanel = usePanelBrowser();

  it('shows the steps of the pinned token for the chosen head, says which backend computed them, and is keyboard reachable', async () => {
    const data = fixture();
    const { page, host } = await openPanel({ fixture: data });
    host.explain = (request) => ({ explanation: explanationFor(data, request) });
    // The mean of the heads has no steps.
    await page.click('.token[data-index="6"]');
    assert.match((await page.textContent('[data-view="steps"] [data-role="steps-status"]')) ?? '', /average of the heads is a summary/);
    assert.equal(host.received.filter((m) => m.type === 'requestExplain').length, 0, 'nothing is asked for the mean');

    const since = host.mark();
    await pickHead(page, 1, 2);
    const request = await host.waitFor(is('requestExplain', { layer: 1, head: 2, query: 6 }), 'requestExplain for the pinned token', since);
    assert.equal(request.variation, undefined, 'the plain run');
    await page.waitForSelector('[data-view="steps"] [data-row="weights"] td[data-key]');
    const expected = explanationFor(data, request);
    const cells = await page.$$eval('[data-view="steps"] [data-row="weights"] td[data-key]', (tds) => tds.map((td) => [Number((td as HTMLElement).dataset.key), Number((td as HTMLElement).dataset.value)]));
    assert.ok(cells.length >= 7, `the weights row shows the keys (${cells.length})`);
    for (const [key, value] of cells) assert.ok(Math.abs(value - expected.weights[key]) < 1e-9, `weight of key ${key}: ${value} vs ${expected.weights[key]}`);
    assert.equal((await page.textContent('[data-view="steps"] .sv-title .sv-token'))?.trim(), '·because', 'the query is the pinned token');
    assert.match((await page.textContent('[data-view="steps"] [data-role="steps-backend"]')) ?? '', /built-in GPT-2 block/);

    // Keyboard: from the token strip, Tab reaches the Steps view; Tab again moves to its next row.
    await page.focus('.token[data-index="6"]');
    let inside = false;
    for (let i = 0; i < 80 && !inside; i++) {
      await page.keyboard.press('Tab');
      inside = await page.evaluate(() => !!document.activeElement?.closest('[data-view="steps"]'));
    }
    assert.ok(inside, 'Tab reaches the Steps view');
    const firstRow = await page.evaluate(() => document.activeElement?.closest('[data-row]')?.getAttribute('data-row'));
    await page.keyboard.press('Tab');
    const secondRow = await page.evaluate(() => document.activeElement?.closest('[data-row]')?.getAttribute('data-row'));
    assert.ok(firstRow && secondRow && firstRow !== secondRow, `Tab moves row to row inside the view (${firstRow} → ${secondRow})`);
    await page.keyboard.press('ArrowRight');
    assert.ok(await page.evaluate(() => !!document.activeElement?.closest('[data-view="steps"] .sv-row')), 'arrows stay in the row');
    await (await page.$('[data-view="steps"]'))!.screenshot({ path: path.join(SCREENSHOTS, 'webview-steps-dark.png') });
  });

  it('shows the host error of a model that cannot vary its run, and the steps under "positions off"', async () => {
    const data = fixture();
    const { page, host } = await openPanel({ fixture: data, theme: LIGHT_THEME });
    host.explain = (request) => (request.variation ? { explanation: null, error: 'The ONNX backend cannot run without positions: use a model folder with config.json and model.safetensors.' } : { explanation: explanationFor(data, request) });
    host.compare = (request) => ({ comparison: comparisonFor(data, request) });
    await pickHead(page, 0, 1);
    await page.click('.token[data-index="4"]');
    await page.waitForSelector('[data-view="steps"] [data-row="weights"]');
    const since = host.mark();
    await page.click('[data-view="compare"] [data-control="positions"]');
    await host.waitFor(is('requestComparison', { layer: 0, head: 1 }), 'requestComparison', since);
    const explain = await host.waitFor(is('requestExplain', { query: 4 }), 'requestExplain under the variation', since);
    assert.deepEqual(explain.variation, { positions: false });
    await page.waitForSelector('[data-view="steps"] [data-role="steps-status"][data-kind="error"]');
    assert.match((await page.textContent('[data-view="steps"] [data-role="steps-status"]')) ?? '', /cannot run without positions/);
    await (await page.$('[data-view="steps"]'))!.screenshot({ path: path.join(SCREENSHOTS, 'webview-steps-light-error.png') });
  });

  it('toggling positions posts requestComparison, and draws the base, the varied map and their difference from the reply', async () => {
    const data = fixture();
    const { page, host } = await openPanel({ fixture: data });
    host.compare = (request) => ({ comparison: comparisonFor(data, request) });
    assert.match((await page.textContent('[data-view="compare"] [data-role="compare-status"]')) ?? '', /Turn positions off/);
    await pickHead(page, 1, 3);
    const since = host.mark();
    await page.click('[data-view="compare"] [data-control="positions"]');
    const request = await host.waitFor(is('requestComparison', { layer: 1, head: 3 }), 'requestComparison', since);
    assert.deepEqual(request.variation, { positions: false });
    assert.equal(await page.getAttribute('[data-view="compare"] [data-control="positions"]', 'aria-pressed'), 'true');
    await page.waitForSelector('[data-view="compare"] [data-role="compare-result"]:not([hidden]) canvas[data-map="difference"]');
    await frames(page);

    const payload = comparisonFor(data, request);
    const base = new Float32Array(payload.base);
    const varied = new Float32Array(payload.varied);
    const T = data.session.tokens.length;
    const [shownBase, shownVaried, shownDifference] = [await canvasValues(page, 'base'), await canvasValues(page, 'varied'), await canvasValues(page, 'difference')];
    for (let i = 0; i < T * T; i++) {
      assert.ok(Math.abs(shownBase[i] - base[i]) < 1e-6, `base ${i}`);
      assert.ok(Math.abs(shownVaried[i] - varied[i]) < 1e-6, `varied ${i}`);
      assert.ok(Math.abs(shownDifference[i] - (varied[i] - base[i])) < 1e-6, `difference ${i}`);
    }
    const maxText = await page.getAttribute('[data-view="compare"] [data-role="max-difference"]', 'data-value');
    assert.ok(Math.abs(Number(maxText) - payload.maxDifference) < 1e-9);
    assert.match((await page.textContent('[data-view="compare"] [data-role="max-difference"]')) ?? '', new RegExp(payload.maxDifference.toFixed(2)));
    // Pixels: the largest difference is strongly coloured; a masked cell (0 in both runs) is the background.
    let at = 0;
    for (let i = 0; i < T * T; i++) if (Math.abs(varied[i] - base[i]) > Math.abs(varied[at] - base[at])) at = i;
    const strong = await mapPixel(page, 'difference', Math.floor(at / T), at % T);
    const zero = await mapPixel(page, 'difference', 0, T - 1);
    assert.deepEqual(zero, [0x1f, 0x1f, 0x1f], 'no difference: the editor background');
    assert.ok(Math.max(...strong.map((c, i) => Math.abs(c - zero[i]))) > 80, `the largest difference stands out: ${strong}`);
    assert.match((await page.textContent('[data-view="compare"] [data-role="predictions-varied"]')) ?? '', /cat/);
    await (await page.$('[data-view="compare"]'))!.screenshot({ path: path.join(SCREENSHOTS, 'webview-compare-positions-off.png') });

    // Switching a head off and restoring it.
    const beforeAblate = host.mark();
    await page.click('[data-view="compare"] [data-control="ablate"]');
    const ablated = await host.waitFor(is('requestComparison'), 'requestComparison with a head off', beforeAblate);
    assert.deepEqual(ablated.variation, { positions: false, ablate: [{ layer: 1, head: 3 }] });
    assert.match((await page.textContent('[data-view="compare"] [data-role="ablated"]')) ?? '', /L1 H3 off/);
    const beforeRestore = host.mark();
    await page.click('[data-view="compare"] .cv-restore');
    const restored = await host.waitFor(is('requestComparison'), 'requestComparison after restore', beforeRestore);
    assert.deepEqual(restored.variation, { positions: false });
  });

  it('swaps 我 and 爱: the permutation statement with positions off and on (the worked example)', async () => {
    const data = chineseFixture();
    for (const [theme, name] of [[undefined, 'dark'], [HIGH_CONTRAST_THEME, 'high-contrast']] as const) {
      const { page, host } = await openPanel({ fixture: data, theme });
      host.compare = (request) =>
        ({
          comparison: comparisonFor(data, request, request.variation.positions === false ? { scope: 'last-row', deviation: 0, expected: true } : { scope: 'last-row', deviation: 0.15, expected: false }),
        });
      await pickHead(page, 0, 1);
      await page.click('.token[data-index="1"]');
      assert.deepEqual([await page.inputValue('[data-control="swap-first"]'), await page.inputValue('[data-control="swap-second"]')], ['1', '0'], 'the pickers hold the pinned token and the one before it');
      await page.click('[data-view="compare"] [data-control="positions"]');
      const since = host.mark();
      await page.click('[data-view="compare"] [data-control="swap"]');
      const request = await host.waitFor(is('requestComparison'), 'requestComparison with the swap', since);
      assert.deepEqual(request.variation, { positions: false, swap: [1, 0] });
      await page.waitForFunction(() => /permutation/.test(document.querySelector('[data-view="compare"] [data-role="permutation"]')?.textContent ?? ''));
      assert.equal(
        (await page.textContent('[data-view="compare"] [data-role="permutation"]'))?.trim(),
        "Without positions, the last token's attention is exactly a permutation of the original: largest deviation 0.",
      );
      const labels = await page.$$eval('[data-view="compare"] canvas[data-map="base"] ~ *, [data-view="compare"] .cv-map-base .cv-row-labels .cv-label', (spans) => spans.map((span) => span.textContent));
      assert.deepEqual(labels.filter(Boolean), ['我', '爱', '你'], 'Chinese tokens are labelled whole');
      await (await page.$('[data-view="compare"]'))!.screenshot({ path: path.join(SCREENSHOTS, `webview-compare-worked-example-${name}.png`) });

      const back = host.mark();
      await page.click('[data-view="compare"] [data-control="positions"]');
      const on = await host.waitFor(is('requestComparison'), 'requestComparison with positions on', back);
      assert.deepEqual(on.variation, { swap: [1, 0] });
      await page.waitForFunction(() => /order matters/.test(document.querySelector('[data-view="compare"] [data-role="permutation"]')?.textContent ?? ''));
      assert.equal((await page.textContent('[data-view="compare"] [data-role="permutation"]'))?.trim(), 'With positions on, order matters: largest deviation 0.15.');
    }
  });
});
