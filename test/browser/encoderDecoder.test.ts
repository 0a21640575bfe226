// The panel for encoder–decoder runs (three attention groups over two token sequences) and for
// grouped-query attention, in headless Chromium: the group selector, rectangular cross-attention
// maps (target rows × source columns), hover on the query side lighting up the key side, the target
// text field, and K/V labels on the heads. Expectations come from the fixture, never from the webview.
// Needs dist/webview.js: run `node esbuild.js` first.

import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { MEAN_HEAD } from '../../src/shared/protocol';
import { buildEncoderDecoderFixture, buildFixture, DECODER_START, expectedTopK, headMatrix, tokenRowsOf, wholeHeadReply, type Fixture } from './attentionFixture';
import { LIGHT_THEME } from './harness';
import { argmax, attendedChips, cellColors, distance, drawnLinks, frames, is, legendZeroColor, matrixHash, painted, SCREENSHOTS, usePanelBrowser } from './panelSupport';

const SESSION_ID = 11;
/** 7 source tokens: The ·cat ·sat ·on ·the ·mat ·. */
const SOURCE = 'The cat sat on the mat .';
/** 4 target tokens after the decoder start token: 5 in all. */
const TARGET = 'Le chat dort .';
const ENCODER = 0;
const DECODER = 1;
const CROSS = 2;

function encoderDecoder(overrides: { generated?: boolean; decoderLayers?: number; sessionId?: number; target?: string } = {}): Fixture {
  return buildEncoderDecoderFixture({
    sessionId: overrides.sessionId ?? SESSION_ID,
    source: SOURCE,
    target: overrides.target ?? TARGET,
    generated: overrides.generated ?? true,
    layers: 2,
    decoderLayers: overrides.decoderLayers,
    heads: 4,
    seed: 77,
  });
}

const shown = (text: string) => text.replace(/ /g, '·');
const source = '.token-flow[data-sequence="source"]';
const target = '.token-flow[data-sequence="target"]';

/** How much a canvas region [x0, x1) × [y0, y1) (device px) differs from transparent: count of inked pixels. */
async function inkIn(page: Page, selector: string, boxes: [number, number, number, number][]): Promise<number[]> {
  return page.evaluate(
    ({ selector, boxes }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
      const data = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height).data;
      return boxes.map(([x0, x1, y0, y1]) => {
        let ink = 0;
        for (let y = Math.max(0, Math.floor(y0)); y < Math.min(canvas.height, y1); y++) {
          for (let x = Math.max(0, Math.floor(x0)); x < Math.min(canvas.width, x1); x++) if (data[(y * canvas.width + x) * 4 + 3] > 40) ink++;
        }
        return ink;
      });
    },
    { selector, boxes },
  );
}

describe('webview panel: encoder–decoder and grouped-query attention', function () {
  this.timeout(60000);
  const openPanel = usePanelBrowser();

  it('lists three labelled groups with their sources and shows both sequences, the target starting with its start token', async () => {
    const data = encoderDecoder();
    const { page, host } = await openPanel({ fixture: data });
    assert.deepEqual(host.received.find(is('requestHead')), { type: 'requestHead', sessionId: SESSION_ID, group: ENCODER, layer: 0, head: MEAN_HEAD });

    const options = await page.$$eval('.group-option', (buttons) =>
      buttons.map((button) => ({
        label: button.querySelector('.group-label')?.textContent,
        sources: button.querySelector('.group-sources')?.textContent,
        pressed: button.getAttribute('aria-pressed'),
        tag: button.tagName,
      })),
    );
    assert.deepEqual(options, [
      { label: 'Encoder self-attention', sources: 'Q, K, V: source', pressed: 'true', tag: 'BUTTON' },
      { label: 'Decoder masked self-attention', sources: 'Q, K, V: target', pressed: 'false', tag: 'BUTTON' },
      { label: 'Cross-attention', sources: 'Q: target · K/V: source', pressed: 'false', tag: 'BUTTON' },
    ]);
    // The header names the kind, the backend and how the attention was found.
    const facts = await page.$$eval('.run-header .facts li', (items) => items.map((item) => item.getAttribute('title') + ': ' + item.lastChild?.textContent));
    assert.ok(facts.includes('Model kind: encoder-decoder'), JSON.stringify(facts));
    assert.ok(facts.includes('Backend: onnx · attention from graph surgery'), JSON.stringify(facts));
    assert.equal(await page.getAttribute('.group-options', 'role'), 'group');
    assert.equal(await page.isVisible('.group-hint'), true, 'the g / G keys are offered');

    const header = (await page.textContent('.run-header')) ?? '';
    for (const expected of ['tiny-t5', 'encoder-decoder', '7 source tokens → 5 target tokens', '3 attention groups']) assert.ok(header.includes(expected), `header shows ${expected}: ${header}`);

    // Both sequences, labelled, in reading order; the start token shown by its label like other special tokens.
    assert.deepEqual(await page.$$eval('.sequence-block:not([hidden]) .sequence-title', (titles) => titles.map((title) => title.textContent)), ['Source', 'Target']);
    assert.deepEqual(await page.$$eval(`${source} .token-text`, (spans) => spans.map((span) => span.textContent)), data.session.tokens.map((token) => shown(token.text)));
    const targetChips = await page.$$eval(`${target} .token`, (chips) => chips.map((chip) => ({ text: chip.querySelector('.token-text')?.textContent, special: chip.classList.contains('special') })));
    assert.deepEqual(targetChips, [{ text: DECODER_START, special: true }, ...['Le', '·chat', '·dort', '·.'].map((text) => ({ text, special: false }))]);
    assert.equal(await page.getAttribute(`${target} .token[data-index="0"]`, 'id'), 'target-token-0', 'ids stay unique across the two strips');
    // The encoder reads only the source: the target is marked as unused by this group.
    assert.match((await page.textContent('.sequence-block[data-sequence="source"] .sequence-role')) ?? '', /Q and K\/V/);
    assert.match((await page.textContent('.sequence-block[data-sequence="target"] .sequence-role')) ?? '', /not read/);
  });

  it('switching to cross-attention requests group 2 and draws 5 target rows × 7 source columns', async () => {
    const data = encoderDecoder();
    const [, , Tq, Tk] = data.session.groups[CROSS].dims;
    assert.deepEqual([Tq, Tk], [5, 7]);
    const { page, host } = await openPanel({ fixture: data });
    const encoderHash = await matrixHash(page);

    const since = host.mark();
    await page.click(`.group-option[data-group="${CROSS}"]`);
    await host.waitFor(is('viewChanged', { group: CROSS, layer: 0, head: MEAN_HEAD }), 'viewChanged to the cross group', since);
    await host.waitFor(is('requestHead', { group: CROSS, layer: 0, head: MEAN_HEAD }), 'requestHead for group 2', since);
    await painted(page, 0, MEAN_HEAD, CROSS);
    assert.deepEqual(await page.$$eval('.group-option', (buttons) => buttons.map((b) => b.getAttribute('aria-pressed'))), ['false', 'false', 'true']);
    assert.match((await page.textContent('.view-title')) ?? '', /Cross-attention · Layer 0 · average of 4 heads' weights/);
    assert.notEqual(await matrixHash(page), encoderHash);

    // The canvas is Tk cells wide and Tq cells high, with square whole-pixel cells.
    const canvas = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    assert.equal(canvas.width % Tk, 0, `width ${canvas.width} holds ${Tk} whole cells`);
    assert.equal(canvas.height % Tq, 0, `height ${canvas.height} holds ${Tq} whole cells`);
    assert.equal(canvas.width / Tk, canvas.height / Tq, 'square cells');
    const cell = canvas.width / Tk;

    // Row labels are the target tokens, column labels the source tokens.
    const axes = (await page.textContent('.heatmap-axes')) ?? '';
    assert.match(axes, /Rows: 5 target tokens \(queries\): <pad> Le ·chat ·dort ·\./);
    assert.match(axes, /Columns: 7 source tokens \(keys\): The ·cat ·sat ·on ·the ·mat ·\./);
    assert.match((await page.textContent('.heatmap-corner')) ?? '', /K\/V: source →.*Q: target ↓/s);
    const rowLabels = await page.$eval('canvas.heatmap-row-labels', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    const columnLabels = await page.$eval('canvas.heatmap-column-labels', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    assert.equal(rowLabels.height, canvas.height, 'one row label band per matrix row');
    assert.equal(columnLabels.width, canvas.width, 'one column label band per matrix column');
    const rowInk = await inkIn(page, 'canvas.heatmap-row-labels', Array.from({ length: Tq }, (_, t) => [0, rowLabels.width, t * cell + 2, (t + 1) * cell - 2] as [number, number, number, number]));
    const columnInk = await inkIn(page, 'canvas.heatmap-column-labels', Array.from({ length: Tk }, (_, s) => [s * cell + 2, (s + 1) * cell - 2, 0, columnLabels.height] as [number, number, number, number]));
    rowInk.forEach((ink, t) => assert.ok(ink > 2, `row ${t} has a label (${ink} inked pixels)`));
    columnInk.forEach((ink, s) => assert.ok(ink > 2, `column ${s} has a label (${ink} inked pixels)`));

    // The pixels follow the cross weights: in every target row, the strongest source column is brightest.
    const zero = await legendZeroColor(page);
    const cross = headMatrix(data, 0, MEAN_HEAD, CROSS);
    for (let t = 0; t < Tq; t++) {
      const colors = await cellColors(page, [Tq, Tk], Array.from({ length: Tk }, (_, s) => [t, s] as [number, number]));
      const brightest = argmax(colors.map((c) => distance(c, zero)));
      assert.equal(brightest, argmax(cross.subarray(t * Tk, t * Tk + Tk)), `row ${t}`);
    }
    assert.equal(await page.isVisible('.legend-mask'), false, 'cross-attention masks nothing');

    // The tooltip names a target token and a source token.
    const box = (await page.locator('canvas.heatmap-matrix').boundingBox())!;
    await page.mouse.move(box.x + (5 + 0.5) * (box.width / Tk), box.y + (2 + 0.5) * (box.height / Tq));
    await page.waitForSelector('.heatmap-tooltip:not([hidden])');
    assert.equal(await page.textContent('.heatmap-tooltip'), `“·chat” #2 → “·mat” #5: ${cross[2 * Tk + 5].toFixed(4)}`);
    await page.mouse.move(5, 5);

    // The link columns: target tokens on the left, source tokens on the right.
    assert.equal(await page.locator('.links-column.queries .link-token').count(), Tq);
    assert.equal(await page.locator('.links-column.keys .link-token').count(), Tk);
    assert.match((await page.textContent('.links-headings')) ?? '', /Q: target.*K\/V: source/s);
    const overview = await drawnLinks(page, 'overview');
    assert.ok(overview.every((link) => link.query < Tq && link.key < Tk));
    for (let t = 0; t < Tq; t++) assert.ok(overview.some((link) => link.query === t && link.key === argmax(cross.subarray(t * Tk, t * Tk + Tk))), `target ${t} links to its strongest source token`);

    // The decoder's own group is square and causal again, with the hatch.
    await page.click(`.group-option[data-group="${DECODER}"]`);
    await painted(page, 0, MEAN_HEAD, DECODER);
    const square = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height }));
    assert.equal(square.width, square.height);
    assert.equal(await page.isVisible('.legend-mask'), true, 'the decoder masks the future');
  });

  it('hovering a target token in cross-attention tells the host its top source tokens and lights them up; focusToken waits for a source group', async () => {
    const data = encoderDecoder();
    const [, , Tq, Tk] = data.session.groups[CROSS].dims;
    const { page, host } = await openPanel({ fixture: data });
    let since = host.mark();
    await page.keyboard.press('G'); // backwards from the encoder wraps to the cross group
    await host.waitFor(is('viewChanged', { group: CROSS }), 'G cycles to the cross group', since);
    await painted(page, 0, MEAN_HEAD, CROSS);

    since = host.mark();
    const query = 3;
    await page.hover(`${target} .token[data-index="${query}"]`);
    const focus = await host.waitFor(is('tokenFocus', { group: CROSS, token: query }), 'tokenFocus for the hovered target token', since);
    const expected = expectedTopK(headMatrix(data, 0, MEAN_HEAD, CROSS).subarray(query * Tk, query * Tk + Tk), 5);
    assert.deepEqual(focus.attended.map((a) => a.token), expected.map((e) => e.token), 'attended indices are source tokens');
    focus.attended.forEach((a, i) => assert.ok(Math.abs(a.weight - expected[i].weight) < 1e-6));
    assert.ok(focus.attended.every((a) => a.token < Tk));

    assert.deepEqual((await attendedChips(page, source)).map((c) => c.index), expected.map((e) => e.token), 'the source strip lights up');
    assert.equal((await attendedChips(page, target)).length, 0, 'nothing lights up on the query side');
    assert.ok(await page.locator(`${target} .token[data-index="${query}"]`).evaluate((chip) => chip.classList.contains('active')));
    assert.equal(await page.locator(`${source} .token.active`).count(), 0);
    assert.match((await page.textContent('.focus-info')) ?? '', /^target #3 “·dort” attends most to source #\d+ “/);

    // The links of the hovered target token, per head, into the source column.
    await host.waitFor(is('requestTokenRows', { group: CROSS, layer: 0, token: query }), 'rows of the cross group', since);
    const links = await drawnLinks(page, 'token', query);
    const rows = tokenRowsOf(data, 0, query, CROSS);
    assert.ok(links.length > 0);
    for (const link of links) {
      assert.ok(link.query === query && link.key < Tk);
      assert.ok(Math.abs(link.weight - rows[link.head * Tk + link.key]) < 1e-6, 'a link carries its cross weight');
    }

    await page.screenshot({ path: path.join(SCREENSHOTS, 'webview-encoder-decoder.png'), fullPage: true });

    // The source strip is the key side here: hovering it picks nothing.
    since = host.mark();
    await page.hover(`${source} .token[data-index="1"]`);
    await frames(page, 3);
    assert.equal(host.received.slice(since).filter(is('tokenFocus')).some((m) => m.token !== null), false, 'a key-side hover sends no query');

    // The editor cursor indexes the source: ignored while the queries are the target...
    since = host.mark();
    await host.post({ type: 'focusToken', sessionId: SESSION_ID, token: 2 });
    await frames(page, 3);
    assert.equal(host.received.slice(since).filter(is('tokenFocus')).length, 0, 'focusToken is ignored while the queries are the target');
    assert.equal(await page.locator('.token.active').count(), 0);

    // ...and followed in the encoder, whose queries are the source.
    since = host.mark();
    await page.keyboard.press('g'); // cross -> encoder (wraps)
    await host.waitFor(is('viewChanged', { group: ENCODER }), 'g cycles to the encoder group', since);
    await painted(page, 0, MEAN_HEAD, ENCODER);
    await host.post({ type: 'focusToken', sessionId: SESSION_ID, token: 2 });
    const followed = await host.waitFor(is('tokenFocus', { group: ENCODER, token: 2 }), 'tokenFocus in the encoder', since);
    const encoderRow = headMatrix(data, 0, MEAN_HEAD, ENCODER).subarray(2 * Tk, 3 * Tk);
    assert.deepEqual(followed.attended.map((a) => a.token), expectedTopK(encoderRow, 5).map((e) => e.token));
    assert.ok(await page.locator(`${source} .token[data-index="2"]`).evaluate((chip) => chip.classList.contains('active')));
    assert.equal(await page.locator(`${target} .token.active`).count(), 0);
    assert.equal(await page.locator('.links-column.queries .link-token').count(), Tk, 'the link columns are the source again');
    assert.ok(Tq !== Tk);
  });

  it('keeps layer and head across groups (clamped when missing), keeps a pin only on the same query sequence, and never shows a head of another group', async () => {
    // The decoder has one layer fewer than the encoder.
    const data = encoderDecoder({ decoderLayers: 1 });
    const { page, host } = await openPanel({ fixture: data });
    await page.click('.head-option[data-layer="1"][data-head="3"]');
    await painted(page, 1, 3, ENCODER);
    const encoderHead = await matrixHash(page);
    await page.click(`${source} .token[data-index="4"]`);
    assert.equal(await page.locator('.token.pinned').count(), 1);

    // Cross has no layer 1: clamped to layer 0, head 3 kept. The source pin does not apply to target queries.
    host.autoReply = false;
    let since = host.mark();
    await page.click(`.group-option[data-group="${CROSS}"]`);
    await host.waitFor(is('viewChanged', { group: CROSS, layer: 0, head: 3 }), 'viewChanged clamped to layer 0', since);
    await host.waitFor(is('requestHead', { group: CROSS, layer: 0, head: 3 }), 'requestHead for the clamped view', since);
    await host.waitFor(is('tokenFocus', { group: CROSS, token: null }), 'the focus is cleared', since);
    assert.equal(await page.locator('.token.pinned').count(), 0, 'the source pin is gone');
    assert.equal(await page.locator('.token.attended').count(), 0, 'and so are its highlights');
    assert.equal(await page.getAttribute('.head-option[data-layer="0"][data-head="3"]', 'aria-selected'), 'true');
    assert.equal(await page.locator('.head-grid .layer-row').count(), 1, 'the head grid shows the decoder\'s one layer');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __vscodeState: unknown }).__vscodeState), { sessionId: SESSION_ID, group: CROSS, layer: 0, head: 3, pinnedToken: null });

    // While group 2's head is on its way nothing is painted — not even group 0's head of the same (layer, head).
    assert.equal(await page.getAttribute('canvas.heatmap-matrix', 'data-painted'), null);
    await host.post(wholeHeadReply(SESSION_ID, ENCODER, 0, 3, headMatrix(data, 0, 3, ENCODER), data.session.groups[ENCODER].dims[2], data.session.groups[ENCODER].dims[3]));
    await frames(page, 2);
    assert.equal(await page.getAttribute('canvas.heatmap-matrix', 'data-painted'), null, 'a head of another group is not drawn');
    await host.post(wholeHeadReply(SESSION_ID, CROSS, 0, 3, headMatrix(data, 0, 3, CROSS), data.session.groups[CROSS].dims[2], data.session.groups[CROSS].dims[3]));
    await painted(page, 0, 3, CROSS);
    host.autoReply = true;

    // A pin on the target survives the switch to the decoder (same queries) and is re-reported for it.
    since = host.mark();
    await page.click(`${target} .token[data-index="2"]`);
    await host.waitFor(is('tokenFocus', { group: CROSS, token: 2 }), 'target token 2 pinned in cross', since);
    since = host.mark();
    await page.click(`.group-option[data-group="${DECODER}"]`);
    const decoderFocus = await host.waitFor(is('tokenFocus', { group: DECODER, token: 2 }), 'the pin carries over to the decoder', since);
    const decoderRow = headMatrix(data, 0, 3, DECODER).subarray(2 * 5, 3 * 5);
    assert.deepEqual(decoderFocus.attended.map((a) => a.token), expectedTopK(decoderRow, 5).map((e) => e.token), 'keys into the target, causal');
    assert.ok(decoderFocus.attended.every((a) => a.token <= 2));
    assert.ok(await page.locator(`${target} .token[data-index="2"]`).evaluate((chip) => chip.classList.contains('pinned')));

    // Back to the encoder at the decoder's layer 0; its layer 1 head 3 then comes from the cache.
    await page.keyboard.press('Escape');
    since = host.mark();
    await page.click(`.group-option[data-group="${ENCODER}"]`);
    await host.waitFor(is('viewChanged', { group: ENCODER, layer: 0, head: 3 }), 'back to the encoder', since);
    await page.click('.head-option[data-layer="1"][data-head="3"]');
    await painted(page, 1, 3, ENCODER);
    assert.equal(await matrixHash(page), encoderHead, 'group 0 layer 1 head 3 looks as before');
    assert.equal(host.received.slice(since).filter(is('requestHead', { group: ENCODER, layer: 1, head: 3 })).length, 0, 'and came from the cache');
  });

  it('restores the group, layer, head and pin VS Code kept for this session', async () => {
    const data = encoderDecoder();
    const { page, host } = await openPanel({ fixture: data, state: { sessionId: SESSION_ID, group: CROSS, layer: 1, head: 2, pinnedToken: 3 }, view: [1, 2, CROSS] });
    assert.deepEqual(host.received.find(is('requestHead')), { type: 'requestHead', sessionId: SESSION_ID, group: CROSS, layer: 1, head: 2 });
    assert.equal(await page.getAttribute(`.group-option[data-group="${CROSS}"]`, 'aria-pressed'), 'true');
    assert.ok(await page.locator(`${target} .token[data-index="3"]`).evaluate((chip) => chip.classList.contains('pinned')), 'the pin is on the target');
    const focus = await host.waitFor(is('tokenFocus', { group: CROSS, token: 3, layer: 1, head: 2 }), 'the restored pin is reported');
    const [, , , Tk] = data.session.groups[CROSS].dims;
    assert.deepEqual(focus.attended.map((a) => a.token), expectedTopK(headMatrix(data, 1, 2, CROSS).subarray(3 * Tk, 4 * Tk), 5).map((e) => e.token));
  });

  it('the target field runs with the typed text (Run or Enter), with the model output, and refuses an empty text', async () => {
    const data = encoderDecoder({ generated: true });
    const { page, host } = await openPanel({ fixture: data });
    const field = page.getByLabel('Target text (decoder input)');
    assert.equal(await field.inputValue(), TARGET, 'prefilled with the target');
    assert.match((await page.textContent('.target-note')) ?? '', /greedy output/);

    let since = host.mark();
    await field.fill('Le chien dort .');
    await page.click('.target-run');
    const typed = await host.waitFor(is('setTarget'), 'setTarget from Run', since);
    assert.deepEqual(typed, { type: 'setTarget', sessionId: SESSION_ID, text: 'Le chien dort .' });

    since = host.mark();
    await field.fill('Un chat');
    await field.press('Enter');
    const entered = await host.waitFor(is('setTarget'), 'setTarget from Enter', since);
    assert.equal(entered.text, 'Un chat');
    assert.equal(await field.inputValue(), 'Un chat', 'Enter runs rather than adding a line');
    // Typing g in the field types; it does not switch groups.
    await field.press('g');
    assert.equal(host.received.slice(since).filter(is('viewChanged')).length, 0);

    since = host.mark();
    await page.click('.target-model');
    assert.deepEqual(await host.waitFor(is('setTarget'), 'setTarget null', since), { type: 'setTarget', sessionId: SESSION_ID, text: null });

    since = host.mark();
    await field.fill('   ');
    await page.click('.target-run');
    await field.press('Enter');
    await frames(page, 3);
    assert.equal(host.received.slice(since).filter(is('setTarget')).length, 0, 'an empty target sends nothing');
    assert.match((await page.textContent('.target-hint')) ?? '', /Type a target text/);
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.isVisible('.target-hint'), true);

    // Keyboard: from the field, Tab reaches Run, then "Use model output".
    await field.focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'target-run');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'target-model');

    // The host answers with busy, then a session whose target the user gave.
    await host.post({ type: 'busy', message: 'Running tiny-t5 with the new target…' });
    const next = encoderDecoder({ sessionId: SESSION_ID + 1, generated: false, target: 'Le chien dort .' });
    host.fixture = next;
    since = host.mark();
    await host.post({ type: 'session', session: next.session });
    await host.waitFor(is('requestHead', { sessionId: SESSION_ID + 1, group: ENCODER }), 'the new run is shown', since);
    assert.equal(await field.inputValue(), 'Le chien dort .');
    assert.match((await page.textContent('.target-note')) ?? '', /Your text/);
    assert.equal((await page.textContent('.target-hint')) ?? '', '', 'the hint is gone');
    assert.equal(await page.isVisible('.busy'), false);
    assert.equal(await page.locator(`${target} .token`).count(), 5);
  });

  it('labels grouped-query heads with the K/V head they read and says how many share; one group shows no selector', async () => {
    const data = buildFixture({ sessionId: SESSION_ID, text: 'A small model with shared keys and values .', layers: 2, heads: 4, causal: true, seed: 8, kvHeads: 2 });
    const { page, host } = await openPanel({ fixture: data, theme: LIGHT_THEME });
    assert.equal(await page.isVisible('.group-options'), false, 'one group: no selector');
    assert.equal((await page.textContent('.group-summary'))?.trim(), 'Masked self-attention · Q, K, V: source');
    assert.equal((await page.textContent('.group-kv'))?.trim(), 'Grouped-query attention: 4 query heads share 2 K/V heads.');
    assert.match((await page.textContent('.run-header')) ?? '', /2 K\/V heads/);

    const heads = await page.$$eval('.head-option[data-layer="1"]:not(.mean)', (options) =>
      options.map((option) => ({ kv: (option as HTMLElement).dataset.kv, tag: option.querySelector('.kv-tag')?.textContent, title: option.getAttribute('title'), label: option.getAttribute('aria-label') })),
    );
    assert.deepEqual(
      heads.map((h) => h.tag),
      ['kv 0', 'kv 0', 'kv 1', 'kv 1'],
    );
    heads.forEach((head, h) => {
      const kv = Math.floor(h / (4 / 2));
      assert.equal(head.kv, String(kv));
      // Then the head's role scores, once they arrive (headRoles.test.ts).
      assert.equal(head.title?.split('\n')[0], `Layer 1 · head ${h} · reads K/V head ${kv} of 2`);
      assert.equal(head.label?.split('. ')[0], `Layer 1, head ${h}, K/V head ${kv}`);
    });
    // The tag is visible, and the K/V groups are set apart.
    assert.equal(await page.isVisible('.head-option[data-layer="0"][data-head="2"] .kv-tag'), true);
    const [head1, head2] = await Promise.all([page.locator('.head-option[data-layer="0"][data-head="1"]').boundingBox(), page.locator('.head-option[data-layer="0"][data-head="2"]').boundingBox()]);
    const [head0] = await Promise.all([page.locator('.head-option[data-layer="0"][data-head="0"]').boundingBox()]);
    assert.ok(head2!.x - (head1!.x + head1!.width) > head1!.x - (head0!.x + head0!.width), 'a wider gap between K/V groups');

    await page.click('.head-option[data-layer="0"][data-head="3"]');
    await painted(page, 0, 3);
    assert.match((await page.textContent('.view-title')) ?? '', /Layer 0 · head 3 \(K\/V head 1\)/);
    // g does nothing with one group.
    const since = host.mark();
    await page.keyboard.press('g');
    await frames(page, 2);
    assert.equal(host.received.slice(since).filter(is('viewChanged')).length, 0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'webview-gqa-light.png'), fullPage: true });
  });

  it('in a narrow panel, the stacked side panel never covers the token strips, however far the page scrolls', async () => {
    const { page } = await openPanel({ fixture: encoderDecoder(), viewport: { width: 420, height: 500 } });
    await page.waitForSelector(`${target} .token`);
    for (const scroll of [0, 150, 300, 600]) {
      await page.evaluate((y) => window.scrollTo(0, y), scroll);
      const overlap = await page.evaluate(() => {
        const side = document.querySelector('.side-panel')!.getBoundingClientRect();
        return Array.from(document.querySelectorAll('.token-flow')).some((strip) => {
          const box = strip.getBoundingClientRect();
          return box.height > 0 && box.top < side.bottom && box.bottom > side.top && box.left < side.right && box.right > side.left;
        });
      });
      assert.equal(overlap, false, `a token strip lies under the side panel at scroll ${scroll}`);
    }
  });
});
