// Read-only views into a flat attention tensor [L, H, Tq, Tk] (Tq = Tk for self-attention) that the panel, the editor
// decorations and the CLI ask for. Slices are copies where they leave the process (postMessage,
// JSON) and subarray views where they do not.

import type { WeightedToken } from './types';

export type AttentionDims = readonly [layers: number, heads: number, queries: number, keys: number];

function checkLayer(dims: AttentionDims, layer: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= dims[0]) throw new RangeError(`layer ${layer} is outside 0..${dims[0] - 1}`);
}

/** [L, H, Tq, Tk] -> [Tq, Tk] view of one head. */
export function headView(attention: Float32Array, dims: AttentionDims, layer: number, head: number): Float32Array {
  checkLayer(dims, layer);
  const [, H, Tq, Tk] = dims;
  if (!Number.isInteger(head) || head < 0 || head >= H) throw new RangeError(`head ${head} is outside 0..${H - 1}`);
  const offset = (layer * H + head) * Tq * Tk;
  return attention.subarray(offset, offset + Tq * Tk);
}

/**
 * [L, H, Tq, Tk] -> [Tq, Tk], the mean over the heads of one layer (rows still sum to 1). causal: the
 * cells above the diagonal are masked (0) in every head, so they are not read (half the work).
 */
export function meanOfHeads(attention: Float32Array, dims: AttentionDims, layer: number, causal = false): Float32Array {
  checkLayer(dims, layer);
  const [, H, Tq, Tk] = dims;
  const size = Tq * Tk;
  const mean = new Float32Array(size); // [Tq, Tk]
  // Causal: the masked cells above the diagonal are 0 in every head, so only keys 0..t are summed.
  const masked = causal && Tq === Tk;
  for (let h = 0; h < H; h++) {
    const offset = (layer * H + h) * size;
    if (!masked) for (let i = 0; i < size; i++) mean[i] += attention[offset + i];
    else for (let t = 0; t < Tq; t++) for (let i = t * Tk, end = i + t + 1; i < end; i++) mean[i] += attention[offset + i];
  }
  for (let i = 0; i < size; i++) mean[i] /= H;
  return mean;
}

/** [L, H, Tq, Tk] -> [H, Tk]: what query token `token` attends to, in every head of one layer. */
export function tokenRows(attention: Float32Array, dims: AttentionDims, layer: number, token: number): Float32Array {
  checkLayer(dims, layer);
  const [, H, Tq, Tk] = dims;
  if (!Number.isInteger(token) || token < 0 || token >= Tq) throw new RangeError(`token ${token} is outside 0..${Tq - 1}`);
  const rows = new Float32Array(H * Tk);
  for (let h = 0; h < H; h++) {
    const offset = ((layer * H + h) * Tq + token) * Tk;
    rows.set(attention.subarray(offset, offset + Tk), h * Tk);
  }
  return rows;
}

/** The k largest weights of one attention row, largest first; ties keep the earlier token first. */
export function topAttended(row: ArrayLike<number>, k: number): WeightedToken[] {
  const order: number[] = [];
  for (let s = 0; s < row.length; s++) if (row[s] > 0) order.push(s);
  order.sort((a, b) => row[b] - row[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((token) => ({ token, weight: row[token] }));
}
