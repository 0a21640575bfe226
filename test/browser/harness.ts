// Serves the real panel page (renderWebviewHtml with its strict CSP, dist/webview.js and
// media/webview.css) from 127.0.0.1, stands in for VS Code's acquireVsCodeApi, and plays the
// extension host: every message the webview posts is validated with the host's own parser, and
// requests for attention are answered from a test fixture by the host's own replies (src/shared/replies.ts).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { parseWebviewMessage, type ComparisonMessage, type ExplanationMessage, type HostToWebview, type RequestComparisonMessage, type RequestExplainMessage, type WebviewToHost } from '../../src/shared/protocol';
import { makeNonce, renderWebviewHtml, WEBVIEW_STYLESHEETS } from '../../src/shared/webviewHtml';
import { isHostRequest, type HeldSource } from '../../src/shared/replies';
import { OverviewPrefetch } from '../../src/shared/overviewPrefetch';
import { InProcessAttention } from '../../src/core/heldAttention';
import { answerRunComparison, type ComparableRun } from '../../src/shared/runAlignment';
import type { Fixture } from './attentionFixture';

export interface ServedPanel {
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/**
 * Serves the panel page, dist/webview.js(.map) and media/webview.css from `root` on a random port.
 * `language` (e.g. 'zh-cn') serves the page as the host does for that display language: <html lang>
 * and the strings table of l10n/bundle.l10n.<language>.json.
 */
export async function servePanel(root: string, options: { language?: string } = {}): Promise<ServedPanel> {
  const language = options.language ?? 'en';
  const bundle = path.join(root, 'l10n', `bundle.l10n.${language}.json`);
  const strings = language !== 'en' && fs.existsSync(bundle) ? (JSON.parse(fs.readFileSync(bundle, 'utf8')) as Record<string, string>) : undefined;
  const files = new Map([
    ['/dist/webview.js', path.join(root, 'dist', 'webview.js')],
    ['/dist/webview.js.map', path.join(root, 'dist', 'webview.js.map')],
    ...WEBVIEW_STYLESHEETS.map((name) => [`/media/${name}`, path.join(root, 'media', name)] as [string, string]),
  ]);
  let origin = '';
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname === '/') {
      const html = renderWebviewHtml({
        cspSource: origin,
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: WEBVIEW_STYLESHEETS.map((name) => `${origin}/media/${name}`),
        nonce: makeNonce(() => crypto.randomBytes(1)[0]),
        language,
        strings,
      });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      // Browsers ask on their own; VS Code webviews never do. No content, no 404 in the console.
      response.writeHead(204);
      response.end();
      return;
    }
    const file = files.get(url.pathname);
    if (!file || !fs.existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    response.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** What VS Code does to a webview for a theme: a body class and --vscode-* variables on <html>. */
export interface ThemeEmulation {
  bodyClass: string;
  variables: Record<string, string>;
}

const COMMON_VARIABLES = {
  '--vscode-font-family': 'system-ui, "Segoe UI", Ubuntu, "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"DejaVu Sans Mono", "Droid Sans Mono", monospace',
};

export const DARK_THEME: ThemeEmulation = {
  bodyClass: 'vscode-dark',
  variables: {
    ...COMMON_VARIABLES,
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-sideBar-background': '#181818',
    '--vscode-badge-background': '#616161',
    '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-inputValidation-errorBackground': '#5a1d1d',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-editorHoverWidget-background': '#202020',
    '--vscode-editorHoverWidget-border': '#454545',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
  },
};

export const LIGHT_THEME: ThemeEmulation = {
  bodyClass: 'vscode-light',
  variables: {
    ...COMMON_VARIABLES,
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-sideBar-background': '#f8f8f8',
    '--vscode-badge-background': '#cccccc',
    '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-activeSelectionForeground': '#000000',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-inputValidation-errorBackground': '#f2dede',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-editorHoverWidget-background': '#f8f8f8',
    '--vscode-editorHoverWidget-border': '#c8c8c8',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
  },
};

export const HIGH_CONTRAST_THEME: ThemeEmulation = {
  bodyClass: 'vscode-high-contrast',
  variables: {
    ...COMMON_VARIABLES,
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-focusBorder': '#f38518',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
  },
};

/** Applies a theme the way VS Code does; also runs before the page's own script when used at load. */
export function applyThemeInPage(theme: ThemeEmulation): void {
  const apply = () => {
    const html = document.documentElement;
    html.removeAttribute('style');
    for (const [name, value] of Object.entries(theme.variables)) html.style.setProperty(name, value);
    document.body.className = theme.bodyClass;
  };
  if (document.body) apply();
  else document.addEventListener('DOMContentLoaded', apply, { once: true });
}

interface PageWindow {
  __posted: unknown[];
  __cspViolations: string[];
  __vscodeState: unknown;
}

/**
 * The fake acquireVsCodeApi, installed before any page script: records what the webview posts,
 * forwards it to the test's host, keeps setState/getState, and (to prove the webview listens
 * before it says ready) can answer `ready` synchronously with a first host message.
 */
function installFakeVsCodeApi(options: { onReady: unknown; state: unknown }): void {
  const page = window as unknown as PageWindow & { __hostReceive(message: unknown): Promise<void>; acquireVsCodeApi(): unknown };
  page.__posted = [];
  page.__cspViolations = [];
  page.__vscodeState = options.state;
  let acquired = false;
  document.addEventListener('securitypolicyviolation', (event) => {
    page.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
  });
  page.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage(message: unknown) {
        page.__posted.push(message);
        void page.__hostReceive(message);
        const type = (message as { type?: unknown } | null)?.type;
        if (type === 'ready' && options.onReady) window.postMessage(options.onReady, '*');
      },
      getState: () => page.__vscodeState,
      setState: (state: unknown) => {
        page.__vscodeState = state;
        return state;
      },
    };
  };
}

export interface Problems {
  consoleErrors: string[];
  pageErrors: string[];
  hostErrors: string[];
}

/** Plays the extension host for one page. */
export class FakeHost {
  /** Everything the webview posted, in order, each accepted by parseWebviewMessage. */
  readonly received: WebviewToHost[] = [];
  readonly problems: Problems = { consoleErrors: [], pageErrors: [], hostErrors: [] };
  fixture: Fixture | undefined;
  /** Answer requestHead / requestTokenRows from the fixture (and the step requests with the handlers below). */
  autoReply = true;
  /** Answers requestExplain (a test sets it; unanswered otherwise): the explanation, or an error reply. */
  explain: ((request: RequestExplainMessage) => Omit<ExplanationMessage, 'type' | 'sessionId' | 'group' | 'layer' | 'head' | 'query' | 'variation'>) | undefined;
  /** Answers requestComparison (a test sets it; unanswered otherwise). */
  compare: ((request: RequestComparisonMessage) => Omit<ComparisonMessage, 'type' | 'sessionId' | 'layer' | 'head' | 'variation'>) | undefined;
  /** The run pinned with pinRun (from the fixture shown then), as the extension keeps it. */
  pinnedRun: ComparableRun | undefined;
  private listeners: (() => void)[] = [];
  /** The extension's prefetch of the heatmap's first request of a run (src/shared/overviewPrefetch.ts). */
  private readonly overview = new OverviewPrefetch();

  private constructor(readonly page: Page) {}

  /** Installs the fake API on `page` (call before page.goto). onReady: a session posted synchronously on ready. */
  static async attach(page: Page, options: { fixture?: Fixture; theme: ThemeEmulation; sessionOnReady?: boolean; state?: unknown }): Promise<FakeHost> {
    const host = new FakeHost(page);
    host.fixture = options.fixture;
    // A closed panel's run is released, as the extension releases it: long scans (head roles) stop.
    page.on('close', () => host.held?.attention.release());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') host.problems.consoleErrors.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => host.problems.pageErrors.push(error.stack ?? error.message));
    await page.exposeFunction('__hostReceive', (raw: unknown) => host.receive(raw));
    const onReady = options.sessionOnReady && options.fixture ? { type: 'session', session: options.fixture.session } : null;
    await page.addInitScript(installFakeVsCodeApi, { onReady, state: options.state ?? null });
    await page.addInitScript(applyThemeInPage, options.theme);
    return host;
  }

  private receive(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.problems.hostErrors.push(`malformed message from the webview: ${JSON.stringify(raw)}`);
      return;
    }
    this.received.push(message);
    if (message.type === 'webviewError') this.problems.hostErrors.push(`webviewError: ${message.message}`);
    if (this.autoReply) this.reply(message).catch((error: Error) => this.problems.hostErrors.push(`reply failed: ${error.message}`));
    for (const listener of this.listeners) listener();
  }

  /** Answers requests with the extension's own replies (src/shared/replies.ts), over the fixture's attention. */
  private async reply(message: WebviewToHost): Promise<void> {
    const fixture = this.fixture;
    if (message.type === 'requestExplain' && this.explain) {
      const { type: _type, ...request } = message;
      await this.post({ type: 'explanation', ...request, ...this.explain(message) });
      return;
    }
    if (message.type === 'requestComparison' && this.compare) {
      const { type: _type, ...request } = message;
      await this.post({ type: 'comparison', ...request, ...this.compare(message) });
      return;
    }
    if (fixture && (message.type === 'pinRun' || message.type === 'unpinRun' || message.type === 'requestRunComparison')) {
      const session = fixture.session;
      const texts = (sequence: string) => ((sequence === 'target' ? session.target?.tokens : session.tokens) ?? []).map((token) => token.text);
      const run: ComparableRun = {
        sessionId: session.sessionId,
        label: `${session.model.name} · ${session.source}`,
        groups: session.groups.map((group, index) => ({ name: group.name, self: group.queries === group.keys, tokens: texts(group.queries), attention: fixture.attention[index], dims: group.dims })),
      };
      if (message.type === 'pinRun') this.pinnedRun = message.sessionId === run.sessionId ? run : this.pinnedRun;
      else if (message.type === 'unpinRun') this.pinnedRun = undefined;
      else {
        const reply = answerRunComparison(message, this.pinnedRun, run);
        if (reply) await this.post(reply);
      }
      return;
    }
    if (!fixture || !isHostRequest(message)) return;
    const session = fixture.session;
    const source = this.heldSource(fixture);
    const reply = await this.overview.answer(message, source, session.groups.map((group) => group.dims));
    if (reply) await this.post(reply);
  }

  /** The fixture's run held as the extension holds a built-in run (InProcessAttention), one per fixture. */
  private held: { fixture: Fixture; attention: InProcessAttention } | undefined;

  /** The fixture's attention behind a handle: the extension's own in-process holder, released when another fixture replaces it or the page closes. */
  private heldSource(fixture: Fixture): HeldSource {
    const session = fixture.session;
    if (this.held?.fixture !== fixture) {
      this.held?.attention.release();
      const groups = session.groups.map((group, index) => ({ ...group, attention: fixture.attention[index] }));
      this.held = { fixture, attention: new InProcessAttention({ groups, tokens: session.tokens, target: session.target } as ConstructorParameters<typeof InProcessAttention>[0]) };
    }
    return { sessionId: session.sessionId, attention: this.held.attention };
  }

  /** Posts a host message into the page (deliver); after a session, answers its first overview request ahead, as the extension does. */
  async post(message: HostToWebview): Promise<void> {
    if (!this.received.some((m) => m.type === 'ready')) throw new Error(`the test host posted ${message.type} before the webview was ready`);
    await this.deliver(message);
    // As the extension does once a session has gone out: answer the heatmap's first request ahead.
    if (message.type === 'session' && this.fixture?.session.sessionId === message.session.sessionId) {
      this.overview.prefetch(this.heldSource(this.fixture), this.fixture.session.groups.map((group) => group.dims));
    }
  }

  /** How a message reaches the page: attention payloads travel as base64 and become ArrayBuffers there (the bench replaces this with a binary transport). */
  deliver = async (message: HostToWebview): Promise<void> => {
    const base64 = 'data' in message ? Buffer.from(message.data).toString('base64') : null;
    const fields: Record<string, unknown> = { ...message };
    delete fields.data;
    // A comparison's two maps travel as base64 too.
    let maps: { base: string; varied: string } | null = null;
    if (message.type === 'comparison' && message.comparison) {
      maps = { base: Buffer.from(message.comparison.base).toString('base64'), varied: Buffer.from(message.comparison.varied).toString('base64') };
      fields.comparison = { ...message.comparison, base: null, varied: null };
    }
    if (message.type === 'runComparison' && message.comparison) {
      const { pinned, current } = message.comparison;
      maps = { base: Buffer.from(pinned.map).toString('base64'), varied: Buffer.from(current.map).toString('base64') };
      fields.comparison = { ...message.comparison, pinned: { ...pinned, map: null }, current: { ...current, map: null } };
    }
    await this.page.evaluate(
      ({ fields, base64, maps }) => {
        // A plain loop: Uint8Array.from with a mapping callback takes seconds for the 64 MB of a 4096-token head.
        const buffer = (text: string) => {
          const binary = atob(text);
          const bytes = new Uint8Array(binary.length);
          for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
          return bytes.buffer;
        };
        let payload = fields;
        if (base64 !== null) payload = { ...fields, data: buffer(base64) };
        if (maps !== null && fields.type === 'runComparison') {
          const comparison = payload.comparison as { pinned: object; current: object };
          payload = { ...payload, comparison: { ...comparison, pinned: { ...comparison.pinned, map: buffer(maps.base) }, current: { ...comparison.current, map: buffer(maps.varied) } } };
        } else if (maps !== null) payload = { ...payload, comparison: { ...(payload.comparison as object), base: buffer(maps.base), varied: buffer(maps.varied) } };
        window.postMessage(payload, '*');
      },
      { fields, base64, maps },
    );
  };

  /** Resolves with the first message at index >= since that matches; rejects after timeoutMs. */
  waitFor<T extends WebviewToHost>(predicate: (message: WebviewToHost) => message is T, description: string, since?: number, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (message: WebviewToHost) => boolean, description: string, since?: number, timeoutMs?: number): Promise<WebviewToHost>;
  waitFor(predicate: (message: WebviewToHost) => boolean, description: string, since = 0, timeoutMs = 5000): Promise<WebviewToHost> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.received.slice(since).find(predicate);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${description}; received: ${this.received.slice(since).map((m) => m.type).join(', ') || 'nothing'}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== onMessage);
      };
      const onMessage = () => void check();
      this.listeners.push(onMessage);
      check();
    });
  }

  /** How many messages have arrived so far (a `since` for waitFor). */
  mark(): number {
    return this.received.length;
  }

  /** Removes (and counts) the problems a test provoked on purpose. */
  expectProblems(pattern: RegExp): number {
    let removed = 0;
    for (const list of [this.problems.consoleErrors, this.problems.pageErrors, this.problems.hostErrors]) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (pattern.test(list[i])) {
          list.splice(i, 1);
          removed++;
        }
      }
    }
    return removed;
  }

  /** Every console error or warning, page error, CSP violation, malformed message and webviewError. */
  async allProblems(): Promise<string[]> {
    const csp = await this.page.evaluate(() => (window as unknown as PageWindow).__cspViolations ?? []);
    return [...this.problems.consoleErrors, ...this.problems.pageErrors, ...this.problems.hostErrors, ...csp.map((v) => `CSP: ${v}`)];
  }
}
