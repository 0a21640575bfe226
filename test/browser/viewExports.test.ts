// Export of the links and model views (issue 11 part 5), in headless Chromium: each view's toolbar
// posts an export message whose SVG is the figure the view shows (src/shared/exportLinks.ts,
// exportGrid.ts) and whose PNG is that SVG rasterised at 2 px per unit. The fixture plants a
// previous-token head (layer 1 head 0) and a first-token head (layer 0 head 2), so the expected
// links and badges are known without the code under test.
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { parseWebviewMessage, type ExportMessage } from '../../src/shared/protocol';
import { buildFixture, plantHead } from './attentionFixture';
import type { FakeHost } from './harness';
import { drawnLinks, is, painted, usePanelBrowser } from './panelSupport';
import { decodePng } from '../support/decodePng';

function plantedFixture(sessionId: number) {
  const fixture = buildFixture({ sessionId, text: 'the cat sat on the mat', layers: 2, heads: 3, causal: true, seed: 9 });
  plantHead(fixture, 1, 0, (t) => Math.max(0, t - 1));
  plantHead(fixture, 0, 2, () => 0);
  return fixture;
}

async function exported(page: Page, host: FakeHost, section: string, format: 'svg' | 'png'): Promise<ExportMessage> {
  const since = host.mark();
  await page.click(`${section} .export-button[data-format="${format}"]`);
  const message = (await host.waitFor(is('export', { format }), `${section} export ${format}`, since)) as ExportMessage;
  assert.ok(parseWebviewMessage(JSON.parse(JSON.stringify(message))), 'passes the host validation');
  return message;
}

function pngMatchesSvg(message: ExportMessage, svg: string): void {
  const png = decodePng(Buffer.from(message.base64!, 'base64'));
  const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  assert.deepEqual([png.width, png.height], [width * 2, height * 2]);
  let dark = 0;
  for (let i = 0; i < png.rgba.length; i += 4) if (png.rgba[i] < 100 && png.rgba[i + 1] < 100 && png.rgba[i + 2] < 100) dark++;
  assert.ok(dark > 200, `text is drawn (${dark} dark pixels)`);
}

/** [query row, key row] of every link path of an exported links SVG (rows from the label positions). */
function svgLinks(svg: string): [number, number][] {
  const rows = [...svg.matchAll(/<g class="query-labels"[\s\S]*?<\/g>/g)][0][0];
  const ys = [...rows.matchAll(/y="([\d.]+)"/g)].map((m) => Number(m[1]));
  const rowOf = (y: number) => ys.findIndex((value) => Math.abs(value - y) < 0.2);
  return [...svg.matchAll(/<path d="M[\d.]+ ([\d.]+) C[^"]* ([\d.]+)"/g)].map((m) => [rowOf(Number(m[1])), rowOf(Number(m[2]))]);
}

describe('Export of the links and model views', function () {
  this.timeout(120000);
  const openPanel = usePanelBrowser();

  it('links: the overview and the active token’s links as drawn; model view: every thumbnail with its role badge; PNGs are the SVGs rasterised', async () => {
    const fixture = plantedFixture(71);
    const [L, H, T] = fixture.session.dims;
    const { page, host } = await openPanel({ fixture });

    // The previous-token head: every query's one link goes one token back (token 0 to itself).
    await page.click('.head-option[data-layer="1"][data-head="0"]');
    await painted(page, 1, 0);
    await drawnLinks(page, 'overview');
    let message = await exported(page, host, '.links-section', 'svg');
    assert.equal(message.name, 'links-G0-L1-H0');
    assert.deepEqual(svgLinks(message.content!).sort((a, b) => a[0] - b[0]), Array.from({ length: T }, (_, t) => [t, Math.max(0, t - 1)]));
    assert.match(message.content!, /class="legend"[^>]*>Line opacity = attention weight/);
    const overviewSvg = message.content!;
    pngMatchesSvg(await exported(page, host, '.links-section', 'png'), overviewSvg);

    // A pinned token: its links only, its label bold.
    await page.click('.token[data-index="4"]');
    await drawnLinks(page, 'token', 4);
    message = await exported(page, host, '.links-section', 'svg');
    assert.deepEqual(svgLinks(message.content!), [[4, 3]]);
    assert.match(message.content!, /<text [^>]*font-weight="bold">[^<]*<\/text>/);
    assert.match(message.content!, /Links of the active token/);

    // The model view: L × H thumbnails of pooled blocks; the planted heads' badges.
    await page.waitForSelector('.model-section[data-roles="ready"]', { state: 'attached' });
    message = await exported(page, host, '.model-section', 'svg');
    assert.equal(message.name, 'heads-G0');
    const thumbnails = message.content!.split('<g class="thumbnail"').slice(1);
    assert.equal(thumbnails.length, L * H);
    for (const thumbnail of thumbnails) assert.equal((thumbnail.match(/<rect [^>]*fill="#/g) ?? []).length, T * T);
    const badge = (layer: number, head: number) => /<text class="badge"[^>]*>([^<]+)</.exec(thumbnails[layer * H + head])![1];
    assert.equal(badge(1, 0), 'prev 1.00');
    assert.equal(badge(0, 2), 'first 1.00');
    pngMatchesSvg(await exported(page, host, '.model-section', 'png'), message.content!);
  });
});
