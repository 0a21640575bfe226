// The panel in a real headless Chromium, under the same strict CSP VS Code serves it with. The
// test plays the extension host with real protocol messages and a deterministic attention tensor,
// then checks what a user would see and what the host would hear. These runs have one attention
// group (decoder- or encoder-only models); encoderDecoder.test.ts covers three.
// Needs dist/webview.js: run `node esbuild.js` (or the esbuild line in the report) first.

import * as assert from 'node:assert/strict';
import * as path from 'path';
import { MEAN_HEAD, type RerunInfo } from '../../src/shared/protocol';
import { buildFixture, expectedTopK, headMatrix, seededRandom, tokenize, tokenRowsOf, wholeHeadReply, type Fixture } from './attentionFixture';
import { applyThemeInPage, DARK_THEME, HIGH_CONTRAST_THEME, LIGHT_THEME } from './harness';
import {
  argmax,
  attendedChips,
  cellColors,
  colorKey as key,
  distance,
  drawnLinks,
  frames,
  hexToRgb,
  is,
  isNeutral,
  legendZeroColor,
  matrixHash,
  painted,
  SCREENSHOTS,
  usePanelBrowser,
} from './panelSupport';

const TEXT = 'The quick brown fox\njumps over\tthe lazy dog.\nIt was not amused, said the cat, and left.';
const SESSION_ID = 7;

function fixture(overrides: { causal?: boolean; sessionId?: number; text?: string; layers?: number; heads?: number } = {}): Fixture {
  return buildFixture({
    sessionId: overrides.sessionId ?? SESSION_ID,
    text: overrides.text ?? TEXT,
    layers: overrides.layers ?? 2,
    heads: overrides.heads ?? 6,
    causal: overrides.causal ?? true,
    seed: 1234,
  });
}

/** What the strip should show for a token's text (written out here, not taken from the webview). */
function shown(text: string): string {
  return text.replace(/ /g, '·').replace(/\t/g, '→').replace(/\n/g, '↵');
}

/** A text of exactly `count` tokens: seeded words, with a newline now and then. */
function longText(count: number): string {
  const words = ['attention', 'is', 'all', 'you', 'need', 'the', 'model', 'reads', 'every', 'token', 'and', 'weighs', 'its', 'past', 'carefully', '.'];
  const random = seededRandom(99);
  let text = 'Once';
  while (tokenize(text).length < count + 8) text += random() < 0.06 ? '\n' + words[Math.floor(random() * 15)] : ' ' + words[Math.floor(random() * words.length)];
  const tokens = tokenize(text);
  return text.slice(0, tokens[count - 1].end);
}

describe('webview panel in headless Chromium', function () {
  this.timeout(60000);
  const openPanel = usePanelBrowser();

  it('keeps the weight badges of neighbouring short tokens apart', async () => {
    // Seven one-letter tokens: centred badges ("23%") are wider than the chips and would overlap.
    const data = buildFixture({ text: 'a b c d e f g', layers: 1, heads: 2, causal: true, seed: 21, sessionId: 3 });
    const { page } = await openPanel({ fixture: data });
    await page.hover('.token[data-index="6"]');
    await page.waitForSelector('.token.attended .token-weight:not(:empty)');
    const boxes = await page.$$eval('.token.attended .token-weight', (badges) =>
      badges.map((badge) => {
        const box = badge.getBoundingClientRect();
        return { left: box.left, right: box.right, top: box.top, bottom: box.bottom };
      }),
    );
    assert.equal(boxes.length, 5, 'five attended tokens carry a badge');
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        assert.equal(overlap, false, `badges ${i} and ${j} overlap: ${JSON.stringify([a, b])}`);
      }
    }
  });

  it('says ready before anything else, then lays out the session: header, tokens with visible whitespace', async () => {
    const data = fixture();
    const { page, host } = await openPanel({ fixture: data });
    assert.equal(host.received[0].type, 'ready', 'the first message is ready');
    const firstRequest = host.received.find(is('requestHead'));
    assert.deepEqual(firstRequest, { type: 'requestHead', sessionId: SESSION_ID, group: 0, layer: 0, head: MEAN_HEAD });

    const header = await page.textContent('.run-header');
    for (const expected of ['tiny-gpt2', 'decoder', 'builtin', '2 layers × 6 heads', '25 tokens', '42 ms', 'causal', 'sample/prose.md:3:1–5:20', 'Inspected the first 25 of 31 tokens', '·the', '23%', '↵']) {
      assert.ok(header?.includes(expected), `header shows ${JSON.stringify(expected)}: ${header}`);
    }

    const tokens = data.session.tokens;
    const chipTexts = await page.$$eval('.token .token-text', (spans) => spans.map((span) => span.textContent));
    assert.deepEqual(chipTexts, tokens.map((token) => shown(token.text)));
    assert.ok(chipTexts.includes('↵') && chipTexts.includes('→') && chipTexts.includes('·quick'));
    // A real line break follows every newline token, and only those: any other chip is followed on its
    // line, or (wrapping) at the start of the next line when the next chip would not fit.
    const boxes = await page.$$eval('.token', (chips) => chips.map((chip) => chip.getBoundingClientRect().toJSON() as DOMRect));
    const flow = await page.$eval('.token-flow', (element) => ({ left: element.getBoundingClientRect().left + parseFloat(getComputedStyle(element).paddingLeft), right: element.getBoundingClientRect().right - parseFloat(getComputedStyle(element).paddingRight) }));
    for (let i = 0; i + 1 < tokens.length; i++) {
      const [chip, next] = [boxes[i], boxes[i + 1]];
      const startsLine = Math.abs(next.x - flow.left) < 0.5 && next.y > chip.y + chip.height;
      if (tokens[i].text.includes('\n')) assert.ok(startsLine, `token ${i + 1} starts a line after the newline`);
      else assert.ok(Math.abs(next.y - chip.y) < 0.5 ? next.x > chip.x + chip.width : startsLine && chip.x + chip.width + next.width > flow.right, `token ${i + 1} follows token ${i}`);
    }
    const [newline, next] = await Promise.all([page.locator('.token[data-index="4"]').boundingBox(), page.locator('.token[data-index="5"]').boundingBox()]);
    assert.ok(newline && next && next.y > newline.y + newline.height, 'the token after a newline starts a new line');
    assert.equal(await page.getAttribute('.token-flow', 'role'), 'listbox');
    assert.equal(await page.locator('.head-grid [role="option"]').count(), 2 * 7);

    // One group: no selector and no second sequence, but the group is named with its sources.
    assert.equal(await page.isVisible('.group-options'), false, 'a single group has no selector');
    assert.equal(await page.locator('.group-option:visible').count(), 0);
    assert.equal((await page.textContent('.group-summary'))?.trim(), 'Masked self-attention · Q, K, V: source');
    assert.equal(await page.isVisible('.sequence-block[data-sequence="target"]'), false, 'no target without a decoder');
    assert.equal(await page.isVisible('.sequence-block[data-sequence="source"] .sequence-title'), false, 'no "Source" heading for the only sequence');
    assert.equal(await page.isVisible('.group-hint'), false, 'the g key is not offered');
    assert.equal(await page.isVisible('.group-kv'), false, 'no grouped-query note without kvHeads');
  });

  it('repaints the heatmap for another head picked in the side panel or with [ and ], fetching each head once', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page, host } = await openPanel({ fixture: data });
    const meanHash = await matrixHash(page);

    let since = host.mark();
    await page.click('.head-option[data-layer="0"][data-head="2"]');
    await host.waitFor(is('viewChanged', { layer: 0, head: 2 }), 'viewChanged to head 2', since);
    await host.waitFor(is('requestHead', { layer: 0, head: 2 }), 'requestHead for head 2', since);
    await painted(page, 0, 2);
    const head2Hash = await matrixHash(page);
    assert.notEqual(head2Hash, meanHash, 'head 2 looks different from the mean');
    assert.equal(await page.getAttribute('.head-option[data-layer="0"][data-head="2"]', 'aria-selected'), 'true');
    assert.match((await page.textContent('.view-title')) ?? '', /Layer 0 · head 2/);

    // The pixels follow the data: in every row, the strongest key is the cell furthest from the zero colour.
    const zero = await legendZeroColor(page);
    const head2 = headMatrix(data, 0, 2);
    for (const t of [3, 9, 17, 24]) {
      const cells: [number, number][] = Array.from({ length: t + 1 }, (_, s) => [t, s]);
      const colors = await cellColors(page, T, cells);
      const strongest = argmax(head2.subarray(t * T, t * T + t + 1));
      const brightest = colors.map((c) => distance(c, zero)).reduce((best, d, s, all) => (d > all[best] ? s : best), 0);
      assert.equal(brightest, strongest, `row ${t}: strongest key ${strongest} is painted strongest`);
    }

    since = host.mark();
    await page.keyboard.press(']');
    await host.waitFor(is('viewChanged', { layer: 0, head: 3 }), 'viewChanged to head 3 after ]', since);
    await painted(page, 0, 3);
    const head3Hash = await matrixHash(page);
    assert.notEqual(head3Hash, head2Hash, '] shows another head');

    since = host.mark();
    await page.keyboard.press('[');
    await host.waitFor(is('viewChanged', { layer: 0, head: 2 }), 'viewChanged back to head 2 after [', since);
    await painted(page, 0, 2);
    assert.equal(await matrixHash(page), head2Hash, 'the cached head 2 paints the same picture');
    assert.equal(host.received.slice(since).filter(is('requestHead')).length, 0, 'a cached head is not requested again');

    // Wrapping: after the last head comes the mean, before the mean the last head.
    await page.click('.head-option[data-layer="0"][data-head="5"]');
    since = host.mark();
    await page.keyboard.press(']');
    await host.waitFor(is('viewChanged', { layer: 0, head: MEAN_HEAD }), '] wraps from the last head to the mean', since);
    await painted(page, 0, MEAN_HEAD);
    assert.equal(await matrixHash(page), meanHash);
    since = host.mark();
    await page.keyboard.press('[');
    await host.waitFor(is('viewChanged', { layer: 0, head: 5 }), '[ wraps from the mean to the last head', since);
  });

  it('paints the masked future of causal attention as a grey hatch, never as the zero colour', async () => {
    const causal = fixture({ causal: true });
    const T = causal.session.dims[2];
    const upper: [number, number][] = [];
    const lower: [number, number][] = [];
    for (let t = 0; t < T; t += 2) for (let s = 0; s < T; s += 3) (s > t ? upper : lower).push([t, s]);

    const first = await openPanel({ fixture: causal });
    const zero = await legendZeroColor(first.page);
    assert.deepEqual(zero, hexToRgb(DARK_THEME.variables['--vscode-editor-background']), 'zero weight is the editor background');
    const masked = await cellColors(first.page, T, upper);
    const maskColors = new Set(masked.map(key));
    assert.ok(maskColors.size >= 1 && maskColors.size <= 2, `one grey hatch (base and line), got ${[...maskColors].join(' | ')}`);
    for (const color of masked) {
      assert.ok(isNeutral(color), `masked cell is grey: ${color}`);
      assert.ok(distance(color, zero) >= 10, `masked cell ${color} differs from the zero colour ${zero}`);
    }
    const visible = await cellColors(first.page, T, lower);
    for (const color of visible) assert.ok(!maskColors.has(key(color)), `a visible cell is never painted with the mask colour: ${color}`);
    assert.equal(await first.page.isVisible('.legend-mask'), true, 'the legend explains the hatch');

    const second = await openPanel({ fixture: fixture({ causal: false }) });
    const bidirectional = await cellColors(second.page, T, upper);
    for (const color of bidirectional) assert.ok(!maskColors.has(key(color)), `bidirectional attention masks nothing: ${color}`);
    assert.ok(bidirectional.filter((color) => distance(color, zero) > 6).length > upper.length / 2, 'the upper triangle carries weight');
    assert.equal(await second.page.isVisible('.legend-mask'), false);
  });

  it('hovering a token highlights exactly its top-5 keys with their weights and tells the host', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page, host } = await openPanel({ fixture: data });
    const query = 9;
    let since = host.mark();
    await page.hover(`.token[data-index="${query}"]`);
    const focus = await host.waitFor(is('tokenFocus', { token: query }), 'tokenFocus for the hovered token', since);
    const expected = expectedTopK(headMatrix(data, 0, MEAN_HEAD).subarray(query * T, query * T + T), 5);
    assert.equal(focus.layer, 0);
    assert.equal(focus.head, MEAN_HEAD);
    assert.deepEqual(focus.attended.map((a) => a.token), expected.map((e) => e.token));
    focus.attended.forEach((a, i) => assert.ok(Math.abs(a.weight - expected[i].weight) < 1e-6, `weight of ${a.token}`));

    const chips = await attendedChips(page);
    assert.deepEqual(chips.map((c) => c.index), expected.map((e) => e.token), 'exactly the top-5 are highlighted, in rank order');
    chips.forEach((chip, i) => {
      assert.equal(chip.rank, i + 1);
      assert.ok(Math.abs(chip.weight - expected[i].weight) < 1e-6);
      assert.match(chip.badge, /^\d+(\.\d+)?%$/);
      assert.ok(Math.abs(parseFloat(chip.badge) - expected[i].weight * 100) < 0.51, `badge ${chip.badge} shows ${expected[i].weight}`);
    });
    assert.ok(await page.locator(`.token[data-index="${query}"]`).evaluate((chip) => chip.classList.contains('active')));
    assert.equal(await page.isVisible('.row-marker'), true, 'the heatmap marks the query row');
    // Stronger keys get a stronger background.
    const backgrounds = await page.$$eval('.token.attended', (all) => all.map((chip) => ({ rank: Number((chip as HTMLElement).dataset.rank), background: getComputedStyle(chip).backgroundColor })));
    assert.equal(new Set(backgrounds.map((b) => b.background)).size, backgrounds.length, 'each weight has its own intensity');

    // Another head (with ]) while the pointer stays: the highlights and the message follow it.
    since = host.mark();
    await page.keyboard.press(']');
    const head0 = await host.waitFor(is('tokenFocus', { token: query, head: 0 }), 'tokenFocus for head 0', since);
    const expected0 = expectedTopK(headMatrix(data, 0, 0).subarray(query * T, query * T + T), 5);
    assert.deepEqual(head0.attended.map((a) => a.token), expected0.map((e) => e.token));
    assert.deepEqual((await attendedChips(page)).map((c) => c.index), expected0.map((e) => e.token));

    // Leaving the strip clears the focus.
    since = host.mark();
    await page.mouse.move(5, 5);
    await host.waitFor(is('tokenFocus', { token: null }), 'tokenFocus null after leaving', since);
    assert.equal(await page.locator('.token.attended').count(), 0);
  });

  it('draws bertviz-style links, queries left and keys right: every query\'s strongest keys, then a colour per head for the focused token', async () => {
    const data = fixture();
    const [, H, T] = data.session.dims;
    const { page, host } = await openPanel({ fixture: data });
    assert.equal(await page.locator('.links-column.queries .link-token').count(), T, 'a query column of T tokens');
    assert.equal(await page.locator('.links-column.keys .link-token').count(), T, 'a key column of T tokens');
    assert.deepEqual(await page.$$eval('.links-column.keys .link-token', (items) => items.map((item) => item.textContent)), data.session.tokens.map((token) => shown(token.text)));

    // No token focused: every query's strongest key in the mean view has a line, opacity = weight.
    const mean = headMatrix(data, 0, MEAN_HEAD);
    const overview = await drawnLinks(page, 'overview');
    for (let t = 0; t < T; t++) {
      const s = argmax(mean.subarray(t * T, t * T + T));
      const line = overview.find((link) => link.query === t && link.key === s);
      assert.ok(line, `query ${t} links to its strongest key ${s}`);
      assert.ok(Math.abs(line.opacity - Math.min(1, mean[t * T + s])) < 0.002);
    }
    for (const link of overview) assert.ok(link.key <= link.query, 'causal: no line to a future key');
    // Lines run from the query column's right edge to the key column's left edge.
    const [queryBox, keyBox] = await Promise.all([page.locator('.links-column.queries').boundingBox(), page.locator('.links-column.keys').boundingBox()]);
    const boardBox = (await page.locator('.links-board').boundingBox())!;
    const start = /^M([\d.]+) [\d.]+ C.* ([\d.]+) [\d.]+$/.exec(overview[0].d)!;
    assert.ok(Math.abs(Number(start[1]) - (queryBox!.x + queryBox!.width - boardBox.x)) < 1.5, 'starts at the query column');
    assert.ok(Math.abs(Number(start[2]) - (keyBox!.x - boardBox.x)) < 1.5, 'ends at the key column');

    const query = 20;
    const since = host.mark();
    await page.hover(`.token[data-index="${query}"]`);
    await host.waitFor(is('requestTokenRows', { group: 0, layer: 0, token: query }), 'requestTokenRows', since);
    const rows = tokenRowsOf(data, 0, query);
    const readPaths = () => drawnLinks(page, 'token');
    const paths = await drawnLinks(page, 'token', query);
    assert.equal(await page.locator('.links-column.queries .link-token.active').getAttribute('data-index'), String(query), 'the focused query is marked in the left column');
    const attendedKeys = await page.$$eval('.links-column.keys .link-token.attended', (items) => items.map((item) => Number((item as HTMLElement).dataset.index)));
    assert.deepEqual(attendedKeys.sort((a, b) => a - b), expectedTopK(mean.subarray(query * T, query * T + T), 5).map((e) => e.token).sort((a, b) => a - b), 'its top-5 keys light up on the right');
    const strokeOfHead = new Map<number, Set<string>>();
    for (const p of paths) {
      if (!strokeOfHead.has(p.head)) strokeOfHead.set(p.head, new Set());
      strokeOfHead.get(p.head)!.add(p.stroke);
    }
    assert.ok(strokeOfHead.size >= 4, `links of several heads are drawn (${strokeOfHead.size})`);
    for (const strokes of strokeOfHead.values()) assert.equal(strokes.size, 1, 'one colour per head');
    const allStrokes = [...strokeOfHead.values()].map((s) => [...s][0]);
    assert.equal(new Set(allStrokes).size, allStrokes.length, 'heads have different colours');
    // Each head's colour is its swatch in the side panel.
    for (const [head, strokes] of strokeOfHead) {
      const swatch = await page.$eval(`.head-option[data-layer="0"][data-head="${head}"] .swatch`, (s) => getComputedStyle(s).backgroundColor);
      assert.equal(swatch, [...strokes][0]);
    }
    const strongest = Math.max(...paths.map((p) => p.weight));
    for (const p of paths) {
      assert.ok(p.query === query && p.key <= query && p.head >= 0 && p.head < H);
      assert.ok(Math.abs(p.weight - rows[p.head * T + p.key]) < 1e-6, 'a link carries its weight');
      assert.ok(Math.abs(p.opacity - p.weight / strongest) < 0.002, `opacity ${p.opacity} ∝ weight ${p.weight}`);
      assert.match(p.d, /^M[\d.]+ [\d.]+ C/);
    }
    // Every head's strongest key (itself included: it is a token of the key column) has a link.
    for (let h = 0; h < H; h++) {
      const top = argmax(rows.subarray(h * T, h * T + T));
      assert.ok(paths.some((p) => p.head === h && p.key === top), `head ${h} links to its strongest key ${top}`);
    }

    await page.keyboard.press(']');
    await painted(page, 0, 0);
    const single = await readPaths();
    assert.ok(single.length > 0);
    assert.deepEqual([...new Set(single.map((p) => p.head))], [0], 'one head selected: only its links');
  });

  it('click pins a token (hover elsewhere keeps it), click again or Escape unpins', async () => {
    const { page, host } = await openPanel({ fixture: fixture() });
    let since = host.mark();
    await page.click('.token[data-index="5"]');
    await host.waitFor(is('tokenFocus', { token: 5 }), 'tokenFocus 5', since);
    assert.equal(await page.locator('.token.pinned').count(), 1);
    assert.equal(await page.getAttribute('.token[data-index="5"]', 'aria-selected'), 'true');
    assert.equal(await page.isVisible('button.unpin'), true);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __vscodeState: unknown }).__vscodeState), { sessionId: SESSION_ID, group: 0, layer: 0, head: MEAN_HEAD, pinnedToken: 5 });

    since = host.mark();
    await page.hover('.token[data-index="11"]');
    await page.hover('.token[data-index="12"]');
    await frames(page, 3);
    assert.equal(host.received.slice(since).filter(is('tokenFocus')).length, 0, 'hovering other tokens does not move a pin');
    assert.ok(await page.locator('.token[data-index="5"]').evaluate((chip) => chip.classList.contains('active')));

    await page.click('.token[data-index="5"]');
    assert.equal(await page.locator('.token.pinned').count(), 0, 'a second click unpins');
    await page.click('.token[data-index="5"]');
    assert.equal(await page.locator('.token.pinned').count(), 1);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.token.pinned').count(), 0, 'Escape unpins');
    assert.equal(await page.isVisible('button.unpin'), false);
  });

  it('moves the focused token with ← and →, and the layer with { and }', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page, host } = await openPanel({ fixture: data });
    let since = host.mark();
    await page.focus('.token[data-index="3"]');
    await host.waitFor(is('tokenFocus', { token: 3 }), 'tokenFocus 3 on keyboard focus', since);
    since = host.mark();
    await page.keyboard.press('ArrowRight');
    await host.waitFor(is('tokenFocus', { token: 4 }), 'tokenFocus 4 after →', since);
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.index), '4', 'keyboard focus moves along');
    since = host.mark();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await host.waitFor(is('tokenFocus', { token: 2 }), 'tokenFocus 2 after ← ←', since);
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).getAttribute('tabindex')), '0', 'roving tabindex follows');

    since = host.mark();
    await page.keyboard.press('}');
    await host.waitFor(is('viewChanged', { layer: 1, head: MEAN_HEAD }), 'viewChanged to layer 1', since);
    await host.waitFor(is('requestHead', { layer: 1, head: MEAN_HEAD }), 'requestHead for layer 1', since);
    await painted(page, 1, MEAN_HEAD);
    const focus = await host.waitFor(is('tokenFocus', { token: 2, layer: 1 }), 'tokenFocus in layer 1', since);
    const expected = expectedTopK(headMatrix(data, 1, MEAN_HEAD).subarray(2 * T, 3 * T), 5);
    assert.deepEqual(focus.attended.map((a) => a.token), expected.map((e) => e.token));
    await host.waitFor(is('requestTokenRows', { layer: 1, token: 2 }), 'links for layer 1', since);

    since = host.mark();
    await page.keyboard.press('{');
    await host.waitFor(is('viewChanged', { layer: 0, head: MEAN_HEAD }), '{ back to layer 0', since);
    await painted(page, 0, MEAN_HEAD);
    assert.equal(host.received.slice(since).filter(is('requestHead')).length, 0, 'layer 0 is cached');
    since = host.mark();
    await page.keyboard.press('{');
    await host.waitFor(is('viewChanged', { layer: 1, head: MEAN_HEAD }), '{ wraps to the last layer', since);
  });

  it('focuses the token under the editor cursor, and ignores replies for an older session', async () => {
    const data = fixture();
    const { page, host } = await openPanel({ fixture: data });
    const before = await matrixHash(page);
    let since = host.mark();
    await host.post({ type: 'focusToken', sessionId: SESSION_ID, token: 20 });
    await host.waitFor(is('tokenFocus', { token: 20 }), 'tokenFocus 20 after the host focused it', since);
    assert.ok(await page.locator('.token[data-index="20"]').evaluate((chip) => chip.classList.contains('active')));
    assert.notEqual(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.index), '20', 'the editor keeps keyboard focus');

    since = host.mark();
    const T = data.session.dims[2];
    const uniform = new Float32Array(T * T).fill(1 / T);
    await host.post({ type: 'focusToken', sessionId: SESSION_ID - 1, token: 2 });
    await host.post(wholeHeadReply(SESSION_ID - 1, 0, 0, MEAN_HEAD, uniform, T, T));
    await host.post({ type: 'tokenRows', sessionId: SESSION_ID - 1, group: 0, layer: 0, token: 20, data: new Float32Array(6 * T).fill(1 / T).buffer });
    await frames(page, 3);
    assert.equal(await matrixHash(page), before, 'a stale head is not painted');
    assert.ok(await page.locator('.token[data-index="20"]').evaluate((chip) => chip.classList.contains('active')), 'a stale focusToken is ignored');
    assert.equal(host.received.slice(since).length, 0, 'stale messages cause nothing');
  });

  it('follows the colour-scale setting and shows busy and error states without losing the view', async () => {
    const { page, host } = await openPanel({ fixture: fixture() });
    const sqrtHash = await matrixHash(page);
    await host.post({ type: 'settings', colorScale: 'log' });
    await frames(page);
    const logHash = await matrixHash(page);
    assert.notEqual(logHash, sqrtHash, 'log scale repaints');
    assert.match((await page.textContent('.legend')) ?? '', /log.*1e-4/s);
    await host.post({ type: 'settings', colorScale: 'linear' });
    await frames(page);
    assert.notEqual(await matrixHash(page), logHash);
    assert.match((await page.textContent('.legend-scale')) ?? '', /linear/);

    await host.post({ type: 'busy', message: 'Running tiny-gpt2 on prose.md:3–5…' });
    assert.equal(await page.isVisible('.busy'), true);
    assert.match((await page.textContent('.busy')) ?? '', /Running tiny-gpt2/);
    assert.equal(await page.isVisible('canvas.heatmap-matrix[data-painted]'), true, 'the old view stays while busy');

    await host.post({ type: 'error', message: 'The run was cancelled.' });
    assert.equal(await page.isVisible('.busy'), false);
    assert.equal(await page.isVisible('[role="alert"].error-banner'), true);
    assert.match((await page.textContent('.error-banner')) ?? '', /The run was cancelled\./);
    assert.equal(await page.isVisible('canvas.heatmap-matrix[data-painted]'), true, 'the old view stays after an error');
    await page.click('.error-banner .dismiss');
    assert.equal(await page.isVisible('.error-banner'), false);

    await host.post({ type: 'error', message: 'Model folder not found.' });
    const next = fixture({ sessionId: SESSION_ID + 1 });
    host.fixture = next;
    const since = host.mark();
    await host.post({ type: 'session', session: next.session });
    await host.waitFor(is('requestHead', { sessionId: SESSION_ID + 1 }), 'a new session requests its head', since);
    assert.equal(await page.isVisible('.error-banner'), false, 'a new session clears the error');
  });

  it('reaches every control with Tab, shows focus, and the side panel answers arrow keys', async () => {
    const { page, host } = await openPanel({ fixture: fixture() });
    await page.click('.token[data-index="6"]'); // pinned: the Unpin button appears
    await host.post({ type: 'error', message: 'Something to dismiss.' });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const visited: { name: string; outline: string }[] = [];
    // After the pinned token: the Compare view's controls (positions, swap and its two pickers), then around to the top
    // (past the heatmap's export toolbar, one stop, and the closed rollout section's summary).
    // (The pinned-run view adds one stop: its Pin button; the links and All heads export toolbars one each.)
    for (let i = 0; i < 19; i++) {
      await page.keyboard.press('Tab');
      visited.push(
        await page.evaluate(() => {
          const active = document.activeElement as HTMLElement;
          const style = getComputedStyle(active);
          const name = active.classList.contains('dismiss') ? 'dismiss' : active.classList.contains('head-option') ? 'head' : active.classList.contains('token') ? 'token' : active.classList.contains('unpin') ? 'unpin' : active.tagName;
          return { name, outline: `${style.outlineStyle} ${style.outlineWidth}` };
        }),
      );
    }
    const names = visited.map((v) => v.name);
    for (const control of ['dismiss', 'head', 'unpin', 'token']) assert.ok(names.includes(control), `Tab reaches ${control}: ${names.join(' → ')}`);
    for (const v of visited.filter((v) => v.name !== 'BODY')) assert.match(v.outline, /^solid [1-9]/, `${v.name} shows focus (${v.outline})`);
    assert.equal(names.filter((n) => n === 'token').length <= 2, true, 'the strip is one Tab stop, not one per token');

    await page.focus('.head-option[aria-selected="true"]');
    const since = host.mark();
    await page.keyboard.press('ArrowDown');
    await host.waitFor(is('viewChanged', { layer: 1, head: MEAN_HEAD }), 'ArrowDown in the side panel picks the next layer', since);
    await page.keyboard.press('ArrowRight');
    await host.waitFor(is('viewChanged', { layer: 1, head: 0 }), 'ArrowRight picks the next head', since);
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.head), '0');
    assert.equal(host.received.slice(since).filter(is('tokenFocus')).some((m) => m.token !== 6), false, 'arrows in the side panel do not move the token');
  });

  it('shows the cell under the pointer as "query → key: weight"', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page } = await openPanel({ fixture: data });
    const box = (await page.locator('canvas.heatmap-matrix').boundingBox())!;
    const cell = box.width / T;
    const [t, s] = [12, 10];
    await page.mouse.move(box.x + (s + 0.5) * cell, box.y + (t + 0.5) * cell);
    await page.waitForSelector('.heatmap-tooltip:not([hidden])');
    const text = (await page.textContent('.heatmap-tooltip')) ?? '';
    const weight = headMatrix(data, 0, MEAN_HEAD)[t * T + s];
    assert.equal(text, `“${shown(data.session.tokens[t].text)}” #${t} → “${shown(data.session.tokens[s].text)}” #${s}: ${weight.toFixed(4)}`);
    await page.mouse.move(box.x + (20 + 0.5) * cell, box.y + (2 + 0.5) * cell);
    await page.waitForFunction(() => document.querySelector('.heatmap-tooltip')?.textContent?.includes('masked'));
  });

  it('follows the VS Code theme (dark, light, high contrast) and looks right in each', async () => {
    const data = fixture({ layers: 4, heads: 8 });
    const T = data.session.dims[2];
    const { page, host } = await openPanel({ fixture: data });
    const since = host.mark();
    await page.hover('.token[data-index="20"]');
    await host.waitFor(is('requestTokenRows', { token: 20 }), 'rows for the links', since);
    await drawnLinks(page, 'token');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'webview-dark.png'), fullPage: true });
    await page.locator('.tokens-section').screenshot({ path: path.join(SCREENSHOTS, 'webview-dark-tokens.png') });
    const darkMask = await cellColors(page, T, [[0, 5]]);

    for (const [theme, name] of [
      [LIGHT_THEME, 'light'],
      [HIGH_CONTRAST_THEME, 'high-contrast'],
    ] as const) {
      await page.evaluate(applyThemeInPage, theme);
      await frames(page, 3);
      const background = hexToRgb(theme.variables['--vscode-editor-background']);
      assert.deepEqual(await legendZeroColor(page), background, `${name}: zero is the new background`);
      const [mask] = await cellColors(page, T, [[0, 5]]);
      assert.ok(isNeutral(mask) && distance(mask, background) >= 10 && key(mask) !== key(darkMask[0]), `${name}: a grey hatch of the new theme (${mask})`);
      const swatch = await page.$eval('.head-option[data-layer="0"][data-head="0"] .swatch', (s) => getComputedStyle(s).backgroundColor);
      assert.equal(swatch, `rgb(${hexToRgb(theme.variables['--vscode-charts-blue']).join(', ')})`, `${name}: head colours come from the theme's charts colours`);
      const stroke = await page.$eval('svg.token-links[data-mode="token"] path[data-head="0"]', (p) => p.getAttribute('stroke'));
      assert.equal(stroke, swatch, `${name}: the links are recoloured`);
      await page.screenshot({ path: path.join(SCREENSHOTS, `webview-${name}.png`), fullPage: true });
    }
  });

  it('stays responsive with 512 tokens', async () => {
    const text = longText(512);
    const data = buildFixture({ sessionId: SESSION_ID, text, layers: 2, heads: 4, causal: true, seed: 5 });
    const T = data.session.dims[2];
    assert.equal(T, 512);
    const { page, host } = await openPanel({ fixture: data, dpr: 1 });
    const geometry = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, css: c.getBoundingClientRect().width }));
    assert.equal(geometry.width % T, 0, 'whole device pixels per cell');
    assert.ok(geometry.css <= 1280, 'the matrix fits the panel');

    // Time from the message arriving to the painted canvas, measured inside the page.
    await page.evaluate(() => {
      const w = window as unknown as { __arrived: number; __painted: number };
      window.addEventListener('message', () => (w.__arrived = performance.now()), { capture: true });
      new MutationObserver(() => (w.__painted = performance.now())).observe(document.querySelector('canvas.heatmap-matrix')!, { attributes: true, attributeFilter: ['data-painted'] });
    });
    await page.keyboard.press(']');
    await painted(page, 0, 0);
    const paintMs = await page.evaluate(() => {
      const w = window as unknown as { __arrived: number; __painted: number };
      return w.__painted - w.__arrived;
    });
    assert.ok(paintMs < 400, `a 512×512 head paints in ${paintMs.toFixed(1)} ms`);

    // Sweeping the pointer over many chips ends on the last one, promptly.
    let since = host.mark();
    for (let i = 40; i < 52; i++) await page.hover(`.token[data-index="${i}"]`);
    await host.waitFor(is('tokenFocus', { token: 51 }), 'tokenFocus for the last hovered chip', since, 3000);

    // The pointer leaves the strip first: scrolling to the focused token would slide another chip under it.
    await page.mouse.move(5, 5);
    since = host.mark();
    await host.post({ type: 'focusToken', sessionId: SESSION_ID, token: 430 });
    await host.waitFor(is('tokenFocus', { token: 430 }), 'tokenFocus 430', since);
    const inView = await page.evaluate(() => {
      const chip = document.querySelector('.token[data-index="430"]')!.getBoundingClientRect();
      const viewport = document.querySelector('.token-scroll')!.getBoundingClientRect();
      return chip.top >= viewport.top && chip.bottom <= viewport.bottom;
    });
    assert.ok(inView, 'the focused token is scrolled into view');
    const lines = await drawnLinks(page, 'token', 430);
    assert.ok(lines.every((line) => line.query === 430), 'the links follow the focused token');
    const linkInView = await page.evaluate(() => {
      const item = document.querySelector('.links-column.queries .link-token[data-index="430"]')!.getBoundingClientRect();
      const viewport = document.querySelector('.links-scroll')!.getBoundingClientRect();
      return item.top >= viewport.top && item.bottom <= viewport.bottom;
    });
    assert.ok(linkInView, 'the link columns scroll to the focused token too');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'webview-512.png'), fullPage: true });

    // A narrow panel has fewer pixels than tokens: blocks of cells are pooled (by their maximum),
    // the future stays hatched and the diagonal stays visible.
    const zero = await legendZeroColor(page);
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForFunction((T) => document.querySelector<HTMLCanvasElement>('canvas.heatmap-matrix')!.width < T, T);
    await frames(page);
    const pooled = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas.heatmap-matrix')!;
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const context = copy.getContext('2d', { willReadFrequently: true })!;
      context.drawImage(canvas, 0, 0);
      const at = (x: number, y: number) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3)) as [number, number, number];
      const w = canvas.width;
      return { css: canvas.getBoundingClientRect().right, future: [at(w - 2, 1), at(w - 3, 1), at(w - 4, 1)], diagonal: at(w - 1, w - 1) };
    });
    assert.ok(pooled.css <= 420, 'the pooled matrix fits the narrow panel');
    for (const color of pooled.future) assert.ok(isNeutral(color) && distance(color, zero) >= 10, `the pooled future is hatched grey (${color})`);
    assert.ok(!isNeutral(pooled.diagonal) && distance(pooled.diagonal, zero) > 6, `the pooled diagonal carries colour (${pooled.diagonal})`);
  });

  it('restores the layer, head and pin VS Code kept with setState for this session', async () => {
    const { page, host } = await openPanel({ fixture: fixture(), state: { sessionId: SESSION_ID, layer: 1, head: 3, pinnedToken: 4 }, view: [1, 3] });
    assert.deepEqual(host.received.find(is('requestHead')), { type: 'requestHead', sessionId: SESSION_ID, group: 0, layer: 1, head: 3 });
    assert.equal(await page.getAttribute('.head-option[data-layer="1"][data-head="3"]', 'aria-selected'), 'true');
    assert.ok(await page.locator('.token[data-index="4"]').evaluate((chip) => chip.classList.contains('pinned')));
    await host.waitFor(is('tokenFocus', { token: 4, layer: 1, head: 3 }), 'the restored pin is reported');

    // State saved for another session is not applied to this one.
    const other = await openPanel({ fixture: fixture(), state: { sessionId: SESSION_ID - 1, layer: 1, head: 3, pinnedToken: 4 } });
    assert.deepEqual(other.host.received.find(is('requestHead')), { type: 'requestHead', sessionId: SESSION_ID, group: 0, layer: 0, head: MEAN_HEAD });
    assert.equal(await other.page.locator('.token.pinned').count(), 0);
  });

  it('saves its view and the run to repeat with setState as they change, and shows the view the host restores after a window reload', async () => {
    const rerun: RerunInfo = { uri: 'file:///work/notes.md', range: [2, 0, 4, 10], text: TEXT, units: 'tokens' };
    const data = fixture();
    data.session.rerun = rerun;
    const { page } = await openPanel({ fixture: data });
    const saved = () => page.evaluate(() => (window as unknown as { __vscodeState: unknown }).__vscodeState);
    assert.deepEqual(await saved(), { sessionId: SESSION_ID, group: 0, layer: 0, head: MEAN_HEAD, pinnedToken: null, rerun }, 'saved on a new session');
    await page.click('.head-option[data-layer="1"][data-head="3"]');
    await painted(page, 1, 3);
    assert.deepEqual(await saved(), { sessionId: SESSION_ID, group: 0, layer: 1, head: 3, pinnedToken: null, rerun }, 'saved on another head');
    await page.click('.token[data-index="4"]');
    await page.waitForFunction(() => (window as unknown as { __vscodeState: { pinnedToken: unknown } }).__vscodeState.pinnedToken === 4);
    const state = await saved();
    assert.deepEqual(state, { sessionId: SESSION_ID, group: 0, layer: 1, head: 3, pinnedToken: 4, rerun }, 'saved on a pin');

    // After a reload the host runs the text again: a new session id, the saved view sent with it. The page reads getState too.
    const again = fixture({ sessionId: 1 });
    again.session.rerun = rerun;
    again.session.restoredView = { group: 0, layer: 1, head: 3, pinnedToken: 4 };
    const restored = await openPanel({ fixture: again, state, view: [1, 3] });
    assert.equal(await restored.page.getAttribute('.head-option[data-layer="1"][data-head="3"]', 'aria-selected'), 'true');
    assert.ok(await restored.page.locator('.token[data-index="4"]').evaluate((chip) => chip.classList.contains('pinned')), 'the pin is back');
    await restored.host.waitFor(is('tokenFocus', { sessionId: 1, token: 4, layer: 1, head: 3 }), 'the restored pin is reported to the host');
    assert.deepEqual(await restored.page.evaluate(() => (window as unknown as { __vscodeState: unknown }).__vscodeState), { sessionId: 1, group: 0, layer: 1, head: 3, pinnedToken: 4, rerun });
  });

  it('says clearly what is wrong with a malformed message, and reports uncaught errors to the host', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page, host } = await openPanel({ fixture: data });
    let since = host.mark();
    await host.post({ ...wholeHeadReply(SESSION_ID, 0, 0, 1, new Float32Array(T * T - 1), T, T) });
    const error = await host.waitFor(is('webviewError'), 'webviewError for a short head', since);
    assert.match(error.message, new RegExp(`expected ${T * T * 4} \\(\\[${T}, ${T}\\] float32\\)`));
    assert.match((await page.textContent('.error-banner')) ?? '', /layer 0, head 1/);
    assert.equal(await page.isVisible('canvas.heatmap-matrix[data-painted="0:0:-1"]'), true, 'the view stays');

    since = host.mark();
    const broken = { ...data.session, sessionId: SESSION_ID + 1, groups: [{ ...data.session.groups[0], dims: [2, 6, T + 1, T + 1] as [number, number, number, number] }] };
    await host.post({ type: 'session', session: broken });
    const refused = await host.waitFor(is('webviewError'), 'webviewError for an inconsistent session', since);
    assert.match(refused.message, new RegExp(`lists ${T} source tokens but dims say Tq = ${T + 1}`));
    assert.equal(host.received.slice(since).filter(is('requestHead')).length, 0, 'nothing is requested for a refused session');

    since = host.mark();
    await page.evaluate(() => setTimeout(() => {
      throw new Error('boom in a timer');
    }));
    const uncaught = await host.waitFor(is('webviewError'), 'webviewError for an uncaught error', since);
    assert.match(uncaught.message, /boom in a timer/);
    for (let wait = 0; wait < 50 && !host.problems.pageErrors.some((e) => e.includes('boom')); wait++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(host.expectProblems(/expected \d+ \(|lists \d+ source tokens|boom in a timer/), 4);
  });

  it('draws crisp cells at devicePixelRatio 2', async () => {
    const data = fixture();
    const T = data.session.dims[2];
    const { page } = await openPanel({ fixture: data, dpr: 2 });
    const size = await page.$eval('canvas.heatmap-matrix', (c) => ({ width: (c as HTMLCanvasElement).width, css: c.getBoundingClientRect().width }));
    assert.equal(size.width, size.css * 2, 'two device pixels per CSS pixel');
    assert.equal(size.width % T, 0, 'whole device pixels per cell');
  });
});
