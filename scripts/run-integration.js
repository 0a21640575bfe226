#!/usr/bin/env node
// Runs the extension-host integration suite (test/suite, compiled to dist/test/suite) inside a
// real VS Code extension host and exits non-zero when any test fails.
//
// VS Code for the Web (default): starts code-server (scripts/setup-code-server.js installs it) on
// a copy of sample/, then opens headless Chromium at the workbench URL with a `payload` that
// names the extension under development and the extensionTestsPath, exactly like
// `code --extensionDevelopmentPath=... --extensionTestsPath=...` does on the desktop. The server
// runs the tests in its Node extension host; when run() settles the host exits and the server
// logs "Extension Host Process exited with code: N". The page must stay open until then: closing
// the window would end the extension host early. The suite writes a results file we print, and
// that file decides: code-server 4.100.3 logs exit code 0 even when run() rejects.
//
// Desktop VS Code (only when a desktop `code` is on PATH, or with --desktop, which lets
// @vscode/test-electron download one where that is possible): @vscode/test-electron's
// runTests() launches it with the same two paths and reports the exit code.
//
// It builds nothing: run `node esbuild.js` first.
// Usage: node scripts/run-integration.js [--grep PATTERN] [--timeout SECONDS] [--desktop | --web]
//        [--extension-path DIR] [--tests-path FILE] [--workspace DIR]
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const repoRoot = path.resolve(__dirname, '..');
const resultsDir = path.join(repoRoot, 'test-results');
const workDir = path.join(repoRoot, '.vscode-test', 'integration');

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const extensionPath = path.resolve(option('--extension-path', repoRoot));
const testsPath = path.resolve(option('--tests-path', path.join(extensionPath, 'dist', 'test', 'suite', 'index.js')));
const workspaceSource = path.resolve(option('--workspace', path.join(repoRoot, 'sample')));
const timeoutMs = Number(option('--timeout', '300')) * 1000;
const grep = option('--grep', undefined);
const resultsFile = path.join(resultsDir, 'integration-results.json');
const progressFile = path.join(resultsDir, 'integration-results.progress.log');
const serverLogFile = path.join(resultsDir, 'integration-code-server.log');
const consoleLogFile = path.join(resultsDir, 'integration-browser-console.log');

function log(message) {
  console.log(`[integration] ${message}`);
}

function which(name) {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** A `code` on PATH that is desktop VS Code (code-server and VS Code's remote CLI do not count). */
function desktopCode() {
  const code = which('code');
  if (!code) return undefined;
  const version = spawnSync(code, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.status !== 0 || /code-server/i.test(version.stdout)) return undefined;
  return code;
}

/**
 * Compiles test/support (TypeScript) for this plain-Node script. esbuild only, in memory; this is
 * not the project build, just the harness loading its own helpers.
 */
function loadSupport() {
  const esbuild = require('esbuild');
  const outfile = path.join(workDir, 'support.js');
  esbuild.buildSync({
    stdin: {
      contents: "export * from './test/support/codeServer'; export * from './test/support/chromium';",
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['playwright-core'],
    outfile,
    logLevel: 'error',
  });
  return require(outfile);
}

function freshDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Prints the results file the suite wrote; returns whether it shows a clean run. */
function reportResults() {
  if (!fs.existsSync(resultsFile)) {
    log(`no results file at ${path.relative(repoRoot, resultsFile)}: the suite never ran to the end`);
    return false;
  }
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  console.log('');
  for (const test of results.tests) {
    console.log(`  ${test.state === 'passed' ? 'ok  ' : 'FAIL'} ${test.fullTitle} (${test.durationMs} ms)`);
  }
  const failed = results.tests.filter((test) => test.state === 'failed');
  if (failed.length > 0) {
    console.log('\nFailures:');
    failed.forEach((test, index) => {
      console.log(`\n  ${index + 1}) ${test.fullTitle}`);
      const detail = test.error?.stack || test.error?.message || '(no message)';
      console.log(detail.split('\n').map((line) => `     ${line}`).join('\n'));
    });
  }
  if (results.fatal) console.log(`\nThe suite could not run:\n${results.fatal}`);
  console.log(`\n${results.passes} passing, ${results.failures} failing (${(results.durationMs / 1000).toFixed(1)} s)`);
  console.log(`results: ${path.relative(repoRoot, resultsFile)}`);
  return results.failures === 0 && !results.fatal && results.passes > 0;
}

/** A fresh copy of the workspace: tests change settings and edit documents; sample/ stays untouched. */
function prepareWorkspace() {
  const workspace = freshDir(path.join(workDir, 'workspace'));
  fs.cpSync(workspaceSource, workspace, { recursive: true });
  return workspace;
}

async function runDesktop(codePath) {
  const { runTests } = require('@vscode/test-electron');
  const workspace = prepareWorkspace();
  const userDataDir = freshDir(path.join(workDir, 'desktop-user-data'));
  const extensionsDir = freshDir(path.join(workDir, 'desktop-extensions'));
  log(codePath ? `desktop VS Code: ${codePath}` : 'desktop VS Code: downloaded by @vscode/test-electron');
  const exitCode = await runTests({
    ...(codePath ? { vscodeExecutablePath: codePath } : {}),
    extensionDevelopmentPath: extensionPath,
    extensionTestsPath: testsPath,
    launchArgs: [workspace, '--disable-extensions', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-workspace-trust'],
    extensionTestsEnv: { ATTENTION_INSPECTOR_TEST_RESULTS: resultsFile, ...(grep ? { ATTENTION_INSPECTOR_TEST_GREP: grep } : {}) },
  }).catch((error) => {
    log(`VS Code failed: ${error.message ?? error}`);
    return 1;
  });
  return exitCode;
}

/** Workbench console errors that are expected offline and say nothing about the extension. */
const NOISE = /open-vsx\.org|Failed to load resource|vsda/;

/** Prints the suite's progress file as it grows; remembers the test that started last. */
function followProgress() {
  let printed = 0;
  let lastStarted;
  const poll = () => {
    if (!fs.existsSync(progressFile)) return;
    const lines = fs.readFileSync(progressFile, 'utf8').split('\n');
    lines.pop(); // the line after the last newline is incomplete
    for (; printed < lines.length; printed++) {
      const line = lines[printed];
      if (line.startsWith('start ')) lastStarted = line.slice(6);
      else console.log(`  ${line}`);
    }
  };
  const timer = setInterval(poll, 500);
  return {
    lastStarted: () => (poll(), lastStarted),
    stop: () => {
      clearInterval(timer);
      poll();
    },
  };
}

async function runWeb() {
  const support = loadSupport();
  const workspace = prepareWorkspace();
  const userDataDir = freshDir(path.join(workDir, 'user-data'));
  const extensionsDir = freshDir(path.join(workDir, 'extensions'));

  const started = Date.now();
  const server = await support.startCodeServer({
    workspace,
    userDataDir,
    extensionsDir,
    env: { ATTENTION_INSPECTOR_TEST_RESULTS: resultsFile, ...(grep ? { ATTENTION_INSPECTOR_TEST_GREP: grep } : {}) },
  });
  log(`code-server at ${server.url} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const remote = (absolutePath) => `vscode-remote://127.0.0.1:${server.port}${absolutePath}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionPath)],
    ['extensionTestsPath', remote(testsPath)],
  ];
  const url = `${server.url}?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

  let browser;
  let page;
  const consoleLines = [];
  try {
    browser = await support.launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    // In VS Code for the Web the extension host's console.log reaches neither the server log nor
    // the page; errors do. Everything goes to a file, and the first line of each error is shown.
    page.on('console', (message) => {
      const text = message.text().replace(/%c/g, '').replace(/ color: #[0-9a-f]{3,6}/gi, '');
      consoleLines.push(`[${message.type()}] ${text}`);
      if (message.type() === 'error' && !NOISE.test(text)) console.log(`  [browser ${message.type()}] ${text.split('\n')[0].trim()}`);
    });
    page.on('pageerror', (error) => console.log(`  [browser pageerror] ${error.message}`));
    page.on('crash', () => console.log('  [browser] the workbench page crashed; the extension host will not report back'));
    log(`opening the workbench: ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });

    // The window stays open (and the page alive) until the extension host has exited by itself.
    const exited = /Extension Host Process exited with code: (-?\d+|null), signal: (\S+?)\./;
    const progress = followProgress();
    let match;
    try {
      match = await server.waitForLog(exited, timeoutMs);
    } catch (error) {
      const running = progress.lastStarted();
      fs.mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, 'integration-timeout.png') }).catch(() => undefined);
      throw new Error(
        `the extension host did not finish the suite within ${timeoutMs / 1000} s ` +
          `(no "Extension Host Process exited" in code-server's log; screenshot: test-results/integration-timeout.png).\n` +
          (running ? `The test running at that moment: ${running}\n` : 'No test had started: the extension or the suite did not load.\n') +
          error.message,
      );
    } finally {
      progress.stop();
    }
    const code = match[1] === 'null' ? 1 : Number(match[1]);
    log(`extension host exited with code ${match[1]} (signal ${match[2]}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(serverLogFile, server.logs());
    fs.writeFileSync(consoleLogFile, consoleLines.join('\n') + '\n');
    const closing = Date.now();
    if (browser) await browser.close().catch(() => undefined);
    await server.stop();
    log(`closed the browser and stopped code-server in ${((Date.now() - closing) / 1000).toFixed(1)} s`);
  }
}

async function main() {
  for (const [what, file] of [['extension bundle', path.join(extensionPath, 'dist', 'extension.js')], ['suite entry', testsPath]]) {
    if (!fs.existsSync(file)) {
      console.error(`[integration] ${what} missing: ${path.relative(repoRoot, file) || file}; build first: node esbuild.js`);
      process.exit(1);
    }
  }
  fs.rmSync(resultsFile, { force: true });
  fs.rmSync(progressFile, { force: true });
  fs.mkdirSync(workDir, { recursive: true });

  const useDesktop = process.argv.includes('--desktop') || (!process.argv.includes('--web') && desktopCode() !== undefined);
  let exitCode;
  if (useDesktop) {
    exitCode = await runDesktop(desktopCode());
  } else {
    const bin = path.join(repoRoot, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
    if (!process.env.CODE_SERVER_BIN && !fs.existsSync(bin)) {
      const setup = spawnSync(process.execPath, [path.join(__dirname, 'setup-code-server.js')], { stdio: 'inherit' });
      if (setup.status !== 0) process.exit(1);
    }
    exitCode = await runWeb();
    log(`code-server log: ${path.relative(repoRoot, serverLogFile)}`);
  }
  const clean = reportResults();
  if (exitCode !== 0 || !clean) {
    log(`FAILED (extension host exit code ${exitCode})`);
    process.exit(1);
  }
  log('passed');
}

main().catch((error) => {
  console.error(`[integration] ERROR: ${(process.env.DEBUG ? error.stack : error.message) ?? error}`);
  process.exit(1);
});

