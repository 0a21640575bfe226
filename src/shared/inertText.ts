// Text from model files, paths and onnxruntime is untrusted: VS Code turns `[label](command:…)`
// in a notification or progress title into a clickable link that runs a command, and `$(icon)` in a
// quick pick label into an icon. inertText keeps such text readable but inert by putting a
// zero-width space inside each `](` and `$(`, which the link and icon patterns then no longer match.
// Every string of outside origin goes through it before it reaches a notification, progress title
// or quick pick; our own (translated) wording does not need it.

const ZERO_WIDTH_SPACE = '\u200b';

export function inertText(text: string): string {
  return text.replace(/\]\(/g, `]${ZERO_WIDTH_SPACE}(`).replace(/\$\(/g, `$${ZERO_WIDTH_SPACE}(`);
}

/** The pattern VS Code's notifications use to find links (vs/base/common/linkedText.ts), for tests. */
export const NOTIFICATION_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
