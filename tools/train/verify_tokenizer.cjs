// Checks that @huggingface/tokenizers (the library the extension uses) encodes held-out text with
// the trained tokenizer.json exactly as the Python encoder of bpe.py does, and decodes it back.
// Usage: node tools/train/verify_tokenizer.cjs <tokenizer-folder> <tokenizer_cases.json>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Tokenizer } = require('@huggingface/tokenizers');

const [folder, casesPath] = process.argv.slice(2);
if (!folder || !casesPath) {
  console.error('usage: node verify_tokenizer.cjs <tokenizer-folder> <tokenizer_cases.json>');
  process.exit(2);
}
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json'), 'utf8'));
const configPath = path.join(folder, 'tokenizer_config.json');
const tokenizerConfig = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, 'utf8')) : {};
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));

let idMismatches = 0;
let roundTripFailures = 0;
let tokens = 0;
for (const { text, ids: expected } of cases) {
  const actual = tokenizer.encode(text, { add_special_tokens: false }).ids;
  tokens += expected.length;
  const same = actual.length === expected.length && actual.every((id, i) => id === expected[i]);
  if (!same) {
    idMismatches++;
    if (idMismatches <= 5) {
      console.error(`ids differ for ${JSON.stringify(text.slice(0, 80))}\n  python ${JSON.stringify(expected.slice(0, 30))}\n  js     ${JSON.stringify(actual.slice(0, 30))}`);
    }
  }
  // tokenizers.js refuses to decode an empty id list, so the empty text round-trips trivially.
  const decoded = actual.length === 0 ? '' : tokenizer.decode(actual, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  if (decoded !== text) {
    roundTripFailures++;
    if (roundTripFailures <= 5) console.error(`decode(encode(text)) != text for ${JSON.stringify(text.slice(0, 80))} -> ${JSON.stringify(decoded.slice(0, 80))}`);
  }
}
const summary = { cases: cases.length, tokens, idMismatches, roundTripFailures };
console.log(JSON.stringify(summary));
process.exit(idMismatches === 0 && roundTripFailures === 0 ? 0 : 1);
