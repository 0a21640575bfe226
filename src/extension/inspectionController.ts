// One "Show Attention" from selection to panel, wired from three parts: the runner (runs,
// cancellation, supersede: runner.ts), the editor sync (decorations, cursor → focus: editorSync.ts)
// and the replies to the webview's requests (src/shared/replies.ts, shared with the browser tests'
// fake host). This class routes the webview's messages between them and keeps the test hooks.
// The run's attention is a handle (core/heldAttention.ts): the webview's requests are answered where
// it is held (the onnxruntime child for the ONNX backend), so the host receives only the answers.
import * as vscode from 'vscode';
import { assertNever, type SessionInfo, type WebviewToHost } from '../shared/protocol';
import { OverviewPrefetch } from '../shared/overviewPrefetch';
import { describeError } from '../core/errors';
import { answerRunComparison, type ComparableRun } from '../shared/runAlignment';
import { AttentionPanel } from './attentionPanel';
import { EditorSync } from './editorSync';
import { InspectionRunner, pickText, type Ask, type Published } from './runner';
import { readSettings } from './settings';
import { StepRequests } from './stepRequests';
import { unitMapping } from './mergedSteps';
import { parseRestoredState, restoredSelection } from './panelRestore';
import { PanelExports } from './panelExports';

export type { Ask } from './runner';

export class InspectionController implements vscode.Disposable {
  private readonly panel: AttentionPanel;
  private readonly runner: InspectionRunner;
  private readonly editor: EditorSync;
  private readonly steps: StepRequests;
  /** Writes the panel's exports (showSaveDialog, clipboard); tests replace its dialogs. */
  readonly exports = new PanelExports((line) => this.log(line));
  private readonly disposables: vscode.Disposable[] = [];
  /** The run the panel shows; requests for other sessions are dropped. */
  private inspected: Published | undefined;
  /** The run pinned for comparison (pinRun), kept across later runs until unpinRun or the panel closes. */
  private pinned: ComparableRun | undefined;
  /** Answers the heatmap's first request of a run while the webview is still busy with the session. */
  private readonly overview = new OverviewPrefetch();

  constructor(private readonly extensionUri: vscode.Uri, private readonly output: vscode.OutputChannel) {
    this.panel = new AttentionPanel(extensionUri, (line) => this.log(line));
    this.editor = new EditorSync((message) => this.panel.post(message));
    this.steps = new StepRequests((message) => this.panel.post(message), (line) => this.log(line));
    this.runner = new InspectionRunner(extensionUri, {
      show: (title) => this.panel.show(title),
      post: (message) => this.panel.post(message),
      log: (line) => this.log(line),
      published: (run) => {
        this.inspected = run;
        // After the session message has gone out (it is posted right after this call).
        setImmediate(() => {
          if (this.inspected === run) this.overview.prefetch(run, run.session.groups.map((group) => group.dims));
        });
        const { modelDir, backend, maxTokens } = run.settings;
        this.steps.setRun({
          sessionId: run.sessionId,
          text: run.selected.text,
          options: { maxTokens, target: run.selected.target },
          units: unitMapping(run.result),
          backend: () => this.runner.registry.get(modelDir, backend, true),
        });
        const document = run.selected.document;
        this.editor.setInspected(
          document && {
            sessionId: run.sessionId,
            result: run.result,
            document,
            baseOffset: document.offsetAt(run.selected.range.start),
            stale: run.selected.staleOffsets === true,
          },
        );
      },
      showLog: () => this.output.show(true),
    });
    this.disposables.push(
      this.panel,
      this.editor,
      this.panel.onMessage((message) => this.handleWebviewMessage(message)),
      this.panel.onClose(() => {
        this.runner.cancel();
        this.runner.release();
        this.editor.setInspected(undefined);
        this.steps.setRun(undefined);
        this.inspected = undefined;
        this.overview.clear();
        this.pinned = undefined;
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('attentionInspector.colorScale')) {
          this.panel.post({ type: 'settings', colorScale: readSettings(this.extensionUri).colorScale });
        }
      }),
    );
    // The extension activates for the panel (a command that opens it, or a panel restored after a
    // reload): start the backend now (for the ONNX backend: its child process and the model), so
    // that the first run pays no start-up. The child then stays, warm, for every later run.
    this.warmUp();
  }

  /** Gets the current settings' backend ready (a child process started or reused, the model loaded); failures wait for the run to report them. */
  warmUp(): void {
    try {
      const settings = readSettings(this.extensionUri);
      const backend = this.runner.registry.get(settings.modelDir, settings.backend);
      void backend.warmUp?.().catch((error: unknown) => this.log(`Could not prepare ${settings.modelLabel}: ${describeError(error)}`));
    } catch (error) {
      this.log(`Could not prepare the model: ${describeError(error)}`);
    }
  }

  /** Shows a question with buttons; tests replace it. */
  get ask(): Ask {
    return this.runner.ask;
  }

  set ask(ask: Ask) {
    this.runner.ask = ask;
  }

  /** The command: inspect the active editor's selection (or current line). */
  async showAttention(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Attention Inspector: open a file and select some text first.'));
      return;
    }
    const selected = pickText(editor);
    if (!selected) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Attention Inspector: nothing to inspect — the selection and the current line are empty.'));
      return;
    }
    await this.runner.inspect(selected, false);
  }

  /**
   * A panel VS Code restored after a window reload (the serializer in extension.ts): adopts it and
   * runs the text it showed again with the current settings, then shows the same view; with nothing
   * to run it says so. Returns once the run has started (whenIdle waits for it).
   */
  async restore(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.panel.adopt(webviewPanel, true);
    const { rerun, view } = parseRestoredState(state);
    const selected = rerun && (await restoredSelection(rerun));
    if (!rerun || !selected) {
      this.log('Restored the panel after a reload; there was no text to run again.');
      this.panel.post({ type: 'error', message: vscode.l10n.t('The panel was restored after a reload, but not the text it showed: select text and run “Attention Inspector: Show Attention”.') });
      return;
    }
    this.log(`Restoring the panel after a reload: running ${selected.document && !selected.staleOffsets ? rerun.uri : 'the text it showed'} again.`);
    this.runner.setUnits(rerun.units, undefined);
    void this.runner.inspect(selected, true, view).catch((error: unknown) => this.runner.report(error));
  }

  /** Resolves once no run is in flight (runs started meanwhile are waited for too). */
  async whenIdle(): Promise<void> {
    await this.runner.whenIdle();
    await this.steps.whenIdle();
  }

  // ------------------------------------------------------------------ webview messages

  private handleWebviewMessage(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready':
        this.postPinnedRun();
        return;
      case 'requestHead':
      case 'requestTokenRows':
      case 'requestThumbnails':
      case 'requestRoles':
      case 'requestAggregate': {
        const inspected = this.current(message.sessionId);
        void this.overview.answer(message, inspected, inspected?.session.groups.map((group) => group.dims) ?? []).then(
          // A newer run may have replaced the session while the answer was on its way: the webview drops it then.
          (reply) => reply && this.panel.post(reply),
          (error: unknown) => {
            this.log(`Could not answer ${message.type}: ${describeError(error)}`);
            if (!(error instanceof RangeError)) this.panel.post({ type: 'error', message: describeError(error) });
          },
        );
        return;
      }
      case 'requestExplain':
      case 'requestComparison':
        this.steps.handle(message);
        return;
      case 'setTarget': {
        const inspected = this.current(message.sessionId);
        if (!inspected) return;
        if (message.text !== null && message.text.trim() === '') {
          this.panel.post({ type: 'error', message: vscode.l10n.t("The target text is empty: type what the decoder should read, or use the model's own output.") });
          return;
        }
        // The re-run keeps the source text it ran before, even if the document changed since.
        const staleOffsets = this.editor.isStale(inspected.sessionId);
        void this.runner.inspect({ ...inspected.selected, target: message.text ?? undefined, staleOffsets }, true).catch((error: unknown) => this.runner.report(error));
        return;
      }
      case 'setMerge':
        // Shown as other units: the same run, published again as a new session (no re-run).
        void this.runner.setUnits(message.merge, this.current(message.sessionId)).catch((error: unknown) => this.runner.report(error));
        return;
      case 'tokenFocus':
        this.editor.paintFocus(message);
        return;
      case 'viewChanged':
        return;
      case 'pinRun': {
        // The pinned run must outlive the session (a later run releases its held attention): its tensors come here.
        const inspected = this.current(message.sessionId);
        void (inspected ? comparableRun(inspected) : Promise.resolve(undefined)).then(
          (pinned) => {
            if (pinned) this.pinned = pinned;
            this.postPinnedRun();
          },
          (error: unknown) => this.runner.report(error),
        );
        return;
      }
      case 'unpinRun':
        this.pinned = undefined;
        this.postPinnedRun();
        return;
      case 'requestRunComparison': {
        const inspected = this.current(message.sessionId);
        if (!inspected) return;
        void comparableRun(inspected).then(
          (current) => {
            const reply = answerRunComparison(message, this.pinned, current);
            if (reply) this.panel.post(reply);
          },
          (error: unknown) => this.log(`Could not compare with the pinned run: ${describeError(error)}`),
        );
        return;
      }
      case 'export': {
        const shown = this.current(message.sessionId);
        void this.exports.handle(message, shown && { result: shown.result, attention: shown.attention }).catch((error: unknown) => this.log(`Export failed: ${String(error)}`));
        return;
      }
      case 'webviewError':
        this.log(`Webview error: ${message.message}`);
        return;
      default:
        assertNever(message);
    }
  }

  private postPinnedRun(): void {
    this.panel.post({ type: 'pinnedRun', run: this.pinned ? { sessionId: this.pinned.sessionId, label: this.pinned.label } : null });
  }

  /** The inspected run if the message is about it; requests for older sessions are dropped. */
  private current(sessionId: number): Published | undefined {
    return this.inspected && this.inspected.sessionId === sessionId ? this.inspected : undefined;
  }

  // ------------------------------------------------------------------ test hooks and plumbing

  /** The pinned run's session id, if any. */
  get pinnedSession(): number | undefined {
    return this.pinned?.sessionId;
  }

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
    return this.editor.snapshot();
  }

  receiveFromWebview(message: unknown): void {
    this.panel.receive(message);
  }

  private log(line: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  }

  dispose(): void {
    this.steps.dispose();
    this.runner.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** A published run as a run comparison needs it: its groups with their tensors (brought here), token texts and a label (model · source). */
async function comparableRun(run: Published): Promise<ComparableRun> {
  const tensors = await run.attention.materialize();
  const textsOf = (sequence: 'source' | 'target') => (sequence === 'target' ? (run.result.target?.tokens ?? []) : run.result.tokens).map((token) => token.text);
  return {
    sessionId: run.sessionId,
    label: `${run.session.model.name} · ${run.session.source}`,
    groups: run.result.groups.map((group, index) => ({ name: group.name, self: group.queries === group.keys, tokens: textsOf(group.queries), attention: tensors[index].attention, dims: group.dims })),
  };
}
