// `explain` for the ONNX backends: one run that also keeps each attention softmax's input, read
// back as the steps the graph lets us see (scoresExplain.ts). Variations of the run (positions off,
// swaps, switched-off heads) need the built-in block, which can change the model's arithmetic.
import { InputError } from '../errors';
import type { AttentionBackend, AttentionResult, CancellationSignal, RunOptions } from '../types';
import { explainFromScores } from './scoresExplain';
import type { ExplainRequest, HeadExplanation } from './types';
import { isPlainRun } from './variation';

export const ONNX_UNAVAILABLE_REASON =
  'onnxruntime runs the graph as a whole: its softmax input and output are exposed, but q, k, v, W_O and the residual stream stay inside it. A GPT-2 model folder with config.json and model.safetensors shows them with the built-in backend.';

/** Throws for a variation the ONNX backend cannot apply. */
export function refuseVariation(options: RunOptions): void {
  if (!isPlainRun(options.variation)) {
    throw new InputError('Positions off, swapped tokens and switched-off heads need the built-in backend (a GPT-2 model folder with config.json and model.safetensors); this run uses the ONNX backend.');
  }
}

export async function explainWithScores(
  backend: AttentionBackend,
  text: string,
  request: ExplainRequest,
  options: RunOptions,
  cancellation?: CancellationSignal,
): Promise<{ result: AttentionResult; explanation: HeadExplanation }> {
  refuseVariation(options);
  const result = await backend.run(text, { ...options, scores: true }, cancellation);
  return { result, explanation: explainFromScores(result, request, ONNX_UNAVAILABLE_REASON) };
}
