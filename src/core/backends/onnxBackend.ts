// onnxruntime-node as a backend for any unfused ONNX transformer. Attention comes from outputs that
// already hold it (`attentions` [L, B, H, T, T], or one [B, H, T, T] output per layer) or, when a
// model has none, from graph surgery: the Softmax outputs inside its attention blocks are added as
// graph outputs and the modified model runs from memory (src/core/onnx). Encoder–decoder models get
// a target (typed, or the model's greedy output) and three attention groups. With RunOptions.scores,
// runs go through a second session whose graph also outputs each attention Softmax's input.
import { FILE_LIMITS, readCheckedFileSync } from '../modelFiles';
import { explainWithScores, refuseVariation } from '../explain/onnxExplain';
import type { ExplainRequest, HeadExplanation } from '../explain/types';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { encoderDecoderGroup, selfGroup } from '../attentionGroups';
import { InputError, ModelLoadError, throwIfCancelled } from '../errors';
import { looksCausal } from '../onnx/attentionFinder';
import { exposeModelFile, noAttentionMessage } from '../onnx/exposeAttention';
import { planInputs, toOrtFeeds, type GraphInput } from '../onnx/inputs';
import { topPredictions } from '../predictions';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import type { AttentionBackend, AttentionGroup, AttentionResult, CancellationSignal, ModelInfo, RunOptions, TargetSequence, TokenSpan } from '../types';
import { argmaxRow, decodingSettings, generatedTarget, typedTarget } from './decoderTarget';
import { collectGroup, collectScores, planGroups, planScoreGroups, type GroupOutputs } from './onnxAttention';
import { learnPrefixes, preallocate, type OutputPrefixes } from './preallocatedAttention';
import { fitText } from './truncation';
import { withWarnings } from '../finiteCheck';
import { TokenizerThread } from '../tokenizer/tokenizerThread';

type Ort = typeof import('onnxruntime-node');

interface Loaded {
  ort: Ort;
  session: InferenceSession;
  tokenizer: TextTokenizer;
  inputs: GraphInput[];
  /** Where each attention group is in the outputs: one 'self' group, or encoder, decoder, cross. */
  groups: GroupOutputs[];
  encoderDecoder: boolean;
  /** How the attention was found, for the output channel and the model card. */
  source: 'explicit outputs' | 'graph surgery';
  logitsOutput: string | undefined;
  config: Record<string, unknown>;
  modelPath: string;
  /** The graph's position-embedding rows, for models without config.json. */
  positionTable: number | undefined;
}

/**
 * A second session, made on the first run that asks for scores: the same model with each attention
 * Softmax's input also exposed. Runs without scores keep using the plain session, unchanged.
 */
interface ScoresSession {
  session: InferenceSession;
  /** Where each attention group's softmax inputs are, by group name (see planScoreGroups). */
  groups: GroupOutputs[];
}

export class OnnxBackend implements AttentionBackend {
  readonly name = 'onnx' as const;
  private loading: Promise<Loaded> | undefined;
  private scoring: Promise<ScoresSession | undefined> | undefined;
  private tokenizing: TokenizerThread | undefined;
  /** The self-attention outputs' shapes before their token axes, learned from a run (preallocatedAttention.ts). */
  private prefixes: OutputPrefixes | undefined;

  constructor(private readonly dir: string, private readonly modelName: string = path.basename(dir)) {}

  private load(): Promise<Loaded> {
    if (!this.loading) {
      this.loading = this.loadOnce();
      this.loading.catch(() => (this.loading = undefined));
    }
    return this.loading;
  }

  private async loadOnce(): Promise<Loaded> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as Ort;
    const tokenizer = await TextTokenizer.fromFile(path.join(this.dir, 'tokenizer.json'));
    const modelPath = path.join(this.dir, 'model.onnx');
    const exposed = await exposeModelFile(modelPath);
    const problem = noAttentionMessage(exposed, modelPath);
    if (problem) throw new ModelLoadError(problem);
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(readCheckedFileSync(path.join(this.dir, 'config.json'), { what: 'config.json', maxBytes: FILE_LIMITS.json }).toString('utf8')) as Record<string, unknown>;
    } catch {
      // config.json is optional for decoder- and encoder-only ONNX models: shapes come from the outputs.
    }
    const configKvHeads = typeof config.num_key_value_heads === 'number' && typeof config.num_attention_heads === 'number' &&
      config.num_key_value_heads < config.num_attention_heads ? config.num_key_value_heads : undefined;
    const groups = planGroups(exposed.explicit, exposed.sites, configKvHeads);
    const encoderDecoder = groups.length > 1;
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(exposed.bytes, { ...exposed.sessionOptions, graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load ${modelPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const logitsOutput = session.outputNames.includes('logits') ? 'logits' : undefined;
    if (encoderDecoder && !logitsOutput) {
      session.release().catch(() => undefined);
      throw new ModelLoadError(`${modelPath} is an encoder–decoder model without a "logits" output, so the extension cannot decode a target with it. Export it with its language-model head.`);
    }
    if (encoderDecoder) decodingSettings(config, modelPath, Number.POSITIVE_INFINITY); // fails now, not at the first run
    return {
      ort,
      session,
      tokenizer,
      inputs: exposed.inputs,
      groups,
      encoderDecoder,
      source: exposed.explicit.length > 0 ? 'explicit outputs' : 'graph surgery',
      logitsOutput,
      config,
      modelPath,
      positionTable: exposed.positionTable,
    };
  }

  /** The session that also returns the softmax inputs; undefined when surgery finds no attention Softmax. */
  private loadScores(loaded: Loaded): Promise<ScoresSession | undefined> {
    if (!this.scoring) {
      this.scoring = (async () => {
        const exposed = await exposeModelFile(loaded.modelPath, { scores: true });
        const groups = planScoreGroups(exposed.sites);
        if (groups.length === 0) return undefined;
        try {
          const session = await loaded.ort.InferenceSession.create(exposed.bytes, { ...exposed.sessionOptions, graphOptimizationLevel: 'all' });
          return { session, groups };
        } catch (error) {
          throw new ModelLoadError(`onnxruntime could not load ${loaded.modelPath} with its attention scores exposed: ${error instanceof Error ? error.message : String(error)}`);
        }
      })();
      this.scoring.catch(() => (this.scoring = undefined));
    }
    return this.scoring;
  }

  async describe(): Promise<ModelInfo> {
    const { config, encoderDecoder, source, positionTable } = await this.load();
    const int = (...keys: string[]) => {
      for (const key of keys) if (typeof config[key] === 'number') return config[key] as number;
      return 0;
    };
    return {
      name: this.modelName,
      kind: encoderDecoder ? 'encoder-decoder' : 'decoder',
      layers: int('n_layer', 'num_hidden_layers', 'num_layers', 'encoder_layers'),
      heads: int('n_head', 'num_attention_heads', 'num_heads', 'encoder_attention_heads'),
      dModel: int('n_embd', 'hidden_size', 'd_model'),
      vocabSize: int('vocab_size'),
      // Without config.json: the graph's position table; models with relative or rotary positions have none.
      maxPositions: int('n_positions', 'max_position_embeddings') || positionTable || UNKNOWN_CONTEXT,
      backend: 'onnx',
      attentionSource: source,
    };
  }

  explain(text: string, request: ExplainRequest, options: RunOptions, cancellation?: CancellationSignal): Promise<{ result: AttentionResult; explanation: HeadExplanation }> {
    return explainWithScores(this, text, request, options, cancellation);
  }

  async run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult> {
    return this.runCounting(text, options, cancellation, 0);
  }

  /** @internal Whether the next plain decoder- or encoder-only run binds its attention outputs to its own tensor. */
  get preallocates(): boolean {
    return this.prefixes !== undefined;
  }

  /** @internal How many runs onnxruntime wrote straight into the run's tensor (tests). */
  preallocatedRuns = 0;

  /**
   * Loads the model now and runs it once on one token, so that the first real run waits neither for
   * the load nor for onnxruntime's first-run set-up (kernels, thread pool) or the tokenizer thread.
   * The priming run is best effort: a model that cannot run says so at the real run.
   */
  async warmUp(): Promise<void> {
    const { encoderDecoder } = await this.load();
    await this.describe();
    if (encoderDecoder) return; // its first run decodes a whole target: not worth doing unasked
    await this.run('a', { maxTokens: 1 }).catch(() => undefined);
  }

  /**
   * run, for a caller that will copy the attention `copiesOnTheWay` more times while the run's own
   * copies still exist (the worker cloning a whole result to its parent: 1), which the memory budget counts.
   */
  async runCounting(text: string, options: RunOptions, cancellation: CancellationSignal | undefined, copiesOnTheWay: number): Promise<AttentionResult> {
    return withWarnings(await this.runUnchecked(text, options, cancellation, copiesOnTheWay));
  }

  private async runUnchecked(text: string, options: RunOptions, cancellation: CancellationSignal | undefined, copiesOnTheWay: number): Promise<AttentionResult> {
    refuseVariation(options);
    const started = performance.now();
    const loaded = await this.load();
    const described = await this.describe();
    throwIfCancelled(cancellation);
    const { tokens, truncatedFrom, truncatedFromAtLeast } = await fitText(this.tokenizerThread(), text, options, described.maxPositions, cancellation, {
      layers: described.layers,
      heads: described.heads,
      // onnxruntime's outputs and our collected copy (one tensor when the model stacks its attention
      // in one output: collectGroup keeps that one), plus any copies the caller makes on the way out
      // (a whole result cloned to the parent process); twice that with scores.
      copies: (options.scores ? 2 : 1) * (2 + copiesOnTheWay),
    });
    const ids = tokens.map((token) => token.id);
    const common = { text, tokens, truncatedFrom, ...(truncatedFromAtLeast ? { truncatedFromAtLeast } : {}) };
    const scoring = options.scores ? await this.loadScores(loaded) : undefined;
    throwIfCancelled(cancellation);
    const session = scoring?.session ?? loaded.session;
    /** The group's softmax inputs, when asked for and found: { scores } to spread into the group. */
    const scoresOf = (name: GroupOutputs['name'], results: InferenceSession.ReturnType, dims: [number, number, number, number]) => {
      const scores = scoring ? collectScores(scoring.groups.find((candidate) => candidate.name === name), results, dims) : undefined;
      return scores ? { scores } : {};
    };

    if (!loaded.encoderDecoder) {
      const T = tokens.length;
      const feeds = toOrtFeeds(loaded.ort, planInputs(loaded.inputs, ids));
      // The plain session writes the attention straight into the run's tensor once the outputs' shapes are known.
      let bound = !scoring && this.prefixes ? preallocate(loaded.ort.Tensor, loaded.groups[0], this.prefixes, T, T) : undefined;
      let results: InferenceSession.ReturnType;
      try {
        results = await runSession(session, feeds, loaded.modelPath, ids.length, bound && { ...nullOutputs(session), ...bound.outputs });
      } catch (error) {
        if (!bound) throw error;
        // The learned shapes did not fit after all: run again, letting onnxruntime allocate, and learn them anew.
        bound = undefined;
        this.prefixes = undefined;
        results = await runSession(session, feeds, loaded.modelPath, ids.length);
      }
      throwIfCancelled(cancellation);
      if (bound) this.preallocatedRuns++;
      else if (!scoring) this.prefixes = learnPrefixes(loaded.groups[0], results);
      const { attention, dims } = bound ?? collectGroup(loaded.groups[0], results, T, T);
      const lastLogits = lastLogitsOf(loaded, results, T);
      // Causality is read off the weights: a decoder never puts weight on a later token.
      const causal = looksCausal(attention, dims, 0);
      return {
        ...common,
        model: { ...described, kind: causal ? 'decoder' : 'encoder', layers: dims[0], heads: dims[1], vocabSize: described.vocabSize || (lastLogits?.length ?? 0) },
        dims,
        attention,
        causal,
        groups: [{ ...selfGroup(attention, dims, causal, loaded.groups[0].kvHeads), ...scoresOf('self', results, dims) }],
        lastLogits,
        predictions: lastLogits && causal ? topPredictions(lastLogits, 5, (id) => loaded.tokenizer.displayToken(id)) : undefined,
        elapsedMs: performance.now() - started,
      };
    }

    const { target, results } = await this.decode(loaded, session, ids, options, cancellation);
    const S = tokens.length;
    const Tt = target.tokens.length;
    const groups: AttentionGroup[] = loaded.groups.map((group) => {
      const [Tq, Tk] = group.name === 'encoder' ? [S, S] : group.name === 'decoder' ? [Tt, Tt] : [Tt, S];
      const { attention, dims } = collectGroup(group, results, Tq, Tk);
      const built = encoderDecoderGroup(group.name as 'encoder' | 'decoder' | 'cross', attention, dims, group.name === 'cross' ? false : looksCausal(attention, dims, 0), group.kvHeads);
      return { ...built, ...scoresOf(group.name, results, dims) };
    });
    const encoder = groups[0];
    const lastLogits = lastLogitsOf(loaded, results, Tt);
    return {
      ...common,
      model: { ...described, kind: 'encoder-decoder', layers: encoder.dims[0], heads: encoder.dims[1], vocabSize: described.vocabSize || (lastLogits?.length ?? 0) },
      dims: encoder.dims,
      attention: encoder.attention,
      causal: encoder.causal,
      groups,
      target,
      lastLogits,
      predictions: lastLogits ? topPredictions(lastLogits, 5, (id) => loaded.tokenizer.displayToken(id)) : undefined,
      elapsedMs: performance.now() - started,
    };
  }

  /**
   * Runs the encoder–decoder on the typed target, or decodes greedily (argmax, one token per run,
   * no cache: these are small models) until an end token or the length limit. Returns the outputs
   * of the run whose decoder input is the whole target.
   */
  private async decode(loaded: Loaded, session: InferenceSession, sourceIds: readonly number[], options: RunOptions, cancellation?: CancellationSignal): Promise<{ target: TargetSequence; results: InferenceSession.ReturnType }> {
    const settings = decodingSettings(loaded.config, loaded.modelPath, options.maxTokens ?? 512);
    const runWith = async (decoderIds: readonly number[]) => {
      const results = await runSession(session, toOrtFeeds(loaded.ort, planInputs(loaded.inputs, sourceIds, { decoderIds })), loaded.modelPath, sourceIds.length);
      throwIfCancelled(cancellation);
      return results;
    };
    if (options.target !== undefined) {
      const target = typedTarget(loaded.tokenizer, options.target, settings);
      return { target, results: await runWith(target.tokens.map((token: TokenSpan) => token.id)) };
    }
    const decoderIds = [settings.startId];
    for (;;) {
      const results = await runWith(decoderIds);
      const logits = results[loaded.logitsOutput!] as Tensor;
      const V = logits.dims[logits.dims.length - 1];
      const next = argmaxRow(logits.data as Float32Array, decoderIds.length - 1, V);
      if (settings.eosIds.has(next) || decoderIds.length >= settings.maxLength) {
        return { target: generatedTarget(loaded.tokenizer, decoderIds.slice(1), settings), results };
      }
      decoderIds.push(next);
    }
  }

  /** How attention was found ('explicit outputs' or 'graph surgery'), once loaded. */
  async attentionSource(): Promise<Loaded['source']> {
    return (await this.load()).source;
  }

  /** Tokenization runs in a worker thread under a time limit, with a clear error for a runaway tokenizer regex. */
  private tokenizerThread(): TokenizerThread {
    return (this.tokenizing ??= new TokenizerThread(path.join(this.dir, 'tokenizer.json')));
  }

  dispose(): void {
    this.tokenizing?.dispose();
    this.tokenizing = undefined;
    const loading = this.loading;
    const scoring = this.scoring;
    this.loading = undefined;
    this.scoring = undefined;
    void loading?.then((loaded) => loaded.session.release()).catch(() => undefined);
    void scoring?.then((scores) => scores?.session.release()).catch(() => undefined);
  }
}

/** Logits of the last query position, [V], when the model has a logits output. */
function lastLogitsOf(loaded: Loaded, results: InferenceSession.ReturnType, T: number): Float32Array | undefined {
  if (!loaded.logitsOutput) return undefined;
  const logits = results[loaded.logitsOutput] as Tensor;
  const V = logits.dims[logits.dims.length - 1];
  return Float32Array.from((logits.data as Float32Array).subarray((T - 1) * V, T * V));
}

/** Every output of the session, for fetches: null lets onnxruntime allocate it. */
function nullOutputs(session: InferenceSession): Record<string, null> {
  return Object.fromEntries(session.outputNames.map((name) => [name, null]));
}

/** The context assumed for ONNX models with neither config.json nor a position table (relative or rotary positions). */
const UNKNOWN_CONTEXT = 4096;

/** session.run, with onnxruntime's failure turned into one readable line (no native stack). */
async function runSession(session: InferenceSession, feeds: InferenceSession.FeedsType, modelPath: string, tokens: number, fetches?: InferenceSession.FetchesType): Promise<InferenceSession.ReturnType> {
  try {
    return await (fetches ? session.run(feeds, fetches) : session.run(feeds));
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 400);
    throw new InputError(`onnxruntime could not run ${path.basename(path.dirname(modelPath))}/model.onnx on ${tokens} tokens: ${message}. If the input is longer than the model's context, select less text or set attentionInspector.maxTokens lower.`);
  }
}
