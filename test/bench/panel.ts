// Panel figures in headless Chromium: the real panel page (test/browser/harness.ts servePanel), the
// browser tests' FakeHost answering its requests with the extension's own reply code
// (src/shared/replies.ts) over a seeded L×H attention fixture, and test/bench/panelProbe.ts timing
// inside the page. Only the transport differs from the browser tests: ArrayBuffers travel over HTTP
// from this process (binary, like VS Code's postMessage) instead of base64 through the debugger
// protocol, which would dominate the timings at 4096 tokens.
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Browser, Page } from 'playwright-core';
import type { HostToWebview } from '../../src/shared/protocol';
import { buildFixture, seededRandom, type Fixture } from '../browser/attentionFixture';
import { DARK_THEME, FakeHost, servePanel } from '../browser/harness';
import { launchChromium } from '../support/chromium';
import { repoRoot } from '../support/heldout';
import { within } from './deadline';
import { installProbe, type ProbeCondition, type ProbeWindow } from './panelProbe';
import { median } from './stats';

export interface PanelFigures {
  firstPaintMs: number;
  headSwitchMs: number;
  hoverMs: number;
  heapMB: number;
  /** When each host message reached the page during the (last) first paint, ms after the session. */
  firstPaintTimeline?: { type: string; ms: number }[];
}

export interface PanelPlan {
  layers: number;
  heads: number;
  sizes: number[];
  repeats: number;
  /** Limit of one measured step (ms). */
  stepTimeoutMs: number;
}

const WORDS = ['the', 'model', 'reads', 'every', 'token', 'and', 'weighs', 'what', 'came', 'before', 'it', 'in', 'context', 'of', 'attention', 'heads'];

/** A text of exactly T pre-tokens for the fixture's tokenizer: " word" each, a newline every 16th. */
function textOfTokens(T: number): string {
  return Array.from({ length: T }, (_, i) => (i === 0 ? WORDS[0] : i % 16 === 0 ? '\n' : ` ${WORDS[i % WORDS.length]}`)).join('');
}

/**
 * Causal softmax rows for one head, [T, T]: the browser fixture's four patterns (previous token, first
 * token, same position, broad), from seeded noise. One exp per allowed cell.
 */
function patternMap(T: number, pattern: number, random: () => number): Float32Array {
  const map = new Float32Array(T * T);
  const logits = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let s = 0; s <= t; s++) {
      const bias = pattern === 0 ? (s === t - 1 ? 4 : 0) : pattern === 1 ? (s === 0 ? 3.5 : 0) : pattern === 2 ? (s === t ? 4 : 0) : 0;
      logits[s] = (random() - 0.5) * (pattern === 3 ? 4 : 2) + bias;
      if (logits[s] > max) max = logits[s];
    }
    let sum = 0;
    for (let s = 0; s <= t; s++) sum += logits[s] = Math.exp(logits[s] - max);
    for (let s = 0; s <= t; s++) map[t * T + s] = logits[s] / sum; // row t, keys 0..t; the rest stays 0
  }
  return map;
}

/**
 * The browser tests' session (buildFixture) with L×H attention of T tokens. makeAttention would take
 * minutes at 4096 tokens (800 M cells); here four pattern maps are made once and head (l, h) is a
 * copy of pattern (l + h) % 4, which costs the panel and the host's replies the same.
 */
function panelFixture(T: number, plan: PanelPlan, sessionId: number): Fixture {
  const fixture = buildFixture({ sessionId, text: textOfTokens(T), layers: 1, heads: 1, causal: true, seed: T });
  if (fixture.session.tokens.length !== T) throw new Error(`the panel fixture has ${fixture.session.tokens.length} tokens, not ${T}`);
  const { layers: L, heads: H } = plan;
  const random = seededRandom(T);
  const patterns = [0, 1, 2, 3].map((pattern) => patternMap(T, pattern, random));
  const attention = new Float32Array(L * H * T * T); // [L, H, T, T]
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) attention.set(patterns[(l + h) % 4], (l * H + h) * T * T);
  const dims: [number, number, number, number] = [L, H, T, T];
  const session = fixture.session;
  session.dims = dims;
  session.groups = session.groups.map((group) => ({ ...group, dims }));
  session.model = { ...session.model, name: 'bench-gpt2', layers: L, heads: H, maxPositions: Math.max(T, 1024) };
  session.notes = [];
  return { session, attention: [attention] };
}

/** Serves ArrayBuffers once each, by id, to the page (any origin: the page fetches them cross-port). */
class BinaryDrop {
  private readonly buffers = new Map<string, Uint8Array>();
  private next = 0;
  private origin = '';
  private readonly server = http.createServer((request, response) => {
    const id = (request.url ?? '').slice(1);
    const bytes = this.buffers.get(id);
    this.buffers.delete(id);
    response.writeHead(bytes ? 200 : 404, { 'access-control-allow-origin': '*', 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
    response.end(bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** JSON of the message with each ArrayBuffer (or typed array) replaced by a marker, and each marker's URL. */
  pack(message: object): { json: string; binaries: Record<string, string> } {
    const binaries: Record<string, string> = {};
    const json = JSON.stringify(message, (_key, value: unknown) => {
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const id = `b${this.next++}`;
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        this.buffers.set(id, bytes);
        binaries[id] = `${this.origin}/${id}`;
        return { __benchBinary: id, view: value instanceof ArrayBuffer ? 'ArrayBuffer' : value.constructor.name };
      }
      return value;
    });
    return { json, binaries };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Replaces the FakeHost's base64 transport with the binary one; everything else (replies, checks) is the FakeHost's. */
function useBinaryTransport(host: FakeHost, page: Page, drop: BinaryDrop): void {
  host.deliver = async (message: HostToWebview) => {
    const { json, binaries } = drop.pack(message);
    await page.evaluate(({ json, binaries }) => (window as unknown as ProbeWindow).__benchDeliver(json, binaries), { json, binaries });
  };
}

/** Waits for `count` animation frames in the page (what a paint scheduled for the next frame needs). */
function frames(page: Page, count: number): Promise<void> {
  return page.evaluate((n) => new Promise<void>((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
    step(n);
  }), count);
}

async function measure(page: Page, condition: ProbeCondition, startOn: 'post' | 'keydown' | 'pointerover', timeoutMs: number, start: () => Promise<unknown>): Promise<number> {
  await page.evaluate(({ condition, startOn, timeoutMs }) => (window as unknown as ProbeWindow).__benchArm(condition, startOn, timeoutMs), { condition, startOn, timeoutMs });
  await start();
  return within(page.evaluate(() => (window as unknown as ProbeWindow).__benchResult()), timeoutMs + 5000, `the panel step ${condition.kind}`);
}

/** The run shown before the measured one, so the page's code is loaded and compiled (a panel in use). */
const WARM_UP_TOKENS = 16;

/**
 * One fresh panel that first shows a small run (warm-up), then the measured one: first paint of its
 * session, a head switch, a hover; the heap when asked.
 */
async function measureOnce(browser: Browser, url: string, warmUp: Fixture, fixture: Fixture, drop: BinaryDrop, plan: PanelPlan, withHeap: boolean): Promise<PanelFigures & { problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, bypassCSP: true });
  try {
    const page = await context.newPage();
    const host = await FakeHost.attach(page, { fixture: warmUp, theme: DARK_THEME, sessionOnReady: false });
    useBinaryTransport(host, page, drop);
    await page.addInitScript(installProbe);
    await page.goto(url);
    await host.waitFor((m) => m.type === 'ready', 'ready', 0, plan.stepTimeoutMs);
    const T = fixture.session.tokens.length;

    await measure(page, { kind: 'firstPaint', chip: 0 }, 'post', plan.stepTimeoutMs, () => host.post({ type: 'session', session: warmUp.session }));
    await frames(page, 3);
    host.fixture = fixture;
    // A chip the warm-up run does not have: the strip shows the new run.
    const firstPaintMs = await measure(page, { kind: 'firstPaint', chip: WARM_UP_TOKENS }, 'post', plan.stepTimeoutMs, () => host.post({ type: 'session', session: fixture.session }));
    const firstPaintTimeline = await page.evaluate(() => (window as unknown as ProbeWindow).__benchTimeline());
    const before = (await page.getAttribute('canvas.heatmap-matrix', 'data-painted')) ?? '';
    const headSwitchMs = await measure(page, { kind: 'paintedOther', previous: before }, 'keydown', plan.stepTimeoutMs, () => page.keyboard.press(']'));

    // Hover the last token (the longest row): bring its chip into view, pointer elsewhere, then onto it.
    // The strip keeps only the chips near its scrolled range in the DOM: scroll it to the end first.
    const chip = `.token[data-index="${T - 1}"]`;
    await page.$eval('.token-scroll[data-sequence="source"]', (viewport) => (viewport.scrollTop = viewport.scrollHeight));
    await within(page.waitForSelector(chip, { state: 'attached', timeout: plan.stepTimeoutMs }), plan.stepTimeoutMs, 'the last token’s chip');
    await within(page.locator(chip).scrollIntoViewIfNeeded(), plan.stepTimeoutMs, 'scrolling to the last token');
    await page.mouse.move(2, 2);
    const hoverMs = await measure(page, { kind: 'hovered', token: T - 1 }, 'pointerover', plan.stepTimeoutMs, () => page.hover(chip, { timeout: plan.stepTimeoutMs }));

    let heapMB = NaN;
    if (withHeap) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const usage = await cdp.send('Runtime.getHeapUsage');
      // JS objects plus ArrayBuffer backing stores (the attention the page keeps lives there).
      heapMB = (usage.usedSize + (usage.backingStorageSize ?? 0)) / 2 ** 20;
      await cdp.detach();
    }
    return { firstPaintMs, headSwitchMs, hoverMs, heapMB, firstPaintTimeline, problems: await host.allProblems() };
  } finally {
    await context.close();
  }
}

/** Panel figures per size (median of plan.repeats fresh panels; heap from the last). */
export async function measurePanel(plan: PanelPlan, notice: (line: string) => void, progress: (line: string) => void): Promise<Record<string, PanelFigures>> {
  const served = await servePanel(repoRoot());
  const drop = new BinaryDrop();
  await drop.start();
  const browser = await within(launchChromium(), 60_000, 'starting Chromium');
  const figures: Record<string, PanelFigures> = {};
  try {
    for (const T of plan.sizes) {
      const started = performance.now();
      const warmUp = panelFixture(WARM_UP_TOKENS, plan, 1);
      const fixture = panelFixture(T, plan, 2);
      progress(`panel: ${T}-token attention fixture made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const runs: PanelFigures[] = [];
      for (let r = 0; r < plan.repeats; r++) {
        const run = await measureOnce(browser, served.url, warmUp, fixture, drop, plan, r === plan.repeats - 1);
        if (run.problems.length > 0) notice(`panel at ${T} tokens reported problems: ${run.problems.slice(0, 3).join(' | ')}`);
        runs.push(run);
      }
      figures[String(T)] = {
        firstPaintMs: median(runs.map((run) => run.firstPaintMs)),
        headSwitchMs: median(runs.map((run) => run.headSwitchMs)),
        hoverMs: median(runs.map((run) => run.hoverMs)),
        heapMB: runs[runs.length - 1].heapMB,
        firstPaintTimeline: runs[runs.length - 1].firstPaintTimeline,
      };
    }
  } finally {
    await browser.close().catch(() => undefined);
    await drop.close();
    await served.close();
  }
  return figures;
}
