#!/usr/bin/env node
// Installs VS Code for the Web (code-server) into .vscode-test/code-server, once.
//
// The integration and end-to-end tests run the extension inside code-server's real Node
// extension host, because desktop VS Code cannot be downloaded on the machines we test on.
// code-server lives in a git-ignored folder with its own package.json so it never becomes a
// dependency of the extension (and never lands in the VSIX).
//
// Offline-safe: only the npm registry is used. @vscode/ripgrep's postinstall would download
// rg from GitHub; we pre-seed its download cache with a tarball of the system rg instead
// (Debian package `ripgrep`). Native modules (kerberos, node-pty, spdlog...) build with
// node-gyp against the local Node headers; kerberos needs Debian `libkrb5-dev`.
//
// Idempotent: a marker file records the installed version; a second run only verifies it.
// Usage: node scripts/setup-code-server.js [--force]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const CODE_SERVER_VERSION = '4.100.3';
// Pinned by code-server 4.100.3's dependency tree: @vscode/ripgrep 1.15.11 downloads this rg release.
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';

const repoRoot = path.resolve(__dirname, '..');
const installDir = path.join(repoRoot, '.vscode-test', 'code-server');
const markerFile = path.join(installDir, '.installed');
const binPath = path.join(installDir, 'node_modules', '.bin', 'code-server');

function log(message) {
  console.log(`[setup-code-server] ${message}`);
}

function fail(message) {
  console.error(`[setup-code-server] ERROR: ${message}`);
  process.exit(1);
}

/** Runs a command with inherited stdio; exits with a clear message when it fails. */
function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}${options.cwd ? `   (in ${path.relative(repoRoot, options.cwd) || '.'})` : ''}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** The version `code-server --version` prints, or undefined when it cannot run. */
function installedVersion() {
  if (!fs.existsSync(binPath)) return undefined;
  const result = spawnSync(binPath, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) return undefined;
  // "4.100.3 <commit> with Code 1.100.3", possibly after log lines (the first run writes a config file).
  const match = /^(\d+\.\d+\.\d+) \S+ with Code/m.exec(result.stdout);
  return match ? match[1] : undefined;
}

/** The part of the rg asset name that @vscode/ripgrep derives from the platform. */
function ripgrepTarget() {
  if (process.platform !== 'linux') return undefined;
  const byArch = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-gnu' };
  return byArch[process.arch];
}

function which(name) {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * @vscode/ripgrep's postinstall looks for its release asset in this cache before going to
 * GitHub; a tarball holding the system rg at its root satisfies it without any download.
 */
function seedRipgrepCache() {
  const target = ripgrepTarget();
  if (!target) {
    log(`no ripgrep cache seeding for ${process.platform}-${process.arch}; @vscode/ripgrep will try to download rg`);
    return;
  }
  const cacheDir = path.join(os.tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const assetPath = path.join(cacheDir, `ripgrep-${RIPGREP_RELEASE}-${target}.tar.gz`);
  if (fs.existsSync(assetPath) && fs.statSync(assetPath).size > 0) {
    log(`ripgrep cache already seeded: ${assetPath}`);
    return;
  }
  const systemRg = which('rg');
  if (!systemRg) fail('rg not found; install it first: apt-get install -y ripgrep');
  fs.mkdirSync(cacheDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-seed-'));
  try {
    fs.copyFileSync(fs.realpathSync(systemRg), path.join(staging, 'rg'));
    fs.chmodSync(path.join(staging, 'rg'), 0o755);
    // Write to a temporary name first so an interrupted run never leaves a truncated asset.
    const partial = `${assetPath}.partial`;
    run('tar', ['-czf', partial, '-C', staging, 'rg']);
    fs.renameSync(partial, assetPath);
    log(`seeded ripgrep cache with ${systemRg}: ${assetPath}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function checkPrerequisites() {
  const missing = [];
  if (!which('rg')) missing.push('ripgrep');
  // kerberos (a code-server dependency) compiles against the MIT Kerberos headers.
  if (!fs.existsSync('/usr/include/krb5.h') && !fs.existsSync('/usr/include/krb5/krb5.h') && !which('krb5-config')) {
    missing.push('libkrb5-dev');
  }
  for (const tool of ['make', 'g++', 'python3', 'tar']) if (!which(tool)) missing.push(tool === 'g++' ? 'g++' : tool);
  if (missing.length > 0) {
    fail(`missing system packages: ${missing.join(' ')}\n  install them with: apt-get install -y ${missing.join(' ')}`);
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) log(`warning: code-server ${CODE_SERVER_VERSION} expects Node 20; this is Node ${process.versions.node}`);
}

function install() {
  fs.mkdirSync(installDir, { recursive: true });
  // Its own project, so npm never walks up to the extension's package.json.
  fs.writeFileSync(
    path.join(installDir, 'package.json'),
    JSON.stringify(
      {
        name: 'attention-inspector-code-server',
        private: true,
        description: 'VS Code for the Web for the integration and end-to-end tests; written by scripts/setup-code-server.js',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
      },
      null,
      2,
    ) + '\n',
  );
  const env = {
    ...process.env,
    npm_config_yes: 'true',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    npm_config_unsafe_perm: 'true',
    // npm 11 skips dependency install scripts unless approved. code-server's postinstall runs
    // nested `npm install`s in lib/vscode whose package.json files we cannot annotate with
    // allowScripts, and those need their native modules built too. The environment variable
    // reaches the nested npm processes; older npm versions ignore it.
    npm_config_dangerously_allow_all_scripts: 'true',
    // Show the postinstall output: it is the slow part and the one that fails when offline.
    npm_config_foreground_scripts: 'true',
  };
  // --unsafe-perm means nothing to npm >= 7 (npm 11 warns it is unknown), but code-server's
  // postinstall.sh refuses to run as root unless $npm_config_unsafe_perm is "true"; the flag
  // and the environment variable both make sure it is.
  run('npm', ['install', `code-server@${CODE_SERVER_VERSION}`, '--unsafe-perm', '--no-audit', '--no-fund'], {
    cwd: installDir,
    env,
  });
}

function verify() {
  const vscodeModules = path.join(installDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
  if (!fs.existsSync(vscodeModules)) {
    fail(`code-server's postinstall did not run (${path.relative(repoRoot, vscodeModules)} is missing)`);
  }
  const version = installedVersion();
  if (version !== CODE_SERVER_VERSION) {
    fail(`${path.relative(repoRoot, binPath)} --version reports ${version ?? 'nothing'}, expected ${CODE_SERVER_VERSION}`);
  }
  return version;
}

function main() {
  const force = process.argv.includes('--force');
  if (!force && fs.existsSync(markerFile) && fs.readFileSync(markerFile, 'utf8').trim() === CODE_SERVER_VERSION) {
    const version = installedVersion();
    if (version === CODE_SERVER_VERSION) {
      log(`code-server ${version} already installed at ${path.relative(repoRoot, binPath)}`);
      return;
    }
    log('marker present but code-server does not run; reinstalling');
  }
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} into ${path.relative(repoRoot, installDir)} (about 300 MB, a minute or more)`);
  checkPrerequisites();
  seedRipgrepCache();
  fs.rmSync(markerFile, { force: true });
  install();
  const version = verify();
  fs.writeFileSync(markerFile, `${version}\n`);
  log(`code-server ${version} ready at ${path.relative(repoRoot, binPath)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main();
