// The single webview panel: created beside the editor on first use, reused for later runs.
// Nothing is posted before the webview says `ready`; messages wait in a queue until then.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, webviewMessageProblem, type HostToWebview, type WebviewToHost } from '../shared/protocol';
import { makeNonce, renderWebviewHtml, WEBVIEW_STYLESHEETS } from '../shared/webviewHtml';
import { webviewLocale } from './l10n';

export const PANEL_VIEW_TYPE = 'attentionInspector.panel';

export class AttentionPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** A panel restored after a reload stays where VS Code put it: the first show() after it does not move it. */
  private keepPlace = false;
  private queue: HostToWebview[] = [];
  /** The last session posted: a page that comes back (hidden and shown again) gets it on `ready`. */
  private lastSession: Extract<HostToWebview, { type: 'session' }> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Everything posted, with payloads reduced to their size: lets tests see what the webview got. */
  readonly posted: unknown[] = [];

  private readonly messageEmitter = new vscode.EventEmitter<WebviewToHost>();
  readonly onMessage = this.messageEmitter.event;
  private readonly closeEmitter = new vscode.EventEmitter<void>();
  readonly onClose = this.closeEmitter.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: (line: string) => void) {}

  get visible(): boolean {
    return this.panel?.visible ?? false;
  }

  /** Opens (or reveals) the panel beside the active editor without taking focus from it. */
  show(title: string): void {
    if (this.panel) {
      this.panel.title = title;
      if (!this.keepPlace) this.panel.reveal(vscode.ViewColumn.Beside, true);
      this.keepPlace = false;
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.webviewOptions());
    this.adopt(panel);
  }

  /**
   * Takes over `panel` (a new one, or one VS Code restored after a window reload) as the panel:
   * sets its options and page again and listens to it. A panel held before is closed first.
   */
  adopt(panel: vscode.WebviewPanel, restored = false): void {
    const previous = this.panel;
    if (previous && previous !== panel) {
      this.panel = undefined;
      this.ready = false;
      this.queue = [];
      this.lastSession = undefined;
      this.closeEmitter.fire();
      previous.dispose();
    }
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    const webview = panel.webview;
    webview.html = renderWebviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: WEBVIEW_STYLESHEETS.map((name) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', name)).toString()),
      nonce: makeNonce(() => crypto.randomBytes(1)[0]),
      ...webviewLocale(this.extensionUri),
    });
    this.panel = panel;
    this.ready = false;
    this.keepPlace = restored;
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => {
        if (this.panel === panel) this.receive(raw);
      }),
      panel.onDidChangeViewState(() => {
        // Hidden without retained context, the page is gone: hold messages until it says ready again.
        if (this.panel === panel && !panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel !== panel) return;
        this.panel = undefined;
        this.ready = false;
        this.queue = [];
        this.lastSession = undefined;
        this.closeEmitter.fire();
      }),
    );
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // A hidden panel's page is dropped (no second copy of the tokens and heads in memory); when it is
      // shown again it says `ready`, gets the last session again and restores its view from its state.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  /** Posts now when the webview is ready, otherwise after its `ready`. Only the last session is kept. */
  post(message: HostToWebview): void {
    this.posted.push(describeForLog(message));
    if (message.type === 'session') this.lastSession = message;
    if (!this.panel) return;
    if (this.ready) {
      void this.panel.webview.postMessage(message);
      return;
    }
    if (message.type === 'session') this.queue = this.queue.filter((queued) => queued.type !== 'session' && queued.type !== 'busy');
    this.queue.push(message);
  }

  /** Handles a message as if the webview had sent it (the webview itself and tests call this). */
  receive(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.log(`Ignored a malformed message from the webview (${webviewMessageProblem(raw)}): ${safeStringify(raw)}`);
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      // A page shown again after being hidden starts empty: give it the session it showed.
      const pending = this.lastSession && !this.queue.some((queued) => queued.type === 'session') ? [this.lastSession, ...this.queue] : this.queue;
      this.queue = [];
      for (const queued of pending) void this.panel?.webview.postMessage(queued);
    }
    this.messageEmitter.fire(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
    this.messageEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

/** Up to this many bytes (1024 floats) a logged head or token rows keeps its values. */
const SMALL_PAYLOAD_BYTES = 4096;

function describeForLog(message: HostToWebview): unknown {
  if (message.type === 'headAttention' || message.type === 'tokenRows') {
    // Small payloads keep their values too, so extension-host tests can check what was sent.
    const float32 = message.type === 'tokenRows' || message.encoding === 'float32';
    const values = float32 && message.data.byteLength <= SMALL_PAYLOAD_BYTES ? { values: Array.from(new Float32Array(message.data)) } : {};
    return { ...message, data: message.data.byteLength, ...values };
  }
  if (message.type === 'comparison' && message.comparison) return { ...message, comparison: { ...message.comparison, base: message.comparison.base.byteLength, varied: message.comparison.varied.byteLength } };
  return message;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
