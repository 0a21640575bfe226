// bertviz-style links over the token strip: curves from the active (query) token to the tokens it
// attends to, one colour per head, opacity proportional to the weight. Drawn in an SVG that sits
// behind the chips inside the strip's scrolling content, so it scrolls with them.

import { svg } from './dom';
import type { ChipBox, TokenStrip } from './tokenStrip';

/** Weights below this are not drawn: invisible at any opacity, and they would cost paths. */
const MIN_WEIGHT = 0.01;
/** Per head, at most this many links (the strongest). */
const MAX_LINKS_PER_HEAD = 32;
/** Links fainter than this, relative to the strongest drawn, are left out. */
const MIN_OPACITY = 0.04;
const MAX_ARC_CSS = 26;

export interface LinkSet {
  query: number;
  /** [H, T]: rows[h * T + s] is the weight with which `query` attends to key s in head h. */
  rows: Float32Array;
  heads: number;
  tokens: number;
  /** The heads to draw (all of them for the mean view, one otherwise). */
  shownHeads: number[];
  colorOf(head: number): string;
}

export class TokenLinks {
  readonly element: SVGSVGElement;

  constructor(private readonly strip: TokenStrip) {
    this.element = svg('svg', { class: 'token-links', 'aria-hidden': 'true', width: 0, height: 0 });
    strip.flow.prepend(this.element);
  }

  clear(): void {
    this.element.replaceChildren();
  }

  draw(links: LinkSet): void {
    const { query, rows, heads, tokens: T, shownHeads } = links;
    const from = this.strip.chipBox(query);
    if (!from || rows.length !== heads * T) {
      this.clear();
      return;
    }
    // Strongest keys per head, then one opacity scale over everything drawn: opacity ∝ weight.
    const chosen: { head: number; key: number; weight: number }[] = [];
    let strongest = 0;
    for (const head of shownHeads) {
      const offset = head * T;
      const keys: number[] = [];
      for (let s = 0; s < T; s++) if (s !== query && rows[offset + s] >= MIN_WEIGHT) keys.push(s);
      keys.sort((a, b) => rows[offset + b] - rows[offset + a]);
      for (const key of keys.slice(0, MAX_LINKS_PER_HEAD)) {
        const weight = rows[offset + key];
        chosen.push({ head, key, weight });
        strongest = Math.max(strongest, weight);
      }
    }
    const flow = this.strip.flow;
    this.element.setAttribute('width', String(flow.scrollWidth));
    this.element.setAttribute('height', String(flow.scrollHeight));
    const spread = Math.min(from.width * 0.6, shownHeads.length * 2.5);
    const paths: SVGPathElement[] = [];
    // Faint links first so the strong ones are painted on top.
    chosen.sort((a, b) => a.weight - b.weight);
    for (const { head, key, weight } of chosen) {
      const opacity = weight / strongest;
      if (opacity < MIN_OPACITY) continue;
      const to = this.strip.chipBox(key);
      if (!to) continue;
      const lane = shownHeads.length > 1 ? (shownHeads.indexOf(head) / (shownHeads.length - 1) - 0.5) * spread : 0;
      paths.push(
        svg('path', {
          d: linkPath(from, to, lane),
          stroke: links.colorOf(head),
          'stroke-opacity': opacity.toFixed(3),
          'stroke-width': 2,
          fill: 'none',
          'stroke-linecap': 'round',
          'data-head': head,
          'data-key': key,
          'data-weight': weight,
        }),
      );
    }
    this.element.replaceChildren(...paths);
  }
}

/** A curve from the query chip to the key chip: an arch on the same line, an S across lines. */
function linkPath(from: ChipBox, to: ChipBox, lane: number): string {
  const x1 = from.left + from.width / 2 + lane;
  const x2 = to.left + to.width / 2 + lane;
  if (Math.abs(from.top - to.top) < 4) {
    const y = Math.min(from.top, to.top);
    const lift = Math.min(MAX_ARC_CSS, 8 + Math.abs(x2 - x1) * 0.2);
    return `M${x1.toFixed(1)} ${y} C${x1.toFixed(1)} ${y - lift} ${x2.toFixed(1)} ${y - lift} ${x2.toFixed(1)} ${y}`;
  }
  const upwards = to.top < from.top;
  const y1 = upwards ? from.top : from.top + from.height;
  const y2 = upwards ? to.top + to.height : to.top;
  const middle = (y1 + y2) / 2;
  return `M${x1.toFixed(1)} ${y1} C${x1.toFixed(1)} ${middle} ${x2.toFixed(1)} ${middle} ${x2.toFixed(1)} ${y2}`;
}
