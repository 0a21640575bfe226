// What both end-to-end tests do in VS Code for the Web: find the VSIX, wait on state, open a file
// from the explorer (quick open waits on file indexing, which a loaded machine delays), run a
// command from the palette. Waiting is always on state, never on fixed sleeps.
import * as fs from 'fs';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';

// Generous: two shared cores, a cold code-server, a first extension activation and a first run.
export const WORKBENCH_TIMEOUT_MS = 120_000;
export const PANEL_TIMEOUT_MS = 120_000;
export const STEP_TIMEOUT_MS = 30_000;

/** The VSIX for this machine from `npm run package`, or a clear failure. */
export function findVsix(root: string): string {
  const wanted = `attention-inspector-${process.platform}-${process.arch}.vsix`;
  const found = fs.readdirSync(root).filter((name) => /^attention-inspector-.*\.vsix$/.test(name));
  if (found.includes(wanted)) return path.join(root, wanted);
  const listed = found.length > 0 ? `only ${found.join(', ')}` : 'none';
  throw new Error(`The end-to-end test needs ${wanted} at the repository root (found ${listed}). Build it with: npm run package`);
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The editor showing `name` in the active editor group (a file can be open in several groups). */
export function activeEditor(page: Page, name: string): Locator {
  return page.locator(`.editor-group-container.active .editor-instance .monaco-editor[data-uri$="${name}"]`);
}

/**
 * Opens a workspace file by clicking its row in the explorer, which lists the folder as soon as the
 * remote connection works. Quick open (Ctrl+P) depends on file indexing, which a loaded machine can
 * delay past any timeout; the explorer row is state to wait on.
 */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${name}" i]`).first();
  await row.waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
  await row.click();
  const editor = activeEditor(page, name);
  await editor.waitFor({ timeout: STEP_TIMEOUT_MS });
  // The click leaves the keyboard in the explorer: put it in the editor.
  await editor.locator('.view-lines').click();
  await waitUntil(`${name}'s editor to have the focus`, async () => ((await editor.evaluate((element) => element.contains(document.activeElement))) ? true : undefined));
}

/** Runs a command by its title from the command palette (F1). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  // Start from the workbench, not from inside a webview: a closing quick input gives the keyboard back
  // to the webview that had it, and the webview's late focus report (under load) then takes it from
  // the next quick input (the command's own quick pick), which closes.
  await page.evaluate(() => (document.activeElement instanceof HTMLIFrameElement ? document.activeElement.blur() : undefined));
  await page.keyboard.press('F1');
  await quickInput.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.keyboard.type(title);
  await quickInput.locator(`.monaco-list-row[aria-label*="${title}"]`).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Enter');
}
