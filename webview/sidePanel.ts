// The side panel: the attention groups (see groupPicker.ts), then every layer of the current group
// with an "average of the heads' weights" entry and each head (with its colour swatch, the colour its links use, and
// under grouped-query attention the K/V head it reads). One listbox, one Tab stop (roving
// tabindex): arrows move within it, selection follows focus, a click picks directly. Once the
// host's head roles arrive (requestRoles), each head shows its strongest role as a small tag, and
// its title and aria-label read out every score.

import { MEAN_HEAD, type GroupInfo, type HeadRoleScores } from '../src/shared/protocol';
import { closestIndex, el } from './dom';
import { GroupPicker } from './groupPicker';
import { roleTag, rolesText, strongestRole } from './headRoles';
import { kvGroupOf, kvHeadsOf } from './groups';
import { headColorCss, type Theme } from './theme';
import { t } from './l10n';

export interface SidePanelEvents {
  onSelect(layer: number, head: number): void;
  onSelectGroup(group: number): void;
}

/** The short label of the mean-of-heads entry, and what it is (its title, aria-label and the hint). */
export function meanLabel(): string {
  return t('avg');
}
export function meanText(): string {
  return t("average of the heads' weights (a summary, not what the model computes)");
}

export class SidePanel {
  readonly element: HTMLElement;
  private readonly listbox: HTMLElement;
  private readonly groupPicker: GroupPicker;
  /** options[layer][head + 1]; index 0 is the mean. */
  private options: HTMLElement[][] = [];
  private layers = 0;
  private heads = 0;
  private selected = { layer: 0, head: MEAN_HEAD };

  constructor(private readonly events: SidePanelEvents) {
    this.listbox = el('div', 'head-grid', { role: 'listbox', 'aria-label': t('Layers and heads'), id: 'head-grid' });
    this.groupPicker = new GroupPicker({ onSelect: (group) => this.events.onSelectGroup(group) });
    this.element = el(
      'nav',
      'side-panel',
      { 'aria-label': t('Attention groups, layers and heads') },
      this.groupPicker.element,
      el('h2', 'panel-title', undefined, t('Layers & heads')),
      el('p', 'panel-hint', undefined, t('{0}: {1}.', meanLabel(), meanText())),
      this.listbox,
    );
    this.listbox.addEventListener('click', (event) => {
      const option = optionOf(event.target);
      if (option) this.pick(option.layer, option.head, true);
    });
    this.listbox.addEventListener('keydown', (event) => this.onKey(event));
  }

  /** A new run: its attention groups. */
  setGroups(groups: GroupInfo[]): void {
    this.groupPicker.setGroups(groups);
  }

  /** Shows the heads of this group (index into the session's groups); the selection is set after. */
  setGroup(index: number, group: GroupInfo, theme: Theme): void {
    this.groupPicker.setSelected(index);
    const [layers, heads] = group.dims;
    this.setDims(layers, heads, theme, kvHeadsOf(group));
  }

  private setDims(layers: number, heads: number, theme: Theme, kvHeads: number | undefined): void {
    // Rebuilding drops the focused option; the new selected one takes the focus back.
    const hadFocus = this.listbox.contains(document.activeElement);
    this.layers = layers;
    this.heads = heads;
    this.options = [];
    const groups: HTMLElement[] = [];
    for (let layer = 0; layer < layers; layer++) {
      const row: HTMLElement[] = [];
      const mean = el('div', 'head-option mean', { role: 'option', 'data-layer': layer, 'data-head': MEAN_HEAD, tabindex: -1, 'aria-selected': 'false', 'aria-label': t('Layer {0}, {1}', layer, meanText()), title: t('Layer {0} · {1} ({2} heads)', layer, meanText(), heads) }, meanLabel());
      row.push(mean);
      for (let head = 0; head < heads; head++) {
        const swatch = el('span', 'swatch', { 'aria-hidden': 'true' });
        const kv = kvHeads === undefined ? undefined : kvGroupOf(head, heads, kvHeads);
        const label = kv === undefined ? t('Layer {0}, head {1}', layer, head) : t('Layer {0}, head {1}, K/V head {2}', layer, head, kv);
        const option = el(
          'div',
          kv !== undefined && head > 0 && kvGroupOf(head - 1, heads, kvHeads!) !== kv ? 'head-option kv-start' : 'head-option',
          { role: 'option', 'data-layer': layer, 'data-head': head, tabindex: -1, 'aria-selected': 'false', 'aria-label': label, title: kv === undefined ? t('Layer {0} · head {1}', layer, head) : t('Layer {0} · head {1} · reads K/V head {2} of {3}', layer, head, kv, kvHeads!) },
          swatch,
          el('span', 'head-number', undefined, String(head)),
        );
        option.dataset.label = label;
        option.dataset.title = option.title;
        if (kv !== undefined) {
          option.dataset.kv = String(kv);
          option.append(el('span', 'kv-tag', { 'aria-hidden': 'true' }, `kv ${kv}`));
        }
        row.push(option);
      }
      this.options.push(row);
      groups.push(el('div', 'layer-row', { role: 'group', 'aria-label': t('Layer {0}', layer) }, el('span', 'layer-label', { 'aria-hidden': 'true' }, `L${layer}`), ...row));
    }
    this.listbox.replaceChildren(...groups);
    this.listbox.style.setProperty('--heads', String(heads));
    this.listbox.classList.toggle('gqa', kvHeads !== undefined);
    this.setTheme(theme);
    this.setSelected(this.selected.layer, this.selected.head);
    // Only while the panel has the keyboard: a re-render (roles arriving) must not pull focus from the workbench (a quick pick).
    if (hadFocus && document.hasFocus()) this.option(this.selected.layer, this.selected.head)?.focus();
  }

  /** The role scores of the shown group's heads (index layer·H + head), or null: none (cross-attention). */
  setRoles(roles: readonly HeadRoleScores[] | null): void {
    for (let layer = 0; layer < this.layers; layer++) {
      for (let head = 0; head < this.heads; head++) {
        const option = this.option(layer, head);
        if (!option) continue;
        option.querySelector('.role-tag')?.remove();
        const scores = roles?.[layer * this.heads + head];
        if (!scores || scores.layer !== layer || scores.head !== head) {
          option.setAttribute('aria-label', option.dataset.label ?? '');
          option.title = option.dataset.title ?? '';
          delete option.dataset.role;
          continue;
        }
        const text = rolesText(scores);
        const strongest = strongestRole(scores);
        option.setAttribute('aria-label', `${option.dataset.label}. ${text}`);
        option.title = `${option.dataset.title}\n${text}`;
        option.dataset.role = strongest.role;
        option.append(el('span', 'role-tag', { 'aria-hidden': 'true' }, roleTag(strongest.role)));
      }
    }
  }

  setTheme(theme: Theme): void {
    for (const row of this.options) {
      for (let head = 0; head < this.heads; head++) row[head + 1].style.setProperty('--head-color', headColorCss(theme, head));
    }
  }

  setSelected(layer: number, head: number): void {
    const previous = this.option(this.selected.layer, this.selected.head);
    if (previous) {
      previous.setAttribute('aria-selected', 'false');
      previous.setAttribute('tabindex', '-1');
    }
    this.selected = { layer, head };
    const current = this.option(layer, head);
    if (current) {
      current.setAttribute('aria-selected', 'true');
      current.setAttribute('tabindex', '0');
      // Keys like ] change the selection from anywhere; if the focus ring sat on the old option,
      // it follows, so focus and selection never point at different heads.
      if (previous && previous !== current && document.activeElement === previous && document.hasFocus()) current.focus();
    }
  }

  private option(layer: number, head: number): HTMLElement | undefined {
    return this.options[layer]?.[head + 1];
  }

  private pick(layer: number, head: number, focus: boolean): void {
    const option = this.option(layer, head);
    if (!option) return;
    this.events.onSelect(layer, head);
    if (focus) option.focus();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const at = optionOf(event.target);
    if (!at) return;
    const columns = this.heads + 1;
    let column = at.head + 1;
    let layer = at.layer;
    switch (event.key) {
      case 'ArrowLeft':
        column = (column - 1 + columns) % columns;
        break;
      case 'ArrowRight':
        column = (column + 1) % columns;
        break;
      case 'ArrowUp':
        layer = (layer - 1 + this.layers) % this.layers;
        break;
      case 'ArrowDown':
        layer = (layer + 1) % this.layers;
        break;
      case 'Home':
        column = 0;
        break;
      case 'End':
        column = columns - 1;
        break;
      case 'Enter':
      case ' ':
        break;
      default:
        return;
    }
    // Handled here: the panel-wide ←/→ (move the focused token) must not see these keys.
    event.preventDefault();
    event.stopPropagation();
    this.pick(layer, column - 1, true);
  }
}

function optionOf(target: EventTarget | null): { layer: number; head: number } | undefined {
  const layer = closestIndex(target, '.head-option', 'layer');
  const head = closestIndex(target, '.head-option', 'head');
  return layer === undefined || head === undefined ? undefined : { layer, head };
}
