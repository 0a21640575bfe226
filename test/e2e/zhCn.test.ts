// The panel in Chinese, end to end: VS Code for the Web (code-server) with `--locale zh-cn`, the
// packaged VSIX, 我爱你 selected in sample/seed-sentences.txt, Show Attention run from the command
// palette under its Chinese title, and the webview checked for Chinese labels and 我/爱/你 chips.
// Screenshot: test-results/e2e-zh-cn.png.
//
// VS Code only switches its display language when a language pack for it is installed; without one,
// `--locale zh-cn` leaves the workbench, vscode.env.language and so the extension's l10n bundle in
// English. No language pack can be downloaded here, so the test builds a stub one (a package.json
// contributing `localizations` for zh-cn and a translations file with two workbench strings), packs
// it with @vscode/vsce and installs it with code-server --install-extension.
//
// One more step is needed, and it is the one thing this test does by hand. code-server reads the
// installed language packs from <user-data-dir>/languagepacks.json, which only its server process
// writes, when the server itself installs a pack (the Extensions view); the --install-extension CLI
// does not (code-server 4.100.3 / VS Code 1.100: the CLI never instantiates the language pack
// service whose post-install hook writes the file). So the test writes the entry the server would
// write (platform/languagePacks/node/languagePacks.ts: label, extensions, translations, md5 hash).
// Everything after that is VS Code's own: the server builds the zh-cn messages from the pack, the
// workbench runs in zh-cn (the Explorer title comes from the stub's translations), the extension host
// reports vscode.env.language === 'zh-cn', and the extension reads l10n/bundle.l10n.zh-cn.json.

import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { installVsix, repoRoot, startCodeServer, type CodeServer } from '../support/codeServer';
import { PANEL_TIMEOUT_MS, STEP_TIMEOUT_MS, WORKBENCH_TIMEOUT_MS, findVsix, openFromExplorer, waitUntil } from './workbench';

const LOCALE = 'zh-cn';
const SAMPLE_FILE = 'seed-sentences.txt';
const CHINESE = '我爱你';

const STUB_PUBLISHER = 'attention-inspector-test';
const STUB_NAME = 'stub-zh-cn-language-pack';
const STUB_VERSION = '0.0.1';
/** Two workbench strings the stub pack translates, to show the workbench took the pack. */
const STUB_TRANSLATIONS = {
  'vs/workbench/contrib/files/browser/explorerViewlet': { explore: '资源管理器' },
  'vs/workbench/browser/parts/editor/editorGroupWatermark': { 'watermark.showCommands': '显示所有命令' },
};


interface ZhStrings {
  /** package.nls.zh-cn.json */
  commandTitle: string;
  /** l10n/bundle.l10n.zh-cn.json */
  layersAndHeads: string;
  steps: string;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The Chinese strings the test expects, read from the files the VSIX carries. */
function zhStrings(root: string): ZhStrings {
  const nls = readJson<Record<string, string>>(path.join(root, 'package.nls.zh-cn.json'));
  const bundle = readJson<Record<string, string>>(path.join(root, 'l10n', 'bundle.l10n.zh-cn.json'));
  const pick = (table: Record<string, string>, key: string, file: string): string => {
    const value = table[key];
    if (!value) throw new Error(`${file} has no translation for "${key}"`);
    return value;
  };
  return {
    commandTitle: `Attention Inspector: ${pick(nls, 'command.showAttention.title', 'package.nls.zh-cn.json')}`,
    layersAndHeads: pick(bundle, 'Layers & heads', 'l10n/bundle.l10n.zh-cn.json'),
    steps: pick(bundle, 'Steps: how this head computes its attention', 'l10n/bundle.l10n.zh-cn.json'),
  };
}


function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${output}`))));
  });
}

/** A language pack with almost nothing in it, packed as a VSIX with the project's @vscode/vsce. */
async function buildStubLanguagePack(root: string, scratch: string): Promise<string> {
  const folder = path.join(scratch, 'stub-language-pack');
  fs.mkdirSync(path.join(folder, 'translations'), { recursive: true });
  const manifest = {
    name: STUB_NAME,
    displayName: 'Stub Chinese (Simplified) language pack for the end-to-end test',
    publisher: STUB_PUBLISHER,
    version: STUB_VERSION,
    license: 'MIT',
    engines: { vscode: '^1.60.0' },
    categories: ['Language Packs'],
    contributes: {
      localizations: [
        {
          languageId: LOCALE,
          languageName: 'Chinese Simplified',
          localizedLanguageName: '中文(简体)',
          translations: [{ id: 'vscode', path: './translations/main.i18n.json' }],
        },
      ],
    },
  };
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(folder, 'translations', 'main.i18n.json'), JSON.stringify({ version: '1.0.0', contents: STUB_TRANSLATIONS }, null, 2));
  fs.writeFileSync(path.join(folder, 'README.md'), '# Stub zh-cn language pack (tests only)\n');
  const vsix = path.join(scratch, `${STUB_NAME}.vsix`);
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  await run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], folder);
  return vsix;
}

/**
 * Registers the installed pack in <userDataDir>/languagepacks.json as code-server's server process
 * does after installing one itself (LanguagePacksCache in VS Code's languagePacks.ts).
 */
function registerLanguagePack(extensionsDir: string, userDataDir: string): void {
  const id = `${STUB_PUBLISHER}.${STUB_NAME}`;
  const installed = readJson<{ identifier: { id: string }; version: string; location: { fsPath?: string; path: string } }[]>(
    path.join(extensionsDir, 'extensions.json'),
  ).find((entry) => entry.identifier.id.toLowerCase() === id);
  if (!installed) throw new Error(`the stub language pack ${id} is not in ${extensionsDir}/extensions.json`);
  const folder = installed.location.fsPath ?? installed.location.path;
  const translations = path.join(folder, 'translations', 'main.i18n.json');
  assert.ok(fs.existsSync(translations), `installed stub pack has ${translations}`);
  const entry = {
    hash: crypto.createHash('md5').update(installed.identifier.id).update(installed.version).digest('hex'),
    extensions: [{ extensionIdentifier: { id: installed.identifier.id }, version: installed.version }],
    translations: { vscode: translations },
    label: '中文(简体)',
  };
  fs.mkdirSync(userDataDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'languagepacks.json'), JSON.stringify({ [LOCALE]: entry }));
}


describe('UI end to end in Chinese: VS Code for the Web with --locale zh-cn', function () {
  this.timeout(WORKBENCH_TIMEOUT_MS + PANEL_TIMEOUT_MS + 60_000);

  const root = repoRoot();
  const resultsDir = path.join(root, 'test-results');
  const zh = zhStrings(root);
  let scratch: string;
  let workspace: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let webview: FrameLocator;
  const timings: string[] = [];
  let started = Date.now();
  const mark = (what: string): void => {
    timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    started = Date.now();
  };

  before(async function () {
    started = Date.now();
    const vsix = findVsix(root);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-e2e-zh-'));
    workspace = path.join(scratch, 'sample');
    const extensionsDir = path.join(scratch, 'extensions');
    const userDataDir = path.join(scratch, 'user-data');
    fs.cpSync(path.join(root, 'sample'), workspace, { recursive: true });
    fs.mkdirSync(resultsDir, { recursive: true });

    const pack = await buildStubLanguagePack(root, scratch);
    await installVsix(pack, extensionsDir);
    registerLanguagePack(extensionsDir, userDataDir);
    await installVsix(vsix, extensionsDir);
    mark('stub pack and VSIX installed');
    server = await startCodeServer({ workspace, extensionsDir, userDataDir, locale: LOCALE });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    await page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${SAMPLE_FILE}" i]`).first().waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    mark('workbench up');
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    const file = path.join(resultsDir, 'e2e-zh-cn-failure.png');
    await page.screenshot({ path: file }).catch(() => undefined);
    console.log(`    screenshot of the failure: ${path.relative(root, file)}`);
  });

  after(async function () {
    if (timings.length > 0) console.log(`      timings: ${timings.join('; ')}`);
    await browser?.close().catch(() => undefined);
    if (server && this.currentTest?.state === 'failed') console.log(server.logs().split('\n').slice(-40).join('\n'));
    await server?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('the workbench runs in zh-cn with the stub language pack', async function () {
    const language = await page.evaluate(() => (globalThis as { _VSCODE_NLS_LANGUAGE?: string })._VSCODE_NLS_LANGUAGE);
    assert.equal(language, LOCALE, 'the workbench loaded the zh-cn messages the server built from the language pack');
    // The Explorer's title is one of the stub pack's translations.
    await page.locator('.sidebar .composite.title', { hasText: STUB_TRANSLATIONS['vs/workbench/contrib/files/browser/explorerViewlet'].explore }).waitFor({ timeout: STEP_TIMEOUT_MS });
  });

  it('Show Attention, found in the palette by its Chinese title, shows 我爱你 in a panel labelled in Chinese', async function () {
    await openFromExplorer(page, SAMPLE_FILE);
    const editor = page.locator(`.editor-group-container.active .editor-instance .monaco-editor[data-uri$="${SAMPLE_FILE}"]`);
    await editor.locator('.view-line', { hasText: CHINESE }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await editor.locator('.view-line', { hasText: CHINESE }).first().click();
    // 我爱你 is the first line of the sample.
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+End');
    const selection = page.locator('#status\\.editor\\.selection');
    await waitUntil(`${CHINESE.length} characters selected`, async () => {
      const text = (await selection.textContent()) ?? '';
      // Only the count: the stub pack leaves this status bar text English, a full pack would not.
      return new RegExp(`\\D${CHINESE.length}\\D*\\)`).test(text) || undefined;
    });

    const quickInput = page.locator('.quick-input-widget');
    await page.keyboard.press('F1');
    await quickInput.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await page.keyboard.type(zh.commandTitle);
    await quickInput.locator(`.monaco-list-row[aria-label*="${zh.commandTitle}"]`).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.keyboard.press('Enter');
    mark('command run');

    webview = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    const texts = await waitUntil('the token strip to show 我爱你', async () => {
      // Byte-continuation tokens (the 2nd and 3rd byte of each character) show as an ellipsis.
      const shown = await webview.locator('.token-flow .token .token-text').allTextContents();
      return shown.filter((text) => !/^[⋯…]$/.test(text)).join('') === CHINESE ? shown : undefined;
    }, PANEL_TIMEOUT_MS);
    mark('panel with tokens');
    for (const glyph of CHINESE) assert.ok(texts.includes(glyph), `a chip shows ${glyph}: ${JSON.stringify(texts)}`);

    // The extension host reported zh-cn, so the page got <html lang="zh-cn"> and the Chinese strings.
    assert.equal(await webview.locator('html').getAttribute('lang'), LOCALE);
    await webview.locator('h2.panel-title', { hasText: zh.layersAndHeads }).waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await webview.locator('#steps-title').textContent(), zh.steps);

    await page.mouse.move(1, 1);
    await page.screenshot({ path: path.join(resultsDir, 'e2e-zh-cn.png') });
    mark('checked and screenshot');
  });
});
