// Entry of the child process that hosts onnxruntime-node (bundled as dist/onnxWorker.js). It holds
// one ordinary OnnxBackend and answers the parent's describe/run requests over IPC, so that a
// native crash or an endless run in onnxruntime takes down this process only, never the host.
// Held runs (runHeld) keep their attention here, by handle: the parent's queries are answered next
// to the tensors (attentionQueries.ts) and only the answers cross, until the parent releases them.
import { answerAttentionQuery, heldGroupsOf, type HeldGroup } from '../../attentionQueries';
import { summarize } from '../../heldAttention';
import type { AttentionGroup } from '../../types';
import { OnnxBackend } from '../onnxBackend';
import { serializeError } from './errorTransfer';
import { startWatchdog, type Watchdog } from './watchdog';
import { WORKER_DEBUG_ENV, assertNever, type DebugRequestType, type ParentToWorker, type WorkerRequest, type WorkerToParent } from './workerProtocol';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('onnxWorker.js is started by the Attention Inspector ONNX backend (child_process.fork with IPC), not on its own.\n');
  process.exit(2);
}

const debugHooks = process.env[WORKER_DEBUG_ENV] === '1';
let backend: OnnxBackend | undefined;
let watchdog: Watchdog | undefined;
/** Held runs by the parent's handle: the full groups (materialize) and the same arrays as queries need them. */
const held = new Map<number, { groups: AttentionGroup[]; queried: HeldGroup[] }>();

function reply(message: WorkerToParent): void {
  try {
    send!(message);
  } catch (error) {
    // A result that cannot be cloned is a bug; say so instead of leaving the parent waiting.
    send!({ type: 'failed', id: message.id, error: serializeError(error) });
  }
}

/** Test hooks: crash like a native fault in onnxruntime, or spin like a run that never ends. */
function misbehave(kind: DebugRequestType): never {
  if (!debugHooks) throw new Error(`${kind} is a test hook; the worker honours it only with ${WORKER_DEBUG_ENV}=1`);
  if (kind === 'debugCrash') process.abort();
  for (;;) {
    // Never yields to the event loop, like a run stuck in native code: only a kill ends it.
  }
}

async function answer(request: WorkerRequest): Promise<WorkerToParent> {
  if (!backend) throw new Error(`request ${request.type} arrived before init`);
  switch (request.type) {
    case 'describe':
      return { type: 'described', id: request.id, info: await backend.describe() };
    case 'warmUp':
      await backend.warmUp();
      return { type: 'warm', id: request.id };
    case 'run':
      // Cancellation is the parent's job: it kills this process, since a run cannot be interrupted.
      // The whole result is cloned to the parent: one more copy of the attention on the way.
      return { type: 'result', id: request.id, result: await backend.runCounting(request.text, request.options, undefined, 1) };
    case 'runHeld': {
      const result = await backend.runCounting(request.text, request.options, undefined, 0);
      held.set(request.handle, { groups: result.groups, queried: heldGroupsOf(result) });
      return { type: 'held', id: request.id, summary: summarize(result) };
    }
    case 'query': {
      const entry = held.get(request.handle);
      if (!entry) return { type: 'answer', id: request.id, answer: undefined, missing: true };
      return { type: 'answer', id: request.id, answer: answerAttentionQuery(request.query, entry.queried) };
    }
    case 'materialize':
      return { type: 'materialized', id: request.id, groups: held.get(request.handle)?.groups };
    case 'debugCrash':
    case 'debugHang':
      return misbehave(request.type);
    default:
      return assertNever(request);
  }
}

process.on('message', (message: ParentToWorker) => {
  if (message.type === 'init') {
    backend?.dispose();
    backend = new OnnxBackend(message.dir, message.modelName);
    // Ends this process when the parent dies or a request overruns, even while this thread is stuck.
    watchdog ??= startWatchdog({ parentPid: process.ppid, limitMs: message.limitMs });
    return;
  }
  if (message.type === 'release') {
    held.delete(message.handle);
    return;
  }
  watchdog?.busy();
  answer(message)
    .then(reply, (error: unknown) => reply({ type: 'failed', id: message.id, error: serializeError(error) }))
    .finally(() => watchdog?.idle());
});

// The parent went away (closed, crashed or was killed): nothing is left to answer.
process.on('disconnect', () => {
  backend?.dispose();
  process.exit(0);
});
