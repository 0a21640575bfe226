// The rollout view and the heatmap's export buttons, in headless Chromium: opening "Rollout and flow"
// asks the host for requestAggregate and paints the [T, T] map it answers (the shared reply code);
// the export buttons post export messages whose SVG and CSV are exportFormats.ts of the shown head.
import * as assert from 'node:assert/strict';
import { heatmapSvg, matrixCsv, parseCsv } from '../../src/shared/exportFormats';
import { parseWebviewMessage } from '../../src/shared/protocol';
import { attentionRollout } from '../../src/core/analysis/rollout';
import { buildFixture } from './attentionFixture';
import { is, painted, usePanelBrowser } from './panelSupport';
import { decodePng } from '../support/decodePng';

describe('Rollout view and panel export', function () {
  this.timeout(120000);
  const openPanel = usePanelBrowser();

  it('draws the posted rollout and flow maps; the export buttons post the shown head as SVG, CSV, PNG, JSON and Copy CSV', async () => {
    const fixture = buildFixture({ sessionId: 61, text: 'the cat sat on the mat', layers: 2, heads: 2, causal: true, seed: 3 });
    const { page, host } = await openPanel({ fixture });
    await page.click('.head-option[data-layer="0"][data-head="0"]');
    await painted(page, 0, 0);
    const [L, H, T] = fixture.session.dims;
    assert.ok(host.received.every((m) => m.type !== 'requestAggregate'), 'nothing is computed until the section is opened');
    await page.click('.aggregate-section summary');
    await host.waitFor(is('requestAggregate', { sessionId: 61, group: 0, method: 'rollout' }), 'requestAggregate rollout');
    await page.waitForSelector('.aggregate-section[data-state="drawn"][data-method="rollout"]', { state: 'attached' });
    await page.waitForSelector('.aggregate-section canvas.aggregate-matrix[data-painted="aggregate:61:0:rollout"]', { state: 'attached' });
    assert.equal(await page.$eval('.aggregate-section', (s) => (s as HTMLElement).dataset.values), String(T * T));
    assert.equal(await page.$eval('.aggregate-section .heatmap-grid', (g) => (g as HTMLElement).dataset.rows), String(T));
    const rollout = attentionRollout(fixture.attention[0], [L, H, T, T]);
    assert.ok(Math.abs(rollout.slice(0, T).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    await page.selectOption('.aggregate-method', 'flow');
    await host.waitFor(is('requestAggregate', { method: 'flow' }), 'requestAggregate flow');
    await page.waitForSelector('.aggregate-section canvas.aggregate-matrix[data-painted="aggregate:61:0:flow"]', { state: 'attached' });

    // Export: SVG and CSV are exportFormats.ts of the shown head with the token labels.
    const head = fixture.attention[0].slice(0, T * T);
    let rowLabels: string[] = [];
    for (const format of ['csv', 'svg', 'copyCsv', 'png', 'json'] as const) {
      const since = host.mark();
      await page.click(`.heatmap-section .export-button[data-format="${format}"]`);
      const message = await host.waitFor(is('export', { format }), `export ${format}`, since);
      assert.ok(parseWebviewMessage(JSON.parse(JSON.stringify(message))), `${format} passes the host's validation`);
      assert.equal(message.sessionId, 61);
      assert.equal(message.name, 'attention-G0-L0-H0');
      if (format === 'csv' || format === 'copyCsv') {
        const rows = parseCsv(message.content!);
        assert.equal(rows.length, T + 1);
        for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) assert.equal(Math.fround(Number(rows[i + 1][j + 1])), head[i * T + j], `cell ${i},${j}`);
        rowLabels = rows.slice(1).map((row) => row[0].replace(/^\d+: /, ''));
        assert.equal(message.content, matrixCsv({ rowLabels, columnLabels: rowLabels, values: head }));
      }
      if (format === 'svg') {
        assert.match(message.content!, /^<svg /);
        assert.equal((message.content!.match(/<rect x=/g) ?? []).length, T * T + 1, 'one rect per cell and the legend');
        const title = /<text class="title"[^>]*>([^<]*)<\/text>/.exec(message.content!)?.[1];
        assert.equal(title, 'layer 0, head 0');
        assert.equal(message.content, heatmapSvg({ rowLabels, columnLabels: rowLabels, values: head, title }));
      }
      if (format === 'png') {
        // The SVG figure rasterised at 2 px per unit (labels and legend included).
        const png = decodePng(Buffer.from(message.base64!, 'base64'));
        const svg = heatmapSvg({ rowLabels, columnLabels: rowLabels, values: head, title: 'layer 0, head 0' });
        const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
        assert.deepEqual([png.width, png.height], [width * 2, height * 2]);
      }
      if (format === 'json') assert.equal(message.content, undefined);
    }
  });
});
