// The panel's HTML, shared by the extension host and the browser tests so both load the webview
// under the same strict Content-Security-Policy: scripts only with the per-load nonce, styles and
// fonts only from the extension's own resource origin, no inline handlers, nothing from the network.

/** The panel's stylesheets under media/, in load order: the panel's own, then one per widget. */
export const WEBVIEW_STYLESHEETS = ['webview.css', 'stepView.css', 'stepsView.css', 'compareView.css', 'modelView.css'] as const;

export interface WebviewHtmlOptions {
  /** webview.cspSource in VS Code; the page origin in tests. */
  cspSource: string;
  /** URI of dist/webview.js as the webview can load it. */
  scriptUri: string;
  /** URIs of the stylesheets (WEBVIEW_STYLESHEETS under media/) as the webview can load them; one string: just that one. */
  styleUri: string | readonly string[];
  /** Fresh random string per load. */
  nonce: string;
  /** VS Code's display language (vscode.env.language), for <html lang>; default 'en'. */
  language?: string;
  /**
   * The l10n bundle for that language (l10n/bundle.l10n.<lang>.json: English message -> translation),
   * given to the webview as a JSON data attribute on <body> (webview/l10n.ts reads it). None: English.
   */
  strings?: Readonly<Record<string, string>>;
}

/** The text the page shows before the script has run (a key of the l10n bundle). */
export const PLACEHOLDER_TEXT = 'Select text in an editor and run “Attention Inspector: Show Attention”.';

export function renderWebviewHtml({ cspSource, scriptUri, styleUri, nonce, language = 'en', strings }: WebviewHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${(typeof styleUri === 'string' ? [styleUri] : styleUri).map((uri) => `<link rel="stylesheet" href="${escapeAttribute(uri)}">`).join('\n')}
<title>Attention Inspector</title>
</head>
<body${strings && Object.keys(strings).length > 0 ? ` data-l10n="${escapeAttribute(JSON.stringify(strings))}"` : ''}>
<div id="app" class="app"><p class="placeholder">${escapeText(strings?.[PLACEHOLDER_TEXT] ?? PLACEHOLDER_TEXT)}</p></div>
<script nonce="${nonce}" src="${escapeAttribute(scriptUri)}"></script>
</body>
</html>`;
}

/** 32 random alphanumerics from the given random source (crypto-backed in the host). */
export function makeNonce(randomByte: () => number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let nonce = '';
  for (let i = 0; i < 32; i++) nonce += alphabet[randomByte() % alphabet.length];
  return nonce;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
