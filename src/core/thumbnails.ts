// Thumbnails of every head: each [Tq, Tk] map pooled to at most size × size block means. Blocks
// split the tokens as evenly as integers allow (binStart), the same on the host, in the onnxruntime
// child and in the webview (which finds a token's block with thumbnailBin).
import type { AttentionDims } from './attentionViews';
import { nextTurn, YIELD_ABOVE_CELLS } from './nextTurn';

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

/** The thumbnails of [L, H, Tq, Tk]: their shape, the output, and the pooling of one map (L·H maps, map = l·H + h). */
interface ThumbnailPooler {
  rows: number;
  columns: number;
  /** [L, H, rows, columns] */
  data: Float32Array;
  poolMap(map: number): void;
}

/**
 * Every head of [L, H, Tq, Tk] pooled to [L, H, rows, columns] with rows = min(Tq, size) and
 * columns = min(Tk, size): each value is the mean of its block's allowed cells (causal: keys up to
 * the query; a block with none is NaN). One pass over the attention, O(L·H·Tq·Tk).
 */
export function poolThumbnails(attention: Float32Array, dims: AttentionDims, size: number, causal: boolean): { rows: number; columns: number; data: Float32Array } {
  const pooler = thumbnailPooler(attention, dims, size, causal);
  for (let map = 0; map < dims[0] * dims[1]; map++) pooler.poolMap(map);
  return { rows: pooler.rows, columns: pooler.columns, data: pooler.data };
}

/**
 * poolThumbnails for a process that answers other requests meanwhile (the extension host holding a
 * built-in run): maps larger than 1024 × 1024 are pooled one per turn of the event loop (0.5 s in
 * all at 4096 tokens, L6 H8). Equal to poolThumbnails; undefined once stillWanted says no.
 */
export async function poolThumbnailsYielding(attention: Float32Array, dims: AttentionDims, size: number, causal: boolean, stillWanted: () => boolean): Promise<{ rows: number; columns: number; data: Float32Array } | undefined> {
  const pooler = thumbnailPooler(attention, dims, size, causal);
  const large = dims[2] * dims[3] > YIELD_ABOVE_CELLS;
  for (let map = 0; map < dims[0] * dims[1]; map++) {
    pooler.poolMap(map);
    if (!large) continue;
    await nextTurn();
    if (!stillWanted()) return undefined;
  }
  return { rows: pooler.rows, columns: pooler.columns, data: pooler.data };
}

function thumbnailPooler(attention: Float32Array, dims: AttentionDims, size: number, causal: boolean): ThumbnailPooler {
  const [L, H, Tq, Tk] = dims;
  const side = Math.max(1, Math.floor(size));
  const rows = Math.min(Tq, side);
  const columns = Math.min(Tk, side);
  const masked = causal && Tq === Tk;
  // Column blocks are contiguous runs of keys: block j holds keys [columnStart[j], columnStart[j + 1]).
  const columnStart = new Int32Array(columns + 1);
  for (let j = 0; j <= columns; j++) columnStart[j] = binStart(j, Tk, columns);
  // Allowed cells per block: the same for every head.
  const counts = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
      const end = masked ? t + 1 : Tk; // keys [0, end) are allowed
      for (let j = 0; j < columns && columnStart[j] < end; j++) counts[i * columns + j] += Math.min(end, columnStart[j + 1]) - columnStart[j];
    }
  }
  const data = new Float32Array(L * H * rows * columns);
  const sums = new Float64Array(rows * columns);
  const poolMap = (map: number) => {
    sums.fill(0);
    const base = map * Tq * Tk;
    for (let i = 0; i < rows; i++) {
      const row = i * columns;
      for (let t = binStart(i, Tq, rows); t < binStart(i + 1, Tq, rows); t++) {
        const offset = base + t * Tk;
        const end = masked ? t + 1 : Tk; // masked keys are never read
        // One run of keys per block: a plain sum, then one add into the block.
        for (let j = 0; j < columns && columnStart[j] < end; j++) {
          const stop = Math.min(end, columnStart[j + 1]);
          let sum = 0;
          for (let s = columnStart[j]; s < stop; s++) sum += attention[offset + s];
          sums[row + j] += sum;
        }
      }
    }
    const out = map * rows * columns;
    for (let b = 0; b < rows * columns; b++) data[out + b] = counts[b] > 0 ? sums[b] / counts[b] : NaN;
  };
  return { rows, columns, data, poolMap };
}
