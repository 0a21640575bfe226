// The step view (webview/stepView.ts) in headless Chromium under a strict CSP: the widget is bundled
// here with esbuild's JS API (the panel's own bundle belongs to webview/main.ts), served with
// media/webview.css and media/stepView.css, and fed two HeadExplanations. The test reads what a
// user (or a screen reader) gets: cell text, aria-labels, data-value, tab order, colours, and takes
// screenshots into test-results/stepview-*.png. Expected numbers are computed here, not taken
// from the widget.

import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import type { HeadExplanation } from '../../src/core/explain/types';
import { formatNumber, outputArithmetic, selectColumns } from '../../webview/stepViewFormat';
import { launchChromium } from '../support/chromium';
import { GPT2_QUERY, gpt2Like, workedExample } from './stepViewFixtures';

const ROOT = process.cwd();
const SCREENSHOTS = path.join(ROOT, 'test-results');

type Theme = { bodyClass: string; variables: Record<string, string> };

const DARK: Theme = {
  bodyClass: 'vscode-dark',
  variables: {
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-font-family': 'system-ui, sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-font-family': "'DejaVu Sans Mono', monospace",
  },
};

const LIGHT: Theme = {
  bodyClass: 'vscode-light',
  variables: {
    ...DARK.variables,
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-green': '#388a34',
  },
};

const HIGH_CONTRAST: Theme = {
  bodyClass: 'vscode-high-contrast',
  variables: {
    ...DARK.variables,
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-focusBorder': '#f38518',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-panel-border': '#6fc3df',
  },
};

const PAGE_SCRIPT = `
import { StepView } from './webview/stepView';
const w = window as any;
w.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
const view = new StepView();
document.getElementById('root')!.append(view.element);
w.showExplanation = (x: unknown, options: unknown) => view.show(x as never, options as never);
`;

function pageHtml(origin: string): string {
  // The panel's CSP: stylesheets and scripts from the extension only, no inline anything.
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${origin}; script-src ${origin}; img-src data:; font-src ${origin};">
<link rel="stylesheet" href="${origin}/webview.css"><link rel="stylesheet" href="${origin}/stepView.css">
</head><body><main class="app" id="root"></main><script src="${origin}/stepView.js"></script></body></html>`;
}

interface Served {
  origin: string;
  close(): Promise<void>;
}

async function serve(dir: string): Promise<Served> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
  const server = http.createServer((request, response) => {
    const name = path.basename((request.url ?? '/').split('?')[0]) || 'index.html';
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(name)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { origin: `http://127.0.0.1:${address.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('step view in headless Chromium', function () {
  this.timeout(120000);
  let browser: Browser;
  let served: Served;
  let dir: string;
  const problems: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stepview-'));
    // esbuild is loaded at run time (createRequire), so the test bundle does not try to bundle it.
    const esbuild = createRequire(path.join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
    await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: 'ts', sourcefile: 'stepViewPage.ts' },
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      outfile: path.join(dir, 'stepView.js'),
      logLevel: 'warning',
    });
    fs.copyFileSync(path.join(ROOT, 'media', 'webview.css'), path.join(dir, 'webview.css'));
    fs.copyFileSync(path.join(ROOT, 'media', 'stepView.css'), path.join(dir, 'stepView.css'));
    served = await serve(dir);
    fs.writeFileSync(path.join(dir, 'index.html'), pageHtml(served.origin));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    assert.deepEqual(problems.splice(0), [], 'no console errors, page errors or CSP violations');
  });

  async function open(explanation: HeadExplanation | null, theme: Theme = DARK, viewport = { width: 1100, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${served.origin}/index.html`);
    await page.evaluate((t) => {
      document.body.className = t.bodyClass;
      for (const [name, value] of Object.entries(t.variables)) document.documentElement.style.setProperty(name, value);
    }, theme);
    await page.evaluate((x) => (window as unknown as { showExplanation(x: unknown, o: unknown): void }).showExplanation(x, { colorScale: 'sqrt' }), explanation);
    // Two frames: the strips paint on the next one.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const violations = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
    problems.push(...violations.map((v) => `CSP violation: ${v}`));
    return page;
  }

  /** data-value of the cells of one key-table row, by key index. */
  async function rowValues(page: Page, row: string): Promise<Map<number, { value: string; text: string; label: string; masked: boolean }>> {
    const cells = await page.$$eval(`tr[data-row="${row}"] td[data-key]`, (tds) =>
      tds.map((td) => ({
        key: Number((td as HTMLElement).dataset.key),
        value: (td as HTMLElement).dataset.value ?? '',
        text: td.textContent ?? '',
        label: td.getAttribute('aria-label') ?? '',
        masked: td.classList.contains('sv-masked'),
      })),
    );
    return new Map(cells.map((c) => [c.key, c]));
  }

  it('formats numbers compactly and writes out a small head output', () => {
    assert.equal(formatNumber(0.6), '0.6');
    assert.equal(formatNumber(1.6000000000000003), '1.6');
    assert.equal(formatNumber(-0.123456), '−0.1235');
    assert.equal(formatNumber(Math.log(3)), '1.099');
    assert.equal(formatNumber(12345.6), '1.23e4');
    assert.equal(formatNumber(0.0000123), '1.23e−5');
    assert.equal(formatNumber(-Infinity), '−∞');
    assert.equal(outputArithmetic(workedExample()), '0.6·1 + 0.2·2 + 0.2·3 = 1.6');
    assert.equal(outputArithmetic(gpt2Like()), null, 'd_v = 2: shown as a vector, not written out');
    const columns = selectColumns(gpt2Like());
    assert.ok(columns.length <= 16);
    for (const j of [0, GPT2_QUERY - 2, GPT2_QUERY - 1, GPT2_QUERY, GPT2_QUERY + 1, GPT2_QUERY + 2]) assert.ok(columns.includes(j), `key ${j} has a column`);
  });

  it('shows the hint when nothing is pinned', async () => {
    const page = await open(null);
    assert.equal((await page.textContent('.step-view .sv-hint'))?.trim(), 'Pin a token (click) to see how this head computes its attention, step by step.');
    await page.context().close();
  });

  for (const [name, theme] of [
    ['dark', DARK],
    ['light', LIGHT],
    ['hc', HIGH_CONTRAST],
  ] as const) {
    it(`shows the worked example's numbers step by step (${name} theme)`, async () => {
      const x = workedExample();
      const page = await open(x, theme, { width: 900, height: 700 });

      // Keys: the Chinese characters whole, one line each.
      const keys = await page.$$eval('thead th.sv-key .sv-token', (tokens) =>
        tokens.map((t) => ({ text: t.textContent, rects: t.getClientRects().length, height: t.getBoundingClientRect().height, width: t.getBoundingClientRect().width })),
      );
      assert.deepEqual(keys.map((k) => k.text), ['我', '爱', '你']);
      for (const k of keys) {
        assert.equal(k.rects, 1, 'one box per token');
        assert.ok(k.height < 30 && k.width >= 12, `a whole character: ${JSON.stringify(k)}`);
      }

      const scores = await rowValues(page, 'scores');
      const bias = await rowValues(page, 'bias');
      const input = await rowValues(page, 'masked');
      const weights = await rowValues(page, 'weights');
      for (let j = 0; j < 3; j++) {
        assert.equal(Number(scores.get(j)!.value), x.scores![j]);
        assert.equal(Number(bias.get(j)!.value), x.bias![j]);
        assert.equal(Number(input.get(j)!.value), x.scaled[j]);
        assert.equal(Number(weights.get(j)!.value), x.weights[j]);
        assert.ok(weights.get(j)!.label.includes(String(x.weights[j])), 'the aria-label carries the exact weight');
      }
      assert.equal(bias.get(0)!.text, '1.099', 'ln 3 in four digits');
      assert.deepEqual([0, 1, 2].map((j) => weights.get(j)!.text), ['0.6', '0.2', '0.2']);
      // Softmax of [ln 3, 0, 0] computed here: 3 / (3 + 1 + 1).
      assert.ok(Math.abs(Math.exp(Math.log(3)) / (Math.exp(Math.log(3)) + 2) - Number(weights.get(0)!.value)) < 1e-12);

      const sum = await page.$eval('[data-role="weight-sum"]', (td) => ({ text: td.textContent, value: (td as HTMLElement).dataset.value }));
      assert.equal(sum.text, 'Σ = 1.000');
      assert.ok(Math.abs(Number(sum.value) - (0.6 + 0.2 + 0.2)) < 1e-12);

      const arithmetic = (await page.textContent('[data-role="arithmetic"]')) ?? '';
      assert.equal(arithmetic, '0.6·1 + 0.2·2 + 0.2·3 = 1.6');
      const expected = 0.6 * 1 + 0.2 * 2 + 0.2 * 3;
      assert.ok(arithmetic.endsWith('= 1.6'));
      assert.ok(Math.abs(Number(arithmetic.split('= ')[1]) - expected) < 1e-9);

      const scaleLabel = (await page.textContent('tr[data-row="scaledScores"] th')) ?? '';
      assert.match(scaleLabel, /× 1\/√d_k/);
      assert.match(scaleLabel, /√1 = 1, scale 1/);
      assert.match((await page.textContent('.sv-formula')) ?? '', /scaled = scores·scale \+ bias/);
      assert.match((await page.textContent('[data-role="worked-example"]')) ?? '', /1\.4 \/ 1\.8 \/ 2\.2.*arithmetic slip.*V = \[0\.8\], \[1\.8\], \[2\.8\].*= 1\.6/);
      assert.match((await page.textContent('[data-role="unavailable"]')) ?? '', /cannot show the heads' writes, the residual stream and the logit lens: the worked example/);
      assert.equal(await page.$('[data-role="variation"]'), null, 'no variation line for a plain run');

      // Tab order: q, then one stop per row of the key table, through the weights; ← / → move along a row.
      const stops: string[] = [];
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        stops.push(await page.evaluate(() => (document.activeElement?.closest('[data-row]') as HTMLElement | null)?.dataset.row ?? document.activeElement?.tagName ?? ''));
      }
      assert.deepEqual(stops.slice(0, 8), ['q', 'k', 'v', 'scores', 'scaledScores', 'bias', 'masked', 'weights'], `tab stops: ${stops.join(', ')}`);
      assert.ok(stops.includes('output'), 'the arithmetic line is a tab stop');
      await page.keyboard.press('Shift+Tab');
      while ((await page.evaluate(() => (document.activeElement?.closest('[data-row]') as HTMLElement | null)?.dataset.row)) !== 'weights') await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('ArrowRight');
      const focused = await page.evaluate(() => ({ key: (document.activeElement as HTMLElement).dataset.key, label: document.activeElement?.getAttribute('aria-label'), detail: document.querySelector('.sv-detail')?.textContent }));
      assert.equal(focused.key, '1');
      assert.equal(focused.label, 'weight for 爱 (key 1): 0.2');
      assert.equal(focused.detail, 'weight for 爱 (key 1): 0.2', 'the detail line shows the focused value');
      await page.keyboard.press('ArrowUp');
      assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).getAttribute('aria-label')), `softmax input for 爱 (key 1): 0`);

      await page.screenshot({ path: path.join(SCREENSHOTS, `stepview-worked-example-${name}.png`), fullPage: true });
      await page.context().close();
    });
  }

  it('shows a GPT-2-like head on 40 tokens: chosen keys, mask, heads, residual and logit lens', async () => {
    const x = gpt2Like();
    const page = await open(x, DARK, { width: 1280, height: 1000 });

    // Columns: the first key, the query's neighbours and the largest weights (computed here), in order.
    const shown = await page.$$eval('thead th.sv-key', (ths) => ths.map((th) => Number((th as HTMLElement).dataset.key)));
    assert.ok(shown.length <= 16 && shown.length >= 10, `${shown.length} key columns`);
    assert.deepEqual(shown, [...shown].sort((a, b) => a - b));
    for (const j of [0, GPT2_QUERY - 1, GPT2_QUERY, GPT2_QUERY + 1, GPT2_QUERY + 2]) assert.ok(shown.includes(j), `key ${j} shown`);
    const top5 = x.weights.map((w, j) => [w, j]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, j]) => j);
    for (const j of top5) assert.ok(shown.includes(j), `top-weight key ${j} shown`);
    assert.ok((await page.$$('thead th.sv-gap')).length >= 1, 'hidden keys are folded into … columns');
    const domNodes = await page.evaluate(() => document.querySelectorAll('.step-view *').length);
    assert.ok(domNodes < 1500, `a compact DOM: ${domNodes} nodes`);

    const scores = await rowValues(page, 'scores');
    const scaledScores = await rowValues(page, 'scaledScores');
    const input = await rowValues(page, 'masked');
    const weights = await rowValues(page, 'weights');
    for (const j of shown) {
      assert.equal(Number(scores.get(j)!.value), x.scores![j], `score ${j}`);
      const dot = x.q!.reduce((s, qi, i) => s + qi * x.k![j][i], 0);
      assert.ok(Math.abs(Number(scores.get(j)!.value) - dot) < 1e-12, 'q·k recomputed here');
      assert.ok(Math.abs(Number(scaledScores.get(j)!.value) - dot / Math.sqrt(2)) < 1e-12, '× 1/√2');
      assert.equal(Number(weights.get(j)!.value), x.weights[j], `weight ${j}`);
      assert.equal(weights.get(j)!.text, formatNumber(x.weights[j]));
      if (j > GPT2_QUERY) {
        assert.equal(input.get(j)!.text, '−∞', `key ${j} is masked`);
        assert.ok(input.get(j)!.masked && weights.get(j)!.masked);
        assert.equal(weights.get(j)!.value, '0');
      } else {
        assert.equal(Number(input.get(j)!.value), x.scaled[j]);
        assert.ok(!input.get(j)!.masked);
      }
    }
    // Masked cells are greyed: muted text and a hatch, unlike an unmasked cell.
    const look = await page.evaluate((q) => {
      const style = (key: number) => getComputedStyle(document.querySelector(`tr[data-row="masked"] td[data-key="${key}"]`)!);
      const [on, off] = [style(q), style(q + 1)];
      return { onColor: on.color, offColor: off.color, offImage: off.backgroundImage };
    }, GPT2_QUERY);
    assert.notEqual(look.offColor, look.onColor);
    assert.match(look.offImage, /repeating-linear-gradient/);

    const sum = await page.$eval('[data-role="weight-sum"]', (td) => ({ text: td.textContent, value: Number((td as HTMLElement).dataset.value) }));
    let expectedSum = 0;
    for (const w of x.weights) expectedSum += w;
    assert.equal(sum.text, 'Σ = 1.000');
    assert.ok(Math.abs(sum.value - expectedSum) < 1e-12 && Math.abs(expectedSum - 1) < 1e-9);

    assert.equal(await page.$('[data-role="arithmetic"]'), null, 'd_v = 2: a vector strip, not arithmetic');
    assert.equal(await page.$$eval('.sv-head', (figures) => figures.length), 3);
    assert.deepEqual(await page.$$eval('.sv-head.sv-current', (figures) => figures.map((f) => (f as HTMLElement).dataset.head)), ['1']);
    const check = await page.$eval('[data-role="sum-check"]', (p) => ({ text: p.textContent ?? '', diff: Number((p as HTMLElement).dataset.maxDifference), ok: p.classList.contains('sv-ok') }));
    assert.ok(check.ok && check.diff < 1e-6 && check.text.includes('✓'), JSON.stringify(check));
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    assert.ok(check.text.includes(`|output| = ${formatNumber(norm(x.attentionOutput!))}`));
    assert.match((await page.textContent('[data-section="output"]')) ?? '', /concatenated and mixed by W_O, not averaged/);
    assert.equal((await page.textContent('[data-role="variation"]'))?.trim(), 'Heads switched off: L0 H2');

    assert.deepEqual(await page.$$eval('[data-section="residual"] tbody tr', (rows) => rows.map((r) => r.classList.contains('sv-current'))), [false, true]);
    const residual = await page.$$eval('[data-section="residual"] tbody tr:last-child td', (tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
    assert.deepEqual(residual, [4.05, 0.8, 4.2, 5.5, 7.9]);
    const lens = await page.$$eval('[data-section="lens"] .sv-prediction', (spans) => spans.map((s) => s.textContent));
    assert.deepEqual(lens, [' the12.0%', '爱5.1%', ',0.40%', ' mat61.0%', ' cat20.0%', '↵<0.01%'].map((s) => s.replace(/^ /, '·')));

    // The strips are painted (canvas pixels, in the theme's colours).
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>('canvas.sv-strip')).filter((canvas) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
        return false;
      }).length,
    );
    assert.equal(inked, await page.$$eval('canvas.sv-strip', (c) => c.length));

    await page.screenshot({ path: path.join(SCREENSHOTS, 'stepview-gpt2-dark.png'), fullPage: true });
    await page.context().close();
  });

  it('says which steps a model cannot show, and that positions were off', async () => {
    const x: HeadExplanation = { ...gpt2Like(), q: null, k: null, v: null, scores: null, output: null, unavailable: ['q', 'k', 'v', 'scores', 'output'], unavailableReason: 'the ONNX graph does not expose them', positions: false, ablated: [] };
    const page = await open(x);
    assert.equal(
      (await page.textContent('[data-role="unavailable"]'))?.trim(),
      "This model cannot show q (the query vector), k (the key vectors), v (the value vectors), raw scores q·k and the head's output Σ w·v: the ONNX graph does not expose them",
    );
    assert.match((await page.textContent('[data-role="variation"]')) ?? '', /^Positions off/);
    assert.equal(await page.$('tr[data-row="scores"]'), null);
    const weights = await rowValues(page, 'weights');
    assert.equal(Number(weights.get(GPT2_QUERY)!.value), x.weights[GPT2_QUERY]);
    await page.context().close();
  });
});
