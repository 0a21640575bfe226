// Where every chip of a token strip goes, computed arithmetically instead of by the browser, so the
// strip can keep only the chips in view in the DOM (tokenStrip.ts) and still have the full scroll
// extent. It reproduces the flex-wrap layout the strip had when every chip was an element: chips in
// reading order, `columnGap` apart, wrapping greedily to the next line when the next chip would pass
// the right edge; after a token that ends a line, a zero-height break (flex-basis 100 %) takes a line
// of its own, so a newline leaves one extra row gap, as before.

export interface StripMetrics {
  /** Width of the content box the chips wrap in (the flow's width minus its padding). */
  width: number;
  /** Every chip's height (they share one font and min-height). */
  chipHeight: number;
  rowGap: number;
  columnGap: number;
  padding: { top: number; right: number; bottom: number; left: number };
}

export interface StripLayout {
  /** [T]: left and top of chip t inside the flow's border box. */
  x: Float64Array;
  y: Float64Array;
  /** [lines + 1]: chips lineStart[k] .. lineStart[k + 1] - 1 sit on line k (break lines hold none). */
  lineStart: Int32Array;
  /** [lines]: top of each line, ascending. */
  lineTop: Float64Array;
  /** The flow's full height: every line and the padding. */
  height: number;
}

/** Flex compares in 1/64 px; a tolerance of the same size keeps a chip that exactly fits on its line. */
const FIT_TOLERANCE = 1 / 64;

/**
 * widths: [T] chip widths (border box); endsLine: [T] 1 where the token ends a line.
 * Lines are either chip lines (height chipHeight) or break lines (height 0).
 */
export function layoutStrip(widths: Float64Array, endsLine: Uint8Array, metrics: StripMetrics): StripLayout {
  const T = widths.length;
  const { width: W, chipHeight, rowGap, columnGap, padding } = metrics;
  const x = new Float64Array(T);
  const y = new Float64Array(T);
  const lineStarts: number[] = [];
  const lineTops: number[] = [];
  let top = padding.top; // top of the current line
  let used = 0; // width taken on the current line; 0: the line is empty
  let lineHeight = 0; // height of the current line (0 for a break line)
  let open = false; // whether the current line takes more chips (a break line does not)
  const newLine = (at: number, height: number) => {
    if (lineStarts.length > 0) top += lineHeight + rowGap;
    lineStarts.push(at);
    lineTops.push(top);
    used = 0;
    lineHeight = height;
    open = height > 0;
  };
  for (let t = 0; t < T; t++) {
    const w = widths[t];
    if (!open || (used > 0 && used + columnGap + w > W + FIT_TOLERANCE)) newLine(t, chipHeight);
    const left = used > 0 ? used + columnGap : 0;
    x[t] = padding.left + left; // [T]
    y[t] = top;
    used = left + w;
    lineHeight = chipHeight;
    // The break (width W) never fits beside a chip: it takes a line of its own, and the next chip starts another.
    if (endsLine[t]) newLine(t + 1, 0);
  }
  const contentBottom = lineStarts.length > 0 ? top + lineHeight : padding.top;
  lineStarts.push(T);
  return {
    x,
    y,
    lineStart: Int32Array.from(lineStarts),
    lineTop: Float64Array.from(lineTops),
    height: contentBottom + padding.bottom,
  };
}

/** The first line whose bottom (top + chipHeight) reaches `offset`: binary search over lineTop. */
export function firstLineBelow(layout: StripLayout, offset: number, chipHeight: number): number {
  let low = 0;
  let high = layout.lineTop.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (layout.lineTop[middle] + chipHeight < offset) low = middle + 1;
    else high = middle;
  }
  return low;
}
