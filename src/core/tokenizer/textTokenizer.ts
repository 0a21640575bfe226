// Tokenization with exact character offsets, over a Hugging Face tokenizer.json.
//
// @huggingface/tokenizers does the tokenizing (BPE, WordPiece, Unigram, normalizers, templates) but
// returns no offsets; this class recovers them. Byte-level tokenizers (GPT-2 family) are aligned
// exactly, byte by byte, and must reproduce the text; other tokenizers are aligned best-effort.
import { promises as fs } from 'fs';
import * as path from 'path';
import { ModelLoadError } from '../errors';
import { FILE_LIMITS, readCheckedFile } from '../modelFiles';
import type { TokenSpan } from '../types';
import { utf8Layout } from './byteLevel';
import { type AddedTokenShape, alignByteLevelTokens } from './byteLevelAlign';
import { alignSurfaces } from './fuzzyAlign';
import { HfTokenizer } from './hfTokenizers';
import { byteLevelLabel, makeWhitespaceVisible } from './tokenLabel';
import { type SurfaceRules, tokenSurfaces } from './tokenSurfaces';

type JsonObject = Record<string, unknown>;

/** What the tokenizer.json says about how tokens spell text. */
interface Layout {
  /** Tokens spell UTF-8 bytes through GPT-2's alphabet (a ByteLevel pre-tokenizer or decoder). */
  byteLevel: boolean;
  /** The ByteLevel pre-tokenizer puts a space before each section that lacks one. */
  addPrefixSpace: boolean;
  /** A normalizer or tokenizer_config option may change the text before tokenizing. */
  mayRewriteText: boolean;
  /** The post-processor may insert special tokens (BOS, [CLS], [SEP]...). */
  addsTokens: boolean;
  surfaceRules: SurfaceRules;
}

export class TextTokenizer {
  /** Number of ids the model's embedding must cover: highest id + 1, added tokens included. */
  readonly vocabSize: number;
  private readonly addedTokens: Map<string, AddedTokenShape>;
  private insertedBeforeCount: number | undefined;

  private constructor(
    private readonly library: HfTokenizer,
    private readonly layout: Layout,
    private readonly source: string,
  ) {
    this.vocabSize = library.model?.vocab.length ?? 0;
    this.addedTokens = new Map();
    for (const added of library.get_added_tokens_decoder().values()) {
      this.addedTokens.set(added.content, { lstrip: added.lstrip, rstrip: added.rstrip });
    }
  }

  /**
   * Loads tokenizer.json (path to the file, or to the model folder holding it) and, when present,
   * tokenizer_config.json beside it. A missing, unreadable or malformed file is a ModelLoadError.
   */
  static async fromFile(filePath: string): Promise<TextTokenizer> {
    let tokenizerPath = path.resolve(filePath);
    const stat = await fs.stat(tokenizerPath).catch(() => undefined);
    if (stat?.isDirectory()) tokenizerPath = path.join(tokenizerPath, 'tokenizer.json');
    const tokenizerJson = await readJson(tokenizerPath, true);
    const tokenizerConfig = await readJson(path.join(path.dirname(tokenizerPath), 'tokenizer_config.json'), false);
    return TextTokenizer.build(tokenizerJson, tokenizerConfig, tokenizerPath);
  }

  /** Builds a tokenizer from the parsed contents of tokenizer.json (and tokenizer_config.json). */
  static fromJson(tokenizerJson: object, tokenizerConfig?: object): TextTokenizer {
    return TextTokenizer.build(tokenizerJson, tokenizerConfig, 'the tokenizer.json');
  }

  private static build(tokenizerJson: unknown, tokenizerConfig: unknown, source: string): TextTokenizer {
    if (!isObject(tokenizerJson)) throw new ModelLoadError(`${capitalize(source)} is not a JSON object.`);
    if (!isObject(tokenizerJson.model)) {
      throw new ModelLoadError(`${capitalize(source)} has no "model" section; it does not look like a Hugging Face tokenizer.json.`);
    }
    if (tokenizerConfig !== undefined && !isObject(tokenizerConfig)) {
      throw new ModelLoadError(`The tokenizer_config.json beside ${source} is not a JSON object.`);
    }
    // Older files may leave out empty sections; the library insists on every key being present.
    const complete: JsonObject = {
      normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [],
      ...tokenizerJson,
    };
    const config: JsonObject = tokenizerConfig ?? {};
    let library: HfTokenizer;
    try {
      library = new HfTokenizer(complete, config);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelLoadError(`Cannot use ${source}: ${reason}.`);
    }
    return new TextTokenizer(library, describeLayout(complete, config), source);
  }

  /**
   * Tokenizes the text as the model expects it (special tokens the post-processor adds included) and
   * gives each token its span in `text`, in UTF-16 code units. Spans are ordered and never overlap.
   *
   * Byte-level tokenizers: exact. A token's span is its byte range with both ends snapped forward to
   * the next character boundary, so a character split across tokens belongs to the token holding its
   * FIRST byte, a token holding only continuation bytes gets an empty span [x, x), and the spans of
   * the text's tokens together cover the whole text. The tokens must reproduce the text's UTF-8
   * exactly; if the library ever disagrees, this throws a ModelLoadError rather than guess (unless a
   * normalizer is configured, which may legitimately rewrite the text: then the best-effort rule).
   *
   * Other tokenizers (WordPiece, SentencePiece-like, normalizers): best effort, never throws; spans are
   * ordered and non-overlapping but may leave out whitespace and characters the tokenizer dropped.
   *
   * Special tokens inserted by the post-processor ([CLS], BOS...) get empty spans: at 0 before the
   * text's tokens, at text.length after them. Special tokens typed in the text cover what was typed.
   */
  encode(text: string): TokenSpan[] {
    const full = this.library.encode(text);
    const own = this.layout.addsTokens ? this.library.encode(text, { add_special_tokens: false }) : full;
    // An empty text gives no anchor; place the inserted tokens as they stand around a probe text.
    const offset = own.tokens.length > 0 ? findSubsequence(full.tokens, own.tokens) : Math.min(this.insertedBefore(), full.tokens.length);
    // If the post-processor did something other than wrap the text's tokens, align everything
    // and let inserted special tokens find themselves absent from the text.
    const aligned = offset >= 0 ? own.tokens : full.tokens;
    const alignedFrom = offset >= 0 ? offset : 0;
    const starts = new Int32Array(aligned.length);
    const ends = new Int32Array(aligned.length);
    this.align(text, aligned, starts, ends);

    const spans: TokenSpan[] = new Array(full.tokens.length);
    for (let t = 0; t < full.tokens.length; t++) {
      const id = full.ids[t];
      if (!Number.isInteger(id)) {
        throw new ModelLoadError(`The token ${JSON.stringify(full.tokens[t])} produced by ${this.source} has no id in its vocabulary.`);
      }
      const k = t - alignedFrom;
      const start = k < 0 ? 0 : k >= aligned.length ? text.length : starts[k];
      const end = k < 0 ? 0 : k >= aligned.length ? text.length : ends[k];
      spans[t] = k < 0 || k >= aligned.length ? { id, text: '', start, end, label: full.tokens[t] } : { id, text: text.slice(start, end), start, end };
    }
    return spans;
  }

  /** The raw vocabulary string of an id (e.g. 'Ġthe'), or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.library.id_to_token(id);
  }

  /**
   * A label for an id: byte-level strings decoded ('Ġthe' -> '·the'), Metaspace '▁' shown as '·',
   * newlines '↵', tabs '⇥', carriage returns '␍'; bytes of a character split across tokens as \xHH;
   * WordPiece '##' and special tokens kept as they are. Unknown ids show as '<id N>'.
   */
  displayToken(id: number): string {
    const token = this.library.id_to_token(id);
    if (token === undefined) return `<id ${id}>`;
    if (this.addedTokens.has(token)) return token;
    if (this.layout.byteLevel) {
      const label = byteLevelLabel(token);
      if (label !== null) return label;
    }
    const spaceMarker = this.layout.surfaceRules.spaceMarker;
    return makeWhitespaceVisible(spaceMarker ? token.split(spaceMarker).join(' ') : token);
  }

  /** The text of a sequence of ids, special tokens included, without any clean-up of spaces. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`Token id ${id} is outside the vocabulary (size ${this.vocabSize}).`);
    }
    return this.library.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** How many tokens the post-processor puts before the text's own tokens (BOS, [CLS]...). */
  private insertedBefore(): number {
    if (this.insertedBeforeCount === undefined) {
      const probe = 'a';
      const own = this.library.encode(probe, { add_special_tokens: false }).tokens;
      const offset = own.length > 0 ? findSubsequence(this.library.encode(probe).tokens, own) : -1;
      this.insertedBeforeCount = Math.max(offset, 0);
    }
    return this.insertedBeforeCount;
  }

  /** Fills starts/ends for the tokens (vocabulary strings) the text was turned into. */
  private align(text: string, tokens: readonly string[], starts: Int32Array, ends: Int32Array): void {
    const layout = this.layout;
    if (layout.byteLevel) {
      const failure = alignByteLevelTokens(utf8Layout(text), tokens, this.addedTokens, layout.addPrefixSpace, text, starts, ends);
      if (failure === null) return;
      if (!layout.mayRewriteText) {
        const token = failure.tokenIndex < tokens.length ? ` ${JSON.stringify(tokens[failure.tokenIndex])} (token ${failure.tokenIndex})` : 's';
        throw new ModelLoadError(
          `The tokenizer (${this.source}) does not reproduce the text: at byte ${failure.byteOffset} the token${token} ` +
          `cannot be matched because ${failure.reason}. The vocabulary may lack byte symbols, or the file uses a feature ` +
          `the tokenizer library handles differently.`,
        );
      }
    }
    alignSurfaces(text, tokenSurfaces(tokens, layout.surfaceRules), starts, ends);
  }
}

/** Reads and parses a JSON file; a missing optional file gives undefined. */
async function readJson(filePath: string, required: boolean): Promise<unknown> {
  let present = true;
  try {
    await fs.lstat(filePath);
  } catch {
    present = false;
  }
  if (!present && !required) return undefined;
  if (!present) throw new ModelLoadError(`Tokenizer file not found: ${filePath}. The model folder needs the tokenizer.json from its Hugging Face repository.`);
  const contents = (await readCheckedFile(filePath, { what: path.basename(filePath), maxBytes: FILE_LIMITS.json })).toString('utf8');
  try {
    return JSON.parse(contents) as unknown;
  } catch (error) {
    throw new ModelLoadError(`${filePath} is not valid JSON (${(error as Error).message}).`);
  }
}

function describeLayout(tokenizerJson: JsonObject, config: JsonObject): Layout {
  const model = tokenizerJson.model as JsonObject;
  const byteLevelPreTokenizer = findComponent(tokenizerJson.pre_tokenizer, 'ByteLevel');
  const metaspace = findComponent(tokenizerJson.pre_tokenizer, 'Metaspace') ?? findComponent(tokenizerJson.decoder, 'Metaspace');
  const byteLevel = byteLevelPreTokenizer !== undefined || findComponent(tokenizerJson.decoder, 'ByteLevel') !== undefined;
  const isWordPiece = model.type === 'WordPiece' || (model.type === undefined && !('merges' in model) && 'continuing_subword_prefix' in model);
  const continuingPrefix = isWordPiece
    ? stringOr(model.continuing_subword_prefix, '##')
    : stringOr(model.continuing_subword_prefix, null);
  const suffixes = [model.end_of_word_suffix, model.continuing_subword_suffix].filter(
    (suffix): suffix is string => typeof suffix === 'string' && suffix.length > 0,
  );
  const addedTokens = new Set<string>();
  if (Array.isArray(tokenizerJson.added_tokens)) {
    for (const added of tokenizerJson.added_tokens) if (isObject(added) && typeof added.content === 'string') addedTokens.add(added.content);
  }
  return {
    byteLevel,
    addPrefixSpace: byteLevelPreTokenizer?.add_prefix_space === true,
    mayRewriteText: tokenizerJson.normalizer != null || config.remove_space === true || config.do_lowercase_and_remove_accent === true,
    // GPT-2's ByteLevel post-processor only trims offsets; it adds no tokens.
    addsTokens: isObject(tokenizerJson.post_processor) && tokenizerJson.post_processor.type !== 'ByteLevel',
    surfaceRules: {
      byteLevel,
      spaceMarker: byteLevel ? null : stringOr(metaspace?.replacement, '\u2581'),
      continuingPrefix: continuingPrefix === '' ? null : continuingPrefix,
      suffixes,
      unkToken: stringOr(model.unk_token, null),
      addedTokens,
    },
  };
}

/** The first component of the given type, looking inside Sequence components. */
function findComponent(component: unknown, type: string): JsonObject | undefined {
  if (!isObject(component)) return undefined;
  if (component.type === type) return component;
  for (const key of ['pretokenizers', 'decoders', 'normalizers', 'processors']) {
    const children = component[key];
    if (!Array.isArray(children)) continue;
    for (const child of children) {
      const found = findComponent(child, type);
      if (found) return found;
    }
  }
  return undefined;
}

/** Where `part` occurs as a contiguous run inside `whole`, or -1. */
function findSubsequence(whole: readonly string[], part: readonly string[]): number {
  for (let offset = 0; offset + part.length <= whole.length; offset++) {
    let k = 0;
    while (k < part.length && whole[offset + k] === part[k]) k++;
    if (k === part.length) return offset;
  }
  return -1;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr<T extends string | null>(value: unknown, fallback: T): string | T {
  return typeof value === 'string' ? value : fallback;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
