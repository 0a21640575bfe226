// Issue 9, Simplified Chinese: every message the extension (vscode.l10n.t) and the panel
// (webview/l10n.ts t) show is a literal listed in l10n/bundle.l10n.json and translated in
// l10n/bundle.l10n.zh-cn.json with the same placeholders; every %key% of package.json is in
// package.nls.json and package.nls.zh-cn.json; the walkthrough has its pages in both languages.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { PLACEHOLDER_TEXT, renderWebviewHtml } from '../../src/shared/webviewHtml';
import { format, t } from '../../webview/l10n';
import { repoRoot } from '../support/codeServer';

interface Usage {
  file: string;
  line: number;
  args: number;
}
interface L10nStrings {
  collectMessages(): { messages: Map<string, Usage[]>; problems: string[] };
  placeholders(message: string): number[];
}

const ROOT = repoRoot();
const strings = createRequire(__filename)(path.join(ROOT, 'scripts', 'l10n-strings.js')) as L10nStrings;
const readJson = (relative: string) => JSON.parse(fs.readFileSync(path.join(ROOT, relative), 'utf8')) as Record<string, unknown>;
const CJK = /[\u3400-\u9fff]/;

describe('l10n: Simplified Chinese', () => {
  const { messages, problems } = strings.collectMessages();
  const english = readJson('l10n/bundle.l10n.json');
  const chinese = readJson('l10n/bundle.l10n.zh-cn.json');

  it('finds the messages, each given as a string literal', () => {
    assert.deepEqual(problems, []);
    assert.ok(messages.size > 250, `only ${messages.size} messages found`);
    for (const sample of ['Show Log', 'Hover, focus or click a token to see what it attends to.', 'Positions & what if', PLACEHOLDER_TEXT]) {
      assert.ok(messages.has(sample), sample);
    }
  });

  it('bundle.l10n.json lists exactly the messages of src/ and webview/ (node scripts/l10n-strings.js --write)', () => {
    assert.deepEqual(Object.keys(english).sort(), [...messages.keys()].sort());
    for (const [key, value] of Object.entries(english)) assert.equal(value, key);
  });

  it('every message is used with as many arguments as it has placeholders {0}…{n-1}', () => {
    for (const [message, usages] of messages) {
      const used = strings.placeholders(message);
      assert.deepEqual(used, used.map((_, i) => i), `${message}: placeholders must be {0}…{n-1}`);
      for (const usage of usages) assert.equal(usage.args, used.length, `${usage.file}:${usage.line}: ${JSON.stringify(message)} gets ${usage.args} arguments`);
    }
  });

  it('every message has a zh-cn translation with the same placeholders, in Chinese', () => {
    const missing = [...messages.keys()].filter((message) => typeof chinese[message] !== 'string' || chinese[message] === '');
    assert.deepEqual(missing, [], 'messages without a zh-cn entry');
    assert.deepEqual(Object.keys(chinese).filter((key) => !messages.has(key)), [], 'zh-cn entries no code uses');
    for (const message of messages.keys()) {
      const translation = chinese[message] as string;
      assert.deepEqual(strings.placeholders(translation), strings.placeholders(message), `placeholders of ${JSON.stringify(message)} → ${JSON.stringify(translation)}`);
      // Anything with an English word (3+ letters, not counting code names and units) is written in Chinese.
      const words = message.replace(/\b(softmax|scale|id|float32|attentionInspector\.maxTokens|kvHeads|dims|queries|keys|source|target|text|tokens|generated|README|tokenizer\.json|model\.onnx|config\.json|model\.safetensors|ONNX|GPT|Attention Inspector)\b/g, '');
      if (/[A-Za-z]{3,}/.test(words)) assert.match(translation, CJK, `${JSON.stringify(message)} is not translated`);
    }
  });

  it('the webview fills placeholders like vscode.l10n.t; without a table it speaks English', () => {
    assert.equal(format('{0} attends most to {1} ({2}).', ['#1 “a”', 'itself', '41%']), '#1 “a” attends most to itself (41%).');
    assert.equal(format('{1} 的{0}：{2}', ['weight', 'key', 3]), 'key 的weight：3');
    assert.equal(format('{0} and {3}', ['a']), 'a and {3}');
    assert.equal(t('Layer {0} · head {1}', 2, 3), 'Layer 2 · head 3');
  });

  it('the panel page carries the bundle as a data attribute (strict CSP: no inline script) and its placeholder in Chinese', () => {
    const html = renderWebviewHtml({ cspSource: 'https://x', scriptUri: 'https://x/w.js', styleUri: 'https://x/w.css', nonce: 'n', language: 'zh-cn', strings: chinese as Record<string, string> });
    assert.match(html, /<html lang="zh-cn">/);
    const attribute = /<body data-l10n="([^"]*)">/.exec(html);
    assert.ok(attribute, 'data-l10n on <body>');
    const decoded = attribute[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
    assert.deepEqual(JSON.parse(decoded), chinese);
    assert.ok(html.includes(`<p class="placeholder">${chinese[PLACEHOLDER_TEXT] as string}</p>`));
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script: the nonce-bearing bundle');
    const plain = renderWebviewHtml({ cspSource: 'https://x', scriptUri: 'https://x/w.js', styleUri: 'https://x/w.css', nonce: 'n' });
    assert.match(plain, /<html lang="en">/);
    assert.match(plain, /<body>/);
  });
});

describe('l10n: package.nls and the walkthrough', () => {
  const manifestText = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
  const english = readJson('package.nls.json');
  const chinese = readJson('package.nls.zh-cn.json');

  it('package.json declares its l10n folder and names every %key% that package.nls.json has', () => {
    const manifest = JSON.parse(manifestText) as { l10n?: string };
    assert.equal(manifest.l10n, './l10n');
    const keys = [...manifestText.matchAll(/"%([\w.-]+)%"/g)].map((match) => match[1]);
    assert.ok(keys.length >= 30, `${keys.length} keys`);
    assert.deepEqual([...new Set(keys)].sort(), Object.keys(english).sort());
  });

  it('package.nls.zh-cn.json translates every key, keeping command links', () => {
    assert.deepEqual(Object.keys(chinese).sort(), Object.keys(english).sort());
    for (const [key, value] of Object.entries(english) as [string, string][]) {
      const translation = chinese[key] as string;
      const links = (text: string) => [...text.matchAll(/\(command:[^)]+\)/g)].map((match) => match[0]);
      assert.deepEqual(links(translation), links(value), key);
      if (key.endsWith('.markdown')) continue;
      assert.match(translation, CJK, `${key} is not translated`);
    }
  });

  it('each walkthrough step has its page in English and in Chinese', () => {
    for (const [key, value] of Object.entries(english) as [string, string][]) {
      if (!key.endsWith('.markdown')) continue;
      const zh = chinese[key] as string;
      assert.ok(fs.existsSync(path.join(ROOT, value)), value);
      assert.ok(fs.existsSync(path.join(ROOT, zh)), zh);
      assert.notEqual(zh, value);
      assert.match(fs.readFileSync(path.join(ROOT, zh), 'utf8'), CJK, zh);
    }
  });
});
