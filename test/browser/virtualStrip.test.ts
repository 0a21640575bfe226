// The token strip and the links view at 4096 tokens: only the chips and link rows near the scrolled
// range exist as elements, yet every token is reachable — by scrolling, by the keyboard (End, ←,
// Home), by the editor's focusToken — and what is shown is checked against the fixture: chip texts
// against the tokens, highlights against the top-k of the fixture's own mean row, overview lines
// against each visible query's strongest keys.

import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { MEAN_HEAD } from '../../src/shared/protocol';
import { buildFixture, expectedTopK, headMatrix, plantHead, seededRandom, type Fixture } from './attentionFixture';
import { attendedChips, drawnLinks, frames, is, scrollToChip, usePanelBrowser } from './panelSupport';

const T = 4096;
const SESSION_ID = 12;
/** Chips in the DOM: the lines in view (40vh of a 900 px page) and 100 px above and below, plus a few kept ones. */
const MAX_CHIPS = 400;
/** Rows per link column in the DOM: 70vh of rows, 90 px above and below, plus the active and attended ones. */
const MAX_LINK_ROWS = 100;
/** Overview links per query for long inputs (src/shared/linkSelection.ts) and their weight floor. */
const LINKS_PER_QUERY = 2;
const MIN_LINK_WEIGHT = 0.05;

/** 4096 pre-tokens: words with their leading space, and a newline about every 29th token. */
function longText(): string {
  const random = seededRandom(41);
  const parts: string[] = [];
  for (let i = 0; i < T; i++) {
    if (i % 29 === 28) parts.push('\n');
    else parts.push(' ' + Array.from({ length: 1 + Math.floor(random() * 9) }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join(''));
  }
  return parts.join('');
}

/** What a chip shows for these tokens (spaces and newlines made visible), written out independently. */
const shown = (text: string) => text.replace(/ /g, '·').replace(/\n/g, '↵');

/** The indices and texts of the chips that are in the DOM, in DOM order. */
function chips(page: Page): Promise<{ index: number; text: string }[]> {
  return page.$$eval('.token-flow[data-sequence="source"] .token', (all) => all.map((chip) => ({ index: Number((chip as HTMLElement).dataset.index), text: chip.querySelector('.token-text')?.textContent ?? '' })));
}

/** True when the chip of `token` lies inside the strip's viewport. */
function chipInView(page: Page, token: number): Promise<boolean> {
  return page.evaluate((token) => {
    const chip = document.querySelector(`.token-flow[data-sequence="source"] .token[data-index="${token}"]`);
    const viewport = document.querySelector('.token-scroll[data-sequence="source"]');
    if (!chip || !viewport) return false;
    const box = chip.getBoundingClientRect();
    const view = viewport.getBoundingClientRect();
    return box.top >= view.top && box.bottom <= view.bottom && box.left >= view.left && box.right <= view.right;
  }, token);
}

const focusedIndex = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.index ?? null);

describe('token strip and links at 4096 tokens (virtualised)', function () {
  this.timeout(120_000);
  const openPanel = usePanelBrowser();
  let data: Fixture;
  let mean: Float32Array;

  before(() => {
    data = buildFixture({ sessionId: SESSION_ID, text: longText(), layers: 1, heads: 2, causal: true, seed: 5 });
    assert.equal(data.session.tokens.length, T, 'the fixture has 4096 tokens');
    // Over 4096 keys the fixture's rows are diffuse; head 1 puts all its weight on one earlier key, so
    // every query of the mean has one link of weight >= 0.5, to a key far or near.
    plantHead(data, 0, 1, (t) => (t * 7919) % (t + 1));
    mean = headMatrix(data, 0, MEAN_HEAD);
  });

  // One panel for the strip's checks: a 4096-token head takes tens of seconds through the test host.
  it('keeps a bounded number of chips with the extent of every token; scrolling, End/←/Home, the editor and a hover far down reach any token', async () => {
    const { page, host } = await openPanel({ fixture: data, paintTimeoutMs: 60_000 });
    const tokens = data.session.tokens;
    const first = await chips(page);
    assert.ok(first.length > 20 && first.length < MAX_CHIPS, `${first.length} chips in the DOM (bound ${MAX_CHIPS})`);
    assert.deepEqual(first.slice(0, 20), tokens.slice(0, 20).map((token, index) => ({ index, text: shown(token.text) })), 'the first chips, in reading order');
    // The look of the wrapping flex layout the strip had when every chip was an element: the browser lays
    // out the same chips that way in a hidden copy of the flow, and every chip in the DOM sits where it would.
    const offsets = await page.evaluate((texts) => {
      const flow = document.querySelector<HTMLElement>('.token-flow[data-sequence="source"]')!;
      const reference = document.createElement('div');
      reference.className = 'token-flow';
      Object.assign(reference.style, { position: 'absolute', visibility: 'hidden', left: '0', top: '0', width: `${flow.getBoundingClientRect().width}px`, display: 'flex', flexWrap: 'wrap', alignItems: 'center' });
      texts.forEach((text, index) => {
        const chip = document.createElement('div');
        chip.className = 'token';
        chip.style.position = 'relative';
        chip.dataset.reference = String(index);
        const span = document.createElement('span');
        span.className = 'token-text';
        span.textContent = text.replace(/ /g, '·').replace(/\n/g, '↵');
        chip.append(span);
        reference.append(chip);
        if (text.includes('\n')) {
          const lineBreak = document.createElement('span');
          Object.assign(lineBreak.style, { flexBasis: '100%', height: '0' });
          reference.append(lineBreak);
        }
      });
      flow.parentElement!.append(reference);
      const result = [...flow.querySelectorAll<HTMLElement>('.token')].map((chip) => {
        const twin = reference.querySelector<HTMLElement>(`[data-reference="${chip.dataset.index}"]`)!;
        const [a, b] = [chip.getBoundingClientRect(), twin.getBoundingClientRect()];
        const [fa, fb] = [flow.getBoundingClientRect(), reference.getBoundingClientRect()];
        return { index: Number(chip.dataset.index), dx: a.left - fa.left - (b.left - fb.left), dy: a.top - fa.top - (b.top - fb.top), dw: a.width - b.width };
      });
      reference.remove();
      return result;
    }, tokens.slice(0, first.length + 50).map((token) => token.text));
    for (const { index, dx, dy, dw } of offsets) assert.ok(Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5 && Math.abs(dw) < 0.5, `chip ${index} is placed as the flex layout places it (off by ${dx}, ${dy}; width ${dw})`);

    const listbox = await page.$eval('.token-flow[data-sequence="source"] .token[data-index="0"]', (chip) => [chip.getAttribute('role'), chip.getAttribute('aria-setsize'), chip.getAttribute('aria-posinset')]);
    assert.deepEqual(listbox, ['option', String(T), '1'], 'each chip says its place in the whole sequence');

    // Scrolled to the end: the last tokens have chips, with their texts, and the extent ends with the last line.
    await page.$eval('.token-scroll[data-sequence="source"]', (viewport) => (viewport.scrollTop = viewport.scrollHeight));
    await page.waitForSelector(`.token-flow[data-sequence="source"] .token[data-index="${T - 1}"]`, { state: 'attached' });
    await frames(page);
    const last = (await chips(page)).filter((chip) => chip.index >= T - 40);
    assert.deepEqual(last, tokens.slice(T - 40).map((token, i) => ({ index: T - 40 + i, text: shown(token.text) })), 'the last 40 tokens, in order, with their texts');
    assert.ok(await chipInView(page, T - 1), 'the last chip is in view');
    const extent = await page.evaluate((last) => {
      const viewport = document.querySelector('.token-scroll[data-sequence="source"]')!;
      const flow = document.querySelector('.token-flow[data-sequence="source"]')!;
      const chip = flow.querySelector(`.token[data-index="${last}"]`)!;
      return { scrollHeight: viewport.scrollHeight, chipBottom: chip.getBoundingClientRect().bottom - flow.getBoundingClientRect().top, paddingBottom: parseFloat(getComputedStyle(flow).paddingBottom) };
    }, T - 1);
    assert.ok(Math.abs(extent.chipBottom + extent.paddingBottom - extent.scrollHeight) < 1.5, `the scroll extent (${extent.scrollHeight}px) ends with the last chip (${extent.chipBottom}px + padding)`);
    // Far more lines than fit: at least one line per newline token (every 29th token) beyond the first.
    assert.ok(extent.scrollHeight > (T / 29) * 22, 'the extent spans every line');
    const after = await chips(page);
    assert.ok(after.length < MAX_CHIPS, `${after.length} chips after scrolling (bound ${MAX_CHIPS})`);
    assert.ok(after.every((chip) => chip.index === 0 || chip.index >= T / 2), 'the chips near the top were recycled (the keyboard stop, token 0, stays)');

    // The keyboard: End focuses the last token (its chip made and scrolled into view), ← the one before, Home the first.
    await page.focus('.token-flow[data-sequence="source"] .token[data-index="0"]');
    await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.dataset.index === '0');
    let since = host.mark();
    await page.keyboard.press('End');
    await host.waitFor(is('tokenFocus', { token: T - 1 }), 'tokenFocus for the last token', since);
    await page.waitForFunction((last) => (document.activeElement as HTMLElement | null)?.dataset.index === String(last), T - 1);
    assert.ok(await chipInView(page, T - 1), 'the focused last chip is scrolled into view');
    assert.equal(await page.getAttribute(`.token[data-index="${T - 1}"]`, 'tabindex'), '0', 'it is the keyboard stop');
    assert.equal(await page.getAttribute(`.token[data-index="${T - 1}"]`, 'aria-posinset'), String(T));

    since = host.mark();
    await page.keyboard.press('ArrowLeft');
    await host.waitFor(is('tokenFocus', { token: T - 2 }), 'tokenFocus for the token before', since);
    assert.equal(await focusedIndex(page), String(T - 2));

    since = host.mark();
    await page.keyboard.press('Home');
    await host.waitFor(is('tokenFocus', { token: 0 }), 'tokenFocus for the first token', since);
    assert.equal(await focusedIndex(page), '0');
    assert.ok(await chipInView(page, 0), 'back at the top');
    assert.ok((await chips(page)).length < MAX_CHIPS);

    // The editor's focusToken scrolls the strip to its token; a hover there lights up exactly the top-5 keys of the fixture's row.
    const target = 3500;
    since = host.mark();
    await host.post({ type: 'focusToken', sessionId: SESSION_ID, token: target });
    await host.waitFor(is('tokenFocus', { token: target }), 'tokenFocus for the editor token', since);
    await page.waitForSelector(`.token.active[data-index="${target}"]`, { state: 'attached' });
    assert.ok(await chipInView(page, target), 'the strip scrolled to the editor token');

    const query = target + 7;
    since = host.mark();
    await page.hover(`.token-flow[data-sequence="source"] .token[data-index="${query}"]`);
    const focus = await host.waitFor(is('tokenFocus', { token: query }), 'tokenFocus for the hovered token', since);
    const expected = expectedTopK(mean.subarray(query * T, query * T + T), 5);
    assert.deepEqual(focus.attended.map((a) => a.token), expected.map((e) => e.token));
    const highlighted = await attendedChips(page, '.token-flow[data-sequence="source"]');
    assert.deepEqual(highlighted.map((chip) => chip.index), expected.map((e) => e.token), 'exactly the top-5 keys are highlighted, in rank order, wherever they are');
    highlighted.forEach((chip, i) => assert.ok(Math.abs(chip.weight - expected[i].weight) < 1e-6, `weight of key ${chip.index}`));
    const paint = await page.$$eval('.token-flow[data-sequence="source"] .token.attended', (all) =>
      all.map((chip) => ({ index: Number((chip as HTMLElement).dataset.index), strength: Number((chip as HTMLElement).style.getPropertyValue('--weight')), background: getComputedStyle(chip).backgroundColor })),
    );
    const plain = await page.$eval(`.token-flow[data-sequence="source"] .token[data-index="${query + 1}"]`, (chip) => getComputedStyle(chip).backgroundColor);
    for (const chip of paint) {
      const weight = expected.find((e) => e.token === chip.index)!.weight;
      assert.ok(Math.abs(chip.strength - weight / expected[0].weight) < 1e-3, `key ${chip.index} is painted in proportion to its weight`);
      assert.notEqual(chip.background, plain, `key ${chip.index} has the attended background`);
    }
    assert.ok((await chips(page)).length < MAX_CHIPS);

    // Scrolled back up by hand, a click on a chip there pins it.
    const pin = 1000;
    since = host.mark();
    await page.click(await scrollToChip(page, pin));
    await host.waitFor(is('tokenFocus', { token: pin }), 'tokenFocus for the clicked token', since);
    assert.equal(await page.getAttribute('.token.pinned', 'data-index'), String(pin));
    assert.equal(await page.getAttribute(`.token[data-index="${pin}"]`, 'aria-selected'), 'true');
  });

  it('keeps a bounded number of link rows and draws the visible queries\' strongest keys, also after scrolling to the end', async () => {
    const { page } = await openPanel({ fixture: data, paintTimeoutMs: 60_000 });
    const rows = () => page.$$eval('.links-column.queries .link-token', (items) => items.map((item) => ({ index: Number((item as HTMLElement).dataset.index), text: item.textContent ?? '' })));
    /** The query rows inside the links viewport. */
    const visibleQueries = () =>
      page.evaluate(() => {
        const view = document.querySelector('.links-scroll')!.getBoundingClientRect();
        return [...document.querySelectorAll('.links-column.queries .link-token')]
          .filter((item) => {
            const box = item.getBoundingClientRect();
            return box.top >= view.top && box.bottom <= view.bottom;
          })
          .map((item) => Number((item as HTMLElement).dataset.index));
      });
    const checkOverview = async (label: string) => {
      const lines = await drawnLinks(page, 'overview');
      const queries = await visibleQueries();
      assert.ok(queries.length > 5, `${label}: rows are visible`);
      assert.ok(lines.length <= LINKS_PER_QUERY * MAX_LINK_ROWS, `${label}: ${lines.length} lines (bounded)`);
      for (const query of queries) {
        const wanted = expectedTopK(mean.subarray(query * T, query * T + T), LINKS_PER_QUERY).filter((e) => e.weight >= MIN_LINK_WEIGHT);
        const drawn = lines.filter((line) => line.query === query);
        assert.deepEqual(drawn.map((line) => line.key).sort((a, b) => a - b), wanted.map((e) => e.token).sort((a, b) => a - b), `${label}: query ${query} links to its strongest keys`);
        for (const line of drawn) assert.ok(Math.abs(line.weight - mean[query * T + line.key]) < 1e-6);
      }
      return queries;
    };
    const start = await rows();
    assert.ok(start.length < MAX_LINK_ROWS, `${start.length} query rows in the DOM (bound ${MAX_LINK_ROWS})`);
    assert.ok((await page.locator('.links-column.keys .link-token').count()) < MAX_LINK_ROWS);
    assert.deepEqual(start.slice(0, 10).map((row) => row.text), data.session.tokens.slice(0, 10).map((token) => shown(token.text)));
    const top = await checkOverview('at the top');
    assert.equal(top[0], 0);

    await page.$eval('.links-scroll', (viewport) => (viewport.scrollTop = viewport.scrollHeight));
    await page.waitForSelector(`svg.token-links[data-mode="overview"] path[data-query="${T - 1}"]`, { state: 'attached' });
    const bottom = await checkOverview('at the end');
    assert.equal(bottom[bottom.length - 1], T - 1, 'the last query row is visible');
    const end = await rows();
    assert.ok(end.length < MAX_LINK_ROWS, `${end.length} query rows after scrolling`);
    const lastRow = end.find((row) => row.index === T - 1)!;
    assert.equal(lastRow.text, shown(data.session.tokens[T - 1].text));
  });
});
