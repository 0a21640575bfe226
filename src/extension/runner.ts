// Runs the backend for one selection under a cancellable progress notification: a new run cancels
// the one in flight, results a newer run superseded are dropped, a too-long input offers to inspect
// its first N tokens, and a finished run is published to the panel as a session.
import { inertText } from '../shared/inertText';
import * as path from 'path';
import * as vscode from 'vscode';
import { BackendRegistry } from '../core/backends/backendRegistry';
import { AttentionInspectorError, CancelledError, MemoryBudgetError, TooManyTokensError, describeError } from '../core/errors';
import type { BackendChoice } from '../core/types';
import { mergeResult } from '../core/merge';
import { holdInProcess, materializeResult, runHeld, type AttentionSummary, type HeldAttention, type HeldRun } from '../core/heldAttention';
import type { HostToWebview, RestoredView, SessionInfo, UnitsMode } from '../shared/protocol';
import { rerunInfo } from './panelRestore';
import { readSettings } from './settings';

/** Shows a question with buttons; replaced in tests, where nobody can click. */
export type Ask = (message: string, ...choices: string[]) => Thenable<string | undefined>;

export interface Selected {
  /** Absent for a panel restored after a reload whose document is not available (then `uri` says where the text was). */
  document?: vscode.TextDocument;
  uri?: vscode.Uri;
  range: vscode.Range;
  text: string;
  notes: string[];
  /** Encoder–decoder models: the target text typed in the panel; undefined = the model's greedy output. */
  target?: string;
  /** A re-run (another target, or after a window reload) of a run whose document has changed since: its offsets are stale too. */
  staleOffsets?: boolean;
}

/**
 * A finished run as the panel was told about it. Its attention is a handle (core/heldAttention.ts):
 * for the ONNX backend the tensors stay in the onnxruntime child, which answers the panel's
 * requests; the host brings them here only for a feature that needs them all (materialize).
 */
export interface Published {
  sessionId: number;
  /** What the panel shows, without its tensors: the run, or its units when `units` is not 'tokens' (core/merge.ts). */
  result: AttentionSummary;
  /** The attention of `result`: the run's own handle, or the merged units' (held here). */
  attention: HeldAttention;
  /** The run as the model computed it, over its tokens. */
  raw: HeldRun;
  units: UnitsMode;
  /** What was run, so the panel can run it again with another target. */
  selected: Selected;
  session: SessionInfo;
  /** The settings the run used: explanations and varied runs use the same model and options. */
  settings: { modelDir: string; backend: BackendChoice; maxTokens: number };
}

export interface RunnerHost {
  /** Opens (or reveals) the panel. */
  show(title: string): void;
  post(message: HostToWebview): void;
  log(line: string): void;
  /** A run finished and is about to be posted as a session (the previous one is replaced). */
  published(run: Published): void;
  showLog(): void;
}

export class InspectionRunner implements vscode.Disposable {
  /** One backend per model folder and choice, shared with the step requests (stepRequests.ts). */
  readonly registry = new BackendRegistry();
  private runCounter = 0;
  /** Session ids: every run published, and every re-publication of one as other units, gets the next. */
  private sessionCounter = 0;
  /** Tokens, characters or words: how runs are shown (the panel's Units control, setMerge). */
  private units: UnitsMode = 'tokens';
  private running: { id: number; cancellation: vscode.CancellationTokenSource; done: Promise<void> } | undefined;
  /** The last run published: its attention is released (freed in the child) when a newer run replaces it. */
  private shown: HeldRun | undefined;
  /** Units republications in flight (setUnits). */
  private readonly republishing = new Set<Promise<void>>();
  ask: Ask = (message, ...choices) => vscode.window.showWarningMessage(message, ...choices);

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: RunnerHost,
  ) {}

  /**
   * Runs `selected`, cancelling the run in flight; resolves when this run is done (or superseded).
   * restoredView: the view a panel restored after a reload showed, sent with the session.
   */
  async inspect(selected: Selected, allowTruncation: boolean, restoredView?: RestoredView): Promise<void> {
    this.running?.cancellation.cancel();
    const id = ++this.runCounter;
    const cancellation = new vscode.CancellationTokenSource();
    const done = this.runOnce(id, selected, allowTruncation, cancellation, restoredView).finally(() => {
      cancellation.dispose();
      if (this.running?.id === id) this.running = undefined;
    });
    this.running = { id, cancellation, done };
    await done;
  }

  /** Cancels the run in flight, if any. */
  cancel(): void {
    this.running?.cancellation.cancel();
  }

  /** Resolves once no run or republication is in flight (ones started meanwhile are waited for too). */
  async whenIdle(): Promise<void> {
    while (this.running || this.republishing.size > 0) {
      await Promise.all([this.running?.done, ...this.republishing].map((pending) => pending?.catch(() => undefined)));
    }
  }

  private async runOnce(id: number, selected: Selected, allowTruncation: boolean, cancellation: vscode.CancellationTokenSource, restoredView?: RestoredView): Promise<void> {
    const settings = readSettings(this.extensionUri);
    const modelName = settings.modelLabel;
    try {
      const backend = this.registry.get(settings.modelDir, settings.backend);
      this.host.show(vscode.l10n.t('Attention: {0}', modelName));
      this.host.post({ type: 'busy', message: vscode.l10n.t('Running {0} on {1}…', modelName, describeRange(selected)) });
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Attention Inspector: running {0}…', inertText(modelName)), cancellable: true },
        (_progress, token) => {
          const forward = token.onCancellationRequested(() => cancellation.cancel());
          return runHeld(backend, selected.text, { maxTokens: settings.maxTokens, memoryBudgetMB: settings.memoryBudgetMB, failIfTooLong: !allowTruncation, target: selected.target }, cancellation.token)
            .finally(() => forward.dispose());
        },
      );
      if (id !== this.runCounter) {
        result.attention.release(); // superseded while running: a newer run owns the panel
        return;
      }
      await this.publish(selected, result, settings.colorScale, { modelDir: settings.modelDir, backend: settings.backend, maxTokens: settings.maxTokens }, () => id === this.runCounter, false, restoredView);
    } catch (error) {
      if (id !== this.runCounter) return;
      if (error instanceof CancelledError) {
        this.host.log(`Run ${id} cancelled.`);
        this.host.post({ type: 'error', message: vscode.l10n.t('The run was cancelled.') });
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
    const inspectFirst = vscode.l10n.t('Inspect the first {0} tokens', error.maxTokens);
    const openSettings = vscode.l10n.t('Open Settings');
    const message =
      error instanceof MemoryBudgetError
        ? vscode.l10n.t(
            'Running {0} tokens would hold about {1} MB of attention (layers × heads × tokens² × 4 bytes, with the copies on the way), more than attentionInspector.memoryBudgetMB ({2} MB); at most {3} tokens fit.',
            error.atLeast ? vscode.l10n.t('more than {0}', error.tokenCount) : error.tokenCount,
            Math.round(error.estimateBytes / 2 ** 20),
            Math.round(error.budgetBytes / 2 ** 20),
            error.maxTokens,
          )
        : error.atLeast
          ? vscode.l10n.t('The selection has more than {0} tokens, more than the limit of {1} (attentionInspector.maxTokens).', error.tokenCount, error.maxTokens)
          : vscode.l10n.t('The selection has {0} tokens, more than the limit of {1} (attentionInspector.maxTokens).', error.tokenCount, error.maxTokens);
    this.host.post({ type: 'error', message });
    const choice = await this.ask(vscode.l10n.t('Attention Inspector: {0}', inertText(message)), inspectFirst, openSettings);
    if (choice === inspectFirst) await this.inspect(selected, true);
    else if (choice === openSettings) {
      const setting = error instanceof MemoryBudgetError ? 'attentionInspector.memoryBudgetMB' : 'attentionInspector.maxTokens';
      await vscode.commands.executeCommand('workbench.action.openSettings', setting);
    }
  }

  /** Shows runs as tokens, characters or words from now on; `run` (the shown one) is published again so, without running the model. */
  async setUnits(units: UnitsMode, run: Published | undefined): Promise<void> {
    this.units = units;
    if (!run || run.units === units) return;
    // Merging may first bring the attention here (materialize): whenIdle waits for it like for a run.
    const done = this.publish(run.selected, run.raw, run.session.colorScale, run.settings, () => this.shown === run.raw, true);
    this.republishing.add(done);
    try {
      await done;
    } finally {
      this.republishing.delete(done);
    }
  }

  /** Frees the shown run's attention (the panel closed). */
  release(): void {
    this.shown?.attention.release();
    this.shown = undefined;
  }

  /** current: whether this is still the run to show once the units are computed (a newer run or republication wins). */
  private async publish(selected: Selected, raw: HeldRun, colorScale: SessionInfo['colorScale'], runSettings: Published['settings'], current: () => boolean, republished = false, restoredView?: RestoredView): Promise<void> {
    const units = this.units;
    // Units other than tokens average the attention over units: that needs all of it here once (merged, it is held here).
    const shown = units === 'tokens' ? raw : holdInProcess(mergeResult(await materializeResult(raw), units));
    if (!current() || (republished && units !== this.units)) {
      if (!republished) raw.attention.release();
      return;
    }
    if (!republished && this.shown !== raw) {
      this.shown?.attention.release();
      this.shown = raw;
    }
    const id = ++this.sessionCounter;
    const result = shown.result;
    const { maxTokens } = runSettings;
    const T = raw.result.tokens.length;
    // Warnings (NaN or infinite weights or attention) come first: they say the view cannot be trusted.
    const notes = [...(result.warnings ?? []), ...selected.notes];
    if (result.truncatedFrom !== undefined) {
      const reason = T < maxTokens ? vscode.l10n.t("the model's context is {0} tokens", result.model.maxPositions) : vscode.l10n.t('attentionInspector.maxTokens is {0}', maxTokens);
      notes.push(
        result.truncatedFromAtLeast
          ? vscode.l10n.t('Inspected the first {0} of more than {1} tokens ({2}).', T, result.truncatedFrom, reason)
          : vscode.l10n.t('Inspected the first {0} of {1} tokens ({2}).', T, result.truncatedFrom, reason),
      );
    }
    const session: SessionInfo = {
      sessionId: id,
      model: result.model,
      text: result.text,
      tokens: result.tokens,
      ...(units !== 'tokens' ? { merge: units } : {}),
      dims: result.dims,
      causal: result.causal,
      groups: result.groups,
      ...(result.target ? { target: result.target } : {}),
      colorScale,
      source: describeRange(selected),
      notes,
      predictions: (result.predictions ?? []).map(({ token, probability }) => ({ token, probability })),
      elapsedMs: result.elapsedMs,
    };
    const rerun = rerunInfo(selected, units);
    if (rerun) session.rerun = rerun;
    if (restoredView) session.restoredView = restoredView;
    this.host.published({ sessionId: id, result, attention: shown.attention, raw, units, selected, session, settings: runSettings });
    this.host.post({ type: 'session', session });
    if (republished) {
      this.host.log(`Showing the run as ${units === 'chars' ? 'characters' : units} (${result.tokens.length} of ${T} tokens).`);
      return;
    }
    const [L, H] = result.dims;
    const target = result.target ? `, target ${JSON.stringify(result.target.text)} (${result.target.generated ? 'greedy output' : 'typed'}, ${result.target.tokens.length} tokens)` : '';
    this.host.log(`Ran ${result.model.name} (${result.model.backend}, ${result.model.kind}, ${L} layers × ${H} heads) on ${T} tokens from ${session.source}${target} in ${result.elapsedMs.toFixed(0)} ms.`);
  }

  /** Logs an error, shows it in the panel and as a notification. */
  report(error: unknown): void {
    const known = error instanceof AttentionInspectorError;
    const message = known ? error.message : vscode.l10n.t('Something went wrong: {0}', describeError(error));
    this.host.log(known ? `Error: ${message}` : `Unexpected error: ${error instanceof Error ? error.stack ?? message : message}`);
    this.host.post({ type: 'error', message });
    const openSettings = vscode.l10n.t('Open Settings');
    const showLog = vscode.l10n.t('Show Log');
    void vscode.window.showErrorMessage(vscode.l10n.t('Attention Inspector: {0}', inertText(message)), openSettings, showLog).then((choice) => {
      if (choice === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', 'attentionInspector');
      if (choice === showLog) this.host.showLog();
    });
  }

  dispose(): void {
    this.running?.cancellation.cancel();
    this.release();
    this.registry.dispose();
  }
}

/** The selection, or the cursor's line when nothing is selected; undefined when both are blank. */
export function pickText(editor: vscode.TextEditor): Selected | undefined {
  const { document, selection } = editor;
  if (!selection.isEmpty) {
    return { document, range: selection, text: document.getText(selection), notes: [] };
  }
  const line = document.lineAt(selection.active.line);
  if (line.isEmptyOrWhitespace) return undefined;
  return { document, range: line.range, text: line.text, notes: [vscode.l10n.t('No text was selected: inspecting line {0}.', line.lineNumber + 1)] };
}

function describeRange({ document, uri: savedUri, range }: Selected): string {
  const uri = document?.uri ?? savedUri;
  const name = uri ? path.basename(uri.path) || uri.toString() : '';
  const at = (position: vscode.Position) => `${position.line + 1}:${position.character + 1}`;
  return `${name}:${at(range.start)}–${at(range.end)}`;
}
