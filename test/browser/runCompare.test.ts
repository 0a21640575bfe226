// The "Pinned run vs this run" view in headless Chromium, with the test playing the host (the
// harness answers pinRun / requestRunComparison with src/shared/runAlignment.ts): pin a run from
// the keyboard, publish another session, and check the view asks for the comparison and draws
// pinned | this run | difference with the alignment rule stated, the maps' values equal to the two
// runs' heads, and the difference's pixels coloured where the data differ. Screenshot:
// test-results/webview-run-compare.png.

import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { meanOfHeads } from '../../src/core/attentionViews';
import { MEAN_HEAD } from '../../src/shared/protocol';
import { buildFixture, type Fixture } from './attentionFixture';
import { frames, is, SCREENSHOTS, usePanelBrowser } from './panelSupport';

const VIEW = '[data-view="runCompare"]';

function fixture(sessionId: number, text: string, seed: number): Fixture {
  return buildFixture({ sessionId, text, layers: 2, heads: 2, causal: true, seed });
}

function values(page: Page, role: string): Promise<number[]> {
  return page.$eval(`${VIEW} canvas[data-map="${role}"]`, (canvas) => (canvas as HTMLCanvasElement).dataset.values!.split(',').map(Number));
}

/** The RGB of the canvas's pixel at the centre of cell (row, column). */
function cellPixel(page: Page, role: string, row: number, column: number): Promise<number[]> {
  return page.$eval(
    `${VIEW} canvas[data-map="${role}"]`,
    (canvas, [row, column]) => {
      const c = canvas as HTMLCanvasElement;
      const cell = Number(c.dataset.cell);
      const ratio = c.width / c.clientWidth;
      // Read from a copy made for reading (no readback warning on the painted canvas).
      const copy = document.createElement('canvas');
      copy.width = c.width;
      copy.height = c.height;
      const reader = copy.getContext('2d', { willReadFrequently: true })!;
      reader.drawImage(c, 0, 0);
      const pixel = reader.getImageData(Math.floor((column + 0.5) * cell * ratio), Math.floor((row + 0.5) * cell * ratio), 1, 1).data;
      return Array.from(pixel.slice(0, 3));
    },
    [row, column],
  );
}

function crop(map: Float32Array, T: number, N: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < N; t++) for (let s = 0; s < N; s++) out.push(Number(map[t * T + s].toFixed(6)));
  return out;
}

describe('webview: pinned run vs this run', function () {
  this.timeout(60_000);
  const openPanel = usePanelBrowser();

  it('pins from the keyboard, then draws pinned | this run | difference of a new session, aligned by position or by token', async () => {
    const first = fixture(31, 'The cat sat on the mat', 3);
    const { page, host } = await openPanel({ fixture: first });
    const pin = page.locator(`${VIEW} [data-control="pin-run"]`);
    await pin.focus();
    await page.keyboard.press('Enter');
    await host.waitFor(is('pinRun', { sessionId: 31 }), 'pinRun');
    assert.equal(await page.locator(`${VIEW} [data-control="unpin-run"]`).isVisible(), true);
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.control), 'unpin-run');

    // Another selection: different tokens → by position over the shorter run.
    const second = fixture(32, 'A dog ran', 9);
    const since = host.mark();
    host.fixture = second;
    await host.post({ type: 'session', session: second.session });
    await host.waitFor(is('requestRunComparison', { sessionId: 32, layer: 0, head: MEAN_HEAD }), 'requestRunComparison', since);
    await page.waitForSelector(`${VIEW} canvas[data-map="difference"]`);
    await frames(page);
    const T1 = first.session.tokens.length;
    const T2 = second.session.tokens.length;
    const N = Math.min(T1, T2);
    const rule = page.locator(`${VIEW} [data-role="alignment-rule"]`);
    assert.equal(await rule.getAttribute('data-rule'), 'position');
    assert.equal(Number(await rule.getAttribute('data-count')), N);
    assert.match((await rule.textContent()) ?? '', new RegExp(`Aligned by position: the first ${N} tokens`));
    assert.equal(await page.locator(`${VIEW} canvas[data-map]`).count(), 3);
    const pinnedMap = meanOfHeads(first.attention[0], first.session.groups[0].dims, 0);
    const currentMap = meanOfHeads(second.attention[0], second.session.groups[0].dims, 0);
    assert.deepEqual(await values(page, 'pinned'), crop(pinnedMap, T1, N));
    assert.deepEqual(await values(page, 'current'), crop(currentMap, T2, N));
    const difference = await values(page, 'difference');
    for (let i = 0; i < N * N; i++) assert.ok(Math.abs(difference[i] - (currentMap[Math.floor(i / N) * T2 + (i % N)] - pinnedMap[Math.floor(i / N) * T1 + (i % N)])) < 1e-5, `difference cell ${i}`);
    // Pixels: the masked future (no difference) is the background; the largest difference is not.
    let largest = 0;
    for (let i = 1; i < N * N; i++) if (Math.abs(difference[i]) > Math.abs(difference[largest])) largest = i;
    const zero = await cellPixel(page, 'difference', 0, N - 1);
    assert.equal(difference[N - 1], 0);
    const strong = await cellPixel(page, 'difference', Math.floor(largest / N), largest % N);
    assert.ok(Math.max(...strong.map((v, i) => Math.abs(v - zero[i]))) > 40, `difference pixel ${strong} vs zero ${zero}`);
    // The weight maps differ in colour where their values differ most.
    const pinnedValues = await values(page, 'pinned');
    const currentValues = await values(page, 'current');
    assert.notDeepEqual(await cellPixel(page, 'pinned', Math.floor(largest / N), largest % N), await cellPixel(page, 'current', Math.floor(largest / N), largest % N), `cell ${largest}: ${pinnedValues[largest]} vs ${currentValues[largest]}`);
    await page.locator(VIEW).screenshot({ path: path.join(SCREENSHOTS, 'webview-run-compare.png') });

    // The same text again (another run of it): by token, all tokens.
    const again = fixture(33, 'The cat sat on the mat', 5);
    const since2 = host.mark();
    host.fixture = again;
    await host.post({ type: 'session', session: again.session });
    await host.waitFor(is('requestRunComparison', { sessionId: 33 }), 'requestRunComparison', since2);
    await page.waitForSelector(`${VIEW} [data-role="alignment-rule"][data-rule="token"][data-count="${T1}"]`);

    // Unpin from the keyboard: the maps go.
    await page.locator(`${VIEW} [data-control="unpin-run"]`).focus();
    await page.keyboard.press('Enter');
    await host.waitFor(is('unpinRun'), 'unpinRun', since2);
    assert.equal(await page.locator(`${VIEW} canvas[data-map]`).count(), 0);
  });
  it('a page that starts empty learns the pinned run from the host (pinnedRun) and compares the next run with it', async () => {
    const first = fixture(41, 'The cat sat on the mat', 3);
    const { page, host } = await openPanel({ fixture: first });
    // The host kept a pin from before the page was (re)created: it says so, and the view shows it.
    host.pinnedRun = { sessionId: 40, label: 'default · earlier', groups: [{ name: 'self', self: true, tokens: first.session.tokens.map((token) => token.text), attention: first.attention[0], dims: first.session.groups[0].dims }] };
    await host.post({ type: 'pinnedRun', run: { sessionId: 40, label: 'default · earlier' } });
    await page.locator(`${VIEW} [data-role="pinned-run"]`).waitFor({ state: 'visible' });
    assert.match((await page.textContent(`${VIEW} [data-role="pinned-run"]`)) ?? '', /default · earlier/);
    await page.locator(`${VIEW} [data-role="alignment-rule"][data-rule="token"]`).waitFor({ state: 'attached' });
    await host.post({ type: 'pinnedRun', run: null });
    await page.locator(`${VIEW} [data-role="pinned-run"]`).waitFor({ state: 'hidden' });
  });
});
