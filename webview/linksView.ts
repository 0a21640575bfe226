// The token links (bertviz's view) as a panel view: with an active token, its links in the current
// layer (every head for the mean view, else one), from the token's rows in the store; without,
// every query's strongest links in the shown head or mean. Drawn at most once a frame.

import { MEAN_HEAD } from '../src/shared/protocol';
import { el } from './dom';
import { describeGroup } from './groups';
import { headColorCss } from './theme';
import { TokenLinks } from './tokenLinks';
import type { PanelView, ViewContext, ViewSetup } from './view';
import { t } from './l10n';

export class LinksView implements PanelView {
  readonly id = 'links';
  readonly element: HTMLElement;
  private readonly links: TokenLinks;
  private readonly title = el('span', 'links-title-text', undefined, t('Links'));
  private context: ViewContext | undefined;
  private frame = 0;
  private readonly observer: ResizeObserver;

  constructor(setup: ViewSetup) {
    this.links = new TokenLinks({ onHover: (token) => setup.actions.hover(token), onToggle: (token) => setup.actions.togglePin(token) });
    this.element = el(
      'section',
      'links-section',
      { 'aria-labelledby': 'links-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'links-title' }, this.title)),
      this.links.element,
    );
    this.observer = new ResizeObserver(() => this.schedule());
    this.observer.observe(this.links.element);
  }

  update(context: ViewContext): void {
    this.context = context;
    const { change, state } = context;
    switch (change.kind) {
      case 'group': {
        const { group, texts } = context;
        this.links.setTokens(texts[group.queries] as string[], texts[group.keys] as string[], group.queries, group.keys);
        this.title.textContent = t('Links · {0}', describeGroup(group));
        return;
      }
      case 'focus': {
        const { token, attended } = context.focus;
        this.links.setActive(token, change.reveal);
        this.links.setAttended(token === null ? [] : (attended ?? []));
        this.schedule();
        return;
      }
      case 'arrived': {
        const arrival = change.arrival;
        if (arrival.kind === 'rows' && arrival.group === state.group && arrival.layer === state.layer && arrival.token === context.focus.token) this.draw();
        return;
      }
      case 'theme':
        this.schedule();
        return;
      default:
        return;
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const context = this.context;
    if (!context) {
      this.links.clear();
      return;
    }
    const { group, state, store, theme } = context;
    const token = context.focus.token;
    const [, heads, , Tk] = group.dims;
    if (token === null) {
      const matrix = store.cachedHead(state.group, state.layer, state.head);
      // One head's lines in its colour; the mean's in the foreground colour (headColorCss of MEAN_HEAD).
      if (matrix) this.links.drawOverview(matrix, headColorCss(theme, state.head));
      else this.links.clear();
      return;
    }
    const rows = store.cachedRows(state.group, state.layer, token);
    if (!rows) {
      this.links.clear();
      store.requestRows(state.group, state.layer, token);
      return;
    }
    const shownHeads = state.head === MEAN_HEAD ? Array.from({ length: heads }, (_, h) => h) : [state.head];
    this.links.draw({ query: token, rows, heads, keys: Tk, shownHeads, colorOf: (head) => headColorCss(theme, head) });
  }

  dispose(): void {
    this.observer.disconnect();
  }
}
