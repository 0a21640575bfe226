// The panel across a window reload. Every session carries a RerunInfo (where the text was, the text
// itself unless too long, the target and units: never the attention); the webview keeps it with its
// view (group, layer, head, pinned token) through setState. After a reload VS Code hands that state
// to the serializer (extension.ts), and these helpers check it and find the text to run again.
import * as vscode from 'vscode';
import { MAX_RERUN_TEXT_CHARS, UNITS_MODES, type RerunInfo, type RestoredView, type UnitsMode } from '../shared/protocol';
import type { Selected } from './runner';

/** What a run needs to be repeated after a reload. */
export function rerunInfo(selected: Selected, units: UnitsMode): RerunInfo | undefined {
  const uri = selected.document?.uri ?? selected.uri;
  if (!uri) return undefined;
  const { start, end } = selected.range;
  return {
    uri: uri.toString(),
    range: [start.line, start.character, end.line, end.character],
    ...(selected.text.length <= MAX_RERUN_TEXT_CHARS ? { text: selected.text } : {}),
    ...(selected.target !== undefined ? { target: selected.target } : {}),
    units,
  };
}

const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** The webview's saved state as VS Code returns it (anything: it was stored by the page): the run and the view, each undefined when unusable. */
export function parseRestoredState(raw: unknown): { rerun: RerunInfo | undefined; view: RestoredView | undefined } {
  if (typeof raw !== 'object' || raw === null) return { rerun: undefined, view: undefined };
  const state = raw as Record<string, unknown>;
  const pinned = state.pinnedToken;
  const validHead = typeof state.head === 'number' && Number.isInteger(state.head) && state.head >= -1;
  const view =
    isIndex(state.group ?? 0) && isIndex(state.layer) && validHead && (pinned === null || pinned === undefined || isIndex(pinned))
      ? { group: (state.group as number | undefined) ?? 0, layer: state.layer as number, head: state.head as number, pinnedToken: (pinned as number | null | undefined) ?? null }
      : undefined;
  return { rerun: parseRerunInfo(state.rerun), view };
}

export function parseRerunInfo(raw: unknown): RerunInfo | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const info = raw as Record<string, unknown>;
  if (typeof info.uri !== 'string' || info.uri === '') return undefined;
  const range = info.range;
  if (!Array.isArray(range) || range.length !== 4 || !range.every(isIndex)) return undefined;
  if (info.text !== undefined && (typeof info.text !== 'string' || info.text.length > MAX_RERUN_TEXT_CHARS)) return undefined;
  if (info.target !== undefined && typeof info.target !== 'string') return undefined;
  const units = (UNITS_MODES as readonly unknown[]).includes(info.units) ? (info.units as UnitsMode) : 'tokens';
  return {
    uri: info.uri,
    range: range as RerunInfo['range'],
    ...(info.text !== undefined ? { text: info.text as string } : {}),
    ...(info.target !== undefined ? { target: info.target as string } : {}),
    units,
  };
}

/**
 * The text to run again: the document's range when the document can be opened and still holds the
 * text there (or no text was kept), else the kept text, marked stale so nothing is painted in the
 * editor. Undefined when there is nothing to run.
 */
export async function restoredSelection(rerun: RerunInfo): Promise<Selected | undefined> {
  let uri: vscode.Uri;
  try {
    uri = vscode.Uri.parse(rerun.uri, true);
  } catch {
    return undefined;
  }
  const [startLine, startCharacter, endLine, endCharacter] = rerun.range;
  const savedRange = new vscode.Range(startLine, startCharacter, endLine, endCharacter);
  let document = vscode.workspace.textDocuments.find((candidate) => candidate.uri.toString() === uri.toString());
  // An untitled document that is not open any more would be created empty: not opened.
  if (!document && uri.scheme !== 'untitled') {
    try {
      document = await vscode.workspace.openTextDocument(uri);
    } catch {
      document = undefined;
    }
  }
  const target = rerun.target !== undefined ? { target: rerun.target } : {};
  if (document) {
    const range = document.validateRange(savedRange);
    const text = document.getText(range);
    if (range.isEqual(savedRange) && (rerun.text === undefined || text === rerun.text) && text.trim() !== '') {
      return { document, range, text, notes: [], ...target };
    }
  }
  if (rerun.text === undefined || rerun.text.trim() === '') return undefined;
  return {
    ...(document ? { document } : {}),
    uri,
    range: savedRange,
    text: rerun.text,
    notes: [vscode.l10n.t('Ran again the text shown before the window reload: its document has changed or is not available, so it is not marked in the editor.')],
    staleOffsets: true,
    ...target,
  };
}
