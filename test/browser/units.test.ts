// The Units option (webview/unitsView.ts) in headless Chromium: choosing characters asks the host
// for setMerge; the host's merged session (here merged by core/merge.ts, as the extension does)
// turns the strips and the heatmap into units, and the weights the panel shows are the merged ones,
// checked against sums over keys and means over queries computed here from the token attention.
import * as assert from 'node:assert/strict';
import { mergeResult } from '../../src/core/merge';
import type { AttentionResult, TokenSpan } from '../../src/core/types';
import { MEAN_HEAD, type SessionInfo } from '../../src/shared/protocol';
import { expectedTopK, makeAttention, seededRandom, type Fixture } from './attentionFixture';
import { attendedChips, frames, is, usePanelBrowser } from './panelSupport';

const TEXT = '我爱你 ok';
const L = 1;
const H = 2;

/** 我爱你 as a byte-level tokenizer splits it (three tokens per character, two with empty spans), then " ok". */
function tokenFixture(): Fixture {
  const spans: [number, number][] = [[0, 1], [1, 1], [1, 1], [1, 2], [2, 2], [2, 2], [2, 3], [3, 3], [3, 3], [3, 6]];
  const tokens: TokenSpan[] = spans.map(([start, end], index) => ({ id: 200 + index, text: TEXT.slice(start, end), start, end }));
  const T = tokens.length;
  const dims: [number, number, number, number] = [L, H, T, T];
  const attention = makeAttention(L, H, T, T, true, seededRandom(5));
  const session: SessionInfo = {
    sessionId: 11,
    model: { name: 'tiny-gpt2', kind: 'decoder', layers: L, heads: H, dModel: 64, vocabSize: 512, maxPositions: 1024, backend: 'builtin' },
    text: TEXT,
    tokens,
    dims,
    causal: true,
    groups: [{ name: 'self', label: 'Masked self-attention', kind: 'masked-self', queries: 'source', keys: 'source', dims, causal: true }],
    colorScale: 'sqrt',
    source: 'sample/love.txt:1:1–1:7',
    notes: [],
    predictions: [],
    elapsedMs: 3,
  };
  return { session, attention: [attention] };
}

/** What the extension host does on setMerge: the same run, merged, as a new session. */
function mergedFixture(fixture: Fixture, sessionId: number): Fixture {
  const { session } = fixture;
  const result: AttentionResult = {
    model: session.model,
    text: session.text,
    tokens: session.tokens,
    dims: session.dims,
    attention: fixture.attention[0],
    causal: session.causal,
    groups: session.groups.map((group, index) => ({ ...group, attention: fixture.attention[index] })),
    elapsedMs: session.elapsedMs,
  };
  const merged = mergeResult(result, 'chars');
  return {
    session: { ...session, sessionId, tokens: merged.tokens, merge: 'chars', dims: merged.dims, groups: merged.groups.map(({ attention: _a, ...info }) => info) },
    attention: merged.groups.map((group) => group.attention),
  };
}

describe('Units option (tokens | characters | words)', function () {
  this.timeout(60000);
  const openPanel = usePanelBrowser();

  it('switches the strips and the heatmap to characters; the weights are the tokens’ summed over keys and averaged over queries', async () => {
    const tokens = tokenFixture();
    const { page, host } = await openPanel({ fixture: tokens });
    const select = page.locator('select[data-control="units"]');
    assert.equal(await select.inputValue(), 'tokens');
    assert.equal(await page.locator('.token').count(), 10);
    assert.deepEqual(await select.locator('option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value)), ['tokens', 'chars', 'words']);
    // Reachable from the keyboard: a native <select> that takes focus.
    await select.focus();
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.control), 'units');

    let since = host.mark();
    await select.selectOption('chars');
    const request = await host.waitFor(is('setMerge', { merge: 'chars' }), 'setMerge chars', since);
    assert.equal(request.sessionId, 11);

    const merged = mergedFixture(tokens, 12);
    host.fixture = merged;
    since = host.mark();
    await host.post({ type: 'session', session: merged.session });
    await host.waitFor(is('requestHead', { sessionId: 12, layer: 0, head: MEAN_HEAD }), 'the merged session asks for its mean head', since);
    await page.waitForSelector(`canvas.heatmap-matrix[data-painted="0:0:${MEAN_HEAD}"]`, { state: 'attached' });
    await frames(page);

    assert.deepEqual(await page.$$eval('.token .token-text', (spans) => spans.map((span) => span.textContent)), ['我', '爱', '你', '·ok']);
    assert.equal(await select.inputValue(), 'chars');
    const legend = (await page.textContent('[data-role="units-legend"]')) ?? '';
    assert.match(legend, /summed over a unit's keys and averaged over its queries, so rows still sum to 1/);
    assert.match((await page.getAttribute('canvas.heatmap-matrix', 'aria-label')) ?? '', /4 query by 4 key/);

    // Hover unit 3 (" ok", token 9) and unit 1 (爱, tokens 3–5): the highlighted weights are the merged ones, computed here by hand.
    const a = tokens.attention[0];
    const T = 10;
    const units = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]];
    for (const unit of [3, 1]) {
      const row = new Float32Array(4);
      units.forEach((keys, v) => {
        let sum = 0;
        for (let h = 0; h < H; h++) for (const t of units[unit]) for (const s of keys) sum += a[(h * T + t) * T + s];
        row[v] = sum / H / units[unit].length;
      });
      assert.ok(Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-5, 'the merged row sums to 1');
      since = host.mark();
      await page.hover(`.token[data-index="${unit}"]`);
      const focus = await host.waitFor(is('tokenFocus', { token: unit, sessionId: 12 }), `tokenFocus on unit ${unit}`, since);
      const expected = expectedTopK(row, 5);
      assert.deepEqual(focus.attended.map((entry) => entry.token), expected.map((entry) => entry.token));
      focus.attended.forEach((entry, i) => assert.ok(Math.abs(entry.weight - expected[i].weight) < 1e-5, `unit ${unit}: weight of unit ${entry.token}`));
      const chips = await attendedChips(page);
      assert.deepEqual(chips.map((chip) => chip.index), expected.map((entry) => entry.token));
    }

    // Back to tokens: the host hears it (and would publish the token session again).
    since = host.mark();
    await select.selectOption('tokens');
    await host.waitFor(is('setMerge', { merge: 'tokens', sessionId: 12 }), 'setMerge tokens', since);
  });
});
