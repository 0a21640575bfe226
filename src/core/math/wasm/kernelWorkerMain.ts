// dist/kernelWorker.js: the second thread of the WebAssembly pass. It owns one kernel arena (with
// the weights it was sent, packed) and runs jobs (attentionJob.ts) one at a time, writing into the
// caller's shared buffers.
import { parentPort } from 'worker_threads';
import { runAttentionJob, runLinearJob, type AttentionReply, type PackedWeights, type WorkerJob } from './attentionJob';
import { KernelArena } from './kernelArena';
import { loadBundledKernels } from './kernelModule';

const port = parentPort;
if (port) {
  let arena: KernelArena | undefined;
  const packed: PackedWeights = new Map();
  port.on('message', (job: WorkerJob) => {
    let reply: AttentionReply;
    try {
      arena ??= new KernelArena(loadBundledKernels());
      if (job.kind === 'linear') runLinearJob(arena, packed, job);
      else runAttentionJob(arena, job);
      reply = { id: job.id };
    } catch (error) {
      reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
