// Starts and stops VS Code for the Web (code-server) for the integration and end-to-end tests.
// code-server is installed by scripts/setup-code-server.js into .vscode-test/code-server; it is
// the only VS Code these machines can run offline, and its extension host is the real Node one.

import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface CodeServer {
  /** Base URL, e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  /** Everything the server printed so far (stdout and stderr interleaved). */
  logs(): string;
  /** Resolves with the first match of pattern in the logs, waiting for new output up to timeoutMs. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Stops the server and its extension hosts; removes the temporary folders it created. */
  stop(): Promise<void>;
}

export interface StartCodeServerOptions {
  /** Folder opened as the workspace. */
  workspace: string;
  /** Defaults to a fresh temporary folder, removed by stop(). */
  userDataDir?: string;
  /** Defaults to a fresh temporary folder, removed by stop(). */
  extensionsDir?: string;
  /** Extra environment for the server and, through it, the extension host. */
  env?: NodeJS.ProcessEnv;
  /** VS Code's display language (code-server --locale), e.g. 'zh-cn'; default: code-server's own (English). */
  locale?: string;
}

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

/** User settings that keep a test window quiet and deterministic (no tours, no update checks). */
const QUIET_USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
};

/** The repository root: the nearest folder above this file whose package.json is the extension's. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'attention-inspector') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Path of the code-server launcher installed by scripts/setup-code-server.js (CODE_SERVER_BIN overrides it). */
export function codeServerBin(): string {
  return process.env.CODE_SERVER_BIN || path.join(repoRoot(), '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
}

function assertInstalled(bin: string): void {
  if (!fs.existsSync(bin)) {
    throw new Error(`code-server is not installed at ${bin}; run: node scripts/setup-code-server.js`);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True once anything answers HTTP on the URL (code-server's /healthz answers without auth). */
function httpAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

function writeQuietSettings(userDataDir: string): void {
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (fs.existsSync(settingsFile)) return; // a caller-provided profile keeps its own settings
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify(QUIET_USER_SETTINGS, null, 2) + '\n');
}

/**
 * Signals the server's whole process group (it forks a watcher and the extension hosts). The group
 * outlives its leader while any member runs, so this is also meaningful after the launcher exited.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nobody left in the group
  }
}

export async function startCodeServer(options: StartCodeServerOptions): Promise<CodeServer> {
  const bin = codeServerBin();
  assertInstalled(bin);
  if (!fs.existsSync(options.workspace)) throw new Error(`workspace folder does not exist: ${options.workspace}`);

  const ownedDirs: string[] = [];
  const makeTemp = (prefix: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    ownedDirs.push(dir);
    return dir;
  };
  const userDataDir = options.userDataDir ?? makeTemp('ai-code-server-user-');
  const extensionsDir = options.extensionsDir ?? makeTemp('ai-code-server-ext-');
  fs.mkdirSync(userDataDir, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeQuietSettings(userDataDir);
  // An empty config file, so ~/.config/code-server/config.yaml (password, bind address) never applies.
  const configDir = makeTemp('ai-code-server-config-');
  const configFile = path.join(configDir, 'config.yaml');
  fs.writeFileSync(configFile, '');

  const port = await freePort();
  const args = [
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    ...(options.locale ? ['--locale', options.locale] : []),
    path.resolve(options.workspace),
  ];
  // $PORT would override --bind-addr, and $PASSWORD/$HASHED_PASSWORD would not matter with --auth none
  // but have no business in a test server either; callers can still pass them through options.env.
  const inherited = { ...process.env };
  delete inherited.PORT;
  delete inherited.PASSWORD;
  delete inherited.HASHED_PASSWORD;
  const child = spawn(bin, args, {
    env: { ...inherited, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() can end the extension hosts it forks too.
    detached: true,
  });

  // If the test process ends without stop() (a crash, process.exit), take the server down with it.
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  let output = '';
  let exited: string | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    notify();
  });
  child.on('exit', (code, signal) => {
    exited = `code-server exited (code ${code}, signal ${signal})`;
    notify();
  });
  child.on('error', (error) => {
    exited = `code-server could not start: ${error.message}`;
    notify();
  });

  const waitForLog = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = output.match(pattern);
        if (match) {
          finish();
          resolve(match);
          return true;
        }
        if (exited) {
          finish();
          reject(new Error(`${exited} before its log matched ${pattern}. Last output:\n${tail(output)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`code-server's log did not match ${pattern} within ${timeoutMs} ms. Last output:\n${tail(output)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) listeners.add(listener);
    });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) {
        const gone = new Promise<void>((resolve) => {
          if (exited) return resolve();
          listeners.add(() => exited && resolve());
        });
        killGroup(child, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          gone.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        if (timedOut) killGroup(child, 'SIGKILL');
      }
      // Extension hosts may outlive the launcher for a moment; make sure none of the group is left.
      killGroup(child, 'SIGKILL');
      process.removeListener('exit', killOnExit);
      for (const dir of ownedDirs) fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (exited) throw new Error(`${exited} while starting. Output:\n${tail(output)}`);
      if (await httpAnswers(`${url}healthz`)) break;
      if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url} within ${START_TIMEOUT_MS} ms. Output:\n${tail(output)}`);
      await delay(250);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return { url, port, logs: () => output, waitForLog, stop };
}

/** Installs a VSIX into extensionsDir with code-server's own CLI (what a user of VS Code for the Web does). */
export async function installVsix(vsixPath: string, extensionsDir: string): Promise<void> {
  const bin = codeServerBin();
  assertInstalled(bin);
  if (!fs.existsSync(vsixPath)) throw new Error(`VSIX not found: ${vsixPath}`);
  fs.mkdirSync(extensionsDir, { recursive: true });
  // A throwaway profile: the install must not touch ~/.local/share/code-server.
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-code-server-install-'));
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(
        bin,
        ['--install-extension', path.resolve(vsixPath), '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--force'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.on('error', reject);
      child.on('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    if (code !== 0 || !/successfully installed/i.test(output)) {
      throw new Error(`code-server --install-extension ${vsixPath} failed (exit ${code}):\n${tail(output)}`);
    }
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}
