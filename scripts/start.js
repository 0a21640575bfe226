#!/usr/bin/env node
// `npm start`: builds the extension and opens VS Code on sample/ with the extension loaded from
// this working tree.
//   - Desktop VS Code when `code` is on PATH: code --extensionDevelopmentPath=<repo> <repo>/sample
//   - Otherwise VS Code for the Web (the code-server the tests use) on 127.0.0.1, port $PORT or
//     8080 (or a free one when that is taken), no password; it runs until Ctrl+C.
// code-server has no --extensionDevelopmentPath, so the repository is linked into a dedicated
// extensions folder (.vscode-test/start-extensions) as if it were an installed extension; after
// `npm run watch` rebuilds, "Developer: Reload Window" in the browser picks up the change.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const root = path.resolve(__dirname, '..');
const sample = path.join(root, 'sample');
const stateDir = path.join(root, '.vscode-test');
const codeServerBin = path.join(stateDir, 'code-server', 'node_modules', '.bin', 'code-server');

function log(message) {
  console.log(`[start] ${message}`);
}

function runOrExit(command, args) {
  const result = childProcess.spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`[start] ${command} could not start: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function onPath(name) {
  return childProcess.spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Resolves with true when 127.0.0.1:port can be bound right now. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function anyFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function choosePort() {
  const wanted = Number(process.env.PORT || 8080);
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 65535) {
    console.error(`[start] PORT must be a port number, not "${process.env.PORT}"`);
    process.exit(1);
  }
  if (await portIsFree(wanted)) return wanted;
  const port = await anyFreePort();
  log(`port ${wanted} is taken; using ${port}`);
  return port;
}

/**
 * An extensions folder whose only extension is a link to this repository, named the way
 * VS Code names installed extensions (publisher.name-version).
 */
function linkExtension() {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const extensionsDir = path.join(stateDir, 'start-extensions');
  const linkName = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
  fs.mkdirSync(extensionsDir, { recursive: true });
  for (const entry of fs.readdirSync(extensionsDir)) {
    // Older links (another version) and the registry file VS Code writes would shadow this one.
    if (entry !== linkName) fs.rmSync(path.join(extensionsDir, entry), { recursive: true, force: true });
  }
  const link = path.join(extensionsDir, linkName);
  let current;
  try {
    current = fs.readlinkSync(link);
  } catch {
    current = undefined;
  }
  if (current !== root) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(root, link, 'dir');
  }
  return extensionsDir;
}

/** Skips the welcome walkthrough on the first start; later the user's own choices stay. */
function writeFirstRunSettings(userDataDir) {
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (fs.existsSync(settingsFile)) return;
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    // sample/ sits inside this repository; do not offer to open the parent repository.
    'git.openRepositoryInParentFolders': 'never',
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
}

async function startCodeServer() {
  runOrExit(process.execPath, [path.join(__dirname, 'setup-code-server.js')]);
  const port = await choosePort();
  const extensionsDir = linkExtension();
  const userDataDir = path.join(stateDir, 'start-user-data');
  writeFirstRunSettings(userDataDir);
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--extensions-dir', extensionsDir,
    '--user-data-dir', userDataDir,
    sample,
  ];
  log(`starting code-server ${args.join(' ')}`);
  // Its own process group, so Ctrl+C here can stop it and everything it spawned.
  const server = childProcess.spawn(codeServerBin, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = `http://127.0.0.1:${port}/?folder=${encodeURI(sample)}`;
  let announced = false;
  const relay = (stream, sink) =>
    stream.on('data', (chunk) => {
      sink.write(chunk);
      if (!announced && /HTTP server listening/.test(chunk.toString())) {
        announced = true;
        console.log(`\n  Attention Inspector is running in VS Code for the Web:\n\n      ${url}\n`);
        console.log('  Open sample/seed-sentences.txt, select a sentence and press Ctrl+Alt+A');
        console.log('  (or run "Attention Inspector: Show Attention" from the command palette). Ctrl+C stops.\n');
      }
    });
  relay(server.stdout, process.stdout);
  relay(server.stderr, process.stderr);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log(`stopping code-server (${signal})`);
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    // code-server normally exits within a second; do not leave a stuck one behind.
    setTimeout(() => {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 5000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  server.on('exit', (code, signal) => {
    if (!stopping) console.error(`[start] code-server exited unexpectedly (${code ?? signal})`);
    process.exit(stopping ? 0 : 1);
  });
}

async function main() {
  runOrExit(process.execPath, [path.join(root, 'esbuild.js')]);
  if (onPath('code') && !process.argv.includes('--web')) {
    log(`code --extensionDevelopmentPath=${root} ${sample}`);
    runOrExit('code', [`--extensionDevelopmentPath=${root}`, sample]);
    return;
  }
  await startCodeServer();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
