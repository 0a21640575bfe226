// bertviz-style links: the current group's query tokens in a left column, its key tokens in a
// right column (the same tokens twice for self-attention; target and source for cross-attention),
// and a line from query to key whose opacity follows the weight. With no active token every
// query's strongest links of the shown view are drawn; with one, only its links, one colour per
// head. Mouse-only (hover a query to preview it, click to pin): the token strips and the heatmap
// carry the same information for the keyboard and screen readers, so this view is aria-hidden.

import type { TokenSequence } from '../src/core/types';
import type { WeightedToken } from '../src/shared/protocol';
import type { LinkLine, LinksFigure } from '../src/shared/exportLinks';
import { OVERVIEW_MIN_WEIGHT, overviewLinksPerQuery, topKeys } from '../src/shared/linkSelection';
import { closestIndex, el, svg } from './dom';
import { sequenceName } from './groups';
import { t } from './l10n';

/** Weights below this are not drawn: invisible at any opacity, and they would cost paths. */
const MIN_WEIGHT = 0.01;
/** Per head, at most this many links (the strongest). */
const MAX_LINKS_PER_HEAD = 32;
/** Links fainter than this, relative to the strongest drawn, are left out. */
const MIN_OPACITY = 0.04;

export interface LinkSet {
  query: number;
  /** [H, Tk]: rows[h * Tk + s] is the weight with which `query` attends to key s in head h. */
  rows: Float32Array;
  heads: number;
  /** Tk, the number of key tokens. */
  keys: number;
  /** The heads to draw (all of them for the mean view, one otherwise). */
  shownHeads: number[];
  colorOf(head: number): string;
}

export interface TokenLinksEvents {
  /** The pointer entered a query token (left column), or left the view (null). */
  onHover(token: number | null): void;
  /** A query token was clicked: pin it, or unpin it when it is pinned. */
  onToggle(token: number): void;
}

interface Point {
  x: number;
  y: number;
}

export class TokenLinks {
  readonly element: HTMLElement;
  private readonly board: HTMLElement;
  private readonly queryColumn: HTMLElement;
  private readonly keyColumn: HTMLElement;
  private readonly queryHeading: HTMLElement;
  private readonly keyHeading: HTMLElement;
  private readonly lines: SVGSVGElement;
  private queryItems: HTMLElement[] = [];
  private keyItems: HTMLElement[] = [];
  private attended: WeightedToken[] = [];
  private active: number | null = null;
  private hovered: number | null = null;
  private queryTexts: string[] = [];
  private keyTexts: string[] = [];
  /** The links drawn now, for export. */
  private drawn: LinkLine[] = [];

  constructor(private readonly events: TokenLinksEvents) {
    this.queryHeading = el('span', 'links-heading queries');
    this.keyHeading = el('span', 'links-heading keys');
    this.queryColumn = el('div', 'links-column queries');
    this.keyColumn = el('div', 'links-column keys');
    this.lines = svg('svg', { class: 'token-links', width: 0, height: 0 });
    this.board = el('div', 'links-board', undefined, this.queryColumn, el('div', 'links-gap'), this.keyColumn, this.lines);
    this.element = el(
      'div',
      'links-view',
      { 'aria-hidden': 'true' },
      el('div', 'links-headings', undefined, this.queryHeading, el('span', 'links-gap'), this.keyHeading),
      el('div', 'links-scroll', undefined, this.board),
    );
    this.queryColumn.addEventListener('mouseover', (event) => {
      const token = closestIndex(event.target, '.link-token', 'index');
      if (token !== undefined && token !== this.hovered) {
        this.hovered = token;
        this.events.onHover(token);
      }
    });
    this.queryColumn.addEventListener('mouseleave', () => {
      if (this.hovered === null) return;
      this.hovered = null;
      this.events.onHover(null);
    });
    this.queryColumn.addEventListener('click', (event) => {
      const token = closestIndex(event.target, '.link-token', 'index');
      if (token !== undefined) this.events.onToggle(token);
    });
  }

  /** A new run or another group: the query tokens (left) and key tokens (right), already made visible. */
  setTokens(queries: string[], keys: string[], querySequence: TokenSequence, keySequence: TokenSequence): void {
    this.queryTexts = queries;
    this.keyTexts = keys;
    this.queryHeading.textContent = t('Q: {0}', sequenceName(querySequence));
    this.keyHeading.textContent = t('K/V: {0}', sequenceName(keySequence));
    this.queryItems = queries.map((text, index) => el('div', 'link-token', { 'data-index': index, title: `#${index} ${text}` }, text));
    this.keyItems = keys.map((text, index) => el('div', 'link-token', { 'data-index': index, title: `#${index} ${text}` }, text));
    this.queryColumn.replaceChildren(...this.queryItems);
    this.keyColumn.replaceChildren(...this.keyItems);
    this.attended = [];
    this.active = null;
    this.hovered = null;
    this.board.classList.remove('has-active');
    this.clear();
  }

  /** Marks the active query token; scrolls it into view when asked (keyboard and editor moves). */
  setActive(token: number | null, reveal: boolean): void {
    if (this.active !== null) this.queryItems[this.active]?.classList.remove('active');
    this.active = token;
    this.board.classList.toggle('has-active', token !== null);
    if (token === null) return;
    const item = this.queryItems[token];
    item?.classList.add('active');
    if (item && reveal) revealIn(this.board.parentElement!, item);
  }

  /** Lights up the active token's top-k keys in the right column, strength following the weight. */
  setAttended(attended: WeightedToken[]): void {
    for (const { token } of this.attended) {
      const item = this.keyItems[token];
      if (!item) continue;
      item.classList.remove('attended');
      item.style.removeProperty('--weight');
    }
    this.attended = attended;
    const strongest = attended.reduce((max, item) => Math.max(max, item.weight), 0) || 1;
    for (const { token, weight } of attended) {
      const item = this.keyItems[token];
      if (!item) continue;
      item.classList.add('attended');
      item.style.setProperty('--weight', (weight / strongest).toFixed(3));
    }
  }

  clear(): void {
    this.lines.replaceChildren();
    this.lines.removeAttribute('data-mode');
    this.drawn = [];
  }

  /** What is drawn now as an exportable figure (src/shared/exportLinks.ts); null when no link is drawn. */
  figure(title: string): LinksFigure | null {
    if (this.drawn.length === 0) return null;
    const caption =
      this.lines.dataset.mode === 'token'
        ? t('Links of the active token: opacity = weight relative to the strongest drawn, one colour per head')
        : t("Line opacity = attention weight; each query's {0} strongest keys of weight ≥ {1}", overviewLinksPerQuery(this.queryTexts.length), OVERVIEW_MIN_WEIGHT);
    return { queryLabels: this.queryTexts, keyLabels: this.keyTexts, lines: this.drawn, title, caption, activeQuery: this.active ?? undefined };
  }

  /**
   * No active token: every query's strongest links in the shown view, in one colour.
   * matrix is [Tq, Tk] (one head, or the mean of the layer's heads).
   */
  drawOverview(matrix: Float32Array, color: string): void {
    const Tq = this.queryItems.length;
    const Tk = this.keyItems.length;
    if (matrix.length !== Tq * Tk || Tq === 0) {
      this.clear();
      return;
    }
    const perQuery = overviewLinksPerQuery(Tq);
    const geometry = this.measure();
    const paths: SVGPathElement[] = [];
    const strongestKeys = new Int32Array(perQuery);
    const drawn: LinkLine[] = [];
    for (let t = 0; t < Tq; t++) {
      const rowOffset = t * Tk;
      const found = topKeys(matrix, rowOffset, Tk, OVERVIEW_MIN_WEIGHT, strongestKeys);
      for (let i = 0; i < found; i++) {
        const s = strongestKeys[i];
        const weight = matrix[rowOffset + s];
        drawn.push({ query: t, key: s, weight, opacity: Math.min(1, weight), color });
        paths.push(
          svg('path', {
            d: linkPath(geometry.from(t), geometry.to(s), 0),
            stroke: color,
            'stroke-opacity': Math.min(1, weight).toFixed(3),
            'stroke-width': 1.5,
            fill: 'none',
            'data-query': t,
            'data-key': s,
            'data-weight': weight,
          }),
        );
      }
    }
    this.lines.dataset.mode = 'overview';
    this.lines.replaceChildren(...paths);
    this.drawn = drawn.sort((a, b) => a.weight - b.weight);
  }

  /** The active token's links: for each shown head its strongest keys, opacity ∝ weight over all drawn. */
  draw(links: LinkSet): void {
    const { query, rows, heads, keys: Tk, shownHeads } = links;
    if (rows.length !== heads * Tk || !this.queryItems[query] || Tk !== this.keyItems.length) {
      this.clear();
      return;
    }
    const chosen: { head: number; key: number; weight: number }[] = [];
    let strongest = 0;
    for (const head of shownHeads) {
      const offset = head * Tk;
      const keys: number[] = [];
      for (let s = 0; s < Tk; s++) if (rows[offset + s] >= MIN_WEIGHT) keys.push(s);
      keys.sort((a, b) => rows[offset + b] - rows[offset + a]);
      for (const key of keys.slice(0, MAX_LINKS_PER_HEAD)) {
        const weight = rows[offset + key];
        chosen.push({ head, key, weight });
        strongest = Math.max(strongest, weight);
      }
    }
    const geometry = this.measure();
    const from = geometry.from(query);
    // Heads fan out a little at both ends so overlapping links of different heads stay visible.
    const spread = Math.min(geometry.rowHeight * 0.6, shownHeads.length * 1.5);
    const paths: SVGPathElement[] = [];
    const drawn: LinkLine[] = [];
    // Faint links first so the strong ones are painted on top.
    chosen.sort((a, b) => a.weight - b.weight);
    for (const { head, key, weight } of chosen) {
      const opacity = weight / strongest;
      if (opacity < MIN_OPACITY) continue;
      drawn.push({ query, key, weight, opacity, color: links.colorOf(head) });
      const lane = shownHeads.length > 1 ? (shownHeads.indexOf(head) / (shownHeads.length - 1) - 0.5) * spread : 0;
      paths.push(
        svg('path', {
          d: linkPath(from, geometry.to(key), lane),
          stroke: links.colorOf(head),
          'stroke-opacity': opacity.toFixed(3),
          'stroke-width': 2,
          fill: 'none',
          'stroke-linecap': 'round',
          'data-head': head,
          'data-query': query,
          'data-key': key,
          'data-weight': weight,
        }),
      );
    }
    this.lines.dataset.mode = 'token';
    this.lines.replaceChildren(...paths);
    this.drawn = drawn;
  }

  /** Where links start (right edge of a query) and end (left edge of a key), in the board's coordinates. */
  private measure(): { from(query: number): Point; to(key: number): Point; rowHeight: number } {
    this.lines.setAttribute('width', String(this.board.scrollWidth));
    this.lines.setAttribute('height', String(this.board.scrollHeight));
    const left = this.queryColumn.offsetLeft + this.queryColumn.offsetWidth;
    const right = this.keyColumn.offsetLeft;
    const center = (item: HTMLElement | undefined) => (item ? item.offsetTop + item.offsetHeight / 2 : 0);
    return {
      from: (query) => ({ x: left, y: center(this.queryItems[query]) }),
      to: (key) => ({ x: right, y: center(this.keyItems[key]) }),
      rowHeight: this.queryItems[0]?.offsetHeight ?? 16,
    };
  }
}

/** A curve from the right edge of a query to the left edge of a key, level at both ends. */
function linkPath(from: Point, to: Point, lane: number): string {
  const y1 = from.y + lane;
  const y2 = to.y + lane;
  const middle = (from.x + to.x) / 2;
  return `M${from.x.toFixed(1)} ${y1.toFixed(1)} C${middle.toFixed(1)} ${y1.toFixed(1)} ${middle.toFixed(1)} ${y2.toFixed(1)} ${to.x.toFixed(1)} ${y2.toFixed(1)}`;
}

/** Scrolls only `viewport` (never the page) so that `item` is inside it. */
function revealIn(viewport: HTMLElement, item: HTMLElement): void {
  const top = item.offsetTop;
  const bottom = top + item.offsetHeight;
  const margin = 8;
  if (top - margin < viewport.scrollTop) viewport.scrollTop = Math.max(0, top - margin);
  else if (bottom + margin > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = bottom + margin - viewport.clientHeight;
}
