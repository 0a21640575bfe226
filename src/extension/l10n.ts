// The strings table the webview translates with (webview/l10n.ts): the extension's own l10n bundle
// for VS Code's display language, the same file vscode.l10n.t reads (l10n/bundle.l10n.<lang>.json).
// English (and any language without a bundle) gives none: the webview's messages are English.
import * as fs from 'fs';
import * as vscode from 'vscode';

/** The display language and its bundle (undefined: none, English). */
export function webviewLocale(extensionUri: vscode.Uri): { language: string; strings: Record<string, string> | undefined } {
  const language = vscode.env.language || 'en';
  return { language, strings: vscode.l10n.bundle ?? readBundle(extensionUri, language) };
}

/** l10n/bundle.l10n.<language>.json, else the one for the language without its region (zh-cn -> zh). */
export function readBundle(extensionUri: vscode.Uri, language: string): Record<string, string> | undefined {
  const lower = language.toLowerCase();
  if (lower === 'en' || lower.startsWith('en-')) return undefined;
  for (const candidate of [lower, lower.split('-')[0]]) {
    const file = vscode.Uri.joinPath(extensionUri, 'l10n', `bundle.l10n.${candidate}.json`).fsPath;
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, string>;
    } catch {
      // no bundle for this candidate
    }
  }
  return undefined;
}
