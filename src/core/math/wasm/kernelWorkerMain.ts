// dist/kernelWorker.js: the second thread of the WebAssembly pass. It owns one kernel arena and
// runs attention jobs (attentionJob.ts) one at a time, writing into the caller's shared buffers.
import { parentPort } from 'worker_threads';
import { runAttentionJob, type AttentionJob, type AttentionReply } from './attentionJob';
import { KernelArena } from './kernelArena';
import { loadBundledKernels } from './kernelModule';

const port = parentPort;
if (port) {
  let arena: KernelArena | undefined;
  port.on('message', (job: AttentionJob) => {
    let reply: AttentionReply;
    try {
      arena ??= new KernelArena(loadBundledKernels());
      runAttentionJob(arena, job);
      reply = { id: job.id };
    } catch (error) {
      reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
