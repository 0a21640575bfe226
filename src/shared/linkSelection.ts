// Which links the links view draws, shared by the panel (webview/tokenLinks.ts) and the SVG export
// (exportLinks.ts), so a saved figure shows the lines the panel shows.

/** Overview (no active token): links at least this heavy, at most a few per query. */
export const OVERVIEW_MIN_WEIGHT = 0.05;
export const OVERVIEW_LINKS_PER_QUERY = 6;
/** Long inputs draw fewer overview links per query, so the figure stays a few thousand paths. */
export const OVERVIEW_LINKS_LONG = 2;
export const OVERVIEW_LONG_TOKENS = 128;

/** How many overview links each query gets for an input of Tq queries. */
export function overviewLinksPerQuery(Tq: number): number {
  return Tq > OVERVIEW_LONG_TOKENS ? OVERVIEW_LINKS_LONG : OVERVIEW_LINKS_PER_QUERY;
}

/**
 * The indices of row [offset, offset + Tk) with weight >= minWeight, heaviest first, at most
 * out.length of them, written to out; returns how many. Insertion into a tiny sorted buffer, no allocation.
 */
export function topKeys(weights: ArrayLike<number>, offset: number, Tk: number, minWeight: number, out: Int32Array): number {
  let count = 0;
  for (let s = 0; s < Tk; s++) {
    const weight = weights[offset + s];
    if (!(weight >= minWeight)) continue;
    if (count === out.length && weight <= weights[offset + out[count - 1]]) continue;
    let at = count < out.length ? count++ : count - 1;
    while (at > 0 && weights[offset + out[at - 1]] < weight) {
      out[at] = out[at - 1];
      at--;
    }
    out[at] = s;
  }
  return count;
}

export interface Link {
  query: number;
  key: number;
  weight: number;
}

/** Every query's strongest links of a [Tq, Tk] matrix (the overview rule above), faint first. */
export function overviewLinks(matrix: ArrayLike<number>, Tq: number, Tk: number): Link[] {
  const strongest = new Int32Array(overviewLinksPerQuery(Tq));
  const links: Link[] = [];
  for (let t = 0; t < Tq; t++) {
    const found = topKeys(matrix, t * Tk, Tk, OVERVIEW_MIN_WEIGHT, strongest);
    for (let i = 0; i < found; i++) links.push({ query: t, key: strongest[i], weight: Number(matrix[t * Tk + strongest[i]]) });
  }
  return links.sort((a, b) => a.weight - b.weight);
}
