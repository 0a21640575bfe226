// The step view for a backend that can only show what its softmax saw: the ONNX backend with
// RunOptions.scores. Q, K, V, the raw scores and what the head writes are inside the graph's fused
// arithmetic; the softmax input (AttentionGroup.scores) and its output (the attention) are not.
import { InputError } from '../errors';
import type { AttentionGroup, AttentionResult, TokenSpan } from '../types';
import type { ExplainRequest, ExplainStep, HeadExplanation } from './types';

/**
 * At or below this, a softmax input counts as masked. Exports fill masked scores with -Infinity,
 * float32's lowest (-3.4e38: transformers' torch.finfo(dtype).min), -1e9, or -1e4 (older GPT-2's
 * masked_bias and BERT's extended mask, to which the real score is still added, e.g. -10000.03).
 * No real scaled score comes near -5000, and one that did would get no weight anyway (e^-5000 = 0).
 */
export const MASKED_SCORE = -5000;

const UNAVAILABLE: ExplainStep[] = ['q', 'k', 'v', 'scores', 'output', 'headWrite', 'headWrites', 'residual', 'logitLens'];

/**
 * One head, one query, from a run's softmax inputs and attention row. `scaled` is the softmax input
 * row as the graph computed it (scaling, bias and masking included); `scale` is NOT read from the
 * graph: it is the conventional 1/√d_k (1 when d_k is unknown), for display only. `masked[j]` is
 * true for keys after the query in a causal group, and for keys whose softmax input is -∞ or
 * ≤ MASKED_SCORE (-5000); their `scaled` entry is null. Everything the run did not keep (q, k, v, raw
 * scores, the head's output and writes, residual norms, logit lens) is null and listed in
 * `unavailable`, with `unavailableReason`.
 * Throws InputError for a group, layer, head or query out of range, and when the group has no
 * scores (the run was made without RunOptions.scores, or no Softmax could be located).
 */
export function explainFromScores(result: AttentionResult, request: ExplainRequest, unavailableReason: string): HeadExplanation {
  const groupIndex = request.group ?? 0;
  checkIndex('group', groupIndex, result.groups.length);
  const group = result.groups[groupIndex];
  const [L, H, Tq, Tk] = group.dims;
  checkIndex('layer', request.layer, L);
  checkIndex('head', request.head, H);
  checkIndex('query', request.query, Tq);
  const { layer, head, query } = request;
  if (!group.scores) {
    throw new InputError(`The ${group.label.toLowerCase()} of ${result.model.name} has no softmax inputs: no attention Softmax could be located in the model's graph ` +
      '(or the run was made without asking for scores), so the step view cannot show what the softmax saw.');
  }
  const queryTokens = sequence(result, group.queries);
  const keyTokens = sequence(result, group.keys);
  const row = ((layer * H + head) * Tq + query) * Tk;
  const scoresRow = group.scores.subarray(row, row + Tk);
  const weights = Array.from(group.attention.subarray(row, row + Tk));
  // With a past of Tk - Tq keys, query t of a causal group sees keys up to Tk - Tq + t.
  const lastVisible = Tk - Tq + query;
  const masked = Array.from(scoresRow, (score, key) => (group.causal && key > lastVisible) || score === -Infinity || score <= MASKED_SCORE);
  const scaled = Array.from(scoresRow, (score, key) => (masked[key] ? null : score));
  const { dModel, heads } = result.model;
  const dK = dModel > 0 && heads > 0 ? dModel / heads : 0;
  return {
    model: result.model,
    tokens: result.tokens,
    group: groupIndex,
    layer,
    head,
    query: { index: query, text: tokenText(queryTokens[query]) },
    dK,
    scale: dK > 0 ? 1 / Math.sqrt(dK) : 1,
    causal: group.causal,
    keys: Array.from({ length: Tk }, (_, index) => ({ index, text: tokenText(keyTokens[index]) })),
    q: null,
    k: null,
    v: null,
    scores: null,
    bias: null,
    scaled,
    masked,
    weights,
    output: null,
    headWrite: null,
    headWrites: null,
    attentionBias: null,
    attentionOutput: null,
    residual: null,
    logitLens: null,
    unavailable: [...UNAVAILABLE],
    unavailableReason,
    positions: true,
    ablated: [],
  };
}

function checkIndex(what: string, value: number, count: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) {
    const range = count > 0 ? `an integer from 0 to ${count - 1}` : 'unavailable (there are none)';
    throw new InputError(`The ${what} must be ${range}, not ${String(value)}.`);
  }
}

function sequence(result: AttentionResult, which: AttentionGroup['queries']): TokenSpan[] {
  if (which === 'target') {
    if (!result.target) throw new InputError('This attention group reads the decoder target, but the run has none.');
    return result.target.tokens;
  }
  return result.tokens;
}

function tokenText(token: TokenSpan | undefined): string {
  return token ? token.text || token.label || '' : '';
}
