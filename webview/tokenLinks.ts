// bertviz-style links: the current group's query tokens in a left column, its key tokens in a
// right column (the same tokens twice for self-attention; target and source for cross-attention),
// and a line from query to key whose opacity follows the weight. With no active token every
// query's strongest links of the shown view are drawn; with one, only its links, one colour per
// head. Mouse-only (hover a query to preview it, click to pin): the token strips and the heatmap
// carry the same information for the keyboard and screen readers, so this view is aria-hidden.
//
// Virtualised: every row is ROW px high, so a token's place is arithmetic. The columns have the full
// height and their labels' measured width (textMeasure.ts), only the rows in (or near) the scrolled
// range exist as elements (recycled on scroll), and the overview draws the lines of the queries in
// that range; the active token's links (at most MAX_LINKS_PER_HEAD per head) are drawn wherever
// their keys are. The export still holds every query's links (figure()).

import type { TokenSequence } from '../src/core/types';
import type { WeightedToken } from '../src/shared/protocol';
import type { LinkLine, LinksFigure } from '../src/shared/exportLinks';
import { OVERVIEW_MIN_WEIGHT, overviewLinks, overviewLinksPerQuery, topKeys } from '../src/shared/linkSelection';
import { closestIndex, el, svg } from './dom';
import { sequenceName } from './groups';
import { t } from './l10n';
import { fontOf, textWidth } from './textMeasure';

/** Weights below this are not drawn: invisible at any opacity, and they would cost paths. */
const MIN_WEIGHT = 0.01;
/** Per head, at most this many links (the strongest). */
const MAX_LINKS_PER_HEAD = 32;
/** Links fainter than this, relative to the strongest drawn, are left out. */
const MIN_OPACITY = 0.04;
/** Rows are kept this far (CSS px) above and below the scrolled range. */
const OVERSCAN_PX = 90;
/** The grid's middle column is at least this wide (media/webview.css, .links-board). */
const MIN_GAP = 56;

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
  /** Other query rows came into view (scroll, resize): an overview drawn from rows of a block may need others. */
  onRowsInView?(first: number, last: number): void;
}

/** Exact rows of a [Tq, Tk] map: values[(t - row0) * Tk + s] for queries row0 <= t < row1 (the whole map: row0 0, row1 Tq). */
export interface QueryRows {
  values: Float32Array;
  row0: number;
  row1: number;
}

interface Point {
  x: number;
  y: number;
}

/** One column of labels (queries or keys): the rows in the DOM by token, and detached rows to reuse. */
class Column {
  readonly element: HTMLElement;
  texts: readonly string[] = [];
  readonly items = new Map<number, HTMLElement>();
  private readonly pool: HTMLElement[] = [];

  constructor(kind: 'queries' | 'keys') {
    this.element = el('div', `links-column ${kind}`);
  }

  setTexts(texts: readonly string[], row: number): void {
    this.texts = texts;
    for (const item of this.items.values()) item.remove();
    this.items.clear();
    this.element.style.height = `${texts.length * row}px`;
  }

  /** Sets the width every label needs (capped like a label, at maxWidth), from the canvas. */
  fitWidth(font: string, horizontalPadding: number, maxWidth: number): number {
    let widest = 0;
    for (const text of this.texts) widest = Math.max(widest, textWidth(font, text));
    const needed = Math.ceil(widest) + horizontalPadding + 1;
    const width = Math.min(needed, maxWidth > 0 ? maxWidth : needed);
    this.element.style.width = `${width}px`;
    return width;
  }

  /** Keeps exactly the rows in `wanted` (ascending), in order; `paint` sets a row's state. */
  render(wanted: readonly number[], row: number, paint: (item: HTMLElement, token: number) => void): void {
    const keep = new Set(wanted);
    for (const [token, item] of this.items) {
      if (keep.has(token)) continue;
      item.remove();
      this.items.delete(token);
      this.pool.push(item);
    }
    let next: HTMLElement | null = null;
    for (let i = wanted.length - 1; i >= 0; i--) {
      const token = wanted[i];
      let item = this.items.get(token);
      if (!item) {
        item = this.pool.pop() ?? el('div', 'link-token');
        const text = this.texts[token];
        item.dataset.index = String(token);
        item.title = `#${token} ${text}`;
        item.textContent = text;
        item.style.top = `${token * row}px`;
        paint(item, token);
        this.items.set(token, item);
        this.element.insertBefore(item, next);
      }
      next = item;
    }
  }
}

export class TokenLinks {
  readonly element: HTMLElement;
  private readonly board: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly queries = new Column('queries');
  private readonly keys = new Column('keys');
  private readonly queryHeading: HTMLElement;
  private readonly keyHeading: HTMLElement;
  private readonly lines: SVGSVGElement;
  private attended = new Map<number, number>();
  private active: number | null = null;
  private hovered: number | null = null;
  /** Row height and the board's top padding (CSS), read when the tokens are set. */
  private row = 18;
  private padTop = 6;
  private padLeft = 10;
  private viewportHeight = -1;
  /** The viewport's scroll offset as last seen in a scroll event or set here (reading it could force a layout). */
  private scrollTop = 0;
  /** The board's content width (ResizeObserver); -1: not known yet. */
  private boardWidth = -1;
  /** The columns' widths as set (their widest label). */
  private queryWidth = 0;
  private keyWidth = 0;
  /** The overview's matrix and colour while it is drawn (it is redrawn for the rows in view). */
  private overview: { rows: QueryRows; color: string } | null = null;
  /** The first and last query row the overview's lines were drawn for. */
  private overviewRows: [number, number] = [0, -1];
  /** The active token's links drawn now, for export. */
  private drawn: LinkLine[] = [];

  constructor(private readonly events: TokenLinksEvents) {
    this.queryHeading = el('span', 'links-heading queries');
    this.keyHeading = el('span', 'links-heading keys');
    this.lines = svg('svg', { class: 'token-links', width: 0, height: 0 });
    this.board = el('div', 'links-board', undefined, this.queries.element, el('div', 'links-gap'), this.keys.element, this.lines);
    this.viewport = el('div', 'links-scroll', undefined, this.board);
    this.element = el('div', 'links-view', { 'aria-hidden': 'true' }, el('div', 'links-headings', undefined, this.queryHeading, el('span', 'links-gap'), this.keyHeading), this.viewport);
    const queryColumn = this.queries.element;
    queryColumn.addEventListener('mouseover', (event) => {
      const token = closestIndex(event.target, '.link-token', 'index');
      if (token !== undefined && token !== this.hovered) {
        this.hovered = token;
        this.events.onHover(token);
      }
    });
    queryColumn.addEventListener('mouseleave', () => {
      if (this.hovered === null) return;
      this.hovered = null;
      this.events.onHover(null);
    });
    queryColumn.addEventListener('click', (event) => {
      const token = closestIndex(event.target, '.link-token', 'index');
      if (token !== undefined) this.events.onToggle(token);
    });
    this.viewport.addEventListener(
      'scroll',
      () => {
        this.scrollTop = this.viewport.scrollTop;
        this.scrolled();
      },
      { passive: true },
    );
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        if (entry.target === this.board) this.boardWidth = entry.contentRect.width;
        else this.viewportHeight = entry.contentRect.height;
      }
      this.scrolled();
    });
    observer.observe(this.viewport);
    observer.observe(this.board);
  }

  /** A new run or another group: the query tokens (left) and key tokens (right), already made visible. */
  setTokens(queries: string[], keys: string[], querySequence: TokenSequence, keySequence: TokenSequence): void {
    this.queryHeading.textContent = t('Q: {0}', sequenceName(querySequence));
    this.keyHeading.textContent = t('K/V: {0}', sequenceName(keySequence));
    this.attended = new Map();
    this.active = null;
    this.hovered = null;
    this.board.classList.remove('has-active');
    this.clear();
    // One row's style gives the row height, the labels' font and their cap (CSS, no layout).
    const sample = el('div', 'link-token', undefined, 'x');
    this.queries.element.replaceChildren(sample);
    const style = getComputedStyle(sample);
    const px = (value: string) => parseFloat(value) || 0;
    this.row = px(style.height) || this.row;
    const boardStyle = getComputedStyle(this.board);
    this.padTop = px(boardStyle.paddingTop);
    this.padLeft = px(boardStyle.paddingLeft);
    const font = fontOf(style);
    const horizontalPadding = px(style.paddingLeft) + px(style.paddingRight);
    sample.remove();
    this.queries.setTexts(queries, this.row);
    this.keys.setTexts(keys, this.row);
    this.queryWidth = this.queries.fitWidth(font, horizontalPadding, px(style.maxWidth));
    this.keyWidth = this.keys.fitWidth(font, horizontalPadding, px(style.maxWidth));
    this.viewport.scrollTop = 0;
    this.scrollTop = 0;
    this.renderRows();
  }

  /** Marks the active query token; scrolls it into view when asked (keyboard and editor moves). */
  setActive(token: number | null, reveal: boolean): void {
    const previous = this.active;
    this.active = token;
    this.board.classList.toggle('has-active', token !== null);
    if (previous !== null) this.queries.items.get(previous)?.classList.remove('active');
    if (token === null || token >= this.queries.texts.length) return;
    if (reveal) this.reveal(token);
    this.renderRows();
    this.queries.items.get(token)?.classList.add('active');
  }

  /** Lights up the active token's top-k keys in the right column, strength following the weight. */
  setAttended(attended: WeightedToken[]): void {
    for (const token of this.attended.keys()) paintAttended(this.keys.items.get(token), undefined);
    const strongest = attended.reduce((max, item) => Math.max(max, item.weight), 0) || 1;
    this.attended = new Map(attended.map(({ token, weight }) => [token, weight / strongest]));
    this.renderRows();
    for (const [token, strength] of this.attended) paintAttended(this.keys.items.get(token), strength);
  }

  clear(): void {
    this.lines.replaceChildren();
    this.lines.removeAttribute('data-mode');
    this.drawn = [];
    this.overview = null;
  }

  /** What is drawn now as an exportable figure (src/shared/exportLinks.ts); null when no link is drawn. */
  figure(title: string): LinksFigure | null {
    const queryLabels = this.queries.texts;
    const keyLabels = this.keys.texts;
    const overview = this.overview;
    // The overview's figure holds the links of every query it has rows for (the whole map: all of them).
    const drawn = overview
      ? overviewLinks(overview.rows.values, overview.rows.row1 - overview.rows.row0, keyLabels.length).map((link) => ({ ...link, query: link.query + overview.rows.row0, opacity: Math.min(1, link.weight), color: overview.color }))
      : this.drawn;
    if (drawn.length === 0) return null;
    const caption =
      this.lines.dataset.mode === 'token'
        ? t('Links of the active token: opacity = weight relative to the strongest drawn, one colour per head')
        : t("Line opacity = attention weight; each query's {0} strongest keys of weight ≥ {1}", overviewLinksPerQuery(queryLabels.length), OVERVIEW_MIN_WEIGHT);
    return { queryLabels, keyLabels, lines: drawn, title, caption, activeQuery: this.active ?? undefined };
  }

  /**
   * No active token: every query's strongest links in the shown view, in one colour, drawn for the
   * queries in (or near) the scrolled range. matrix is [Tq, Tk] (one head, or the mean of the layer's heads).
   */
  drawOverview(matrix: Float32Array, color: string): void {
    this.drawOverviewOf({ values: matrix, row0: 0, row1: this.queries.texts.length }, color);
  }

  /** The overview from exact rows of the map (a long run's whole map never reaches the page); rows outside them get no lines. */
  drawOverviewOf(rows: QueryRows, color: string): void {
    const Tq = this.queries.texts.length;
    const Tk = this.keys.texts.length;
    if (Tq === 0 || rows.row0 < 0 || rows.row1 > Tq || rows.row1 <= rows.row0 || rows.values.length !== (rows.row1 - rows.row0) * Tk) {
      this.clear();
      return;
    }
    this.drawn = [];
    this.overview = { rows, color };
    this.drawOverviewRows();
  }

  /** The query rows (first, last) in (or near) the viewport. */
  rowsInView(): [number, number] {
    return this.rowRange(this.queries.texts.length);
  }

  private drawOverviewRows(): void {
    const overview = this.overview;
    if (!overview) return;
    const { rows, color } = overview;
    const Tq = this.queries.texts.length;
    const Tk = this.keys.texts.length;
    const [inViewFirst, inViewLast] = this.rowRange(Tq);
    this.overviewRows = [inViewFirst, inViewLast];
    const first = Math.max(inViewFirst, rows.row0);
    const last = Math.min(inViewLast, rows.row1 - 1);
    const matrix = rows.values;
    const perQuery = overviewLinksPerQuery(Tq);
    const geometry = this.measure();
    const paths: SVGPathElement[] = [];
    const strongestKeys = new Int32Array(perQuery);
    for (let t = first; t <= last; t++) {
      const rowOffset = (t - rows.row0) * Tk; // [Tk] row of query t
      const found = topKeys(matrix, rowOffset, Tk, OVERVIEW_MIN_WEIGHT, strongestKeys);
      for (let i = 0; i < found; i++) {
        const s = strongestKeys[i];
        const weight = matrix[rowOffset + s];
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
  }

  /** The active token's links: for each shown head its strongest keys, opacity ∝ weight over all drawn. */
  draw(links: LinkSet): void {
    const { query, rows, heads, keys: Tk, shownHeads } = links;
    if (rows.length !== heads * Tk || query < 0 || query >= this.queries.texts.length || Tk !== this.keys.texts.length) {
      this.clear();
      return;
    }
    this.overview = null;
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

  // ---------------------------------------------------------------- rows in view

  private scrolled(): void {
    this.renderRows();
    const [first, last] = this.rowRange(this.queries.texts.length);
    if (first === this.overviewRows[0] && last === this.overviewRows[1]) return;
    if (this.overview) this.drawOverviewRows();
    this.events.onRowsInView?.(first, last);
  }

  /** The rows (first, last) in (or near) the viewport, clamped to [0, count). */
  private rowRange(count: number): [number, number] {
    const scrollTop = this.scrollTop;
    const height = this.viewportHeight > 0 ? this.viewportHeight : window.innerHeight;
    const first = Math.max(0, Math.floor((scrollTop - this.padTop - OVERSCAN_PX) / this.row));
    const last = Math.min(count - 1, Math.ceil((scrollTop + height + OVERSCAN_PX - this.padTop) / this.row));
    return [first, last];
  }

  /** Keeps the rows in view in both columns, plus the active query and the attended keys. */
  private renderRows(): void {
    const rows = (count: number, extra: Iterable<number>) => {
      const [first, last] = this.rowRange(count);
      const wanted = new Set<number>();
      for (let i = first; i <= last; i++) wanted.add(i);
      for (const token of extra) if (token >= 0 && token < count) wanted.add(token);
      return [...wanted].sort((a, b) => a - b);
    };
    this.queries.render(rows(this.queries.texts.length, this.active === null ? [] : [this.active]), this.row, (item, token) => {
      item.className = token === this.active ? 'link-token active' : 'link-token';
    });
    this.keys.render(rows(this.keys.texts.length, this.attended.keys()), this.row, (item, token) => {
      item.className = 'link-token';
      paintAttended(item, this.attended.get(token));
    });
  }

  /** Scrolls only the links' viewport (never the page) so that row `token` is inside it. */
  private reveal(token: number): void {
    const viewport = this.viewport;
    const top = this.padTop + token * this.row;
    const bottom = top + this.row;
    const margin = 8;
    const height = this.viewportHeight > 0 ? this.viewportHeight : viewport.clientHeight;
    const scrollTop = this.scrollTop;
    let next = scrollTop;
    if (top - margin < scrollTop) next = Math.max(0, top - margin);
    else if (bottom + margin > scrollTop + height) next = bottom + margin - height;
    if (next !== scrollTop) {
      viewport.scrollTop = next;
      this.scrollTop = next;
    }
  }

  /**
   * Where links start (right edge of the query column) and end (left edge of the key column), in the
   * board's coordinates: from the columns' widths and the board's (the grid's middle column takes the
   * rest, at least MIN_GAP); read from the layout only before the board has reported its width.
   */
  private measure(): { from(query: number): Point; to(key: number): Point; rowHeight: number } {
    const rows = Math.max(this.queries.texts.length, this.keys.texts.length);
    let left: number;
    let right: number;
    let width: number;
    if (this.boardWidth >= 0) {
      left = this.padLeft + this.queryWidth;
      right = this.padLeft + Math.max(this.queryWidth + MIN_GAP, this.boardWidth - this.keyWidth);
      width = right + this.keyWidth + this.padLeft;
    } else {
      left = this.queries.element.offsetLeft + this.queries.element.offsetWidth;
      right = this.keys.element.offsetLeft;
      width = this.board.scrollWidth;
    }
    this.lines.setAttribute('width', String(Math.ceil(width)));
    this.lines.setAttribute('height', String(2 * this.padTop + rows * this.row));
    const center = (token: number) => this.padTop + (token + 0.5) * this.row;
    return {
      from: (query) => ({ x: left, y: center(query) }),
      to: (key) => ({ x: right, y: center(key) }),
      rowHeight: this.row,
    };
  }
}

/** A key row's highlight: strength (0..1, relative to the strongest attended) or none. */
function paintAttended(item: HTMLElement | undefined, strength: number | undefined): void {
  if (!item) return;
  item.classList.toggle('attended', strength !== undefined);
  if (strength === undefined) item.style.removeProperty('--weight');
  else item.style.setProperty('--weight', strength.toFixed(3));
}

/** A curve from the right edge of a query to the left edge of a key, level at both ends. */
function linkPath(from: Point, to: Point, lane: number): string {
  const y1 = from.y + lane;
  const y2 = to.y + lane;
  const middle = (from.x + to.x) / 2;
  return `M${from.x.toFixed(1)} ${y1.toFixed(1)} C${middle.toFixed(1)} ${y1.toFixed(1)} ${middle.toFixed(1)} ${y2.toFixed(1)} ${to.x.toFixed(1)} ${y2.toFixed(1)}`;
}
