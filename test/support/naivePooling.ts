// An independent, deliberately plain max-pooling of one attention map's window, for the tests of
// src/core/attentionWindow.ts: every data cell walks its own block and reads each cell's weight
// (the mean over heads summed in float64), with no shared buffers or precomputed indices.

export interface NaiveWindow {
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

/** attention[L, H, Tq, Tk] at (layer, head, t, s); head -1 is the mean over the layer's heads. */
export function naiveWeight(attention: Float32Array, dims: readonly number[], layer: number, head: number, t: number, s: number): number {
  const [, H, Tq, Tk] = dims;
  const at = (h: number) => attention[((layer * H + h) * Tq + t) * Tk + s];
  if (head >= 0) return at(head);
  let sum = 0;
  for (let h = 0; h < H; h++) sum += at(h);
  return sum / H;
}

/** [rows][cols]: block (i, j) covers window rows row0 + i·rowStep … and columns col0 + j·colStep …, clipped to the window; each value is its largest weight. */
export function naiveMaxPool(attention: Float32Array, dims: readonly number[], layer: number, head: number, window: NaiveWindow, rowStep: number, colStep: number): number[][] {
  const result: number[][] = [];
  for (let r = window.row0; r < window.row1; r += rowStep) {
    const row: number[] = [];
    for (let c = window.col0; c < window.col1; c += colStep) {
      let best = -Infinity;
      for (let t = r; t < Math.min(r + rowStep, window.row1); t++) {
        for (let s = c; s < Math.min(c + colStep, window.col1); s++) best = Math.max(best, naiveWeight(attention, dims, layer, head, t, s));
      }
      row.push(best);
    }
    result.push(row);
  }
  return result;
}
