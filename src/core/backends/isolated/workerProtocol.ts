// The one contract between IsolatedOnnxBackend (parent) and onnxWorkerMain (the forked child that
// hosts onnxruntime-node). Each direction is a discriminated union on `type`. Messages travel with
// Node's 'advanced' IPC serialization (the structured clone algorithm), so the Float32Arrays of an
// AttentionResult cross as typed arrays, not JSON.
import type { AnswerOf, AttentionQuery } from '../../attentionQueries';
import type { AttentionSummary } from '../../heldAttention';
import type { AttentionGroup, AttentionResult, ModelInfo, RunOptions } from '../../types';

/** Set to '1' in the child's environment to let it honour the debug requests below; tests only. */
export const WORKER_DEBUG_ENV = 'ATTENTION_INSPECTOR_WORKER_DEBUG';

// ---------------------------------------------------------------- parent -> worker

export type ParentToWorker =
  /** Sent once, first: the model folder this worker serves (one worker per backend). */
  | { type: 'init'; dir: string; modelName: string; /** The worker kills itself when one request runs longer than this (ms). */ limitMs: number }
  | { type: 'describe'; id: number }
  /** Loads the model now (the panel opened), so that the first run pays no start-up. */
  | { type: 'warmUp'; id: number }
  /** A run whose whole result (tensors included) is cloned back: the CLI, explanations. */
  | { type: 'run'; id: number; text: string; options: RunOptions }
  /** A run whose tensors stay in the worker under `handle`; only the summary comes back. */
  | { type: 'runHeld'; id: number; handle: number; text: string; options: RunOptions }
  /** A query about a held run, answered in the worker (attentionQueries.ts). */
  | { type: 'query'; id: number; handle: number; query: AttentionQuery }
  /** A held run's tensors, cloned back (a feature that needs them all). */
  | { type: 'materialize'; id: number; handle: number }
  /** Not a request (no reply): the worker forgets a held run and its tensors. */
  | { type: 'release'; handle: number }
  /** Test hook: the worker calls process.abort(), as a native crash in onnxruntime would. */
  | { type: 'debugCrash'; id: number }
  /** Test hook: the worker spins forever, as an endless run would. */
  | { type: 'debugHang'; id: number };

export type WorkerRequest = Exclude<ParentToWorker, { type: 'init' } | { type: 'release' }>;
export type DebugRequestType = 'debugCrash' | 'debugHang';

// ---------------------------------------------------------------- worker -> parent

export type WorkerToParent =
  | { type: 'described'; id: number; info: ModelInfo }
  | { type: 'warm'; id: number }
  | { type: 'result'; id: number; result: AttentionResult }
  | { type: 'held'; id: number; summary: AttentionSummary }
  /** answer: undefined when the held run has no such group; `missing`: the worker holds no run under that handle. */
  | { type: 'answer'; id: number; answer: AnswerOf<AttentionQuery> | undefined; missing?: true }
  | { type: 'materialized'; id: number; groups: AttentionGroup[] | undefined }
  | { type: 'failed'; id: number; error: SerializedError };

/**
 * An error thrown in the worker. `kind` is the nearest class of src/core/errors.ts it is an
 * instance of, so the parent can rebuild the same class (the extension relies on instanceof);
 * `fields` are its own enumerable properties (e.g. tokenCount and maxTokens).
 */
export interface SerializedError {
  kind: 'MemoryBudgetError' | 'TooManyTokensError' | 'CancelledError' | 'ModelLoadError' | 'InputError' | 'AttentionInspectorError' | 'RangeError' | 'Error';
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected message ${JSON.stringify(value)}`);
}
