// The decoder side of an encoder–decoder run: how decoding starts and stops (from config.json), and
// the target sequence as tokens with offsets, whether the user typed it or the model generated it.
import { InputError, ModelLoadError } from '../errors';
import type { TextTokenizer } from '../tokenizer/textTokenizer';
import type { TargetSequence, TokenSpan } from '../types';

export interface DecodingSettings {
  /** decoder_input_ids[0]: config.decoder_start_token_id (T5 and Marian use the pad token). */
  startId: number;
  /** Greedy decoding stops after generating one of these. */
  eosIds: ReadonlySet<number>;
  /** Longest decoder input, start token included. */
  maxLength: number;
}

const DEFAULT_MAX_TARGET = 64;

export function decodingSettings(config: Record<string, unknown>, modelPath: string, maxTokens: number): DecodingSettings {
  const id = (key: string): number | undefined => (Number.isInteger(config[key]) ? (config[key] as number) : undefined);
  const startId = id('decoder_start_token_id') ?? id('pad_token_id') ?? id('bos_token_id');
  if (startId === undefined) {
    throw new ModelLoadError(`${modelPath} is an encoder–decoder model, but its config.json names no decoder_start_token_id (nor pad_token_id): ` +
      'add the id decoding starts from to config.json.');
  }
  const eos = config.eos_token_id;
  const eosIds = new Set<number>((Array.isArray(eos) ? eos : [eos]).filter((value): value is number => Number.isInteger(value)));
  const configured = id('max_length') ?? id('max_target_positions') ?? DEFAULT_MAX_TARGET;
  const positions = id('max_position_embeddings') ?? id('n_positions') ?? Number.POSITIVE_INFINITY;
  return { startId, eosIds, maxLength: Math.max(2, Math.min(configured + 1, positions, maxTokens)) };
}

/** The start token as a span: it covers no text and shows its vocabulary string. */
function startToken(tokenizer: TextTokenizer, startId: number): TokenSpan {
  return { id: startId, text: '', start: 0, end: 0, label: tokenizer.displayToken(startId) };
}

/**
 * A target the user typed: [start, ...its tokens]. Special tokens the tokenizer appends (T5's and
 * Marian's </s>) are left out, as when the model was trained: decoder inputs are the labels shifted right.
 */
export function typedTarget(tokenizer: TextTokenizer, text: string, settings: DecodingSettings): TargetSequence {
  if (text.trim() === '') throw new InputError('The target text is empty: type what the decoder should read, or use the model\'s own output.');
  const tokens = tokenizer.encode(text).filter((token) => token.label === undefined);
  if (tokens.length === 0) throw new InputError('The target text has no tokens the model knows.');
  if (tokens.length + 1 > settings.maxLength) {
    throw new InputError(`The target has ${tokens.length} tokens; this model's decoder takes at most ${settings.maxLength - 1} (plus the start token).`);
  }
  return { text, tokens: [startToken(tokenizer, settings.startId), ...tokens], generated: false };
}

/**
 * The model's own output (without the start token and the final end token) as a target: its text is
 * the tokenizer's decoding. Tokens keep offsets into that text when re-encoding it gives the same ids;
 * otherwise (a tokenizer that does not round-trip) each token shows its own string, joined by spaces.
 */
export function generatedTarget(tokenizer: TextTokenizer, generatedIds: readonly number[], settings: DecodingSettings): TargetSequence {
  const start = startToken(tokenizer, settings.startId);
  const text = tokenizer.decode(generatedIds);
  const reencoded = text === '' ? [] : tokenizer.encode(text).filter((token) => token.label === undefined);
  if (reencoded.length === generatedIds.length && reencoded.every((token, i) => token.id === generatedIds[i])) {
    return { text, tokens: [start, ...reencoded], generated: true };
  }
  const tokens: TokenSpan[] = [start];
  let joined = '';
  for (const id of generatedIds) {
    if (joined !== '') joined += ' ';
    const shown = tokenizer.displayToken(id);
    tokens.push({ id, text: shown, start: joined.length, end: joined.length + shown.length });
    joined += shown;
  }
  return { text: joined, tokens, generated: true };
}

/** Index of the largest logit in row `row` of [T, V] logits. */
export function argmaxRow(logits: Float32Array, row: number, V: number): number {
  let best = 0;
  const offset = row * V;
  for (let v = 1; v < V; v++) if (logits[offset + v] > logits[offset + best]) best = v;
  return best;
}
