// The editor side of an inspection: which document range was inspected, the decorations that
// mirror the panel's focused token, and the editor cursor that focuses a token in the panel.
import * as vscode from 'vscode';
import { tokenAtOffset } from '../core/tokenSpans';
import type { AttentionSummary } from '../core/heldAttention';
import type { HostToWebview, TokenFocusMessage } from '../shared/protocol';
import { EditorDecorations } from './editorDecorations';

/** The run the panel shows, as far as the editor is concerned. */
export interface InspectedRange {
  sessionId: number;
  result: AttentionSummary;
  document: vscode.TextDocument;
  /** Document offset of the inspected text's first character. */
  baseOffset: number;
  /** The document changed since the run: offsets no longer point at the tokens. */
  stale: boolean;
}

export class EditorSync implements vscode.Disposable {
  private readonly decorations = new EditorDecorations();
  private readonly disposables: vscode.Disposable[] = [];
  private inspected: (InspectedRange & { cursorToken: number | undefined }) | undefined;

  /** post: how a focusToken reaches the panel. */
  constructor(private readonly post: (message: HostToWebview) => void) {
    this.disposables.push(
      this.decorations,
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
    );
  }

  /** A new run is shown (undefined: none, e.g. the panel closed); its old decorations go. */
  setInspected(inspected: InspectedRange | undefined): void {
    this.inspected = inspected ? { ...inspected, cursorToken: undefined } : undefined;
    this.decorations.clear();
  }

  /** Whether the document changed since the shown run (a re-run keeps its stale offsets). */
  isStale(sessionId: number): boolean {
    return this.inspected?.sessionId === sessionId && this.inspected.stale;
  }

  clear(): void {
    this.decorations.clear();
  }

  snapshot() {
    return this.decorations.snapshot();
  }

  /**
   * Mirrors the panel's focus in the editor. Only source tokens are in the document: a source query
   * is outlined; a target query (cross-attention) has no place there, but what it attends to does;
   * target keys (decoder self-attention) have none, so nothing is painted.
   */
  paintFocus(message: TokenFocusMessage): void {
    const inspected = this.inspected && this.inspected.sessionId === message.sessionId ? this.inspected : undefined;
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
      .map((item) => ({ range: tokenRange(inspected, item.token), weight: item.weight, label: JSON.stringify(tokens[item.token].text) }))
      .filter((item) => !item.range.isEmpty);
    this.decorations.show(inspected.document, queryIsSource ? tokenRange(inspected, message.token) : undefined, attended);
  }

  /** Moving the cursor onto an inspected token focuses it in the panel. */
  private followCursor(event: vscode.TextEditorSelectionChangeEvent): void {
    const inspected = this.inspected;
    if (!inspected || inspected.stale || event.textEditor.document !== inspected.document) return;
    const offset = inspected.document.offsetAt(event.selections[0].active) - inspected.baseOffset;
    const token = tokenAtOffset(inspected.result.tokens, offset);
    if (token === undefined || token === inspected.cursorToken) return;
    inspected.cursorToken = token;
    this.post({ type: 'focusToken', sessionId: inspected.sessionId, token });
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}

function tokenRange(inspected: InspectedRange, token: number): vscode.Range {
  const { start, end } = inspected.result.tokens[token];
  const document = inspected.document;
  return new vscode.Range(document.positionAt(inspected.baseOffset + start), document.positionAt(inspected.baseOffset + end));
}
