// The panel's words in VS Code's display language. The host puts the extension's l10n bundle for
// vscode.env.language (l10n/bundle.l10n.<lang>.json, the same file vscode.l10n.t reads) into the
// page as a JSON data attribute on <body> (src/shared/webviewHtml.ts): no inline script, so the CSP
// stays strict. English has no bundle: every message is its own translation.
//
// t(message, ...args) looks the English message up and fills {0}, {1}, … with args, exactly as
// vscode.l10n.t does. The message must be a string literal at every call site: the unit test
// (test/unit/l10n.test.ts) reads them all and checks that each one has a Chinese entry.

let strings: Readonly<Record<string, string>> | undefined;

/** The strings table of the page (read once, on first use). */
function table(): Readonly<Record<string, string>> {
  if (strings) return strings;
  strings = {};
  const raw = typeof document !== 'undefined' ? document.body?.dataset.l10n : undefined;
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const entries = Object.entries(parsed as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
        strings = Object.fromEntries(entries);
      }
    } catch {
      // A malformed table: English.
    }
  }
  return strings;
}

/** Fills {0}, {1}, … of `text` with `args` (a placeholder without an argument stays as it is). */
export function format(text: string, args: readonly (string | number)[]): string {
  return args.length === 0 ? text : text.replace(/\{(\d+)\}/g, (whole, index: string) => (Number(index) < args.length ? String(args[Number(index)]) : whole));
}

/** `message` in the display language, with {0}, {1}, … filled from `args`. */
export function t(message: string, ...args: (string | number)[]): string {
  return format(table()[message] ?? message, args);
}

/** The display language the host named (<html lang>), e.g. 'en' or 'zh-cn'. */
export function language(): string {
  return (typeof document !== 'undefined' ? document.documentElement.lang : '') || 'en';
}

/** Tests: forget the table read from the page (the next t() reads it again). */
export function resetStrings(): void {
  strings = undefined;
}
