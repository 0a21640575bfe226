// One token sequence (the inspected source text, or an encoder–decoder's target) in reading order as
// chips, whitespace made visible and a real line break after every newline. One chip is the
// keyboard stop (roving tabindex). The active query token is marked on the strip of the current
// group's query sequence; its top-k attended tokens, on the strip of the key sequence, get a
// background whose strength follows their weight and a percentage badge.
//
// Virtualised: chip positions are computed arithmetically (stripLayout.ts, text widths from a
// canvas), the flow has the full height of every line, and only the chips in (or near) the scrolled
// range exist as elements, recycled as the strip scrolls or resizes. The keyboard stop, the active
// token and the attended tokens always keep their chips, so focus, `.token.active` and the badges
// never depend on where the strip is scrolled. Every chip says its place in the whole sequence
// (aria-setsize, aria-posinset).

import type { TokenSequence, TokenSpan } from '../src/core/types';
import type { WeightedToken } from '../src/shared/protocol';
import { endsLine, formatPercent, tokenDisplay } from './displayText';
import { closestIndex, el } from './dom';
import { t } from './l10n';
import { firstLineBelow, layoutStrip, type StripLayout } from './stripLayout';
import { fontOf, textWidth } from './textMeasure';

export interface TokenStripEvents {
  /** The pointer entered a chip, or left the strip (null). */
  onHover(token: number | null): void;
  /** A chip received keyboard (or click) focus. */
  onFocusChip(token: number): void;
  /** Click, Enter or Space on a chip: pin it, or unpin it when it is pinned. */
  onToggle(token: number): void;
}

/** Chips are kept this far (CSS px) above and below the visible range, so a small scroll shows no gap. */
const OVERSCAN_PX = 100;

/** A chip's height by font and box (every strip shares them). */
const CHIP_HEIGHTS = new Map<string, number>();

interface Attended {
  rank: number;
  weight: number;
  /** weight / the strongest attended weight. */
  strength: number;
}

export class TokenStrip {
  /** The scrolling viewport. */
  readonly element: HTMLElement;
  /** The positioned content the chips live in, as tall as every line. */
  readonly flow: HTMLElement;
  private tokens: TokenSpan[] = [];
  private shown: string[] = [];
  private layout: StripLayout | null = null;
  private chipHeight = 22;
  /** The flow's content width the layout was made for; -1: not laid out. */
  private laidOutWidth = -1;
  /** Last sizes the ResizeObserver reported (-1: none yet). */
  private flowWidth = -1;
  private viewportHeight = -1;
  /** The viewport's scroll offset as last seen in a scroll event or set here (reading it could force a layout). */
  private scrollTop = 0;
  /** Chips in the DOM by token, and detached chips to reuse. */
  private readonly chips = new Map<number, HTMLElement>();
  private readonly pool: HTMLElement[] = [];
  private attended = new Map<number, Attended>();
  private attendedOrder: number[] = [];
  private active: number | null = null;
  private pinned = false;
  private cursor = 0;
  private hovered: number | null = null;

  constructor(
    readonly sequence: TokenSequence,
    private readonly events: TokenStripEvents,
  ) {
    this.flow = el('div', 'token-flow', { role: 'listbox', 'aria-label': sequence === 'source' ? t('Tokens') : t('Target tokens'), 'aria-orientation': 'horizontal', 'data-sequence': sequence });
    this.element = el('div', 'token-scroll', { 'data-sequence': sequence }, this.flow);
    this.flow.addEventListener('mouseover', (event) => {
      const token = closestIndex(event.target, '.token', 'index');
      if (token !== undefined && token !== this.hovered) {
        this.hovered = token;
        this.events.onHover(token);
      }
    });
    this.flow.addEventListener('mouseleave', () => {
      this.hovered = null;
      this.events.onHover(null);
    });
    this.flow.addEventListener('focusin', (event) => {
      const token = closestIndex(event.target, '.token', 'index');
      if (token !== undefined) this.events.onFocusChip(token);
    });
    this.flow.addEventListener('click', (event) => {
      const token = closestIndex(event.target, '.token', 'index');
      if (token !== undefined) this.events.onToggle(token);
    });
    this.flow.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      const token = closestIndex(event.target, '.token', 'index');
      if (token === undefined) return;
      event.preventDefault();
      this.events.onToggle(token);
    });
    this.element.addEventListener(
      'scroll',
      () => {
        this.scrollTop = this.element.scrollTop;
        this.render();
      },
      { passive: true },
    );
    // Sizes arrive after layout and before paint: a wider or narrower strip re-wraps its lines in the same frame.
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        if (entry.target === this.flow) this.flowWidth = entry.contentRect.width;
        else this.viewportHeight = entry.contentRect.height;
      }
      if (this.tokens.length > 0 && Math.abs(this.flowWidth - this.laidOutWidth) > 0.01) this.relayout();
      else this.render();
    });
    observer.observe(this.flow);
    observer.observe(this.element);
  }

  setTokens(tokens: TokenSpan[]): void {
    this.tokens = tokens;
    this.shown = tokens.map(tokenDisplay);
    for (const chip of this.chips.values()) chip.remove();
    this.chips.clear();
    this.attended = new Map();
    this.attendedOrder = [];
    this.active = null;
    this.pinned = false;
    this.hovered = null;
    this.cursor = 0;
    this.layout = null;
    this.laidOutWidth = -1;
    this.element.scrollTop = 0;
    this.scrollTop = 0;
    this.relayout();
  }

  /**
   * What this sequence is to the current group: it gives the queries (hover and keys pick a token
   * here), the keys (attended tokens light up here), both, or neither.
   */
  setRole(role: 'queries' | 'keys' | 'both' | 'unused', description: string): void {
    this.flow.dataset.role = role;
    this.flow.setAttribute('aria-description', description);
  }

  get count(): number {
    return this.tokens.length;
  }

  get cursorToken(): number {
    return this.cursor;
  }

  /** Marks the active (hovered, focused or pinned) token. */
  setActive(token: number | null, pinned: boolean): void {
    const previous = this.active;
    this.active = token;
    this.pinned = pinned;
    this.flow.classList.toggle('has-active', token !== null);
    if (previous !== null) this.paintChip(previous);
    if (token !== null) this.paintChip(token);
    this.render();
  }

  /** Highlights the active token's top-k keys, largest first. */
  setAttended(attended: WeightedToken[]): void {
    const before = this.attendedOrder;
    const strongest = attended.reduce((max, item) => Math.max(max, item.weight), 0) || 1;
    this.attended = new Map(attended.map(({ token, weight }, rank) => [token, { rank: rank + 1, weight, strength: weight / strongest }]));
    this.attendedOrder = attended.map(({ token }) => token);
    for (const token of before) this.paintChip(token);
    this.render();
    for (const token of this.attendedOrder) this.paintChip(token);
    this.separateBadges();
  }

  /**
   * Weight badges sit centred above their chips, so two short neighbouring tokens would print one
   * percentage over the other. Going left to right along each line, a badge that would overlap the
   * one before it is nudged right just past it (at most 5 badges: a cheap layout pass).
   */
  private separateBadges(): void {
    const badges = this.attendedOrder
      .map((token) => this.chips.get(token)?.querySelector<HTMLElement>('.token-weight'))
      .filter((badge): badge is HTMLElement => badge !== null && badge !== undefined)
      .map((badge) => {
        badge.style.removeProperty('--nudge');
        return badge;
      })
      .map((badge) => ({ badge, box: badge.getBoundingClientRect() }))
      .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left);
    let previous: { top: number; right: number } | undefined;
    for (const { badge, box } of badges) {
      const nudge = previous && Math.abs(previous.top - box.top) < 1 && box.left < previous.right + 2 ? previous.right + 2 - box.left : 0;
      if (nudge > 0) badge.style.setProperty('--nudge', `${nudge}px`);
      previous = { top: box.top, right: box.right + nudge };
    }
  }

  /** Moves the keyboard stop to `token` (its chip is made if it has none); focuses it when asked; scrolls it into view. */
  setCursor(token: number, focus: boolean): void {
    if (!Number.isInteger(token) || token < 0 || token >= this.tokens.length) return;
    const previous = this.cursor;
    this.cursor = token;
    this.paintChip(previous);
    this.scrollIntoView(token);
    const chip = this.ensureChip(token);
    this.paintChip(token, chip);
    if (focus) chip.focus({ preventScroll: true });
  }

  scrollIntoView(token: number): void {
    const layout = this.layout;
    if (!layout || token < 0 || token >= this.tokens.length) return;
    // Scroll only the strip's own viewport, by hand: scrollIntoView would also scroll the page.
    const viewport = this.element;
    const height = this.visibleHeight();
    const top = layout.y[token];
    const bottom = top + this.chipHeight;
    const margin = 8;
    const scrollTop = this.scrollTop;
    let next = scrollTop;
    if (top - margin < scrollTop) next = Math.max(0, top - margin);
    else if (bottom + margin > scrollTop + height) next = Math.min(Math.max(0, layout.height - height), bottom + margin - height);
    if (next !== scrollTop) {
      viewport.scrollTop = next;
      this.scrollTop = next;
    }
    this.render();
  }

  /** True when keyboard focus is on one of the chips. */
  containsFocus(): boolean {
    return this.flow.contains(document.activeElement);
  }

  /** The chips' font may have changed (theme, editor font): measure and wrap again. */
  remeasure(): void {
    if (this.tokens.length > 0) this.relayout();
  }

  // ---------------------------------------------------------------- layout and the rendered window

  private visibleHeight(): number {
    return this.viewportHeight > 0 ? this.viewportHeight : window.innerHeight;
  }

  /**
   * Places every chip: the chip box from one chip's computed style (its height measured once per
   * font: the only layout read), the text of every token from a canvas (cached per font).
   */
  private relayout(): void {
    const T = this.tokens.length;
    if (T === 0) {
      this.layout = null;
      this.flow.style.height = '';
      this.render();
      return;
    }
    const sample = this.ensureChip(this.cursor);
    const flowStyle = getComputedStyle(this.flow);
    const chipStyle = getComputedStyle(sample);
    const textStyle = getComputedStyle(sample.querySelector('.token-text')!);
    const px = (value: string) => parseFloat(value) || 0;
    const padding = { top: px(flowStyle.paddingTop), right: px(flowStyle.paddingRight), bottom: px(flowStyle.paddingBottom), left: px(flowStyle.paddingLeft) };
    const width = this.flowWidth >= 0 ? this.flowWidth : this.flow.clientWidth - padding.left - padding.right;
    const chrome = px(chipStyle.paddingLeft) + px(chipStyle.paddingRight) + px(chipStyle.borderLeftWidth) + px(chipStyle.borderRightWidth);
    const font = fontOf(textStyle);
    const boxKey = `${font}|${chipStyle.padding}|${chipStyle.borderWidth}|${chipStyle.minHeight}`;
    let chipHeight = CHIP_HEIGHTS.get(boxKey);
    if (chipHeight === undefined) {
      chipHeight = sample.getBoundingClientRect().height;
      if (chipHeight > 0) CHIP_HEIGHTS.set(boxKey, chipHeight);
    }
    this.chipHeight = chipHeight || this.chipHeight;
    const italic = `italic ${textStyle.fontWeight} ${textStyle.fontSize} ${textStyle.fontFamily}`;
    const widths = new Float64Array(T); // [T]
    const breaks = new Uint8Array(T); // [T]
    for (let i = 0; i < T; i++) {
      const token = this.tokens[i];
      widths[i] = chrome + textWidth(token.label !== undefined ? italic : font, this.shown[i]);
      breaks[i] = endsLine(token.text) ? 1 : 0;
    }
    this.layout = layoutStrip(widths, breaks, { width: Math.max(0, width), chipHeight: this.chipHeight, rowGap: px(flowStyle.rowGap), columnGap: px(flowStyle.columnGap), padding });
    this.laidOutWidth = width;
    // Only the height: chips wider than the strip overflow sideways (the viewport scrolls), as flex items did.
    this.flow.style.height = `${this.layout.height}px`;
    for (const [token, chip] of this.chips) placeChip(chip, this.layout, token);
    this.render();
  }

  /** Keeps exactly the chips of the lines in (or near) view, plus the cursor, active and attended chips. */
  private render(): void {
    const layout = this.layout;
    const scrollTop = this.scrollTop;
    const wanted = new Set<number>();
    if (layout) {
      const height = this.visibleHeight();
      const first = firstLineBelow(layout, scrollTop - OVERSCAN_PX, this.chipHeight);
      const bottom = scrollTop + height + OVERSCAN_PX;
      for (let line = first; line < layout.lineTop.length && layout.lineTop[line] <= bottom; line++) {
        for (let token = layout.lineStart[line]; token < layout.lineStart[line + 1]; token++) wanted.add(token);
      }
      wanted.add(this.cursor);
      if (this.active !== null && this.active < this.tokens.length) wanted.add(this.active);
      for (const token of this.attendedOrder) if (token < this.tokens.length) wanted.add(token);
    }
    for (const [token, chip] of this.chips) {
      if (wanted.has(token)) continue;
      chip.remove();
      this.chips.delete(token);
      this.pool.push(chip);
    }
    // Insert the missing chips in reading order without moving the ones in place (a moved chip would lose focus).
    const order = [...wanted].sort((a, b) => a - b);
    let next: HTMLElement | null = null;
    for (let i = order.length - 1; i >= 0; i--) {
      const token = order[i];
      let chip = this.chips.get(token);
      if (!chip) {
        chip = this.bindChip(this.pool.pop() ?? makeChip(), token);
        this.chips.set(token, chip);
        this.flow.insertBefore(chip, next);
      }
      next = chip;
    }
  }

  /** The chip of `token`, made and inserted (in reading order) if it had none. */
  private ensureChip(token: number): HTMLElement {
    const existing = this.chips.get(token);
    if (existing) return existing;
    const chip = this.bindChip(this.pool.pop() ?? makeChip(), token);
    this.chips.set(token, chip);
    let after: HTMLElement | null = null;
    for (const [other, element] of this.chips) if (other > token && (!after || other < Number(after.dataset.index))) after = element;
    this.flow.insertBefore(chip, after);
    return chip;
  }

  /** Makes a (new or recycled) chip show `token`: text, tooltip, aria, place and every state. */
  private bindChip(chip: HTMLElement, token: number): HTMLElement {
    const span = this.tokens[token];
    const shown = this.shown[token];
    chip.dataset.index = String(token);
    chip.id = `${this.sequence}-token-${token}`;
    chip.setAttribute('aria-posinset', String(token + 1));
    chip.setAttribute('aria-setsize', String(this.tokens.length));
    chip.title = t('#{0} · id {1} · {2}', token, span.id, describeText(this.tokens, token));
    (chip.firstElementChild as HTMLElement).textContent = shown;
    if (this.layout) placeChip(chip, this.layout, token);
    this.paintChip(token, chip);
    return chip;
  }

  /** Applies the state of `token` (kind, cursor, active, pinned, attended) to its chip, if it has one. */
  private paintChip(token: number, chip = this.chips.get(token)): void {
    if (!chip || token >= this.tokens.length) return;
    const span = this.tokens[token];
    const kind = span.label !== undefined ? ' special' : span.text.length === 0 ? ' empty' : span.text.trim() === '' ? ' whitespace' : '';
    const active = this.active === token;
    const attended = this.attended.get(token);
    chip.className = `token${kind}${active ? ' active' : ''}${active && this.pinned ? ' pinned' : ''}${attended ? ' attended' : ''}`;
    chip.tabIndex = token === this.cursor ? 0 : -1;
    chip.setAttribute('aria-selected', active ? 'true' : 'false');
    const label = t('Token {0}: {1}', token, this.shown[token]);
    const badge = chip.lastElementChild as HTMLElement;
    if (attended) {
      chip.dataset.rank = String(attended.rank);
      chip.dataset.weight = String(attended.weight);
      chip.style.setProperty('--weight', attended.strength.toFixed(3));
      badge.textContent = formatPercent(attended.weight);
      chip.setAttribute('aria-label', t('{0}, attended {1}', label, formatPercent(attended.weight)));
    } else {
      delete chip.dataset.rank;
      delete chip.dataset.weight;
      chip.style.removeProperty('--weight');
      badge.textContent = '';
      badge.style.removeProperty('--nudge');
      chip.setAttribute('aria-label', label);
    }
  }
}

function makeChip(): HTMLElement {
  return el('div', 'token', { role: 'option' }, el('span', 'token-text'), el('span', 'token-weight', { 'aria-hidden': 'true' }));
}

function placeChip(chip: HTMLElement, layout: StripLayout, token: number): void {
  chip.style.left = `${layout.x[token]}px`;
  chip.style.top = `${layout.y[token]}px`;
}

/** The chip's tooltip text; an empty token says which character's bytes it carries. */
function describeText(tokens: readonly TokenSpan[], index: number): string {
  const label = tokens[index].label;
  if (label !== undefined) return t('{0}, inserted by the tokenizer (covers no text)', label);
  if (tokens[index].text !== '') return JSON.stringify(tokens[index].text);
  for (let previous = index - 1; previous >= 0; previous--) {
    const last = Array.from(tokens[previous].text).pop();
    if (last !== undefined) return t('more bytes of “{0}” (byte-level BPE split this character over several tokens)', last);
  }
  return t('no characters of its own');
}
