// Attention stays where it was computed. A run's [L, H, T, T] tensors are the biggest thing it makes
// (1 GB at 4096 tokens for 4 layers × 4 heads; more for bigger models), and the panel only ever
// draws a head, a few rows, thumbnails or an aggregate of them at a time. So a held run is a
// summary (tokens, dims, predictions: everything but the tensors) plus a handle, HeldAttention,
// that answers the panel's queries (attentionQueries.ts) next to the tensors:
//   - in this process (InProcessAttention): the built-in block and in-process onnxruntime;
//   - in the onnxruntime child (isolated/isolatedOnnxBackend.ts): the query crosses over IPC and
//     only the answer comes back; the tensors never leave the child unless materialize() asks.
// materialize() is for the few features that need everything (the JSON export, units merging, the
// run comparison, the CLI); release() frees the tensors where they are held (a new run replaced it).
import { answerAttentionQueryYielding, heldGroupsOf, type AnswerOf, type AttentionQuery, type HeldGroup } from './attentionQueries';
import { AttentionInspectorError } from './errors';
import type { AttentionBackend, AttentionGroup, AttentionResult, CancellationSignal, RunOptions } from './types';

/** An attention group without its tensors: what the panel is told about it. */
export type AttentionGroupInfo = Omit<AttentionGroup, 'attention' | 'scores'>;

/** A run without its attention tensors (result.attention, groups[].attention and scores). */
export type AttentionSummary = Omit<AttentionResult, 'attention' | 'groups'> & { groups: AttentionGroupInfo[] };

export interface HeldAttention {
  /** Answers one query where the tensors are; undefined when the run has no such group or was released. Out of range: RangeError. */
  query<Q extends AttentionQuery>(query: Q): Promise<AnswerOf<Q> | undefined>;
  /** Every group with its tensors (and scores), brought here; later calls return the same arrays. */
  materialize(): Promise<AttentionGroup[]>;
  /** Frees the tensors where they are held (a newer run replaced this one): later queries answer undefined, materialize throws. */
  release(): void;
}

/** A run whose attention is held (see HeldAttention). */
export interface HeldRun {
  result: AttentionSummary;
  attention: HeldAttention;
}

/** The run without its tensors. */
export function summarize(result: AttentionResult): AttentionSummary {
  const { attention: _attention, groups, ...rest } = result;
  return { ...rest, groups: groups.map(({ attention: _weights, scores: _scores, ...info }) => info) };
}

/** The whole run again, tensors included: the summary with the materialized groups (groups[0] is result.attention). */
export async function materializeResult(run: HeldRun): Promise<AttentionResult> {
  const groups = await run.attention.materialize();
  const first = groups[0];
  return { ...run.result, attention: first.attention, dims: first.dims, groups };
}

/** Attention held in this process: queries are answered right here, from the run's own arrays. */
export class InProcessAttention implements HeldAttention {
  private groups: AttentionGroup[] | undefined;
  private held: HeldGroup[] | undefined;

  constructor(result: Pick<AttentionResult, 'groups' | 'tokens' | 'target'>) {
    this.groups = result.groups;
    this.held = heldGroupsOf(result);
  }

  async query<Q extends AttentionQuery>(query: Q): Promise<AnswerOf<Q> | undefined> {
    const held = this.held;
    if (!held) return undefined;
    // Roles and thumbnails read every weight (seconds at 4096 tokens): computed in pieces, so this
    // process (the extension host) answers the panel's other requests in between.
    return answerAttentionQueryYielding(query, held, () => this.held === held);
  }

  async materialize(): Promise<AttentionGroup[]> {
    if (!this.groups) throw releasedError();
    return this.groups;
  }

  release(): void {
    this.groups = undefined;
    this.held = undefined;
  }
}

/** What materialize says about a released run. */
export function releasedError(): AttentionInspectorError {
  return new AttentionInspectorError('This run’s attention was released (a newer run replaced it): run the model again.');
}

/** A finished in-process run as a held run (nothing moves: the summary and the handle share the arrays). */
export function holdInProcess(result: AttentionResult): HeldRun {
  return { result: summarize(result), attention: new InProcessAttention(result) };
}

/** Runs the text and keeps the attention where the backend computed it (backends without runHeld: here). */
export async function runHeld(backend: AttentionBackend, text: string, options: RunOptions, cancellation?: CancellationSignal): Promise<HeldRun> {
  if (backend.runHeld) return backend.runHeld(text, options, cancellation);
  return holdInProcess(await backend.run(text, options, cancellation));
}
