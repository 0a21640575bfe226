// A block of one attention map, max-pooled to at most maxRows × maxCols data cells, so the panel
// receives only what its heatmap can draw: at 4096 tokens a head is 64 MB of float32, its overview
// at 960 × 960 pixels under 1 MB as uint8. Max-pooling keeps a single sharp weight visible at any
// size (a mean would dilute it by the block's area). Pure: the host's replies (src/shared/replies.ts)
// and a process that keeps the [L, H, Tq, Tk] tensor call it with the flat tensor and its dims.

import { meanOfHeadRows, type AttentionDims } from './attentionViews';

/** A half-open block of a [Tq, Tk] map: rows [row0, row1), columns [col0, col1). */
export interface CellWindow {
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

/** The head index that stands for the mean over all heads of a layer (the protocol's MEAN_HEAD). */
export const MEAN_OF_HEADS = -1;

/** How pooled weights travel: float32, or quantised to q / 65535 (uint16) or q / 255 (uint8). */
export type CellEncoding = 'float32' | 'uint16' | 'uint8';

/** The largest q of each quantised encoding: value = q / QUANT_LEVELS[encoding]. */
export const QUANT_LEVELS = { uint16: 65535, uint8: 255 } as const;

/**
 * How a block of a head is laid out wherever it travels (the core's answer, the host's reply, the
 * webview's cache): the window it covers and its [rows, cols] data cells, each the max over
 * rowStep × colStep source cells (1 = exact), in `encoding`.
 */
export interface BlockLayout {
  /** What data covers. */
  window: CellWindow;
  /** data is [rows, cols]. */
  rows: number;
  cols: number;
  /** Source cells per data cell along each axis (1 = exact). */
  rowStep: number;
  colStep: number;
  /** float32: the weights; uint16 / uint8: value = q / 65535 or q / 255 (weights lie in [0, 1]). Quantised only when pooled. */
  encoding: CellEncoding;
}

/** A pooled block: data[i * cols + j] is the max over source rows row0 + [i·rowStep, (i+1)·rowStep) and columns col0 + [j·colStep, (j+1)·colStep), clipped to the window. */
export interface PooledWindow {
  window: CellWindow;
  rows: number;
  cols: number;
  rowStep: number;
  colStep: number;
  /** [rows, cols] */
  data: Float32Array;
}

/** The whole [Tq, Tk] map as a window. */
export function wholeWindow(Tq: number, Tk: number): CellWindow {
  return { row0: 0, row1: Tq, col0: 0, col1: Tk };
}

/** Why `window` is not a block of a [Tq, Tk] map (integers, 0 ≤ row0 < row1 ≤ Tq, 0 ≤ col0 < col1 ≤ Tk), or undefined when it is. */
export function windowProblem(window: CellWindow, Tq: number, Tk: number): string | undefined {
  const { row0, row1, col0, col1 } = window;
  if (![row0, row1, col0, col1].every(Number.isInteger)) return `window ${describeWindow(window)} has a bound that is not an integer`;
  if (row0 < 0 || col0 < 0) return `window ${describeWindow(window)} starts before the first token`;
  if (row0 >= row1 || col0 >= col1) return `window ${describeWindow(window)} is empty (each start must be below its end)`;
  if (row1 > Tq || col1 > Tk) return `window ${describeWindow(window)} lies outside the ${Tq} × ${Tk} map`;
  return undefined;
}

export function describeWindow(window: CellWindow): string {
  return `rows ${window.row0}..${window.row1}, columns ${window.col0}..${window.col1}`;
}

/** Source cells per data cell along an axis of `cells` cells with at most `max` data cells (absent: exact). */
export function poolStep(cells: number, max: number | undefined): number {
  return max === undefined || cells <= max ? 1 : Math.ceil(cells / max);
}

/** The pooled shape of a window: steps from poolStep, and the data cells they give. */
export function pooledShape(window: CellWindow, maxRows: number | undefined, maxCols: number | undefined): { rows: number; cols: number; rowStep: number; colStep: number } {
  const windowRows = window.row1 - window.row0;
  const windowCols = window.col1 - window.col0;
  const rowStep = poolStep(windowRows, maxRows);
  const colStep = poolStep(windowCols, maxCols);
  return { rows: Math.ceil(windowRows / rowStep), cols: Math.ceil(windowCols / colStep), rowStep, colStep };
}

/**
 * [L, H, Tq, Tk] -> [rows, cols]: the window of (layer, head) — or of the mean of the layer's heads
 * for MEAN_OF_HEADS — max-pooled in blocks of ceil(windowRows / maxRows) × ceil(windowCols / maxCols)
 * cells (exact cells along an axis whose max is absent or not exceeded). Masked cells hold 0, so a
 * block the causal diagonal crosses is the max over its allowed cells. The mean is computed only
 * over the window, row by row with attentionViews.meanOfHeadRows (as meanOfHeads), so exact windows equal it.
 * causal (square maps): the cells above the diagonal are masked (0), so they are not read — the
 * pooled values are the same, at about half the reads of the whole map.
 * Throws a RangeError for a layer, head or window outside the tensor.
 */
export function poolHeadWindow(
  attention: Float32Array,
  dims: AttentionDims,
  layer: number,
  head: number,
  window: CellWindow = wholeWindow(dims[2], dims[3]),
  maxRows?: number,
  maxCols?: number,
  causal = false,
): PooledWindow {
  const [L, H, Tq, Tk] = dims;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new RangeError(`layer ${layer} is outside 0..${L - 1}`);
  if (head !== MEAN_OF_HEADS && (!Number.isInteger(head) || head < 0 || head >= H)) throw new RangeError(`head ${head} is outside 0..${H - 1}`);
  const problem = windowProblem(window, Tq, Tk);
  if (problem) throw new RangeError(problem);
  for (const [name, max] of [['maxRows', maxRows], ['maxCols', maxCols]] as const) {
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new RangeError(`${name} ${max} is not a positive integer`);
  }
  const { row0, row1, col0, col1 } = window;
  const { rows, cols, rowStep, colStep } = pooledShape(window, maxRows, maxCols);
  const windowCols = col1 - col0;
  const data = new Float32Array(rows * cols); // [rows, cols], 0 = the smallest weight
  const meanRow = head === MEAN_OF_HEADS ? new Float32Array(windowCols) : null; // [windowCols] one row's mean over heads
  const sums = new Float64Array(meanRow ? windowCols : 0); // meanOfHeadRows' scratch
  const layerBase = layer * H * Tq * Tk;
  const masked = causal && Tq === Tk;
  for (let t = row0; t < row1; t++) {
    // Columns of the window that row t may attend to: [0, readCols) of the window (the rest are masked zeros).
    const readCols = masked ? Math.min(windowCols, t + 1 - col0) : windowCols;
    if (readCols <= 0) continue;
    // The row's window: one head's weights in place, or their mean over heads.
    let values: Float32Array = attention;
    let first = layerBase + head * Tq * Tk + t * Tk + col0;
    if (meanRow) {
      meanOfHeadRows(attention, layerBase + t * Tk + col0, Tq * Tk, H, readCols, meanRow, 0, sums);
      values = meanRow;
      first = 0;
    }
    const out = Math.floor((t - row0) / rowStep) * cols;
    for (let j = 0, s = 0; s < readCols; j++) {
      const end = Math.min(readCols, s + colStep);
      let max = data[out + j];
      for (; s < end; s++) {
        const v = values[first + s];
        if (v > max) max = v;
      }
      data[out + j] = max;
    }
  }
  return { window: { row0, row1, col0, col1 }, rows, cols, rowStep, colStep, data };
}

/** Weights in [0, 1] -> q = round(w · levels) (clamped), so |q / levels − w| ≤ 0.5 / levels. */
export function quantizeWeights(data: Float32Array, encoding: 'uint16' | 'uint8'): Uint16Array | Uint8Array {
  const levels = QUANT_LEVELS[encoding];
  const out = encoding === 'uint16' ? new Uint16Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const w = data[i];
    out[i] = w > 0 ? (w >= 1 ? levels : Math.round(w * levels)) : 0;
  }
  return out;
}

/** Bytes per data cell of an encoding. */
export function bytesPerCell(encoding: CellEncoding): number {
  return encoding === 'float32' ? 4 : encoding === 'uint16' ? 2 : 1;
}

/** A received buffer as typed values and the factor that turns each into a weight (1 for float32). */
export function decodeCells(buffer: ArrayBuffer, encoding: CellEncoding): { values: Float32Array | Uint16Array | Uint8Array; unit: number } {
  if (encoding === 'float32') return { values: new Float32Array(buffer), unit: 1 };
  if (encoding === 'uint16') return { values: new Uint16Array(buffer), unit: 1 / QUANT_LEVELS.uint16 };
  return { values: new Uint8Array(buffer), unit: 1 / QUANT_LEVELS.uint8 };
}
