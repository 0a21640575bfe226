// The heatmap of a map far larger than its pixels (2048 tokens): it asks the host for the map
// max-pooled to its device pixels (quantised for the square-root scale), never for the whole
// 16 MB head; a single sharp weight shows where it is; the wheel and the keys zoom until the window
// fits and is fetched exactly; tooltips say exact weights; cached windows are not fetched again and
// replies for an older window are not painted. Expected colours come from the legend's ramp and
// the fixture's weights, not from the panel's code.

import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { MEAN_HEAD, type RequestHeadMessage } from '../../src/shared/protocol';
import { answerRequest } from '../../src/shared/replies';
import { buildFixture, headMatrix, type Fixture } from './attentionFixture';
import { canvasPixels, distance, frames, is, painted, usePanelBrowser, type Rgb } from './panelSupport';

const SESSION_ID = 12;
const T = 2048;
const SHARP: [number, number] = [1500, 321];
const SEA = 1e-4;

/** `count` distinct three-letter words, one token each. */
function wordsText(count: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + letters[Math.floor(i / 676) % 26] + letters[Math.floor(i / 26) % 26] + letters[i % 26]).join('');
}

/** One layer, two heads over 2048 tokens: head 0 is SEA everywhere but 1.0 at SHARP, head 1 random softmax rows. */
function largeFixture(): Fixture {
  const fixture = buildFixture({ sessionId: SESSION_ID, text: wordsText(T), layers: 1, heads: 2, causal: false, seed: 17 });
  assert.equal(fixture.session.tokens.length, T);
  const attention = fixture.attention[0];
  attention.fill(SEA, 0, T * T);
  attention[SHARP[0] * T + SHARP[1]] = 1;
  return fixture;
}

/** The square-root scale's ramp position of a weight: round(√w · 255) (webview/colorScale.ts documents it). */
const sqrtRampIndex = (weight: number) => Math.round(Math.sqrt(Math.min(1, Math.max(0, weight))) * 255);

/** A tooltip's weight as the panel writes it: scientific below 1e-3, else four decimals. */
const weightText = (weight: number) => (weight === 0 ? '0' : weight < 1e-3 ? weight.toExponential(2) : weight.toFixed(4));

/** The legend bar's 256 colours: the heatmap's ramp, index = ramp position. */
async function legendRamp(page: Page): Promise<Rgb[]> {
  return page.evaluate(() => {
    const bar = document.querySelector<HTMLCanvasElement>('.heatmap-section canvas.legend-bar')!;
    const copy = document.createElement('canvas');
    copy.width = bar.width;
    copy.height = 1;
    const context = copy.getContext('2d', { willReadFrequently: true })!;
    context.drawImage(bar, 0, 0);
    const data = context.getImageData(0, 0, bar.width, 1).data;
    return Array.from({ length: bar.width }, (_, i) => [data[4 * i], data[4 * i + 1], data[4 * i + 2]] as Rgb);
  });
}

/** The matrix canvas: its device-pixel size and every pixel's colour. */
const matrixPixels = (page: Page) => canvasPixels(page, 'canvas.heatmap-matrix');

/** The pixel along an axis of `pixels` pixels over `tokens` tokens whose tokens [⌊p·T/P⌋, ⌊(p+1)·T/P⌋) hold `token`. */
function pixelOf(token: number, tokens: number, pixels: number): number {
  for (let p = 0; p < pixels; p++) if (Math.floor((p * tokens) / pixels) <= token && token < Math.floor(((p + 1) * tokens) / pixels)) return p;
  throw new Error(`token ${token} is on no pixel`);
}

/** The heatmap's window on screen (data-view "row0-row1:col0-col1"). */
async function viewWindow(page: Page): Promise<{ row0: number; row1: number; col0: number; col1: number }> {
  const text = (await page.getAttribute('.heatmap-section .heatmap-grid', 'data-view')) ?? '';
  const [row0, row1, col0, col1] = text.split(/[-:]/).map(Number);
  return { row0, row1, col0, col1 };
}

const headRequests = (messages: readonly unknown[], head: number) => (messages as RequestHeadMessage[]).filter((m) => m.type === 'requestHead' && m.head === head);

describe('a heatmap larger than its pixels: pooled overview, zoom, exact windows', function () {
  this.timeout(300_000);
  const openPanel = usePanelBrowser();

  it('asks for the map pooled to its pixels, shows a sharp weight where it is, zooms to exact cells with the wheel and the keys, and says exact weights', async () => {
    const data = largeFixture();
    const source = { sessionId: SESSION_ID, groups: [{ attention: data.attention[0], dims: data.session.groups[0].dims, causal: false }] };
    const { page, host } = await openPanel({ fixture: data, view: [0, MEAN_HEAD], paintTimeoutMs: 60_000 });

    // The mean's overview: pooled to at most the canvas's device pixels, uint16 for the square-root scale, never the whole map.
    let canvas = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    assert.ok(canvas.width < T && canvas.height < T, `the matrix (${canvas.width} × ${canvas.height}) is smaller than the map`);
    const meanRequests = headRequests(host.received, MEAN_HEAD);
    assert.ok(meanRequests.some((request) => request.maxRows !== undefined), 'the heatmap asked for a pooled overview');
    for (const request of meanRequests) {
      assert.ok(request.window !== undefined || request.maxRows !== undefined, 'never the whole map');
      if (request.maxRows === undefined) {
        // The links view's exact rows for the queries in view (a block of rows × every key), not the heatmap's.
        const rows = request.window!.row1 - request.window!.row0;
        assert.ok(rows < T / 4, `the links view asked for ${rows} exact rows of ${T}`);
        continue;
      }
      assert.ok(request.maxRows !== undefined && request.maxRows <= canvas.height, `maxRows ${request.maxRows} ≤ ${canvas.height}`);
      assert.ok(request.maxCols !== undefined && request.maxCols <= canvas.width, `maxCols ${request.maxCols} ≤ ${canvas.width}`);
      assert.equal(request.encoding, 'uint16');
      const reply = answerRequest(request, source)!;
      assert.ok(reply.rowStep > 1 && reply.colStep > 1);
      assert.ok(reply.data.byteLength <= canvas.width * canvas.height * 2, `${reply.data.byteLength} bytes for ${canvas.width} × ${canvas.height} pixels`);
    }

    // Head 0: the one sharp weight is painted at its place, in the ramp's top colour, and nowhere else but its block.
    await page.click('.head-option[data-layer="0"][data-head="0"]');
    await painted(page, 0, 0, 0, 30_000);
    const ramp = await legendRamp(page);
    let pixels = await matrixPixels(page);
    const sharpPixel = [pixelOf(SHARP[1], T, pixels.width), pixelOf(SHARP[0], T, pixels.height)];
    assert.ok(distance(pixels.at(sharpPixel[0], sharpPixel[1]), ramp[255]) <= 2, `the sharp weight's pixel ${sharpPixel} is the top colour: ${pixels.at(sharpPixel[0], sharpPixel[1])} vs ${ramp[255]}`);
    let bright = 0;
    for (let y = 0; y < pixels.height; y++) {
      for (let x = 0; x < pixels.width; x++) {
        if (distance(pixels.at(x, y), ramp[255]) > 2) continue;
        bright++;
        assert.ok(Math.abs(x - sharpPixel[0]) <= 2 && Math.abs(y - sharpPixel[1]) <= 2, `a bright pixel at ${x}, ${y} far from ${sharpPixel}`);
      }
    }
    assert.ok(bright >= 1 && bright <= 9, `${bright} bright pixels`);
    assert.ok(distance(pixels.at(3, 3), ramp[sqrtRampIndex(SEA)]) <= 2, 'the sea keeps its own colour');
    const overviewKey = await page.getAttribute('canvas.heatmap-matrix', 'data-painted');

    // The wheel zooms around the pointer until the window fits the pixels: then it is fetched exactly.
    await page.locator('canvas.heatmap-matrix').scrollIntoViewIfNeeded();
    const box = (await page.locator('canvas.heatmap-matrix').boundingBox())!;
    let since = host.mark();
    await page.mouse.move(box.x + sharpPixel[0] + 0.5, box.y + sharpPixel[1] + 0.5);
    await page.mouse.wheel(0, -300);
    await frames(page);
    await page.mouse.wheel(0, -300);
    const exactRequest = await host.waitFor((m): m is RequestHeadMessage => m.type === 'requestHead' && m.head === 0 && m.window !== undefined && m.maxRows === undefined, 'an exact window request', since);
    await page.waitForSelector('canvas.heatmap-matrix[data-painted^="0:0:0:r"][data-painted$=":s1x1:float32"]', { state: 'attached' });
    await frames(page);
    const zoomed = await viewWindow(page);
    assert.deepEqual(exactRequest.window, zoomed, 'the exact request is the window on screen');
    assert.equal(zoomed.row1 - zoomed.row0, T / 4, 'two wheel steps: a quarter of the rows');
    assert.ok(zoomed.row0 <= SHARP[0] && SHARP[0] < zoomed.row1 && zoomed.col0 <= SHARP[1] && SHARP[1] < zoomed.col1, 'zoomed around the pointer');
    assert.equal(await page.isVisible('.heatmap-zoom-reset'), true, 'a reset-zoom control while zoomed');

    // Head 1 in the same window: exact cells, painted in the ramp colour of the fixture's weight.
    since = host.mark();
    await page.click('.head-option[data-layer="0"][data-head="1"]');
    await page.waitForSelector(`canvas.heatmap-matrix[data-painted="0:0:1:r${zoomed.row0}-${zoomed.row1}:c${zoomed.col0}-${zoomed.col1}:s1x1:float32"]`, { state: 'attached' });
    await frames(page);
    const head1 = headMatrix(data, 0, 1);
    pixels = await matrixPixels(page);
    const rows = zoomed.row1 - zoomed.row0;
    const cols = zoomed.col1 - zoomed.col0;
    assert.equal(pixels.width % cols, 0, 'whole pixels per cell');
    const cell = pixels.width / cols;
    for (let i = 0; i < 400; i++) {
      const t = (i * 37) % rows;
      const s = (i * 53 + 7) % cols;
      const weight = head1[(zoomed.row0 + t) * T + zoomed.col0 + s];
      const color = pixels.at(Math.floor((s + 0.5) * cell), Math.floor((t + 0.5) * cell));
      assert.ok(distance(color, ramp[sqrtRampIndex(weight)]) <= 1, `cell ${zoomed.row0 + t}, ${zoomed.col0 + s} (${weight}): ${color} vs ${ramp[sqrtRampIndex(weight)]}`);
    }

    // The tooltip over an exact cell says its exact weight (the pointer lands within a pixel of the cell aimed at: 1 px cells at a fractional page offset).
    const zoomedBox = (await page.locator('canvas.heatmap-matrix').boundingBox())!;
    await page.mouse.move(zoomedBox.x + (200 + 0.5) * cell, zoomedBox.y + (100 + 0.5) * cell); // dpr 1: device px = CSS px
    await page.waitForFunction(() => /#\d+ → .*#\d+: /.test(document.querySelector('.heatmap-tooltip:not([hidden])')?.textContent ?? ''));
    const exactTip = (await page.textContent('.heatmap-tooltip')) ?? '';
    const [, tipQuery, tipKey, tipWeight] = /#(\d+) → .*#(\d+): (.+)$/.exec(exactTip)!;
    assert.ok(Math.abs(Number(tipQuery) - (zoomed.row0 + 100)) <= 1 && Math.abs(Number(tipKey) - (zoomed.col0 + 200)) <= 1, exactTip);
    assert.equal(tipWeight, weightText(head1[Number(tipQuery) * T + Number(tipKey)]), exactTip);

    // Keys: 0 shows the whole map again (pooled), + zooms in around the focus cell, − out.
    await page.focus('canvas.heatmap-matrix');
    await page.keyboard.press('0');
    await page.waitForSelector('canvas.heatmap-matrix[data-painted^="0:0:1:r0-2048:c0-2048:s"]', { state: 'attached' });
    assert.deepEqual(await viewWindow(page), { row0: 0, row1: T, col0: 0, col1: T });
    assert.equal(await page.isVisible('.heatmap-zoom-reset'), false);
    await page.keyboard.press('+');
    assert.equal((await viewWindow(page)).row1 - (await viewWindow(page)).row0, T / 2);
    await page.keyboard.press('+');
    await page.waitForSelector('canvas.heatmap-matrix[data-painted$=":s1x1:float32"]', { state: 'attached' });
    await page.keyboard.press('-');
    assert.equal((await viewWindow(page)).row1 - (await viewWindow(page)).row0, T / 2);
    await page.keyboard.press('0');
    await page.waitForSelector('canvas.heatmap-matrix[data-painted^="0:0:1:r0-2048:c0-2048:s"]', { state: 'attached' });

    // The tooltip over the pooled overview fetches the query's exact row and says the exact weight.
    since = host.mark();
    await page.mouse.move(box.x + 400.5, box.y + 300.5);
    await page.waitForFunction(() => /#\d+: (?!loading)/.test(document.querySelector('.heatmap-tooltip')?.textContent ?? ''));
    const tooltip = (await page.textContent('.heatmap-tooltip')) ?? '';
    const [, query, key, shownWeight] = /#(\d+) → .*#(\d+): (.+)$/.exec(tooltip)!;
    assert.equal(shownWeight, weightText(head1[Number(query) * T + Number(key)]), tooltip);
    assert.ok(host.received.slice(since).some(is('requestTokenRows', { token: Number(query) })), 'the row was fetched');

    // Back to head 0: its overview is cached, nothing is fetched again.
    since = host.mark();
    await page.click('.head-option[data-layer="0"][data-head="0"]');
    await page.waitForSelector(`canvas.heatmap-matrix[data-painted="${overviewKey}"]`, { state: 'attached' });
    assert.equal(headRequests(host.received.slice(since), 0).length, 0, 'the cached overview is not fetched again');
    canvas = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    assert.ok(canvas.width < T);
  });

  it('paints only the reply for the window on screen: one for an older window is cached, not shown', async () => {
    const data = largeFixture();
    const source = { sessionId: SESSION_ID, groups: [{ attention: data.attention[0], dims: data.session.groups[0].dims, causal: false }] };
    const { page, host } = await openPanel({ fixture: data, view: [0, MEAN_HEAD], paintTimeoutMs: 60_000 });
    const overview = await page.getAttribute('canvas.heatmap-matrix', 'data-painted');
    host.autoReply = false;
    const since = host.mark();
    await page.focus('canvas.heatmap-matrix');
    await page.keyboard.press('+');
    const older = await host.waitFor((m): m is RequestHeadMessage => m.type === 'requestHead' && m.window !== undefined && m.window.row1 - m.window.row0 === T / 2, 'the first zoom', since);
    await page.keyboard.press('+');
    const newer = await host.waitFor((m): m is RequestHeadMessage => m.type === 'requestHead' && m.window !== undefined && m.window.row1 - m.window.row0 === T / 4, 'the second zoom', since);
    assert.equal(newer.maxRows, undefined, 'a quarter of the map fits: exact');
    await host.post(answerRequest(older, source)!);
    await frames(page, 3);
    const shown = await page.getAttribute('canvas.heatmap-matrix', 'data-painted');
    assert.ok(shown === null || shown === overview, `the older window is not painted (${shown})`);
    await host.post(answerRequest(newer, source)!);
    const { row0, row1, col0, col1 } = newer.window!;
    await page.waitForSelector(`canvas.heatmap-matrix[data-painted="0:0:-1:r${row0}-${row1}:c${col0}-${col1}:s1x1:float32"]`, { state: 'attached' });
    // The mean's exact window equals the fixture's mean (float32 sums): a cell's colour says so.
    const ramp = await legendRamp(page);
    const mean = headMatrix(data, 0, MEAN_HEAD);
    const pixels = await matrixPixels(page);
    const cell = pixels.width / (col1 - col0);
    for (const [t, s] of [[0, 0], [17, 300], [511, 511], [250, 3]]) {
      const weight = mean[(row0 + t) * T + col0 + s];
      assert.ok(distance(pixels.at(Math.floor((s + 0.5) * cell), Math.floor((t + 0.5) * cell)), ramp[sqrtRampIndex(weight)]) <= 1);
    }
    // Zooming out to the first window finds it cached: nothing more is asked.
    const before = host.mark();
    await page.keyboard.press('-');
    await page.waitForSelector(`canvas.heatmap-matrix[data-painted^="0:0:-1:r${older.window!.row0}-"]`, { state: 'attached' });
    assert.equal(headRequests(host.received.slice(before), MEAN_HEAD).length, 0);
  });
});
