// Thumbnails of every head: each [Tq, Tk] map pooled to at most size × size block means. Blocks
// split the tokens as evenly as integers allow (binStart), the same on the host, in the onnxruntime
// child and in the webview (which finds a token's block with thumbnailBin).
import type { AttentionDims } from './attentionViews';

/** Where block `index` of `blocks` over `tokens` starts: blocks hold tokens [binStart(i), binStart(i + 1)). */
export function binStart(index: number, tokens: number, blocks: number): number {
  return Math.floor((index * tokens) / blocks);
}

/** The block (of `blocks` over `tokens`, see binStart) that holds token `token`. */
export function thumbnailBin(token: number, tokens: number, blocks: number): number {
  // The largest i with floor(i·T/n) <= token.
  let bin = Math.min(blocks - 1, Math.floor(((token + 1) * blocks - 1) / tokens));
  while (bin > 0 && binStart(bin, tokens, blocks) > token) bin--;
  while (bin + 1 < blocks && binStart(bin + 1, tokens, blocks) <= token) bin++;
  return bin;
}

/**
 * Every head of [L, H, Tq, Tk] pooled to [L, H, rows, columns] with rows = min(Tq, size) and
 * columns = min(Tk, size): each value is the mean of its block's allowed cells (causal: keys up to
 * the query; a block with none is NaN). One pass over the attention, O(L·H·Tq·Tk).
 */
export function poolThumbnails(attention: Float32Array, dims: AttentionDims, size: number, causal: boolean): { rows: number; columns: number; data: Float32Array } {
  const [L, H, Tq, Tk] = dims;
  const side = Math.max(1, Math.floor(size));
  const rows = Math.min(Tq, side);
  const columns = Math.min(Tk, side);
  const masked = causal && Tq === Tk;
  const columnBin = new Int32Array(Tk);
  for (let s = 0; s < Tk; s++) columnBin[s] = thumbnailBin(s, Tk, columns);
  // Allowed cells per block: the same for every head.
  const counts = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
      const last = masked ? t : Tk - 1;
      for (let s = 0; s <= last; s++) counts[i * columns + columnBin[s]]++;
    }
  }
  const data = new Float32Array(L * H * rows * columns);
  const sums = new Float64Array(rows * columns);
  for (let map = 0; map < L * H; map++) {
    sums.fill(0);
    const base = map * Tq * Tk;
    for (let i = 0; i < rows; i++) {
      const row = i * columns;
      for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
        const offset = base + t * Tk;
        const last = masked ? t : Tk - 1;
        for (let s = 0; s <= last; s++) sums[row + columnBin[s]] += attention[offset + s];
      }
    }
    const out = map * rows * columns;
    for (let b = 0; b < rows * columns; b++) data[out + b] = counts[b] > 0 ? sums[b] / counts[b] : NaN;
  }
  return { rows, columns, data };
}
