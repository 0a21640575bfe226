// Checks the shipped date model (media/models/dates) the way the extension will read it:
//  1. tokenizer.json in @huggingface/tokenizers gives the same ids as the Python tokenizer (dates.py)
//     on tokenizer_cases.json;
//  2. exposeModelFile finds encoder self, decoder masked self and cross attention, one per layer each;
//  3. onnxruntime-node on the exposed graph reproduces PyTorch's attention maps (reference.json) to 1e-5;
//  4. greedy decoding with onnxruntime-node turns every line of sample/dates.txt into its true ISO date.
// Build and run from the repository root (see README.md):
//   npx esbuild tools/train_encdec/check_model.ts --bundle --platform=node --target=node20 --format=cjs \
//     --external:onnxruntime-node --outfile=/tmp/encdec/check_model.js &&
//     NODE_PATH=$PWD/node_modules node /tmp/encdec/check_model.js [MODEL_DIR]
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { exposeModelFile } from '../../src/core/onnx/exposeAttention';
import { planInputs, toOrtFeeds } from '../../src/core/onnx/inputs';
import { siteLayout } from '../../src/core/onnx/siteTensors';
import { HfTokenizer } from '../../src/core/tokenizer/hfTokenizers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const ROOT = process.cwd();
const HERE = path.join(ROOT, 'tools', 'train_encdec');
const MODEL_DIR = path.resolve(ROOT, process.argv[2] ?? 'media/models/dates');
const TOLERANCE = 1e-5;

interface ReferenceSite { kind: string; layer: number; causal: boolean; heads: number; dims: number[]; data: number[] }
interface Reference { text: string; input_ids: number[]; decoder_input_ids: number[]; logits_last_row: number[]; sites: ReferenceSite[] }
interface TokenizerCase { text: string; ids: number[] }
interface Sample { text: string; expected: string; pytorch: string }
interface ModelConfig { decoder_start_token_id: number; eos_token_id: number; max_length: number; encoder_layers: number; decoder_layers: number; num_heads: number }

const failures: string[] = [];
function check(ok: boolean, message: string): void {
  if (!ok) failures.push(message);
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${message}`);
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Largest |a[i] - b[i]| over b's length. */
function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

function checkTokenizer(tokenizer: HfTokenizer): void {
  const cases = readJson<TokenizerCase[]>(path.join(HERE, 'tokenizer_cases.json'));
  const mismatches = cases.filter((testCase) => JSON.stringify(tokenizer.encode(testCase.text).ids) !== JSON.stringify(testCase.ids));
  for (const bad of mismatches.slice(0, 5)) console.log(`      ${JSON.stringify(bad.text)}: js ${JSON.stringify(tokenizer.encode(bad.text).ids)} python ${JSON.stringify(bad.ids)}`);
  check(mismatches.length === 0, `tokenizers.js ids equal the Python tokenizer's on ${cases.length} texts (${mismatches.length} mismatches)`);
}

async function checkSurgery(config: ModelConfig): Promise<void> {
  const exposed = await exposeModelFile(path.join(MODEL_DIR, 'model.onnx'));
  console.log('sites found by exposeModelFile:');
  for (const site of exposed.sites) {
    console.log(`      ${site.kind.padEnd(12)} layer ${site.layerIndex}  causal ${String(site.causal).padEnd(5)} (${site.causalEvidence ?? '-'})  ` +
      `heads ${site.heads ?? '?'}  Q: ${site.queryInputs.join('+')}  K/V: ${site.keyValueInputs.join('+')}  <- ${site.output}`);
  }
  check(exposed.explicit.length === 0 && exposed.fusedOperator === undefined, 'no explicit attention outputs and no fused attention operator');
  const expectedKinds = [
    ...Array.from({ length: config.encoder_layers }, (_, layer) => `encoder-self:${layer}:false`),
    ...Array.from({ length: config.decoder_layers }, (_, layer) => [`decoder-self:${layer}:true`, `cross:${layer}:false`]).flat(),
  ];
  check(JSON.stringify(exposed.sites.map((site) => `${site.kind}:${site.layerIndex}:${site.causal}`)) === JSON.stringify(expectedKinds),
    `sites are ${expectedKinds.join(', ')}`);
  check(exposed.sites.every((site) => site.heads === config.num_heads), `every site has ${config.num_heads} heads`);
  const cross = exposed.sites.filter((site) => site.kind === 'cross');
  check(cross.every((site) => site.queryInputs.includes('decoder_input_ids') && !site.keyValueInputs.includes('decoder_input_ids')),
    'cross-attention: queries from decoder_input_ids, keys/values from the encoder only');

  const reference = readJson<Reference>(path.join(HERE, 'reference.json'));
  const session = await ort.InferenceSession.create(exposed.bytes, exposed.sessionOptions);
  let results: InferenceSession.ReturnType;
  try {
    results = await session.run(toOrtFeeds(ort, planInputs(exposed.inputs, reference.input_ids, { decoderIds: reference.decoder_input_ids })));
  } finally {
    await session.release();
  }
  exposed.sites.forEach((site, i) => {
    const expected = reference.sites[i];
    const tensor = results[site.output] as Tensor;
    const { heads, queries, keys } = siteLayout(tensor.dims, site.output);
    const difference = maxDifference(tensor.data as Float32Array, expected.data);
    check(JSON.stringify([heads, queries, keys]) === JSON.stringify(expected.dims) && expected.kind === site.kind && difference <= TOLERANCE,
      `${site.kind} layer ${site.layerIndex} [${heads}, ${queries}, ${keys}] equals PyTorch's (max |diff| ${difference.toExponential(2)})`);
  });
  const logits = results.logits as Tensor;
  const [, targetLength, vocab] = logits.dims;
  const lastRow = (logits.data as Float32Array).subarray((targetLength - 1) * vocab, targetLength * vocab);
  const logitDifference = maxDifference(lastRow, reference.logits_last_row);
  check(logitDifference <= 1e-4, `logits of the last position equal PyTorch's (max |diff| ${logitDifference.toExponential(2)})`);
}

/** Greedy decoding, one step per session run over the whole prefix (the graph has no cache). */
async function greedy(session: InferenceSession, sourceIds: number[], config: ModelConfig, tokenizer: HfTokenizer): Promise<string> {
  const source = BigInt64Array.from(sourceIds.map(BigInt));
  const mask = new BigInt64Array(sourceIds.length).fill(1n);
  const decoded = [config.decoder_start_token_id];
  for (let step = 0; step < config.max_length; step++) {
    const feeds = {
      input_ids: new ort.Tensor('int64', source, [1, sourceIds.length]),
      attention_mask: new ort.Tensor('int64', mask, [1, sourceIds.length]),
      decoder_input_ids: new ort.Tensor('int64', BigInt64Array.from(decoded.map(BigInt)), [1, decoded.length]),
    };
    const logits = (await session.run(feeds)).logits as Tensor;
    const [, T, V] = logits.dims;
    const row = (logits.data as Float32Array).subarray((T - 1) * V, T * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    if (best === config.eos_token_id) break;
    decoded.push(best);
  }
  return tokenizer.decode(decoded.slice(1), { skip_special_tokens: true });
}

async function checkSamples(config: ModelConfig, tokenizer: HfTokenizer): Promise<void> {
  const lines = fs.readFileSync(path.join(ROOT, 'sample', 'dates.txt'), 'utf8').split('\n').filter((line) => line.trim() !== '');
  const samples = new Map(readJson<Sample[]>(path.join(HERE, 'samples.json')).map((sample) => [sample.text, sample]));
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, 'model.onnx'));
  try {
    for (const line of lines) {
      const sample = samples.get(line);
      const output = await greedy(session, tokenizer.encode(line).ids, config, tokenizer);
      check(sample !== undefined && output === sample.expected && output === sample.pytorch,
        `greedy ONNX: ${JSON.stringify(line)} -> ${output} (true ${sample?.expected ?? '?'}, PyTorch ${sample?.pytorch ?? '?'})`);
    }
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const config = readJson<ModelConfig>(path.join(MODEL_DIR, 'config.json'));
  const tokenizer = new HfTokenizer(readJson<object>(path.join(MODEL_DIR, 'tokenizer.json')), readJson<object>(path.join(MODEL_DIR, 'tokenizer_config.json')));
  checkTokenizer(tokenizer);
  await checkSurgery(config);
  await checkSamples(config, tokenizer);
  let total = 0;
  for (const name of fs.readdirSync(MODEL_DIR)) total += fs.statSync(path.join(MODEL_DIR, name)).size;
  check(total <= 5 * 1024 * 1024, `${path.relative(ROOT, MODEL_DIR)} holds ${(total / 1e6).toFixed(2)} MB (limit 5 MiB)`);
  console.log(failures.length === 0 ? 'all checks passed' : `${failures.length} check(s) failed`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
