// Entry of the child process that hosts onnxruntime-node (bundled as dist/onnxWorker.js). It holds
// one ordinary OnnxBackend and answers the parent's describe/run requests over IPC, so that a
// native crash or an endless run in onnxruntime takes down this process only, never the host.
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
    case 'run':
      // Cancellation is the parent's job: it kills this process, since a run cannot be interrupted.
      return { type: 'result', id: request.id, result: await backend.run(request.text, request.options) };
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
