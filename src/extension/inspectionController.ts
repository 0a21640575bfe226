// One "Show Attention" from selection to panel: picks the text, runs the backend under a
// cancellable progress notification, drops results that a newer run superseded, then answers the
// webview's requests for heads and rows and mirrors token focus between panel and editor.
import * as path from 'path';
import * as vscode from 'vscode';
import { headView, meanOfHeads, tokenRows } from '../core/attentionViews';
import { BackendRegistry } from '../core/backends/backendRegistry';
import { AttentionInspectorError, CancelledError, TooManyTokensError, describeError } from '../core/errors';
import type { AttentionResult } from '../core/types';
import { MEAN_HEAD, assertNever, toArrayBuffer, type SessionInfo, type WebviewToHost } from '../shared/protocol';
import { AttentionPanel } from './attentionPanel';
import { EditorDecorations } from './editorDecorations';
import { readSettings } from './settings';
import { tokenAtOffset } from '../core/tokenSpans';

/** Shows a question with buttons; replaced in tests, where nobody can click. */
export type Ask = (message: string, ...choices: string[]) => Thenable<string | undefined>;

interface Inspected {
  sessionId: number;
  result: AttentionResult;
  /** What was run, so the panel can run it again with another target. */
  selected: Selected;
  document: vscode.TextDocument;
  /** Document offset of the inspected text's first character. */
  baseOffset: number;
  /** The document changed since the run: offsets no longer point at the tokens. */
  stale: boolean;
  /** Token last focused from the editor cursor, to avoid re-posting the same one. */
  cursorToken: number | undefined;
}

interface Selected {
  document: vscode.TextDocument;
  range: vscode.Range;
  text: string;
  notes: string[];
  /** Encoder–decoder models: the target text typed in the panel; undefined = the model's greedy output. */
  target?: string;
  /** A re-run for another target of a run whose document has changed since: its offsets are stale too. */
  staleOffsets?: boolean;
}

export class InspectionController implements vscode.Disposable {
  private readonly registry = new BackendRegistry();
  private readonly panel: AttentionPanel;
  private readonly decorations = new EditorDecorations();
  private readonly disposables: vscode.Disposable[] = [];
  private runCounter = 0;
  private running: { id: number; cancellation: vscode.CancellationTokenSource; done: Promise<void> } | undefined;
  private inspected: Inspected | undefined;
  ask: Ask = (message, ...choices) => vscode.window.showWarningMessage(message, ...choices);

  constructor(private readonly extensionUri: vscode.Uri, private readonly output: vscode.OutputChannel) {
    this.panel = new AttentionPanel(extensionUri, (line) => this.log(line));
    this.disposables.push(
      this.panel,
      this.decorations,
      this.panel.onMessage((message) => this.handleWebviewMessage(message)),
      this.panel.onClose(() => {
        this.running?.cancellation.cancel();
        this.decorations.clear();
        this.inspected = undefined;
      }),
      vscode.window.onDidChangeTextEditorSelection((event) => this.followCursor(event)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.inspected && event.document === this.inspected.document && event.contentChanges.length > 0) {
          this.inspected.stale = true;
          this.decorations.clear();
        }
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (this.inspected?.document === document) this.decorations.clear();
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('attentionInspector.colorScale')) {
          this.panel.post({ type: 'settings', colorScale: readSettings(this.extensionUri).colorScale });
        }
      }),
    );
  }

  // ------------------------------------------------------------------ running

  /** The command: inspect the active editor's selection (or current line). */
  async showAttention(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Attention Inspector: open a file and select some text first.');
      return;
    }
    const selected = pickText(editor);
    if (!selected) {
      void vscode.window.showInformationMessage('Attention Inspector: nothing to inspect — the selection and the current line are empty.');
      return;
    }
    await this.inspect(selected, false);
  }

  private async inspect(selected: Selected, allowTruncation: boolean): Promise<void> {
    this.running?.cancellation.cancel();
    const id = ++this.runCounter;
    const cancellation = new vscode.CancellationTokenSource();
    const done = this.runOnce(id, selected, allowTruncation, cancellation).finally(() => {
      cancellation.dispose();
      if (this.running?.id === id) this.running = undefined;
    });
    this.running = { id, cancellation, done };
    await done;
  }

  private async runOnce(id: number, selected: Selected, allowTruncation: boolean, cancellation: vscode.CancellationTokenSource): Promise<void> {
    const settings = readSettings(this.extensionUri);
    const modelName = settings.modelLabel;
    try {
      const backend = this.registry.get(settings.modelDir, settings.backend);
      this.panel.show(`Attention: ${modelName}`);
      this.panel.post({ type: 'busy', message: `Running ${modelName} on ${describeRange(selected)}…` });
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Attention Inspector: running ${modelName}…`, cancellable: true },
        (_progress, token) => {
          const forward = token.onCancellationRequested(() => cancellation.cancel());
          return backend
            .run(selected.text, { maxTokens: settings.maxTokens, failIfTooLong: !allowTruncation, target: selected.target }, cancellation.token)
            .finally(() => forward.dispose());
        },
      );
      if (id !== this.runCounter) return; // superseded while running: a newer run owns the panel
      this.publish(id, selected, result, settings.colorScale, settings.maxTokens);
    } catch (error) {
      if (id !== this.runCounter) return;
      if (error instanceof CancelledError) {
        this.log(`Run ${id} cancelled.`);
        this.panel.post({ type: 'error', message: 'The run was cancelled.' });
        return;
      }
      if (error instanceof TooManyTokensError) {
        await this.offerTruncation(selected, error);
        return;
      }
      this.report(error);
    }
  }

  private async offerTruncation(selected: Selected, error: TooManyTokensError): Promise<void> {
    const inspectFirst = `Inspect the first ${error.maxTokens} tokens`;
    const openSettings = 'Open Settings';
    this.panel.post({ type: 'error', message: error.message });
    const choice = await this.ask(`Attention Inspector: ${error.message}`, inspectFirst, openSettings);
    if (choice === inspectFirst) await this.inspect(selected, true);
    else if (choice === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', 'attentionInspector.maxTokens');
  }

  private publish(id: number, selected: Selected, result: AttentionResult, colorScale: SessionInfo['colorScale'], maxTokens: number): void {
    const T = result.tokens.length;
    const notes = [...selected.notes];
    if (result.truncatedFrom !== undefined) {
      const reason = T < maxTokens ? `the model's context is ${result.model.maxPositions} tokens` : `attentionInspector.maxTokens is ${maxTokens}`;
      notes.push(`Inspected the first ${T} of ${result.truncatedFrom} tokens (${reason}).`);
    }
    this.inspected = {
      sessionId: id,
      result,
      selected,
      document: selected.document,
      baseOffset: selected.document.offsetAt(selected.range.start),
      stale: selected.staleOffsets === true,
      cursorToken: undefined,
    };
    this.decorations.clear();
    const session: SessionInfo = {
      sessionId: id,
      model: result.model,
      text: result.text,
      tokens: result.tokens,
      dims: result.dims,
      causal: result.causal,
      groups: result.groups.map(({ attention: _weights, ...info }) => info),
      ...(result.target ? { target: result.target } : {}),
      colorScale,
      source: describeRange(selected),
      notes,
      predictions: (result.predictions ?? []).map(({ token, probability }) => ({ token, probability })),
      elapsedMs: result.elapsedMs,
    };
    this.panel.post({ type: 'session', session });
    const [L, H] = result.dims;
    const target = result.target ? `, target ${JSON.stringify(result.target.text)} (${result.target.generated ? 'greedy output' : 'typed'}, ${result.target.tokens.length} tokens)` : '';
    this.log(`Ran ${result.model.name} (${result.model.backend}, ${result.model.kind}, ${L} layers × ${H} heads) on ${T} tokens from ${session.source}${target} in ${result.elapsedMs.toFixed(0)} ms.`);
  }

  private report(error: unknown): void {
    const known = error instanceof AttentionInspectorError;
    const message = known ? error.message : `Something went wrong: ${describeError(error)}`;
    this.log(known ? `Error: ${message}` : `Unexpected error: ${error instanceof Error ? error.stack ?? message : message}`);
    this.panel.post({ type: 'error', message });
    void vscode.window.showErrorMessage(`Attention Inspector: ${message}`, 'Open Settings', 'Show Log').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'attentionInspector');
      if (choice === 'Show Log') this.output.show(true);
    });
  }

  /** Resolves once no run is in flight (runs started meanwhile are waited for too). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running.done.catch(() => undefined);
  }

  // ------------------------------------------------------------------ webview requests

  private handleWebviewMessage(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready':
        return;
      case 'requestHead': {
        const group = this.group(message.sessionId, message.group);
        if (!group) return;
        const { attention, dims } = group;
        const data = message.head === MEAN_HEAD ? meanOfHeads(attention, dims, message.layer) : headView(attention, dims, message.layer, message.head);
        this.panel.post({ type: 'headAttention', sessionId: message.sessionId, group: message.group, layer: message.layer, head: message.head, data: toArrayBuffer(data) });
        return;
      }
      case 'requestTokenRows': {
        const group = this.group(message.sessionId, message.group);
        if (!group) return;
        const rows = tokenRows(group.attention, group.dims, message.layer, message.token);
        this.panel.post({ type: 'tokenRows', sessionId: message.sessionId, group: message.group, layer: message.layer, token: message.token, data: rows.buffer as ArrayBuffer });
        return;
      }
      case 'setTarget': {
        const inspected = this.current(message.sessionId);
        if (!inspected) return;
        if (message.text !== null && message.text.trim() === '') {
          this.panel.post({ type: 'error', message: 'The target text is empty: type what the decoder should read, or use the model\'s own output.' });
          return;
        }
        // The re-run keeps the source text it ran before, even if the document changed since.
        void this.inspect({ ...inspected.selected, target: message.text ?? undefined, staleOffsets: inspected.stale }, true).catch((error: unknown) => this.report(error));
        return;
      }
      case 'tokenFocus':
        this.paintFocus(message);
        return;
      case 'viewChanged':
        return;
      case 'webviewError':
        this.log(`Webview error: ${message.message}`);
        return;
      default:
        assertNever(message);
    }
  }

  /** The inspected run if the message is about it; requests for older sessions are dropped. */
  private current(sessionId: number): Inspected | undefined {
    return this.inspected && this.inspected.sessionId === sessionId ? this.inspected : undefined;
  }

  /** One attention group of the inspected run, if the message is about that run and the group exists. */
  private group(sessionId: number, index: number) {
    return this.current(sessionId)?.result.groups[index];
  }

  /**
   * Mirrors the panel's focus in the editor. Only source tokens are in the document: a source query
   * is outlined; a target query (cross-attention) has no place there, but what it attends to does;
   * target keys (decoder self-attention) have none, so nothing is painted.
   */
  private paintFocus(message: Extract<WebviewToHost, { type: 'tokenFocus' }>): void {
    const inspected = this.current(message.sessionId);
    const group = inspected?.result.groups[message.group];
    if (!inspected || !group || inspected.stale || inspected.document.isClosed || message.token === null || group.keys !== 'source') {
      this.decorations.clear();
      return;
    }
    const { tokens } = inspected.result;
    const queryIsSource = group.queries === 'source';
    if (message.token < 0 || message.token >= group.dims[2]) return;
    const attended = message.attended
      .filter((item) => item.token >= 0 && item.token < tokens.length && !(queryIsSource && item.token === message.token))
      .map((item) => ({ range: this.tokenRange(inspected, item.token), weight: item.weight, label: JSON.stringify(tokens[item.token].text) }))
      .filter((item) => !item.range.isEmpty);
    this.decorations.show(inspected.document, queryIsSource ? this.tokenRange(inspected, message.token) : undefined, attended);
  }

  private tokenRange(inspected: Inspected, token: number): vscode.Range {
    const { start, end } = inspected.result.tokens[token];
    const document = inspected.document;
    return new vscode.Range(document.positionAt(inspected.baseOffset + start), document.positionAt(inspected.baseOffset + end));
  }

  /** Moving the cursor onto an inspected token focuses it in the panel. */
  private followCursor(event: vscode.TextEditorSelectionChangeEvent): void {
    const inspected = this.inspected;
    if (!inspected || inspected.stale || event.textEditor.document !== inspected.document) return;
    const offset = inspected.document.offsetAt(event.selections[0].active) - inspected.baseOffset;
    const token = tokenAtOffset(inspected.result.tokens, offset);
    if (token === undefined || token === inspected.cursorToken) return;
    inspected.cursorToken = token;
    this.panel.post({ type: 'focusToken', sessionId: inspected.sessionId, token });
  }

  // ------------------------------------------------------------------ test hooks and plumbing

  get panelVisible(): boolean {
    return this.panel.visible;
  }

  get postedMessages(): unknown[] {
    return this.panel.posted;
  }

  lastSession(): SessionInfo | undefined {
    for (let i = this.panel.posted.length - 1; i >= 0; i--) {
      const message = this.panel.posted[i] as { type: string; session?: SessionInfo };
      if (message.type === 'session') return message.session;
    }
    return undefined;
  }

  decorationSnapshot() {
    return this.decorations.snapshot();
  }

  receiveFromWebview(message: unknown): void {
    this.panel.receive(message);
  }

  private log(line: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  }

  dispose(): void {
    this.running?.cancellation.cancel();
    this.registry.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The selection, or the cursor's line when nothing is selected; undefined when both are blank. */
function pickText(editor: vscode.TextEditor): Selected | undefined {
  const { document, selection } = editor;
  if (!selection.isEmpty) {
    return { document, range: selection, text: document.getText(selection), notes: [] };
  }
  const line = document.lineAt(selection.active.line);
  if (line.isEmptyOrWhitespace) return undefined;
  return { document, range: line.range, text: line.text, notes: [`No text was selected: inspecting line ${line.lineNumber + 1}.`] };
}

function describeRange({ document, range }: Selected): string {
  const name = path.basename(document.uri.path) || document.uri.toString();
  const at = (position: vscode.Position) => `${position.line + 1}:${position.character + 1}`;
  return `${name}:${at(range.start)}–${at(range.end)}`;
}
