#!/usr/bin/env node
// Fills the head-statistics section of a model card with numbers computed by the extension's own
// TypeScript code (`attention-inspector stats`), on held-out text the model never trained on.
//
// Usage: node scripts/head-stats-card.js MODEL_DIR HELD_OUT_DOCS
//   MODEL_DIR      a model folder with MODEL_CARD.md holding the <!-- HEAD_STATISTICS ... --> marker
//   HELD_OUT_DOCS  the training corpus' docs.jsonl (its "val" documents are used) or a plain text file
// Needs `node esbuild.js` first (it runs dist/cli.js). Writes MODEL_DIR/head_stats.json as well.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const [modelDir, docsPath] = process.argv.slice(2);
if (!modelDir || !docsPath) {
  console.error('usage: node scripts/head-stats-card.js MODEL_DIR HELD_OUT_DOCS');
  process.exit(2);
}

/** Alternating 2,000-character slices of held-out code, English and Chinese prose, so every window count sees each kind. */
function heldOutText(file) {
  if (!file.endsWith('.jsonl')) return fs.readFileSync(file, 'utf8');
  const docs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((doc) => doc.split === 'val');
  const slices = { code: [], prose: [], zh: [] };
  for (const doc of docs) for (let at = 0; at + 2000 <= doc.text.length && at < 20000; at += 2000) slices[doc.kind]?.push(doc.text.slice(at, at + 2000));
  const mixed = [];
  for (let i = 0; i < Math.max(...Object.values(slices).map((list) => list.length)); i++) {
    for (const list of Object.values(slices)) if (list[i]) mixed.push(list[i]);
  }
  return mixed.join('\n');
}

const textFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ai-heldout-')), 'heldout.txt');
fs.writeFileSync(textFile, heldOutText(docsPath));
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const run = (json) => execFileSync(process.execPath, [cli, 'stats', '--model', modelDir, '--file', textFile, ...(json ? ['--json'] : [])], { encoding: 'utf8', maxBuffer: 64 << 20 });
const report = JSON.parse(run(true));
fs.writeFileSync(path.join(modelDir, 'head_stats.json'), JSON.stringify(report, null, 2) + '\n');

/** The word-induction result against the 0.4 target, when the held-out text had enough common words. */
function inductionLine() {
  if (!report.inductionWordVocabulary) return [];
  const top = report.heads.reduce((a, b) => ((b.inductionWords ?? 0) > (a.inductionWords ?? 0) ? b : a));
  const value = top.inductionWords ?? 0;
  return ['', `Induction head on common words: L${top.layer} H${top.head} puts ${value.toFixed(3)} of its attention on the token after the previous occurrence (${value >= 0.4 ? 'meets' : 'misses'} the 0.4 target).`];
}

const cardPath = path.join(modelDir, 'MODEL_CARD.md');
const card = fs.readFileSync(cardPath, 'utf8');
const marker = /<!-- HEAD_STATISTICS[\s\S]*?-->\n*(_Pending[^\n]*_\n*)?/;
if (!marker.test(card)) {
  console.error(`${cardPath} has no <!-- HEAD_STATISTICS --> marker`);
  process.exit(1);
}
const best = report.heads.reduce((a, b) => (b.previousToken > a.previousToken ? b : a));
const section = [
  '<!-- HEAD_STATISTICS: computed by `node scripts/head-stats-card.js` with the extension\'s TypeScript code (src/core/analysis). -->',
  '',
  'Computed by the extension\'s own TypeScript code (`attention-inspector stats`, src/core/analysis/headStats.ts) running the built-in block on',
  'held-out validation text (code, English and Chinese prose alternating). Previous token: mean weight from token t to t−1; first token: mean weight on token 0;',
  'self: mean weight on itself; entropy: mean row entropy in nats (all over t ≥ 1); induction: mean weight from the second copy of a random token',
  'to the token after its first copy; induction (words): the same on sequences of distinct common words (the most frequent single-token words of',
  'the held-out text), the measure the induction target is stated in.',
  '',
  run(false).trim(),
  '',
  best.previousToken >= 0.5
    ? `Previous-token head: L${best.layer} H${best.head} attends to the token before with mean weight ${best.previousToken.toFixed(3)} (≥ 0.5).`
    : `No head reaches a mean previous-token weight of 0.5 (best: L${best.layer} H${best.head}, ${best.previousToken.toFixed(3)}).`,
  ...inductionLine(),
  '',
].join('\n');
fs.writeFileSync(cardPath, card.replace(marker, section + '\n'));
console.log(`head statistics written to ${cardPath} and ${path.join(modelDir, 'head_stats.json')}`);
