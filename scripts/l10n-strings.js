#!/usr/bin/env node
// The extension's translatable messages, read from the source: every vscode.l10n.t('…') in src/
// and every t('…') of webview/l10n.ts in webview/ (the message must be a string literal), plus the
// panel's placeholder (PLACEHOLDER_TEXT in src/shared/webviewHtml.ts). l10n/bundle.l10n.json holds
// them as English -> English; l10n/bundle.l10n.<lang>.json their translations. The unit test
// test/unit/l10n.test.ts checks both against this list.
//
//   node scripts/l10n-strings.js           lists the messages and what is missing from the bundles
//   node scripts/l10n-strings.js --write   rewrites l10n/bundle.l10n.json from the source
'use strict';

const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const repoRoot = path.resolve(__dirname, '..');

function tsFiles(dir) {
  const found = [];
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(full);
    }
  };
  walk(path.join(repoRoot, dir));
  return found.sort();
}

/** Whether a call is a translation: l10n.t(…) anywhere, t(…) in a webview file that imports t from './l10n'. */
function isTranslationCall(node, importsT) {
  const callee = node.expression;
  if (ts.isPropertyAccessExpression(callee) && callee.name.text === 't' && ts.isPropertyAccessExpression(callee.expression) && callee.expression.name.text === 'l10n') return true;
  if (ts.isPropertyAccessExpression(callee) && callee.name.text === 't' && ts.isIdentifier(callee.expression) && callee.expression.text === 'l10n') return true;
  return importsT && ts.isIdentifier(callee) && callee.text === 't';
}

/**
 * { messages: Map<message, [{ file, line, args }]>, problems: string[] }: every translated message
 * with where it is used and how many arguments it gets; problems: calls whose message is not a literal.
 */
function collectMessages() {
  const messages = new Map();
  const problems = [];
  const add = (message, file, line, args) => {
    if (!messages.has(message)) messages.set(message, []);
    messages.get(message).push({ file, line, args });
  };
  for (const file of [...tsFiles('src'), ...tsFiles('webview')]) {
    const text = fs.readFileSync(file, 'utf8');
    const relative = path.relative(repoRoot, file).split(path.sep).join('/');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const importsT = relative.startsWith('webview/') && /import\s*\{[^}]*\bt\b[^}]*\}\s*from\s*'\.\/l10n'/.test(text);
    const visit = (node) => {
      if (ts.isCallExpression(node) && isTranslationCall(node, importsT)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        const first = node.arguments[0];
        if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) add(first.text, relative, line, node.arguments.length - 1);
        else problems.push(`${relative}:${line}: the message of a translation call must be a string literal`);
      }
      if (relative === 'src/shared/webviewHtml.ts' && ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === 'PLACEHOLDER_TEXT' && node.initializer && ts.isStringLiteral(node.initializer)) {
        add(node.initializer.text, relative, source.getLineAndCharacterOfPosition(node.getStart()).line + 1, 0);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { messages, problems };
}

/** The placeholders {0}, {1}, … a message uses, sorted and without repeats. */
function placeholders(message) {
  return [...new Set((message.match(/\{\d+\}/g) ?? []).map((p) => Number(p.slice(1, -1))))].sort((a, b) => a - b);
}

function readBundle(name) {
  const file = path.join(repoRoot, 'l10n', name);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

module.exports = { collectMessages, placeholders, readBundle, repoRoot };

if (require.main === module) {
  const { messages, problems } = collectMessages();
  for (const problem of problems) console.error(problem);
  if (process.argv.includes('--write')) {
    const sorted = [...messages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const bundle = Object.fromEntries(sorted.map((message) => [message, message]));
    fs.mkdirSync(path.join(repoRoot, 'l10n'), { recursive: true });
    fs.writeFileSync(path.join(repoRoot, 'l10n', 'bundle.l10n.json'), JSON.stringify(bundle, null, 2) + '\n');
    console.log(`l10n/bundle.l10n.json: ${sorted.length} messages`);
  } else {
    const zh = readBundle('bundle.l10n.zh-cn.json') ?? {};
    const missing = [...messages.keys()].filter((message) => typeof zh[message] !== 'string');
    console.log(`${messages.size} messages; ${missing.length} without a zh-cn translation`);
    for (const message of missing) console.log(JSON.stringify(message));
  }
  process.exitCode = problems.length > 0 ? 1 : 0;
}
