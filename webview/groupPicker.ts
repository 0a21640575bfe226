// The attention groups of a run, at the top of the side panel. With several (an encoder–decoder's
// encoder self, decoder masked self and cross), a row of toggle buttons (aria-pressed), each naming
// the group and where its Q and K/V come from; with one, just that description. Either way the
// current group's grouped-query sharing ("8 query heads share 2 K/V heads") is spelled out below.

import type { GroupInfo } from '../src/shared/protocol';
import { closestIndex, el } from './dom';
import { describeGroup, describeKvSharing, groupLabel, groupSources } from './groups';
import { t } from './l10n';

export interface GroupPickerEvents {
  onSelect(group: number): void;
}

export class GroupPicker {
  readonly element: HTMLElement;
  private readonly buttons: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly kvNote: HTMLElement;
  private groups: GroupInfo[] = [];
  private options: HTMLButtonElement[] = [];

  constructor(private readonly events: GroupPickerEvents) {
    this.buttons = el('div', 'group-options', { role: 'group', 'aria-label': t('Attention groups') });
    this.summary = el('p', 'group-summary');
    this.kvNote = el('p', 'group-kv', { hidden: true });
    this.element = el('div', 'group-picker', undefined, el('h2', 'panel-title', { id: 'groups-title' }, t('Attention')), this.buttons, this.summary, this.kvNote);
    this.buttons.addEventListener('click', (event) => {
      const group = closestIndex(event.target, '.group-option', 'group');
      if (group !== undefined) this.events.onSelect(group);
    });
  }

  setGroups(groups: GroupInfo[]): void {
    this.groups = groups;
    this.options = groups.map((group, index) => {
      const [, , Tq, Tk] = group.dims;
      return el(
        'button',
        'group-option',
        { type: 'button', 'data-group': index, 'aria-pressed': 'false', title: `${describeGroup(group)} · ${Tq} × ${Tk}` },
        el('span', 'group-label', undefined, groupLabel(group)),
        el('span', 'group-sources', undefined, groupSources(group)),
      );
    });
    this.buttons.replaceChildren(...this.options);
    // A lone group needs no picker, only its description.
    this.buttons.hidden = groups.length < 2;
    this.summary.hidden = groups.length >= 2;
    this.element.classList.toggle('single', groups.length < 2);
  }

  setSelected(index: number): void {
    this.options.forEach((option, i) => option.setAttribute('aria-pressed', String(i === index)));
    const group = this.groups[index];
    if (!group) return;
    this.summary.replaceChildren(el('span', 'group-label', undefined, groupLabel(group)), ' · ', el('span', 'group-sources', undefined, groupSources(group)));
    const sharing = describeKvSharing(group);
    this.kvNote.textContent = sharing ? t('Grouped-query attention: {0}.', sharing) : '';
    this.kvNote.hidden = !sharing;
  }
}
