// One token sequence (the inspected source text, or an encoder–decoder's target) in reading order as
// chips, whitespace made visible and a real line break after every newline. One chip is the
// keyboard stop (roving tabindex). The active query token is marked on the strip of the current
// group's query sequence; its top-k attended tokens, on the strip of the key sequence, get a
// background whose strength follows their weight and a percentage badge.

import type { TokenSequence, TokenSpan } from '../src/core/types';
import type { WeightedToken } from '../src/shared/protocol';
import { endsLine, formatPercent, tokenDisplay } from './displayText';
import { closestIndex, el } from './dom';
import { t } from './l10n';

export interface TokenStripEvents {
  /** The pointer entered a chip, or left the strip (null). */
  onHover(token: number | null): void;
  /** A chip received keyboard (or click) focus. */
  onFocusChip(token: number): void;
  /** Click, Enter or Space on a chip: pin it, or unpin it when it is pinned. */
  onToggle(token: number): void;
}

export class TokenStrip {
  /** The scrolling viewport. */
  readonly element: HTMLElement;
  /** The positioned content the chips (and the link overlay) live in. */
  readonly flow: HTMLElement;
  private chips: HTMLElement[] = [];
  private labels: string[] = [];
  private attended: WeightedToken[] = [];
  private active: number | null = null;
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
  }

  setTokens(tokens: TokenSpan[]): void {
    const fragment = document.createDocumentFragment();
    this.chips = [];
    this.labels = [];
    this.attended = [];
    this.active = null;
    this.hovered = null;
    this.cursor = 0;
    tokens.forEach((token, index) => {
      const shown = tokenDisplay(token);
      const chip = el(
        'div',
        token.label !== undefined ? 'token special' : token.text.length === 0 ? 'token empty' : token.text.trim() === '' ? 'token whitespace' : 'token',
        { role: 'option', id: `${this.sequence}-token-${index}`, 'data-index': index, tabindex: index === 0 ? 0 : -1, 'aria-selected': 'false', title: t('#{0} · id {1} · {2}', index, token.id, describeText(tokens, index)) },
        el('span', 'token-text', undefined, shown),
        el('span', 'token-weight', { 'aria-hidden': 'true' }),
      );
      this.labels.push(t('Token {0}: {1}', index, shown));
      chip.setAttribute('aria-label', this.labels[index]);
      this.chips.push(chip);
      fragment.append(chip);
      if (endsLine(token.text)) fragment.append(el('span', 'line-break', { 'aria-hidden': 'true' }));
    });
    this.flow.replaceChildren(fragment);
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
    return this.chips.length;
  }

  get cursorToken(): number {
    return this.cursor;
  }

  /** Marks the active (hovered, focused or pinned) token. */
  setActive(token: number | null, pinned: boolean): void {
    if (this.active !== null) {
      const previous = this.chips[this.active];
      previous?.classList.remove('active', 'pinned');
      previous?.setAttribute('aria-selected', 'false');
    }
    this.active = token;
    this.flow.classList.toggle('has-active', token !== null);
    if (token === null) return;
    const chip = this.chips[token];
    chip?.classList.add('active');
    chip?.classList.toggle('pinned', pinned);
    chip?.setAttribute('aria-selected', 'true');
  }

  /** Highlights the active token's top-k keys, largest first. */
  setAttended(attended: WeightedToken[]): void {
    for (const { token } of this.attended) {
      const chip = this.chips[token];
      if (!chip) continue;
      chip.classList.remove('attended');
      delete chip.dataset.rank;
      delete chip.dataset.weight;
      chip.style.removeProperty('--weight');
      const badge = chip.querySelector<HTMLElement>('.token-weight')!;
      badge.textContent = '';
      badge.style.removeProperty('--nudge');
      chip.setAttribute('aria-label', this.labels[token]);
    }
    this.attended = attended;
    const strongest = attended.reduce((max, item) => Math.max(max, item.weight), 0) || 1;
    attended.forEach(({ token, weight }, rank) => {
      const chip = this.chips[token];
      if (!chip) return;
      chip.classList.add('attended');
      chip.dataset.rank = String(rank + 1);
      chip.dataset.weight = String(weight);
      chip.style.setProperty('--weight', (weight / strongest).toFixed(3));
      chip.querySelector('.token-weight')!.textContent = formatPercent(weight);
      chip.setAttribute('aria-label', t('{0}, attended {1}', this.labels[token], formatPercent(weight)));
    });
    this.separateBadges();
  }

  /**
   * Weight badges sit centred above their chips, so two short neighbouring tokens would print one
   * percentage over the other. Going left to right along each line, a badge that would overlap the
   * one before it is nudged right just past it (at most 5 badges: a cheap layout pass).
   */
  private separateBadges(): void {
    const badges = this.attended
      .map(({ token }) => this.chips[token]?.querySelector<HTMLElement>('.token-weight'))
      .filter((badge): badge is HTMLElement => badge !== null && badge !== undefined)
      .map((badge) => ({ badge, box: badge.getBoundingClientRect() }))
      .sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left);
    let previous: { top: number; right: number } | undefined;
    for (const { badge, box } of badges) {
      const nudge = previous && Math.abs(previous.top - box.top) < 1 && box.left < previous.right + 2 ? previous.right + 2 - box.left : 0;
      if (nudge > 0) badge.style.setProperty('--nudge', `${nudge}px`);
      previous = { top: box.top, right: box.right + nudge };
    }
  }

  /** Moves the keyboard stop to `token`; focuses it when asked; scrolls it into view. */
  setCursor(token: number, focus: boolean): void {
    const chip = this.chips[token];
    if (!chip) return;
    this.chips[this.cursor]?.setAttribute('tabindex', '-1');
    this.cursor = token;
    chip.setAttribute('tabindex', '0');
    if (focus) chip.focus({ preventScroll: true });
    this.scrollIntoView(token);
  }

  scrollIntoView(token: number): void {
    const chip = this.chips[token];
    if (!chip) return;
    // Scroll only the strip's own viewport, by hand: scrollIntoView would also scroll the page.
    const viewport = this.element;
    const top = chip.offsetTop;
    const bottom = top + chip.offsetHeight;
    const margin = 8;
    if (top - margin < viewport.scrollTop) viewport.scrollTop = Math.max(0, top - margin);
    else if (bottom + margin > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = bottom + margin - viewport.clientHeight;
  }

  /** True when keyboard focus is on one of the chips. */
  containsFocus(): boolean {
    return this.flow.contains(document.activeElement);
  }

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
