// The model's next-token guess after the selection: a small, honest sanity check that the model
// is a language model and not noise.
import type { Prediction } from './types';

/** softmax over logits [V], then the k most probable ids, most probable first. */
export function topPredictions(logits: Float32Array, k: number, tokenText: (id: number) => string): Prediction[] {
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) if (logits[v] > max) max = logits[v];
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += Math.exp(logits[v] - max);
  const best: number[] = [];
  for (let v = 0; v < logits.length; v++) {
    if (best.length < k || logits[v] > logits[best[best.length - 1]]) {
      best.push(v);
      best.sort((a, b) => logits[b] - logits[a] || a - b);
      if (best.length > k) best.pop();
    }
  }
  return best.map((id) => ({ id, token: tokenText(id), probability: Math.exp(logits[id] - max) / sum }));
}
