// One place that knows how to start the machine's headless Chromium (Debian `chromium`) for the
// browser, integration and end-to-end tests. We never download a browser: playwright-core drives
// the system one.

import * as fs from 'fs';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

/** The Debian package's browser; CHROMIUM_PATH overrides it. */
export function chromiumExecutablePath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/**
 * Flags for running as root in a container without a GPU or network: no sandbox (root), no GPU
 * process, no background traffic, and /tmp instead of a small /dev/shm.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium with CHROMIUM_ARGS plus any extra args; other options pass through. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? chromiumExecutablePath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}; install it with: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    headless: true,
    ...options,
    executablePath,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}
