// Entry of the tokenizer's worker thread (bundled as dist/tokenizerWorker.js): it loads
// tokenizer.json once and answers encode requests, so a pre-tokenizer regex that backtracks without
// end stalls this thread only, and the owner can stop it (tokenizerThread.ts).
import { parentPort, workerData } from 'worker_threads';
import { serializeError } from '../backends/isolated/errorTransfer';
import { encodePrefix } from './prefixEncode';
import { TextTokenizer } from './textTokenizer';
import type { TokenizerReply, TokenizerRequest } from './tokenizerThread';

const loading = TextTokenizer.fromFile((workerData as { file: string }).file);

parentPort?.on('message', (request: TokenizerRequest) => {
  loading
    .then((tokenizer) => {
      const reply: TokenizerReply = { id: request.id, result: encodePrefix((text) => tokenizer.encode(text), request.text, request.needed) };
      parentPort!.postMessage(reply);
    })
    .catch((error: unknown) => parentPort!.postMessage({ id: request.id, error: serializeError(error) } satisfies TokenizerReply));
});
