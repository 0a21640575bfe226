// Paints attention onto the source editor: the focused token gets an outline, the tokens it
// attends to a background whose strength follows the weight (in a few discrete levels, since a
// decoration type has one fixed colour).
import * as vscode from 'vscode';

const LEVELS = 6;

export interface DecoratedRange {
  uri: string;
  start: [number, number];
  end: [number, number];
  weight: number;
  role: 'focus' | 'attended';
}

export interface AttendedRange {
  range: vscode.Range;
  weight: number;
  label: string;
}

export class EditorDecorations implements vscode.Disposable {
  private readonly focusType = vscode.window.createTextEditorDecorationType({
    borderWidth: '1px',
    borderStyle: 'solid',
    borderColor: new vscode.ThemeColor('focusBorder'),
    borderRadius: '2px',
  });
  /** levelTypes[i] paints weights in ((i) / LEVELS, (i + 1) / LEVELS] relative to the strongest. */
  private readonly levelTypes = Array.from({ length: LEVELS }, (_, i) =>
    vscode.window.createTextEditorDecorationType({
      // Amber reads on light, dark and high-contrast backgrounds alike.
      backgroundColor: `rgba(255, 152, 0, ${(0.12 + (0.6 * (i + 1)) / LEVELS).toFixed(2)})`,
      borderRadius: '2px',
      overviewRulerColor: `rgba(255, 152, 0, ${(0.3 + (0.7 * (i + 1)) / LEVELS).toFixed(2)})`,
      overviewRulerLane: vscode.OverviewRulerLane.Center,
    }),
  );
  private current: DecoratedRange[] = [];
  private editors: vscode.TextEditor[] = [];

  /**
   * Decorates every visible editor of `document`; replaces what was painted before. `focus` is
   * undefined when the query token is not in the document (a decoder token attending to the source).
   */
  show(document: vscode.TextDocument, focus: vscode.Range | undefined, attended: AttendedRange[]): void {
    this.clear();
    this.editors = vscode.window.visibleTextEditors.filter((editor) => editor.document === document);
    const strongest = attended.reduce((max, item) => Math.max(max, item.weight), 0) || 1;
    const buckets: vscode.DecorationOptions[][] = Array.from({ length: LEVELS }, () => []);
    for (const item of attended) {
      const level = Math.min(LEVELS - 1, Math.max(0, Math.ceil((item.weight / strongest) * LEVELS) - 1));
      buckets[level].push({ range: item.range, hoverMessage: vscode.l10n.t('Attention {0}% — {1}', (item.weight * 100).toFixed(1), item.label) });
    }
    for (const editor of this.editors) {
      editor.setDecorations(this.focusType, focus ? [{ range: focus, hoverMessage: vscode.l10n.t('Focused token (Attention Inspector)') }] : []);
      this.levelTypes.forEach((type, level) => editor.setDecorations(type, buckets[level]));
    }
    const uri = document.uri.toString();
    const toPair = (position: vscode.Position): [number, number] => [position.line, position.character];
    this.current = [
      ...(focus ? [{ uri, start: toPair(focus.start), end: toPair(focus.end), weight: 1, role: 'focus' } satisfies DecoratedRange] : []),
      ...attended.map((item): DecoratedRange => ({ uri, start: toPair(item.range.start), end: toPair(item.range.end), weight: item.weight, role: 'attended' })),
    ];
  }

  clear(): void {
    for (const editor of this.editors) {
      editor.setDecorations(this.focusType, []);
      for (const type of this.levelTypes) editor.setDecorations(type, []);
    }
    this.editors = [];
    this.current = [];
  }

  /** What is painted now (for tests and the output channel). */
  snapshot(): DecoratedRange[] {
    return this.current.map((item) => ({ ...item }));
  }

  dispose(): void {
    this.clear();
    this.focusType.dispose();
    for (const type of this.levelTypes) type.dispose();
  }
}
