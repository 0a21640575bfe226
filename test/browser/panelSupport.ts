// What the browser tests share: one headless Chromium and one served panel per test file, a fresh
// page (context) per panel opened, the check that nothing went wrong on it, and helpers that read
// what the user sees (canvas pixels, highlighted chips) rather than the webview's internals.

import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { MEAN_HEAD, type WebviewToHost } from '../../src/shared/protocol';
import { launchChromium } from '../support/chromium';
import type { Fixture } from './attentionFixture';
import { DARK_THEME, FakeHost, servePanel, type ServedPanel, type ThemeEmulation } from './harness';

export const ROOT = process.cwd();
export const SCREENSHOTS = path.join(ROOT, 'test-results');

export type Rgb = [number, number, number];
export type Message<K extends WebviewToHost['type']> = Extract<WebviewToHost, { type: K }>;

/** A predicate for host.waitFor: a message of this type whose fields equal the given ones. */
export function is<K extends WebviewToHost['type']>(type: K, fields: Partial<Message<K>> = {}): (m: WebviewToHost) => m is Message<K> {
  return (m): m is Message<K> => m.type === type && Object.entries(fields).every(([key, value]) => (m as unknown as Record<string, unknown>)[key] === value);
}

export interface OpenOptions {
  fixture: Fixture;
  theme?: ThemeEmulation;
  dpr?: number;
  state?: unknown;
  /** [layer, head] or [layer, head, group] the panel is expected to paint first. */
  view?: [number, number] | [number, number, number];
  viewport?: { width: number; height: number };
  /** How long the first paint may take (ms; default 5000): thousands of tokens take longer on a busy machine. */
  paintTimeoutMs?: number;
}

/**
 * Registers before/after hooks on the calling describe() and returns openPanel. Every panel opened
 * in a test is closed after it, and the test fails if the page logged an error or warning, broke
 * the CSP or posted webviewError (unless the test removed those with host.expectProblems).
 */
export function usePanelBrowser(pageOptions: { language?: string } = {}): (options: OpenOptions) => Promise<{ page: Page; host: FakeHost }> {
  let browser: Browser;
  let served: ServedPanel;
  const open: { context: BrowserContext; host: FakeHost }[] = [];

  before(async () => {
    const script = path.join(ROOT, 'dist', 'webview.js');
    assert.ok(fs.existsSync(script), `${script} is missing: build it first (node esbuild.js)`);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    served = await servePanel(ROOT, pageOptions);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  afterEach(async () => {
    for (const { context, host } of open.splice(0)) {
      const problems = await host.allProblems();
      await context.close();
      assert.deepEqual(problems, [], 'no console errors, page errors, CSP violations or webviewError');
    }
  });

  return async (options) => {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 }, deviceScaleFactor: options.dpr ?? 1 });
    const page = await context.newPage();
    const host = await FakeHost.attach(page, { fixture: options.fixture, theme: options.theme ?? DARK_THEME, sessionOnReady: true, state: options.state });
    open.push({ context, host });
    await page.goto(served.url);
    await host.waitFor(is('ready'), 'ready');
    const [layer, head, group] = options.view ?? [0, MEAN_HEAD, 0];
    await painted(page, layer, head, group ?? 0, options.paintTimeoutMs);
    return { page, host };
  };
}

/**
 * Waits until the heatmap shows (group, layer, head) — the whole map, or (a map larger than the
 * matrix) a pooled or zoomed window of it, whose key goes on with ':' (webview/cache.ts blockKey) —
 * then for the frames a theme change may schedule.
 */
export async function painted(page: Page, layer: number, head: number, group = 0, timeoutMs = 5000): Promise<void> {
  const key = `${group}:${layer}:${head}`;
  await page.waitForSelector(`canvas.heatmap-matrix[data-painted="${key}"], canvas.heatmap-matrix[data-painted^="${key}:"]`, { timeout: timeoutMs, state: 'attached' });
  await frames(page);
}

export async function frames(page: Page, count = 2): Promise<void> {
  await page.evaluate(
    (n) => new Promise<void>((resolve) => {
      const step = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
      step(n);
    }),
    count,
  );
}

/** A canvas's device-pixel size and RGBA bytes, read in the page from a copy (the panel's own canvas context is left as the page made it). */
export async function canvasPixels(page: Page, selector: string): Promise<{ width: number; height: number; rgba: Uint8Array; at(x: number, y: number): Rgb }> {
  const { width, height, base64 } = await page.evaluate((selector) => {
    const canvas = document.querySelector<HTMLCanvasElement>(selector)!;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const context = copy.getContext('2d', { willReadFrequently: true })!;
    context.drawImage(canvas, 0, 0);
    const data = context.getImageData(0, 0, copy.width, copy.height).data;
    let text = '';
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: copy.width, height: copy.height, base64: btoa(text) };
  }, selector);
  const rgba = new Uint8Array(Buffer.from(base64, 'base64'));
  return { width, height, rgba, at: (x, y) => [rgba[4 * (y * width + x)], rgba[4 * (y * width + x) + 1], rgba[4 * (y * width + x) + 2]] };
}

/** FNV-1a over the matrix canvas's pixels. */
export async function matrixHash(page: Page): Promise<string> {
  const { width, height, rgba } = await canvasPixels(page, 'canvas.heatmap-matrix');
  let hash = 0x811c9dc5;
  for (let i = 0; i < rgba.length; i++) hash = Math.imul(hash ^ rgba[i], 0x01000193);
  return `${width}x${height}:${(hash >>> 0).toString(16)}`;
}

/** The colour at the centre of cell (query t, key s) of a Tq × Tk matrix, for each cell asked. */
export async function cellColors(page: Page, shape: number | [number, number], cells: [number, number][]): Promise<Rgb[]> {
  const [Tq, Tk] = typeof shape === 'number' ? [shape, shape] : shape;
  const pixels = await canvasPixels(page, 'canvas.heatmap-matrix');
  const cellWidth = pixels.width / Tk;
  const cellHeight = pixels.height / Tq;
  return cells.map(([t, s]) => pixels.at(Math.floor((s + 0.5) * cellWidth), Math.floor((t + 0.5) * cellHeight)));
}

export async function legendZeroColor(page: Page): Promise<Rgb> {
  return (await canvasPixels(page, 'canvas.legend-bar')).at(0, 0);
}

/**
 * Scrolls a token strip the way a user would, a viewport at a time, until the chip of `token` is in
 * its view (the strip keeps only the chips near its scrolled range in the DOM); returns its selector.
 */
export async function scrollToChip(page: Page, token: number, sequence: 'source' | 'target' = 'source'): Promise<string> {
  const selector = `.token-flow[data-sequence="${sequence}"] .token[data-index="${token}"]`;
  for (let step = 0; step < 1000; step++) {
    const inView = await page.evaluate(
      ({ selector, sequence, token }) => {
        const viewport = document.querySelector<HTMLElement>(`.token-scroll[data-sequence="${sequence}"]`)!;
        const view = viewport.getBoundingClientRect();
        const chip = document.querySelector(selector)?.getBoundingClientRect();
        if (chip && chip.top >= view.top && chip.bottom <= view.bottom) return true;
        if (chip) {
          // Its chip exists (every chip sits at its true place): bring it just below the top edge.
          viewport.scrollTop += chip.top - view.top - 10;
          return false;
        }
        // Otherwise a viewport down when the chips in view come before the token, else up.
        const shown = [...viewport.querySelectorAll<HTMLElement>('.token')].filter((c) => {
          const box = c.getBoundingClientRect();
          return box.bottom > view.top && box.top < view.bottom;
        });
        const down = shown.length === 0 || shown.every((c) => Number(c.dataset.index) < token);
        viewport.scrollTop += (down ? 1 : -1) * Math.max(20, viewport.clientHeight - 30);
        return false;
      },
      { selector, sequence, token },
    );
    if (inView) return selector;
    await frames(page, 1);
  }
  throw new Error(`the chip of token ${token} never came into view`);
}

/** Highlighted (attended) chips under `scope`, strongest first. */
export async function attendedChips(page: Page, scope = ''): Promise<{ index: number; rank: number; weight: number; badge: string }[]> {
  return page.$$eval(`${scope} .token.attended`.trim(), (chips) =>
    chips
      .map((chip) => ({
        index: Number((chip as HTMLElement).dataset.index),
        rank: Number((chip as HTMLElement).dataset.rank),
        weight: Number((chip as HTMLElement).dataset.weight),
        badge: chip.querySelector('.token-weight')?.textContent ?? '',
      }))
      .sort((a, b) => a.rank - b.rank),
  );
}

export interface DrawnLink {
  head: number;
  query: number;
  key: number;
  weight: number;
  opacity: number;
  stroke: string;
  d: string;
}

/**
 * The lines of the bertviz-style link columns, in the given mode ('token': the active token's;
 * 'overview': every query's), once some are drawn (for query `query`, when given: lines are
 * redrawn on the next frame, so the previous token's may still be there for a moment).
 */
export async function drawnLinks(page: Page, mode: 'token' | 'overview', query?: number): Promise<DrawnLink[]> {
  const wanted = query === undefined ? '' : `[data-query="${query}"]`;
  await page.waitForSelector(`svg.token-links[data-mode="${mode}"] path${wanted}`, { state: 'attached', timeout: 5000 });
  return page.$$eval(`svg.token-links[data-mode="${mode}"] path`, (paths) =>
    paths.map((p) => ({
      head: Number(p.getAttribute('data-head') ?? -1),
      query: Number(p.getAttribute('data-query')),
      key: Number(p.getAttribute('data-key')),
      weight: Number(p.getAttribute('data-weight')),
      opacity: Number(p.getAttribute('stroke-opacity')),
      stroke: p.getAttribute('stroke') ?? '',
      d: p.getAttribute('d') ?? '',
    })),
  );
}

export const distance = (a: Rgb, b: Rgb) => Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
export const isNeutral = (c: Rgb) => distance(c, [c[0], c[0], c[0]]) <= 4;
export const colorKey = (c: Rgb) => c.join(',');
export const hexToRgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;

/** The index of the largest value (first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
