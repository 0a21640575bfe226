// The rollout view beyond its heatmap (issue 11 part 3), in headless Chromium: "Paint the focused
// token's row on the editor" makes the host hear the rollout row (tokenFocus.attended) instead of the
// shown head's, the focus line says so, and unticking goes back to the head; the section has the
// colour legend; for an encoder–decoder's cross-attention group the view draws the cross rollout
// (decoder rollout · mean cross-attention · encoder rollout) computed independently here.
import * as assert from 'node:assert/strict';
import { attentionRollout, crossAttentionRollout } from '../../src/core/analysis/rollout';
import { buildEncoderDecoderFixture, buildFixture, expectedTopK, headMatrix } from './attentionFixture';
import { drawnLinks, is, painted, usePanelBrowser } from './panelSupport';

const close = (a: { token: number; weight: number }[], b: { token: number; weight: number }[]) =>
  a.length === b.length && a.every((entry, i) => entry.token === b[i].token && Math.abs(entry.weight - b[i].weight) < 1e-6);

describe('Rollout view: painting the editor, legend, cross rollout', function () {
  this.timeout(120000);
  const openPanel = usePanelBrowser();

  it('ticking "Paint … on the editor" sends the rollout row of the focused token; unticking sends the head row again', async () => {
    const fixture = buildFixture({ sessionId: 81, text: 'the cat sat on the mat and ran', layers: 3, heads: 2, causal: true, seed: 13 });
    const [L, H, T] = fixture.session.dims;
    const { page, host } = await openPanel({ fixture });
    await page.click('.head-option[data-layer="1"][data-head="1"]');
    await painted(page, 1, 1);
    await page.click('.aggregate-section summary');
    await page.waitForSelector('.aggregate-section[data-state="drawn"][data-method="rollout"]', { state: 'attached' });
    assert.equal(await page.locator('.aggregate-section .legend').count(), 1, 'the section has the colour legend');

    const query = 5;
    const rollout = attentionRollout(fixture.attention[0], [L, H, T, T]);
    const rolloutTop = expectedTopK(rollout.slice(query * T, query * T + T), 5);
    const headTop = expectedTopK(headMatrix(fixture, 1, 1).slice(query * T, query * T + T), 5);
    assert.ok(!close(rolloutTop, headTop), 'the fixture makes the two rows differ');

    let since = host.mark();
    await page.click(`.token[data-index="${query}"]`);
    let focus = await host.waitFor(is('tokenFocus', { token: query }), 'tokenFocus for the pinned token', since);
    assert.ok(close(focus.attended, headTop), 'the head row before ticking');

    since = host.mark();
    await page.check('[data-control="aggregate-paint"]');
    focus = await host.waitFor((m): m is typeof focus => is('tokenFocus', { token: query })(m) && close(m.attended, rolloutTop), 'tokenFocus with the rollout row', since);
    assert.match((await page.textContent('.focus-info')) ?? '', /attention rollout/);
    // The links follow the painted map too: the pinned token's strongest rollout keys, with their weights.
    await page.waitForFunction(
      ({ key, weight }) => [...document.querySelectorAll('svg.token-links[data-mode="token"] path')].some((p) => Number(p.getAttribute('data-key')) === key && Math.abs(Number(p.getAttribute('data-weight')) - weight) < 1e-6),
      { key: rolloutTop[0].token, weight: rolloutTop[0].weight },
    );
    const links = await drawnLinks(page, 'token', query);
    // (links.ts leaves out weights under 0.01 and under 4 % of the strongest drawn)
    for (const { token, weight } of rolloutTop.filter((entry) => entry.weight >= 0.01 && entry.weight >= 0.04 * rolloutTop[0].weight)) assert.ok(links.some((link) => link.key === token && Math.abs(link.weight - weight) < 1e-6), `a link to ${token} (${weight})`);

    since = host.mark();
    await page.uncheck('[data-control="aggregate-paint"]');
    await host.waitFor((m): m is typeof focus => is('tokenFocus', { token: query })(m) && close(m.attended, headTop), 'tokenFocus with the head row again', since);
  });

  it('the cross-attention group draws the cross rollout [T_target, T_source]', async () => {
    const fixture = buildEncoderDecoderFixture({ sessionId: 82, source: 'The cat sat on the mat .', target: 'Le chat dort .', generated: true, layers: 2, heads: 2, seed: 5 });
    const { page, host } = await openPanel({ fixture });
    const [encoder, decoder, cross] = fixture.session.groups;
    await page.click('.group-option[data-group="2"]');
    await host.waitFor(is('viewChanged', { group: 2 }), 'viewChanged to the cross group');
    await page.click('.aggregate-section summary');
    await host.waitFor(is('requestAggregate', { group: 2, method: 'rollout' }), 'requestAggregate for the cross group');
    await page.waitForSelector('.aggregate-section[data-state="drawn"]', { state: 'attached' });
    const [, , Tt, Ts] = cross.dims;
    assert.equal(await page.$eval('.aggregate-section', (s) => (s as HTMLElement).dataset.values), String(Tt * Ts));
    const expected = crossAttentionRollout(
      { attention: fixture.attention[0], dims: encoder.dims },
      { attention: fixture.attention[1], dims: decoder.dims },
      { attention: fixture.attention[2], dims: cross.dims },
    );
    for (let i = 0; i < Tt; i++) assert.ok(Math.abs(expected.slice(i * Ts, (i + 1) * Ts).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    // The map the page drew, read back through painting: the focused target token's row is the expected one.
    const query = 2;
    const since = host.mark();
    await page.check('[data-control="aggregate-paint"]');
    await page.click(`.token-flow[data-sequence="target"] .token[data-index="${query}"]`);
    const wanted = expectedTopK(expected.slice(query * Ts, (query + 1) * Ts), 5);
    await host.waitFor((m): m is Extract<typeof m, { type: 'tokenFocus' }> => is('tokenFocus', { group: 2, token: query })(m) && close(m.attended, wanted), 'tokenFocus with the cross-rollout row', since);
    await page.uncheck('[data-control="aggregate-paint"]');
    await page.selectOption('.aggregate-method', 'flow');
    await page.waitForSelector('.aggregate-section[data-state="unavailable"][data-method="flow"]', { state: 'attached' });
    assert.match((await page.textContent('.aggregate-status')) ?? '', /Flow needs self-attention/);
  });
});
