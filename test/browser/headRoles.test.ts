// Head roles in the panel (issue 11 part 2) and the heatmap from the keyboard (part 6), in headless
// Chromium: the model view's badges and labels carry the roles the host posted (requestRoles,
// answered by src/shared/replies.ts), "Sort / highlight by role" ranks and dims heads by the chosen
// score, the side panel reads every score; the heatmap is one Tab stop whose arrows move a focus
// cell and announce "Query q, key k, weight w" from the fixture's weights.
import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { RolesMessage } from '../../src/shared/protocol';
import { answerRequest } from '../../src/shared/replies';
import { buildFixture, headMatrix, plantHead, type Fixture } from './attentionFixture';
import { frames, is, painted, SCREENSHOTS, usePanelBrowser } from './panelSupport';

/** A repeating text whose ids repeat with its words; layer 1 head 0 looks one back, layer 0 head 2 at the first token. */
function rolesFixture(sessionId: number): Fixture {
  const text = 'the cat sat on the mat and the cat sat on the hat';
  const fixture = buildFixture({ sessionId, text, layers: 2, heads: 3, causal: true, seed: 5 });
  const ids = new Map<string, number>();
  for (const token of fixture.session.tokens) token.id = ids.get(token.text.trim()) ?? ids.set(token.text.trim(), 200 + ids.size).get(token.text.trim())!;
  const [L, H] = fixture.session.dims;
  assert.equal(L * H, 6);
  plantHead(fixture, 1, 0, (t) => Math.max(0, t - 1));
  plantHead(fixture, 0, 2, () => 0);
  return fixture;
}

const cellInfo = (page: Page) =>
  page.$$eval('.model-cell', (cells) =>
    cells.map((cell) => {
      const c = cell as HTMLElement;
      return { at: `${c.dataset.layer}:${c.dataset.head}`, badge: c.querySelector('.model-role')?.textContent ?? '', label: c.getAttribute('aria-label') ?? '', rank: c.dataset.rank ?? '', dim: c.dataset.dim === 'true' };
    }),
  );

const two = (value: number | null) => (value === null ? '—' : value.toFixed(2));

describe('Head roles in the panel; the heatmap from the keyboard', function () {
  this.timeout(120000);
  const openPanel = usePanelBrowser();

  it('badges and labels show the posted roles; sorting by a role ranks, highlights and lists heads; the side panel reads every score', async () => {
    const fixture = rolesFixture(41);
    const { page, host } = await openPanel({ fixture });
    await host.waitFor(is('requestRoles', { sessionId: 41, group: 0 }), 'requestRoles');
    assert.equal(host.received.filter((m) => m.type === 'requestRoles').length, 1, 'the side panel and the model view share one request');
    await page.waitForSelector('.model-section[data-roles="ready"]', { state: 'attached' });
    await page.waitForSelector('canvas.model-canvas[data-painted="41:0"]', { state: 'attached' });
    // The roles the host posted, as the shared reply code computes them.
    const roles = rolesOf(fixture).roles!;
    assert.equal(roles.length, 6);
    assert.ok(roles[3].previousToken === 1 && roles[2].firstToken === 1 && roles[0].induction !== null, 'the planted heads and a repeating text');

    const names = ['previous token', 'first token (sink)', 'same token', 'induction', 'entropy'] as const;
    const keys = ['previousToken', 'firstToken', 'sameToken', 'induction', 'entropy'] as const;
    const cells = await cellInfo(page);
    for (const [index, cell] of cells.entries()) {
      const scores = roles[index];
      assert.equal(cell.at, `${scores.layer}:${scores.head}`);
      const text = keys.map((key, k) => `${names[k]} ${two(scores[key])}`).join(', ');
      assert.equal(cell.label, `Layer ${scores.layer}, head ${scores.head}. ${text}.`);
      // The badge: the strongest weight-share role.
      const best = (['previousToken', 'firstToken', 'sameToken', 'induction'] as const).reduce((a, b) => ((scores[b] ?? -1) > (scores[a] ?? -1) ? b : a));
      assert.equal(cell.badge, `${{ previousToken: 'prev', firstToken: 'first', sameToken: 'same', induction: 'induct' }[best]} ${two(scores[best])}`);
      assert.equal(cell.dim, false);
    }
    assert.equal(cells[3].badge, 'prev 1.00');
    assert.equal(cells[2].badge, 'first 1.00');

    // Sort / highlight by previous token: the one-back head first, the top 5 ranked, the sixth dimmed, badges show that score.
    await page.selectOption('#model-role-select', 'previousToken');
    const order = roles.map((_, i) => i).sort((a, b) => roles[b].previousToken - roles[a].previousToken || a - b);
    let after = await cellInfo(page);
    assert.equal(after[3].rank, '1');
    for (const [position, index] of order.entries()) {
      assert.equal(after[index].rank, position < 5 ? String(position + 1) : '', `rank of head ${index}`);
      assert.equal(after[index].dim, position >= 5);
      assert.equal(after[index].badge, `prev ${two(roles[index].previousToken)}`);
    }
    const listed = await page.$$eval('.model-role-top button', (buttons) => buttons.map((b) => `${(b as HTMLElement).dataset.layer}:${(b as HTMLElement).dataset.head}`));
    assert.deepEqual(listed, order.slice(0, 5).map((index) => `${roles[index].layer}:${roles[index].head}`));

    // Another role reorders: first token puts layer 0 head 2 first.
    await page.selectOption('#model-role-select', 'firstToken');
    after = await cellInfo(page);
    assert.equal(after[2].rank, '1');
    assert.equal(after[2].badge, 'first 1.00');
    const firstOrder = roles.map((_, i) => i).sort((a, b) => roles[b].firstToken - roles[a].firstToken || a - b);
    assert.equal(after[firstOrder[5]].dim, true);

    // A listed head is a button that shows it.
    const since = host.mark();
    await page.click('.model-role-top button[data-layer="0"][data-head="2"]');
    await host.waitFor(is('viewChanged', { layer: 0, head: 2 }), 'viewChanged 0:2', since);
    await painted(page, 0, 2);

    // The legend explains every score in one line.
    const legend = await page.$$eval('.model-role-legend li', (items) => items.map((item) => item.textContent ?? ''));
    assert.equal(legend.length, 5);
    assert.match(legend[0], /^Previous token: mean weight/);
    assert.match(legend[3], /^Induction:/);

    // The side panel: every score in each head's label, its strongest role as a tag.
    const option = await page.$eval('.head-option[data-layer="1"][data-head="0"]', (o) => ({ label: o.getAttribute('aria-label'), title: o.getAttribute('title'), tag: o.querySelector('.role-tag')?.textContent }));
    assert.equal(option.label, `Layer 1, head 0. ${keys.map((key, k) => `${names[k]} ${two(roles[3][key])}`).join(', ')}`);
    assert.match(option.title ?? '', /previous token 1\.00/);
    assert.equal(option.tag, 'prev');

    await page.selectOption('#model-role-select', 'previousToken');
    await frames(page);
    await page.locator('.model-section').screenshot({ path: path.join(SCREENSHOTS, 'webview-model-view-roles.png') });
  });

  it('the heatmap is one Tab stop: arrows move a focus cell and announce its query, key and weight', async () => {
    const fixture = rolesFixture(42);
    const { page, host } = await openPanel({ fixture });
    await page.click('.head-option[data-layer="1"][data-head="1"]');
    await painted(page, 1, 1);
    const weights = headMatrix(fixture, 1, 1);
    const T = fixture.session.tokens.length;
    const texts = fixture.session.tokens.map((token) => token.text.replace(/ /g, '·'));
    const matrix = page.locator('canvas.heatmap-matrix');
    assert.equal(await matrix.getAttribute('tabindex'), '0');
    assert.equal(await page.locator('.cell-focus:not([hidden])').count(), 0);
    await matrix.focus();
    const state = () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLElement>('canvas.heatmap-matrix')!;
        const box = document.querySelector<HTMLElement>('.cell-focus')!;
        return { query: Number(canvas.dataset.focusQuery), key: Number(canvas.dataset.focusKey), said: document.querySelector('.heatmap-announce')!.textContent ?? '', boxVisible: !box.hidden && box.getBoundingClientRect().width > 0, focused: document.activeElement === canvas };
      });
    const expected = (query: number, key: number) => {
      const weight = key > query ? 'masked (a future token)' : weights[query * T + key] === 0 ? '0' : weights[query * T + key] < 1e-3 ? weights[query * T + key].toExponential(2) : weights[query * T + key].toFixed(4);
      return `Query ${query} “${texts[query]}”, key ${key} “${texts[key]}”, weight ${weight}`;
    };
    let now = await state();
    assert.deepEqual([now.query, now.key, now.boxVisible], [0, 0, true]);
    assert.equal(now.said, expected(0, 0));

    const since = host.mark();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    now = await state();
    assert.deepEqual([now.query, now.key], [3, 0]);
    assert.equal(now.said, expected(3, 0));
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    now = await state();
    assert.deepEqual([now.query, now.key, now.focused], [3, 2, true]);
    assert.equal(now.said, expected(3, 2));
    assert.ok(weights[3 * T + 2] > 0);
    await page.keyboard.press('End');
    now = await state();
    assert.equal(now.key, T - 1);
    assert.equal(now.said, expected(3, T - 1));
    assert.match(now.said, /masked \(a future token\)$/);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('PageDown');
    now = await state();
    assert.deepEqual([now.query, now.key], [T - 1, T - 2]);
    assert.equal(now.said, expected(T - 1, T - 2));
    await page.keyboard.press('Home');
    await page.keyboard.press('PageUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowLeft');
    now = await state();
    assert.deepEqual([now.query, now.key], [0, 0], 'stops at the edges');
    assert.ok(!host.received.slice(since).some((m) => m.type === 'tokenFocus' || m.type === 'viewChanged'), 'moving the focus cell neither moves the token nor the head');

    // Enter pins the focus cell's query.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await host.waitFor(is('tokenFocus', { token: 2 }), 'tokenFocus 2', since);
    await page.locator('canvas.heatmap-matrix').blur();
    assert.equal(await page.locator('.cell-focus:not([hidden])').count(), 0);
    // One node for the focus box, none per cell.
    assert.equal(await page.locator('.heatmap-matrix-wrap *').count(), 5, 'canvas, row marker, pointer marker, focus box, tooltip');
  });
});

/** The reply the host posts, computed the same way (src/shared/replies.ts) over the fixture. */
function rolesOf(fixture: Fixture): RolesMessage {
  const { sessionId, dims, tokens } = fixture.session;
  const reply = answerRequest({ type: 'requestRoles', sessionId, group: 0 }, { sessionId, groups: [{ attention: fixture.attention[0], dims, causal: true, tokenIds: tokens.map((token) => token.id) }] });
  assert.ok(reply);
  return reply;
}
