// How a token's characters are shown: whitespace made visible (a space, a tab or a newline is
// often the whole token) and long labels cut to fit an axis.

const VISIBLE: Record<string, string> = {
  ' ': '·',
  '\t': '→',
  '\n': '↵',
  '\r': '↵',
  '\u00a0': '⍽',
  '\u200b': '␣',
};

/**
 * Token text with whitespace and control characters replaced by visible symbols. '' (a token that
 * holds only the trailing bytes of a character the previous token started) becomes '⋯'.
 */
export function visibleText(text: string): string {
  if (text.length === 0) return '⋯';
  let shown = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    // \r\n is one line ending: one ↵.
    if (ch === '\r' && text[i + 1] === '\n') continue;
    const symbol = VISIBLE[ch];
    if (symbol !== undefined) shown += symbol;
    else if (ch < ' ' || ch === '\u007f') shown += String.fromCharCode(ch === '\u007f' ? 0x2421 : 0x2400 + ch.charCodeAt(0));
    else shown += ch;
  }
  return shown;
}

/** What a chip or an axis shows for a token: its label when the tokenizer inserted it, else its visible text. */
export function tokenDisplay(token: { text: string; label?: string }): string {
  return token.label ?? visibleText(token.text);
}

/** True when the token ends a line, so the strip breaks after it as the text does. */
export function endsLine(text: string): boolean {
  return text.includes('\n') || text.endsWith('\r');
}

/** Cuts to at most `max` characters (code points), marking the cut with '…'. */
export function truncateLabel(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/** "41.2%" style, with more digits for small weights so they do not all read "0%". */
export function formatPercent(weight: number): string {
  const percent = weight * 100;
  if (percent >= 9.95) return `${percent.toFixed(0)}%`;
  if (percent >= 0.995) return `${percent.toFixed(1)}%`;
  return `${percent.toFixed(2)}%`;
}

/** A weight for tooltips: four significant digits, scientific below 1e-3. */
export function formatWeight(weight: number): string {
  if (weight === 0) return '0';
  return weight < 1e-3 ? weight.toExponential(2) : weight.toFixed(4);
}

export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
