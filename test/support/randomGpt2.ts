// Seeded random GPT-2 model folders for tests: config.json, model.safetensors (Hugging Face names,
// "transformer." prefix) and tokenizer.json. Nothing is downloaded; the same seed gives the same bytes.
import { promises as fs } from 'fs';
import * as path from 'path';
import { seededRandom } from '../../src/core/random';
import { writeSafetensors, type WritableTensor } from '../../src/core/safetensors';

/** Uniform [0, 1) samples; the same seed gives the same sequence. */
export const createRng = seededRandom;

/** Standard normal samples from a uniform generator (Box-Muller). */
export function createNormalRng(seed: number): () => number {
  const uniform = createRng(seed);
  return () => {
    const u = 1 - uniform(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export interface RandomGpt2Options {
  seed: number;
  layers: number;
  heads: number;
  dModel: number;
  positions: number;
  /** A Hugging Face tokenizer.json object; vocab_size is taken from it. */
  tokenizerJson: object;
  /** Standard deviation of the random weights; default 0.02 (GPT-2's initialisation). */
  weightScale?: number;
}

/** HF GPT-2 tensors, unprefixed names, shapes as in the checkpoint (Conv1D weights [in, out]). */
export function randomGpt2Tensors(
  options: { seed: number; layers: number; dModel: number; positions: number; vocabSize: number; weightScale?: number },
): Map<string, { shape: number[]; data: Float32Array }> {
  const normal = createNormalRng(options.seed);
  const scale = options.weightScale ?? 0.02;
  const D = options.dModel;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const random = (name: string, shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = normal() * scale;
    tensors.set(name, { shape, data });
  };
  const constant = (name: string, length: number, value: number) => tensors.set(name, { shape: [length], data: new Float32Array(length).fill(value) });
  random('wte.weight', [options.vocabSize, D]);
  random('wpe.weight', [options.positions, D]);
  for (let l = 0; l < options.layers; l++) {
    const h = `h.${l}.`;
    constant(`${h}ln_1.weight`, D, 1);
    constant(`${h}ln_1.bias`, D, 0);
    random(`${h}attn.c_attn.weight`, [D, 3 * D]);
    random(`${h}attn.c_attn.bias`, [3 * D]);
    random(`${h}attn.c_proj.weight`, [D, D]);
    random(`${h}attn.c_proj.bias`, [D]);
    constant(`${h}ln_2.weight`, D, 1);
    constant(`${h}ln_2.bias`, D, 0);
    random(`${h}mlp.c_fc.weight`, [D, 4 * D]);
    random(`${h}mlp.c_fc.bias`, [4 * D]);
    random(`${h}mlp.c_proj.weight`, [4 * D, D]);
    random(`${h}mlp.c_proj.bias`, [D]);
  }
  constant('ln_f.weight', D, 1);
  constant('ln_f.bias', D, 0);
  return tensors;
}

/** vocab size of a tokenizer.json: one more than the largest id in model.vocab and added_tokens. */
export function tokenizerVocabSize(tokenizerJson: object): number {
  const json = tokenizerJson as { model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number }[] };
  let largest = -1;
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) largest = vocab.length - 1; // Unigram: [piece, score][] indexed by id
  else if (vocab !== undefined) for (const id of Object.values(vocab)) largest = Math.max(largest, id);
  for (const token of json.added_tokens ?? []) largest = Math.max(largest, token.id);
  if (largest < 0) throw new Error('tokenizerVocabSize: the tokenizer.json has no vocabulary');
  return largest + 1;
}

export async function writeRandomGpt2Folder(dir: string, options: RandomGpt2Options): Promise<void> {
  const vocabSize = tokenizerVocabSize(options.tokenizerJson);
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: vocabSize,
    n_positions: options.positions,
    n_ctx: options.positions,
    n_embd: options.dModel,
    n_head: options.heads,
    n_layer: options.layers,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
  };
  const tensors = randomGpt2Tensors({ ...options, vocabSize });
  const prefixed = new Map<string, WritableTensor>();
  for (const [name, tensor] of tensors) prefixed.set(`transformer.${name}`, { dtype: 'F32', ...tensor });
  await fs.mkdir(dir, { recursive: true });
  await Promise.all([
    fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n'),
    fs.writeFile(path.join(dir, 'model.safetensors'), writeSafetensors(prefixed, { format: 'pt' })),
    fs.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(options.tokenizerJson)),
  ]);
}
