// Panel figures in headless Chromium: the real panel page (test/browser/harness.ts servePanel), the
// browser tests' FakeHost answering its requests with the extension's own reply code
// (src/shared/replies.ts) over a seeded L×H attention fixture, and test/bench/panelProbe.ts timing
// inside the page. Only the transport differs from the browser tests: host messages reach the page as
// one ordered event stream (PageChannel) instead of one debugger-protocol call each, which would
// dominate the timings at 4096 tokens.
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

/**
 * The host's side of the page's message stream: one server-sent-event stream per page, each host
 * message one event, its ArrayBuffers base64 in the same event (the page decodes them natively with
 * Uint8Array.fromBase64). One ordered stream with no round trip per message, like VS Code's
 * postMessage; the debugger protocol (page.evaluate) costs tens of milliseconds per message under
 * load, more than the panel's own work on a reply.
 */
class PageChannel {
  private stream: http.ServerResponse | undefined;
  private connected: (() => void) | undefined;
  private origin = '';
  private readonly server = http.createServer((request, response) => {
    if (request.url !== '/events') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.flushHeaders();
    this.stream = response;
    this.connected?.();
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Where the page opens its stream. */
  get url(): string {
    return `${this.origin}/events`;
  }

  /** Resolves once a page has opened its stream (call before the page loads). */
  nextConnection(): Promise<void> {
    this.stream = undefined;
    return new Promise((resolve) => (this.connected = resolve));
  }

  /** Sends one host message as one event: JSON with each ArrayBuffer (or typed array) replaced by a marker, and the markers' bytes as base64. */
  async send(message: object): Promise<void> {
    const stream = this.stream;
    if (!stream) throw new Error('the panel page has no open message stream');
    const binaries: Record<string, string> = {};
    let next = 0;
    const json = JSON.stringify(message, (_key, value: unknown) => {
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        const id = `b${next++}`;
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        binaries[id] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
        return { __benchBinary: id, view: value instanceof ArrayBuffer ? 'ArrayBuffer' : value.constructor.name };
      }
      return value;
    });
    // JSON has no raw newlines, so the event is one data line.
    if (!stream.write(`data: ${JSON.stringify({ json, binaries })}\n\n`)) await new Promise((resolve) => stream.once('drain', resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Replaces the FakeHost's transport (base64 through page.evaluate) with the page's message stream; everything else (replies, checks) is the FakeHost's. */
function useStreamTransport(host: FakeHost, channel: PageChannel): void {
  host.deliver = (message: HostToWebview) => channel.send(message);
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
async function measureOnce(browser: Browser, url: string, warmUp: Fixture, fixture: Fixture, channel: PageChannel, plan: PanelPlan, withHeap: boolean): Promise<PanelFigures & { problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, bypassCSP: true });
  try {
    const page = await context.newPage();
    const host = await FakeHost.attach(page, { fixture: warmUp, theme: DARK_THEME, sessionOnReady: false });
    useStreamTransport(host, channel);
    await page.addInitScript(installProbe, channel.url);
    const connected = channel.nextConnection();
    await page.goto(url);
    await host.waitFor((m) => m.type === 'ready', 'ready', 0, plan.stepTimeoutMs);
    await within(connected, plan.stepTimeoutMs, 'the page’s message stream');
    const T = fixture.session.tokens.length;

    await measure(page, { kind: 'firstPaint', chip: 0 }, 'post', plan.stepTimeoutMs, () => host.post({ type: 'session', session: warmUp.session }));
    await frames(page, 3);
    host.fixture = fixture;
    // A chip the warm-up run does not have: the strip shows the new run.
    const firstPaintMs = await measure(page, { kind: 'firstPaint', chip: WARM_UP_TOKENS }, 'post', plan.stepTimeoutMs, () => host.post({ type: 'session', session: fixture.session }));
    // A panel in use: head switch and hover are measured once the deferred replies (head roles, scored
    // in pieces for seconds at 4096 tokens, and thumbnails) have arrived, so they do not share the host with that work.
    await within(
      page.waitForFunction(() => ['roles', 'thumbnails'].every((type) => (window as unknown as ProbeWindow).__benchTimeline().some((message) => message.type === type)), undefined, { timeout: plan.stepTimeoutMs, polling: 'raf' }),
      plan.stepTimeoutMs + 5000,
      'the panel’s roles and thumbnails',
    );
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
  const channel = new PageChannel();
  await channel.start();
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
        const run = await measureOnce(browser, served.url, warmUp, fixture, channel, plan, r === plan.repeats - 1);
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
    await channel.close();
    await served.close();
  }
  return figures;
}
