// What the step view and `attention-inspector explain` show of one head for one query token:
// the model's own numbers at each step of scaled dot-product attention, then what the head writes
// into the residual stream, the stream's size layer by layer, and the logit lens.
// Pure types (no Node, no DOM): the webview imports this file.

import type { ModelInfo, TokenSpan } from '../types';

/** A head to switch off: its output (and so its write through W_O) is set to zero. */
export interface HeadRef {
  layer: number;
  head: number;
}

/** How a run is varied for the positional-encoding and "what if" lessons (built-in backend). */
export interface RunVariation {
  /** false runs without position information (no wpe, no relative position bias). Default true. */
  positions?: boolean;
  /** Token indices [i, j] whose ids are exchanged before the run (the text shown is exchanged too). */
  swap?: [number, number];
  /** Heads switched off. */
  ablate?: HeadRef[];
}

export interface ExplainRequest {
  /** Attention group index (0 for decoder- and encoder-only models). */
  group?: number;
  layer: number;
  head: number;
  /** Query token index (into the group's query sequence). */
  query: number;
}

/** The norms (Euclidean sizes) of the residual stream of the query token around one block. */
export interface ResidualNorms {
  layer: number;
  /** |x| entering the block. */
  before: number;
  /** |attention sublayer output| (W_O·concat(heads) + b_O). */
  attention: number;
  /** |x + attention|. */
  afterAttention: number;
  /** |MLP output|. */
  mlp: number;
  /** |x + attention + mlp|, leaving the block. */
  after: number;
}

export interface LensPrediction {
  token: string;
  probability: number;
}

/** The step names a model may be unable to show (listed in HeadExplanation.unavailable). */
export type ExplainStep = 'q' | 'k' | 'v' | 'scores' | 'bias' | 'output' | 'headWrite' | 'headWrites' | 'residual' | 'logitLens';

/**
 * One head, one query token, every step. Arrays "per key" are indexed like `keys` (the group's key
 * sequence, all of it: masked keys included, with masked[j] true).
 *   scaled[j] = scores[j] · scale + bias[j]      (the softmax input; null where masked)
 *   weights   = softmax over the unmasked scaled entries; masked keys get 0
 *   output    = Σ_j weights[j] · v[j]            ([dV], the head's output before W_O)
 *   headWrite = output · W_O[h·dV .. (h+1)·dV, :] ([d_model], this head's share of the sublayer output)
 *   Σ_h headWrites[h] + attentionBias = attentionOutput
 */
export interface HeadExplanation {
  model: ModelInfo;
  /** The tokens the run saw (after any swap). */
  tokens: TokenSpan[];
  group: number;
  layer: number;
  head: number;
  query: { index: number; text: string };
  /** Size of q and k (d_k). */
  dK: number;
  /** The factor scores are multiplied by: 1/√d_k for GPT-2 (times 1/(l+1) when the config says so). */
  scale: number;
  causal: boolean;
  keys: { index: number; text: string }[];
  q: number[] | null;
  k: number[][] | null;
  v: number[][] | null;
  /** Raw q·k_j. */
  scores: number[] | null;
  /** Position-dependent terms added to the scaled scores (relative position bias); null when the model has none. */
  bias: number[] | null;
  /** The softmax input per key; null for masked keys. */
  scaled: (number | null)[];
  masked: boolean[];
  /** The attention row (equals the run's attention row for this query). */
  weights: number[];
  output: number[] | null;
  headWrite: number[] | null;
  /** Every head's write for this query in this layer, [H][d_model] (this head's is headWrite). */
  headWrites: number[][] | null;
  /** b_O, the bias of the output projection. */
  attentionBias: number[] | null;
  /** The attention sublayer's output for this query, as the forward pass computed it. */
  attentionOutput: number[] | null;
  residual: ResidualNorms[] | null;
  /** Top next-token predictions read from the residual stream after each layer (final LayerNorm + unembedding applied early). */
  logitLens: { layer: number; top: LensPrediction[] }[] | null;
  /** Steps this model cannot show, with why in `unavailableReason`. */
  unavailable: ExplainStep[];
  unavailableReason?: string;
  /** The variation this explanation ran under. */
  positions: boolean;
  ablated: HeadRef[];
}
