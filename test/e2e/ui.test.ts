// The user's path, end to end, in VS Code for the Web (code-server) driven by headless Chromium:
// install the VSIX that `npm run package` built, open sample/seed-sentences.txt, select a
// sentence with the keyboard, run "Attention Inspector: Show Attention" from the command palette,
// then look inside the panel's webview: token chips, a painted heatmap, hover links that also
// paint the editor, and a head switch that repaints; then Choose Model… the bundled encoder–decoder
// and look at its cross-attention; then back to the default model on 我爱你: pin a token, read its
// steps, turn positions off and swap 我 and 爱. Screenshots land in test-results/.
//
// It builds nothing: run `npm run package` first (scripts/test.js does), so what is tested is
// exactly what users install.

import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { installVsix, repoRoot, startCodeServer, type CodeServer } from '../support/codeServer';
import { decodePng } from '../support/decodePng';
import { PANEL_TIMEOUT_MS, STEP_TIMEOUT_MS, WORKBENCH_TIMEOUT_MS, activeEditor, findVsix, openFromExplorer, runCommand, waitUntil } from './workbench';

const EXTENSION_ID = 'attention-inspector.attention-inspector';
const COMMAND_TITLE = 'Attention Inspector: Show Attention';
const SAMPLE_FILE = 'seed-sentences.txt';
const SENTENCE = 'A fluffy blue creature roamed the verdant forest.';
const CHINESE = '我爱你';
const DATES_FILE = 'dates.txt';
const DATE = 'March 5, 2021';


/** The panel's DOM, as webview/tokenStrip.ts, heatmap.ts and sidePanel.ts build it. */
const PANEL = {
  chip: '.token-flow .token',
  chipText: '.token-flow .token .token-text',
  attendedChip: '.token-flow .token.attended',
  heatmap: 'canvas.heatmap-matrix',
  heatmapGrid: '.heatmap-grid',
  backendFact: '.run-header .facts [title="Backend"]',
  /** Single heads, not the per-layer mean (data-head -1). */
  headOption: '.head-grid .head-option:not(.mean)',
  selectedOption: '.head-grid .head-option[aria-selected="true"]',
};

/** The token strip shows a space as '·' (webview/displayText.ts); undo that to compare with the text. */
function unshowWhitespace(shown: string): string {
  return shown.replace(/·/g, ' ').replace(/→/g, '\t');
}


/** Sources edited after the VSIX was built are not in it: say so, since the test runs the VSIX. */
function warnIfStale(vsix: string, root: string): void {
  const built = fs.statSync(vsix).mtimeMs;
  const newer: string[] = [];
  const visit = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (fs.statSync(full).mtimeMs > built) newer.push(path.relative(root, full));
    }
  };
  for (const dir of ['src', 'webview', 'media']) visit(path.join(root, dir));
  if (newer.length > 0) {
    console.warn(`      warning: ${path.basename(vsix)} is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ` and ${newer.length - 3} more` : ''}; run npm run package to test the current sources`);
  }
}

function copyFolder(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

/** Statistics of the canvas's painted pixels. */
interface CanvasPixels {
  width: number;
  height: number;
  /** Pixels with any opacity. */
  painted: number;
  /** Distinct RGBA values, capped: a blank or single-colour canvas has at most a couple. */
  distinctColours: number;
}

function readCanvas(canvas: Locator): Promise<CanvasPixels> {
  return canvas.evaluate((element) => {
    const canvasElement = element as HTMLCanvasElement;
    const context = canvasElement.getContext('2d');
    if (!context) throw new Error('the heatmap canvas has no 2d context');
    const { width, height } = canvasElement;
    const pixels = context.getImageData(0, 0, width, height).data;
    let painted = 0;
    const colours = new Set<number>();
    for (let offset = 0; offset < pixels.length; offset += 4) {
      const alpha = pixels[offset + 3];
      if (alpha === 0) continue;
      painted++;
      const rgba = ((pixels[offset] << 24) | (pixels[offset + 1] << 16) | (pixels[offset + 2] << 8) | alpha) >>> 0;
      if (colours.size < 4096) colours.add(rgba);
    }
    return { width, height, painted, distinctColours: colours.size };
  });
}

/** Keeps a copy of the canvas's pixels inside the webview, under a name, for canvasChange. */
function rememberCanvas(canvas: Locator, name: string): Promise<void> {
  return canvas.evaluate((element, key) => {
    const canvasElement = element as HTMLCanvasElement;
    const image = canvasElement.getContext('2d')?.getImageData(0, 0, canvasElement.width, canvasElement.height);
    const store = ((window as unknown as { e2eSnapshots?: Record<string, ImageData | undefined> }).e2eSnapshots ??= {});
    store[key] = image;
  }, name);
}

/** How many pixels differ from the remembered copy (a resized canvas counts as all changed). */
function canvasChange(canvas: Locator, name: string): Promise<{ changed: number; painted: number }> {
  return canvas.evaluate((element, key) => {
    const canvasElement = element as HTMLCanvasElement;
    const now = canvasElement.getContext('2d')?.getImageData(0, 0, canvasElement.width, canvasElement.height);
    const then = (window as unknown as { e2eSnapshots?: Record<string, ImageData | undefined> }).e2eSnapshots?.[key];
    if (!now || !then) throw new Error(`no canvas snapshot "${key}"`);
    const pixels = now.width * now.height;
    if (now.width !== then.width || now.height !== then.height) return { changed: pixels, painted: pixels };
    let changed = 0;
    let painted = 0;
    for (let offset = 0; offset < now.data.length; offset += 4) {
      if (now.data[offset + 3] !== 0) painted++;
      if (
        now.data[offset] !== then.data[offset] ||
        now.data[offset + 1] !== then.data[offset + 1] ||
        now.data[offset + 2] !== then.data[offset + 2] ||
        now.data[offset + 3] !== then.data[offset + 3]
      ) {
        changed++;
      }
    }
    return { changed, painted };
  }, name);
}

/** Extension decorations (class ced-<key>-<n>) painted in the editor showing the sample file. */
function editorDecorationCount(page: Page): Promise<number> {
  return page.locator(`.editor-instance .monaco-editor[data-uri$="${SAMPLE_FILE}"] [class*="ced-"]`).count();
}





/** Attention Inspector: Choose Model… → "Bundled: NAME". */
async function chooseBundledModel(page: Page, name: string): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  await runCommand(page, 'Attention Inspector: Choose Model');
  await quickInput.locator(`.monaco-list-row[aria-label*="Bundled: ${name}"]`).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.type(`Bundled: ${name}`);
  // The quick pick filters asynchronously: Enter picks the focused row, so wait until it is the wanted one.
  await quickInput.locator(`.monaco-list-row.focused[aria-label*="Bundled: ${name}"]`).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Enter');
  await quickInput.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
  // The command says so once the setting is written (after its await): a run started before that reads the old model.
  await page.locator('.notifications-toasts .notification-toast', { hasText: `bundled ${name} model` }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await clearNotifications(page);
}

/** Runs in the workbench page: keeps the last focus moves (time, element), for failure reports. */
function recordFocusMoves(): void {
  const moves: string[] = [];
  (window as unknown as { __focusMoves: string[] }).__focusMoves = moves;
  const start = performance.now();
  const describe = (node: EventTarget | null) => {
    const element = node as HTMLElement | null;
    if (!element || !element.tagName) return String(node);
    const label = element.getAttribute('aria-label') ?? element.getAttribute('title') ?? '';
    return `${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}.${String(element.className).split(' ').slice(0, 3).join('.')} "${label.slice(0, 60)}"`;
  };
  const note = (kind: string) => (event: Event) => {
    moves.push(`${Math.round(performance.now() - start)} ms ${kind} ${describe(event.target)}`);
    if (moves.length > 200) moves.splice(0, 100);
  };
  window.addEventListener('focusin', note('in'), true);
  window.addEventListener('blur', (event) => event.target === window && note('window blur')(event), true);
  // Named keys only (Enter, F1, Escape): typed text would crowd out the focus moves.
  window.addEventListener('keydown', (event) => event.key.length > 1 && moves.push(`${Math.round(performance.now() - start)} ms key ${event.key} at ${describe(document.activeElement)}`), true);
}

/** Closes the notification toasts (model switches, finished progress) so screenshots show the panel. */
async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
  await waitUntil('the notification toasts to close', async () => ((await page.locator('.notifications-toasts .notification-toast').count()) === 0 ? true : undefined));
}

describe('UI end to end: the packaged extension in VS Code for the Web', function () {
  this.timeout(WORKBENCH_TIMEOUT_MS + PANEL_TIMEOUT_MS + 60_000);

  const root = repoRoot();
  const resultsDir = path.join(root, 'test-results');
  let scratch: string;
  let workspace: string;
  let extensionsDir: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let webview: FrameLocator;
  const consoleProblems: string[] = [];

  before(async function () {
    const vsix = findVsix(root);
    warnIfStale(vsix, root);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-e2e-'));
    workspace = path.join(scratch, 'sample');
    extensionsDir = path.join(scratch, 'extensions');
    copyFolder(path.join(root, 'sample'), workspace);
    fs.mkdirSync(resultsDir, { recursive: true });

    await installVsix(vsix, extensionsDir);
    server = await startCodeServer({ workspace, extensionsDir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.addInitScript(recordFocusMoves);
    page.on('console', (message) => {
      const text = message.text();
      if (/Content[- ]Security[- ]Policy/i.test(text) || (message.type() === 'error' && /attention/i.test(text))) {
        consoleProblems.push(`[${message.type()}] ${text}`);
      }
    });
    page.on('pageerror', (error) => {
      if (/attention|webview\.js/i.test(`${error.message}\n${error.stack ?? ''}`)) consoleProblems.push(`[pageerror] ${error.message}`);
    });
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    // The explorer lists the workspace once the remote connection works.
    await page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${SAMPLE_FILE}" i]`).first().waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
  });

  /** The first failed step: the later ones depend on it, so they stop instead of piling up. */
  let firstFailure: string | undefined;

  beforeEach(function () {
    if (firstFailure) throw new Error(`not run: the earlier step "${firstFailure}" failed`);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    firstFailure = this.currentTest.title;
    const file = path.join(resultsDir, `e2e-failure-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
    await page.screenshot({ path: file }).catch(() => undefined);
    console.log(`    screenshot of the failure: ${path.relative(root, file)}`);
    // Error messages the extension showed are often the whole story.
    const notifications = await page.locator('.notifications-toasts .notification-list-item-message').allTextContents().catch(() => []);
    for (const text of notifications) console.log(`    notification: ${text}`);
    // Where the keyboard went last (a closed quick pick is most often a focus move).
    const moves = await page.evaluate(() => (window as unknown as { __focusMoves?: string[] }).__focusMoves?.slice(-25) ?? []).catch(() => []);
    for (const move of moves) console.log(`    focus: ${move}`);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    if (server && this.currentTest?.state === 'failed') console.log(server.logs().split('\n').slice(-40).join('\n'));
    await server?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** Where code-server unpacked the VSIX. */
  function installedFolder(): string {
    const installed = fs.readdirSync(extensionsDir).filter((name) => name.startsWith(`${EXTENSION_ID}-`));
    assert.equal(installed.length, 1, `expected one ${EXTENSION_ID} folder in ${extensionsDir}, found: ${fs.readdirSync(extensionsDir).join(', ')}`);
    return path.join(extensionsDir, installed[0]);
  }

  it('installs the VSIX as an ordinary extension, holding the bundles and no sources', function () {
    const folder = installedFolder();
    for (const file of ['package.json', 'dist/extension.js', 'dist/webview.js']) {
      assert.ok(fs.existsSync(path.join(folder, file)), `${file} missing from the installed extension`);
    }
    for (const absent of ['src', 'test', 'webview', 'dist/test']) {
      assert.ok(!fs.existsSync(path.join(folder, absent)), `${absent}/ should not be in the installed extension`);
    }
  });

  it('opens the sample file and selects a sentence with the keyboard', async function () {
    const lines = fs.readFileSync(path.join(workspace, SAMPLE_FILE), 'utf8').split(/\r?\n/);
    const lineNumber = lines.indexOf(SENTENCE) + 1;
    assert.ok(lineNumber > 0, `${SAMPLE_FILE} should contain the line "${SENTENCE}"`);

    await openFromExplorer(page, SAMPLE_FILE);
    const quickInput = page.locator('.quick-input-widget');

    const editor = page.locator(`.editor-instance .monaco-editor[data-uri$="${SAMPLE_FILE}"]`);
    await editor.locator('.view-lines', { hasText: SENTENCE.slice(0, 20) }).waitFor({ timeout: STEP_TIMEOUT_MS });

    await page.keyboard.press('Control+G');
    await quickInput.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await page.keyboard.type(String(lineNumber));
    await page.keyboard.press('Enter');
    await quickInput.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');

    // The status bar reports the selection the extension will read.
    const selection = page.locator('#status\\.editor\\.selection');
    await waitUntil(`the status bar to show ${SENTENCE.length} selected characters on line ${lineNumber}`, async () => {
      const text = (await selection.textContent()) ?? '';
      return text.includes(`Ln ${lineNumber},`) && text.includes(`(${SENTENCE.length} selected)`) ? text : undefined;
    });
  });

  it('runs Show Attention from the command palette and the panel renders the selected tokens', async function () {
    await runCommand(page, COMMAND_TITLE);

    // A webview panel titled "Attention…" beside the editor.
    await page.locator('.tabs-container .tab', { hasText: /^\s*Attention/ }).first().waitFor({ timeout: PANEL_TIMEOUT_MS });
    webview = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    const chips = webview.locator(PANEL.chip);
    await chips.first().waitFor({ timeout: PANEL_TIMEOUT_MS });

    const texts = await webview.locator(PANEL.chipText).allTextContents();
    // Byte-level BPE tokens carry their leading space, so the chips rebuild the selection exactly.
    assert.equal(unshowWhitespace(texts.join('')), SENTENCE, `chips: ${JSON.stringify(texts)}`);
    assert.ok(texts.length >= SENTENCE.split(' ').length, `expected at least one chip per word, got ${texts.length}`);

    // With the bundled model.onnx, the default `auto` backend is onnxruntime-node, loaded from the
    // VSIX's own node_modules: the native binary's path survived packaging.
    if (fs.existsSync(path.join(installedFolder(), 'media', 'models', 'default', 'model.onnx'))) {
      const backend = await webview.locator(PANEL.backendFact).textContent();
      assert.match(backend ?? '', /onnx/, `the header names the backend: "${backend}"`);
    }

    await page.screenshot({ path: path.join(resultsDir, 'e2e-1-panel.png') });
  });

  it('paints the heatmap canvas', async function () {
    const canvas = webview.locator(PANEL.heatmap).first();
    const pixels = await waitUntil('painted heatmap pixels', async () => {
      const read = await readCanvas(canvas);
      return read.painted > 0 && read.distinctColours > 8 ? read : undefined;
    });
    assert.ok(pixels.width > 0 && pixels.height > 0);
  });

  it('hovering a token marks its attended tokens in the panel and paints them on the sentence in the editor', async function () {
    assert.equal(await editorDecorationCount(page), 0, 'no attention decorations before any hover');
    const chips = webview.locator(PANEL.chip);
    // The last token of a causal model attends to every token before it.
    await chips.last().hover();
    const weights = await waitUntil('attended chips in the panel', async () => {
      const shown = await webview.locator(PANEL.attendedChip).evaluateAll((found) => found.map((chip) => Number((chip as HTMLElement).dataset.weight)));
      return shown.length > 0 ? shown : undefined;
    });
    for (const weight of weights) assert.ok(weight > 0 && weight <= 1, `attended weights are probabilities: ${weights.join(', ')}`);

    await waitUntil('attention decorations in the editor', async () => ((await editorDecorationCount(page)) > 0 ? true : undefined));
    // Every decoration sits on the line of the inspected sentence.
    const editor = page.locator(`.editor-instance .monaco-editor[data-uri$="${SAMPLE_FILE}"]`);
    const line = await editor.locator('.view-line', { hasText: SENTENCE.slice(0, 20) }).boundingBox();
    assert.ok(line, 'the sentence line is on screen');
    const boxes = await editor.locator('[class*="ced-"]').evaluateAll((found) =>
      found.map((element) => {
        const rect = element.getBoundingClientRect();
        return { top: rect.top, bottom: rect.bottom, width: rect.width };
      }),
    );
    for (const box of boxes) {
      const middle = (box.top + box.bottom) / 2;
      assert.ok(middle > line.y && middle < line.y + line.height, `decoration at y=${middle} is outside the sentence line ${line.y}..${line.y + line.height}`);
    }
    assert.ok(boxes.some((box) => box.width > 0), 'at least one decoration has a visible width');
    await page.screenshot({ path: path.join(resultsDir, 'e2e-2-hover.png') });
  });

  it('switching the head (side panel click, then the ] key) repaints the heatmap', async function () {
    const canvas = webview.locator(PANEL.heatmap).first();
    const selected = webview.locator(PANEL.selectedOption);
    const heads = webview.locator(PANEL.headOption);
    assert.ok((await heads.count()) >= 2, 'the side panel lists at least two heads');
    // Move the pointer off the token strip so only the head choice changes what is painted.
    await webview.locator(PANEL.heatmap).first().hover({ position: { x: 1, y: 1 } });
    const shownFirst = await selected.getAttribute('aria-label');

    await rememberCanvas(canvas, 'before');
    // The first single head that is not the view on show.
    let target = heads.first();
    if ((await target.getAttribute('aria-selected')) === 'true') target = heads.nth(1);
    const targetLabel = await target.getAttribute('aria-label');
    await target.click();
    await waitUntil(`"${targetLabel}" to be selected (was "${shownFirst}")`, async () => ((await selected.getAttribute('aria-label')) === targetLabel ? true : undefined));
    const clickChange = await waitUntil('over 1% of the heatmap to change after clicking a head', async () => {
      const change = await canvasChange(canvas, 'before');
      return change.changed > change.painted / 100 ? change : undefined;
    });
    await rememberCanvas(canvas, 'clicked');

    await page.keyboard.press(']');
    const afterKey = await waitUntil('the ] key to select the next head', async () => {
      const label = await selected.getAttribute('aria-label');
      return label !== targetLabel ? label : undefined;
    });
    const keyChange = await waitUntil('over 1% of the heatmap to change after the ] key', async () => {
      const change = await canvasChange(canvas, 'clicked');
      return change.changed > change.painted / 100 ? change : undefined;
    });
    console.log(
      `      ${shownFirst} -> ${targetLabel}: ${clickChange.changed} of ${clickChange.painted} pixels changed; ` +
        `-> ${afterKey}: ${keyChange.changed} changed`,
    );
    await page.screenshot({ path: path.join(resultsDir, 'e2e-3-head.png') });
    // The whole heatmap (the panel scrolls), for a person to look at, without a hover marker on it.
    await page.mouse.move(1, 1);
    await webview.locator(PANEL.heatmapGrid).screenshot({ path: path.join(resultsDir, 'e2e-4-heatmap.png') });
    assert.deepEqual(consoleProblems, [], 'no CSP violations or extension errors in the browser console');
  });

  it('Choose Model… picks the bundled encoder–decoder; its cross-attention shows target rows over source columns', async function () {
    await chooseBundledModel(page, 'dates');

    // Open sample/dates.txt and select its first line, "March 5, 2021".
    await openFromExplorer(page, DATES_FILE);
    const editor = page.locator(`.editor-instance .monaco-editor[data-uri$="${DATES_FILE}"]`);
    await editor.locator('.view-lines', { hasText: DATE }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await editor.locator('.view-line', { hasText: DATE }).first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+End');

    await runCommand(page, COMMAND_TITLE);

    // Three labelled groups, and the model's own output as the target.
    const options = webview.locator('.group-option');
    await waitUntil('three attention groups in the panel', async () => ((await options.count()) === 3 ? true : undefined), PANEL_TIMEOUT_MS);
    const target = await waitUntil('the greedy target in the target field', async () => {
      const value = await webview.locator('textarea.target-field').inputValue();
      return value !== '' ? value : undefined;
    });
    assert.equal(target, '2021-03-05', 'the demo model turns the date into ISO form');

    const cross = options.filter({ hasText: 'Cross-attention' });
    await cross.click();
    await waitUntil('cross-attention to be the shown group', async () => ((await cross.getAttribute('aria-pressed')) === 'true' ? true : undefined));
    const canvas = webview.locator(PANEL.heatmap).first();
    const pixels = await waitUntil('a painted cross-attention heatmap', async () => {
      const read = await readCanvas(canvas);
      return read.painted > 0 ? read : undefined;
    });
    // 11 target rows (start token + "2021-03-05") over 8 source columns ("March 5, 2021" + </s>): taller than wide.
    assert.ok(pixels.height > pixels.width, `cross-attention map is ${pixels.width} × ${pixels.height}`);
    await page.mouse.move(1, 1);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-5-cross-attention.png') });
    assert.deepEqual(consoleProblems, [], 'no CSP violations or extension errors in the browser console');
  });

  it('back on the default model, pinning a token of 我爱你 shows its steps with weights that sum to 1', async function () {
    await chooseBundledModel(page, 'default');

    await openFromExplorer(page, SAMPLE_FILE);
    // The file may be open in both editor groups by now: work in the active one.
    const editor = activeEditor(page, SAMPLE_FILE);
    await editor.locator('.view-lines', { hasText: CHINESE }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await editor.locator('.view-line', { hasText: CHINESE }).first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+End');
    const selection = page.locator('#status\\.editor\\.selection');
    await waitUntil(`${CHINESE.length} characters selected on line 1`, async () => ((await selection.textContent()) ?? '').includes(`(${CHINESE.length} selected)`) || undefined);

    await runCommand(page, COMMAND_TITLE);
    await waitUntil('the token strip to show 我爱你', async () => {
      // Byte-continuation tokens (the 2nd and 3rd byte of each character) show as an ellipsis.
      const texts = await webview.locator(PANEL.chipText).allTextContents();
      return texts.filter((text) => !/^[⋯…]$/.test(text)).join('') === CHINESE ? texts : undefined;
    }, PANEL_TIMEOUT_MS);

    // Pick one head (the steps are per head; a new session may show the average), then pin the
    // last token (你: its last byte token) and wait for its steps.
    const head = webview.locator(PANEL.headOption).nth(1);
    await head.click();
    await waitUntil('a single head to be selected', async () => ((await head.getAttribute('aria-selected')) === 'true' ? true : undefined));
    await webview.locator(PANEL.chip).last().click();
    const steps = webview.locator('.steps-section');
    const weights = await waitUntil('the steps view to show the weights row', async () => {
      const values = await steps.locator('[data-row="weights"] td[data-key][data-value]').evaluateAll((cells) => cells.map((cell) => Number((cell as HTMLElement).dataset.value)));
      return values.length > 0 ? values : undefined;
    }, PANEL_TIMEOUT_MS);
    const shownSum = Number(await steps.locator('[data-role="weight-sum"]').getAttribute('data-value'));
    assert.ok(Math.abs(shownSum - 1) < 1e-5, `the weights sum to 1 (shown ${shownSum})`);
    for (const weight of weights) assert.ok(weight >= 0 && weight <= 1, `weights are probabilities: ${weights.join(', ')}`);
    assert.match((await steps.locator('[data-role="steps-backend"]').textContent()) ?? '', /built-in/i, 'the steps come from the built-in block');
    assert.ok((await steps.locator('[data-row="q"]').count()) > 0, 'the query vector is shown');
    await clearNotifications(page);
    await page.mouse.move(1, 1);
    await steps.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(resultsDir, 'e2e-6-steps.png') });
  });

  it('positions off and 我 ⇄ 爱: the last token\'s attention is exactly a permutation; with positions on it is not', async function () {
    const compare = webview.locator('[aria-labelledby="compare-title"]');
    await compare.locator('[data-control="positions"]').click();
    await waitUntil('a positions-off comparison', async () => ((await compare.locator('[data-role="compare-result"]').isVisible()) ? true : undefined), PANEL_TIMEOUT_MS);
    // 我 and 爱: the default model's tokenizer makes each a whole token (0 and 1).
    await compare.locator('[data-control="swap-first"]').selectOption('0');
    await compare.locator('[data-control="swap-second"]').selectOption('1');
    await compare.locator('[data-control="swap"]').click();
    const permutation = compare.locator('[data-role="permutation"]');
    const deviation = await waitUntil('the permutation statement', async () => {
      const value = await permutation.getAttribute('data-deviation');
      return value === null ? undefined : Number(value);
    }, PANEL_TIMEOUT_MS);
    assert.ok(deviation < 1e-6, `positions off: largest deviation ${deviation}`);
    assert.match((await permutation.textContent()) ?? '', /permutation/);
    await clearNotifications(page);
    await page.mouse.move(1, 1);
    await compare.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(resultsDir, 'e2e-7-positions-off.png') });

    await compare.locator('[data-control="positions"]').click();
    const withPositions = await waitUntil('the permutation check with positions on', async () => {
      const value = Number(await permutation.getAttribute('data-deviation'));
      return value > 1e-4 ? value : undefined;
    }, PANEL_TIMEOUT_MS);
    assert.ok(withPositions > 1e-4);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-8-positions-on.png') });
    assert.deepEqual(consoleProblems, [], 'no CSP violations or extension errors in the browser console');
  });

  it('the model view shows every head with a role badge; Export PNG saves the labelled grid; a pinned run is compared with the next', async function () {
    const model = webview.locator('.model-section');
    const cells = await waitUntil('the model view cells', async () => {
      const count = await model.locator('.model-cell').count();
      return count > 0 ? count : undefined;
    }, PANEL_TIMEOUT_MS);
    const badges = await waitUntil('a role badge on every head', async () => {
      const texts = await model.locator('.model-cell .model-role').allTextContents();
      return texts.length === cells && texts.every((text) => /^\S+ \d\.\d\d$/.test(text)) ? texts : undefined;
    }, PANEL_TIMEOUT_MS);
    assert.equal(badges.length, cells);
    await clearNotifications(page);
    await model.scrollIntoViewIfNeeded();
    await page.mouse.move(1, 1);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-10-model-view.png') });

    // Export PNG: the save dialog (VS Code for the Web's simple dialog) proposes heads-G0.png in the workspace.
    const saved = path.join(workspace, 'heads-G0.png');
    await model.locator('.export-button[data-format="png"]').click();
    const dialog = page.locator('.quick-input-widget');
    await dialog.waitFor({ timeout: STEP_TIMEOUT_MS });
    await waitUntil('the save dialog to propose heads-G0.png', async () => ((await dialog.locator('input').inputValue()).endsWith('heads-G0.png') ? true : undefined));
    await page.keyboard.press('Enter');
    const png = await waitUntil('the exported PNG on disk', async () => {
      if (!fs.existsSync(saved)) return undefined;
      try {
        return decodePng(fs.readFileSync(saved));
      } catch {
        return undefined; // still being written
      }
    }, PANEL_TIMEOUT_MS);
    assert.ok(png.width > 200 && png.height > 200, `a grid image (${png.width} × ${png.height})`);
    let dark = 0;
    for (let i = 0; i < png.rgba.length; i += 4) if (png.rgba[i] < 100 && png.rgba[i + 1] < 100 && png.rgba[i + 2] < 100) dark++;
    assert.ok(dark > 500, `labels and badges are drawn (${dark} dark pixels)`);

    // Pin this run (我爱你), run again on 你爱我: the pinned-run view aligns the two by position.
    const runs = webview.locator('[aria-labelledby="run-compare-title"]');
    await runs.scrollIntoViewIfNeeded();
    await runs.locator('[data-control="pin-run"]').click();
    await runs.locator('[data-role="pinned-run"]').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await openFromExplorer(page, SAMPLE_FILE);
    const editor = activeEditor(page, SAMPLE_FILE);
    await editor.locator('.view-line', { hasText: '你爱我' }).first().click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await runCommand(page, COMMAND_TITLE);
    const rule = runs.locator('[data-role="alignment-rule"]');
    const status = runs.locator('[data-role="run-compare-status"]');
    await waitUntil('the pinned-run comparison', async () => {
      if (await rule.isVisible()) return true;
      const said = (await status.textContent()) ?? '';
      if ((await status.getAttribute('data-kind')) === 'error') throw new Error(`the pinned-run view says: ${said}`);
      return undefined;
    }, PANEL_TIMEOUT_MS).catch(async (error: Error) => {
      throw new Error(`${error.message} (status: ${(await status.textContent()) ?? ''}; pinned line: ${(await runs.locator('[data-role="pinned-run"]').textContent()) ?? ''})`);
    });
    assert.equal(await rule.getAttribute('data-rule'), 'position', '我爱你 and 你爱我 differ token by token, so they align by position');
    const difference = Number(await runs.locator('[data-role="run-max-difference"]').getAttribute('data-value'));
    assert.ok(difference > 0, `the two runs differ (${difference})`);
    await clearNotifications(page);
    await runs.scrollIntoViewIfNeeded();
    await page.mouse.move(1, 1);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-11-pinned-run.png') });
    // Pin a token for the reload step.
    await webview.locator(PANEL.chip).last().click();
    await waitUntil('a pinned token', async () => ((await webview.locator(`${PANEL.chip}.pinned`).count()) > 0 ? true : undefined));
  });

  it('after Developer: Reload Window the panel comes back with the same tokens and the pinned token', async function () {
    const chips = webview.locator(PANEL.chip);
    const texts = await webview.locator(PANEL.chipText).allTextContents();
    const pinnedBefore = await chips.evaluateAll((found) => found.findIndex((chip) => chip.classList.contains('pinned')));
    assert.ok(pinnedBefore >= 0, 'a token is pinned before the reload');

    await runCommand(page, 'Developer: Reload Window');
    await page.waitForEvent('load', { timeout: WORKBENCH_TIMEOUT_MS });
    await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });

    webview = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await waitUntil('the restored panel to show the same tokens', async () => {
      const now = await webview.locator(PANEL.chipText).allTextContents();
      return now.length === texts.length && now.every((text, i) => text === texts[i]) ? true : undefined;
    }, PANEL_TIMEOUT_MS);
    await waitUntil('the same token to be pinned', async () => {
      const pinned = await webview.locator(PANEL.chip).evaluateAll((found) => found.findIndex((chip) => chip.classList.contains('pinned')));
      return pinned === pinnedBefore ? true : undefined;
    }, PANEL_TIMEOUT_MS);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-9-after-reload.png') });
  });
});
