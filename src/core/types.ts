import type { ExplainRequest, HeadExplanation, RunVariation } from './explain/types';
import type { HeldRun } from './heldAttention';

// Shared vocabulary of the core. Pure types: imported by the extension, the CLI, the tests
// and the webview, so nothing here may touch Node, the DOM or vscode.

/** One token of the inspected text. Offsets are UTF-16 code units into that text, [start, end). */
export interface TokenSpan {
  /** Vocabulary id. */
  id: number;
  /** The characters of the input this token covers (text.slice(start, end)); may be '' for a token
   *  that holds only the trailing bytes of a character another token started (byte-level BPE). */
  text: string;
  start: number;
  end: number;
  /** For tokens the tokenizer inserted ([CLS], [SEP], BOS...), which cover no text: their vocabulary string. */
  label?: string;
}

export type BackendName = 'builtin' | 'onnx';
export type BackendChoice = 'auto' | BackendName;

/** What kind of attention a model has: decoders mask the future, encoders do not. */
export type ModelKind = 'decoder' | 'encoder' | 'encoder-decoder';

export interface ModelInfo {
  /** Human name, usually the model folder's name. */
  name: string;
  kind: ModelKind;
  layers: number;
  heads: number;
  /** Width of the residual stream (d_model). */
  dModel: number;
  vocabSize: number;
  /** Longest sequence the position embeddings cover. */
  maxPositions: number;
  /** Which backend produced the result. */
  backend: BackendName;
  /** The built-in backend: which kernels ran it, in words ("WebAssembly SIMD", "TypeScript", or why WebAssembly did not load). */
  kernels?: string;
  /** ONNX models: whether attention came from the model's own outputs or from graph surgery. */
  attentionSource?: 'explicit outputs' | 'graph surgery';
}

/** How the queries of an attention group see their keys. */
export type AttentionGroupKind = 'self' | 'masked-self' | 'cross';

/** Which token sequence a side of an attention map indexes: the inspected text, or the decoder's target. */
export type TokenSequence = 'source' | 'target';

/**
 * One family of attention maps that share query and key sequences: the self-attention of a decoder-
 * or encoder-only model, or one of an encoder–decoder's three (encoder self, decoder masked self, cross).
 * attention[((l * H + h) * Tq + t) * Tk + s] = weight of key s for query t in layer l, head h.
 */
export interface AttentionGroup {
  /** 'self' for single-stack models; 'encoder', 'decoder' and 'cross' for encoder–decoder models. */
  name: 'self' | 'encoder' | 'decoder' | 'cross';
  /** What the user reads, e.g. "Cross-attention". */
  label: string;
  kind: AttentionGroupKind;
  /** Rows: where Q comes from. */
  queries: TokenSequence;
  /** Columns: where K and V come from. */
  keys: TokenSequence;
  /** [L, H, Tq, Tk] */
  dims: [number, number, number, number];
  attention: Float32Array;
  /** Every weight with s > t is 0 (checked on the weights, not assumed). */
  causal: boolean;
  /** Grouped-query attention: number of K/V heads (< H); query head h reads K/V group floor(h / (H / kvHeads)). */
  kvHeads?: number;
  /**
   * Only when RunOptions.scores asked for them and the backend found them: the input of each
   * attention softmax, laid out like `attention` ([L, H, Tq, Tk]): the scores after scaling, bias and
   * masking, as the model computed them. Masked entries hold what the model feeds its softmax
   * (-Infinity, or a large negative number such as float32's lowest, -3.4e38).
   */
  scores?: Float32Array;
}

/** The decoder side of an encoder–decoder run. */
export interface TargetSequence {
  /** Text the target tokens index (offsets are into it). */
  text: string;
  /** decoder_input_ids as tokens: the decoder start token (labelled, no text) and then the target. */
  tokens: TokenSpan[];
  /** True when the target is the model's own greedy output, false when the user gave it. */
  generated: boolean;
}

/**
 * The outcome of one run. Attention is one flat tensor, row-major [L, H, T, T]:
 *   attention[((l * H + h) * T + t) * T + s] = weight with which query token t attends to key token s
 * in layer l, head h. Every row sums to 1; when causal, entries with s > t are exactly 0.
 */
export interface AttentionResult {
  model: ModelInfo;
  /** The text that was tokenized (after any truncation to maxTokens, this is still the full text). */
  text: string;
  tokens: TokenSpan[];
  /** [L, H, T, T] */
  dims: [number, number, number, number];
  attention: Float32Array;
  causal: boolean;
  /**
   * All attention of the run, in display order. For decoder- and encoder-only models one 'self'
   * group that shares `attention` above; for encoder–decoder models encoder self (= `attention`
   * above, over `tokens`), decoder masked self and cross.
   */
  groups: AttentionGroup[];
  /** Encoder–decoder models only: the decoder input the decoder groups index. */
  target?: TargetSequence;
  /** Next-token logits of the last position (of the target, for encoder–decoder models), [V]; absent for models without an LM head. */
  lastLogits?: Float32Array;
  /** The most likely next tokens after the last one (from lastLogits), most likely first. */
  predictions?: Prediction[];
  /** Set when the input had more tokens than options.maxTokens and only the first ones were run. */
  truncatedFrom?: number;
  /** truncatedFrom is a lower bound: a long input is tokenized only as far as the run needs. */
  truncatedFromAtLeast?: boolean;
  /** Wall time of tokenization plus inference. */
  elapsedMs: number;
  /** Problems the user must know about (NaN or infinite weights or outputs, by name); absent when none. */
  warnings?: string[];
}

/** One key token with its attention weight (a row's top-k; the panel's attended list). */
export interface WeightedToken {
  token: number;
  weight: number;
}

export interface Prediction {
  id: number;
  /** Readable token text. */
  token: string;
  probability: number;
}

/** A cancellation flag the core polls between units of work (vscode.CancellationToken fits it). */
export interface CancellationSignal {
  readonly isCancellationRequested: boolean;
}

export interface RunOptions {
  /** Run at most this many tokens; longer inputs are cut and the result says so (truncatedFrom). */
  maxTokens?: number;
  /**
   * The most memory (MB) the run's attention may hold, copies included (default 2048): longer inputs
   * are cut to the tokens that fit, or refused with MemoryBudgetError when failIfTooLong.
   */
  memoryBudgetMB?: number;
  /** Throw TooManyTokensError instead of cutting when the input is longer than maxTokens. */
  failIfTooLong?: boolean;
  /** Encoder–decoder models: the target text for the decoder; absent or undefined = the model's greedy output. */
  target?: string;
  /**
   * Also return each attention softmax's input (AttentionGroup.scores). ONNX backend only: the first
   * such run loads a second session of the model whose graph also outputs these tensors (its weights
   * held again, and the scores as large as the attention); runs without it use the plain session.
   * Groups whose Softmax nodes cannot be located get no scores.
   */
  scores?: boolean;
  /**
   * Built-in backend only: run without positions, with two tokens exchanged, or with heads switched
   * off (the positional-encoding and "what if" lessons). Other backends refuse a variation.
   */
  variation?: RunVariation;
}

/** One inference engine bound to one model folder. Load lazily; reuse across runs. */
export interface AttentionBackend {
  readonly name: BackendName;
  /** Model description, available once the backend has loaded its model. */
  describe(): Promise<ModelInfo>;
  /** Tokenize the text and run the model, returning attention for every layer and head. */
  run(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<AttentionResult>;
  /**
   * Runs the text and explains one head for one query token, step by step (explain/types.ts); the
   * result is the run the explanation comes from (its attention row equals explanation.weights).
   */
  explain(text: string, request: ExplainRequest, options: RunOptions, cancellation?: CancellationSignal): Promise<{ result: AttentionResult; explanation: HeadExplanation }>;
  /**
   * Like run, but the attention stays where it was computed and answers queries there
   * (heldAttention.ts): the ONNX child keeps it in the child. Absent: runHeld() in heldAttention.ts
   * holds run()'s result in this process.
   */
  runHeld?(text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<HeldRun>;
  /** Gets ready for a first run (starts a worker process, loads the model) so that the run pays no start-up; optional. */
  warmUp?(): Promise<void>;
  dispose(): void;
}
