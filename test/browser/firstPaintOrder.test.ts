// The panel's first paint asks for what it draws first (issue 12): on a new session the head the
// heatmap shows is requested before the head roles (side panel badges, Model view) and the Model
// view's thumbnails, which read the whole tensor and would otherwise be answered first; those views
// still fill afterwards. The Compare view's swap pickers hold only their chosen token until used.
import * as assert from 'node:assert/strict';
import { buildFixture } from './attentionFixture';
import { is, usePanelBrowser } from './panelSupport';

describe('First paint: the shown head first, the other views after', function () {
  this.timeout(120000);
  const openPanel = usePanelBrowser();

  it('posts requestHead before requestRoles and requestThumbnails; badges and the model view still fill', async () => {
    const fixture = buildFixture({ sessionId: 61, text: 'the cat sat on the mat and the dog sat on the log', layers: 2, heads: 3, causal: true, seed: 9 });
    const { page, host } = await openPanel({ fixture });
    await host.waitFor(is('requestRoles', { sessionId: 61, group: 0 }), 'requestRoles');
    await host.waitFor(is('requestThumbnails', { sessionId: 61, group: 0 }), 'requestThumbnails');
    const types = host.received.filter((m) => 'sessionId' in m && m.sessionId === 61).map((m) => m.type);
    const firstHead = types.indexOf('requestHead');
    assert.ok(firstHead >= 0, `a head was requested: ${types.join(', ')}`);
    assert.ok(firstHead < types.indexOf('requestRoles'), `requestHead before requestRoles: ${types.join(', ')}`);
    assert.ok(firstHead < types.indexOf('requestThumbnails'), `requestHead before requestThumbnails: ${types.join(', ')}`);
    assert.equal(types.filter((type) => type === 'requestRoles').length, 1, 'the side panel and the model view still share one request');
    // Badges in the side panel (one per head) and the model view's thumbnails and roles.
    const [L, H] = fixture.session.dims;
    await page.waitForFunction((count) => document.querySelectorAll('.role-tag').length === count, L * H);
    await page.waitForSelector('.model-section[data-roles="ready"]', { state: 'attached' });
    await page.waitForSelector('canvas.model-canvas[data-painted="61:0"]', { state: 'attached' });
  });

  it('fills the swap pickers when the Compare view is first used, keeping the chosen tokens', async () => {
    const fixture = buildFixture({ sessionId: 62, text: 'one two three four five six seven', layers: 1, heads: 2, causal: true, seed: 3 });
    const { page } = await openPanel({ fixture });
    const T = fixture.session.tokens.length;
    const options = (control: string) => page.$$eval(`[data-control="${control}"] option`, (list) => list.length);
    assert.deepEqual([await options('swap-first'), await options('swap-second')], [1, 1], 'one option each before the view is used');
    assert.deepEqual([await page.inputValue('[data-control="swap-first"]'), await page.inputValue('[data-control="swap-second"]')], [String(T - 2), String(T - 1)]);
    await page.focus('[data-control="swap-second"]');
    assert.deepEqual([await options('swap-first'), await options('swap-second')], [T, T], 'every token once the view is used');
    assert.deepEqual([await page.inputValue('[data-control="swap-first"]'), await page.inputValue('[data-control="swap-second"]')], [String(T - 2), String(T - 1)], 'the choices kept');
    await page.selectOption('[data-control="swap-first"]', '0');
    assert.equal(await page.inputValue('[data-control="swap-first"]'), '0');
  });
});
