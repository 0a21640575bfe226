// The panel's DOM skeleton: banners and header on top, then the workspace with the side panel
// (layers and heads) and the main column: the token strips with the focus line, unpin button and
// key hints, then the views area where every registered view's element is placed.

import { Banners } from './banners';
import { el } from './dom';
import { t } from './l10n';

export interface PanelLayout {
  banners: Banners;
  headerSlot: HTMLElement;
  workspace: HTMLElement;
  /** Where the views' elements sit; gets the class `stacked` for long inputs. */
  views: HTMLElement;
  focusInfo: HTMLElement;
  unpinButton: HTMLElement;
  /** The g / G hint, shown only with more than one group. */
  groupHint: HTMLElement;
}

export function buildLayout(root: HTMLElement, parts: { sidePanel: HTMLElement; sequences: HTMLElement; views: readonly HTMLElement[] }): PanelLayout {
  const banners = new Banners();
  const headerSlot = el('div', 'header-slot');
  const focusInfo = el('p', 'focus-info', { 'aria-live': 'polite' });
  const unpinButton = el('button', 'unpin', { type: 'button', hidden: true, title: t('Unpin (Escape)') }, t('Unpin'));
  const key = (text: string) => el('kbd', undefined, undefined, text);
  const groupHint = el('span', 'group-hint', { hidden: true }, key('g'), key('G'), ` ${t('group')}  `);
  const hints = el(
    'p',
    'hints',
    undefined,
    key('←'),
    key('→'),
    ` ${t('token')}  `,
    key('['),
    key(']'),
    ` ${t('head')}  `,
    key('{'),
    key('}'),
    ` ${t('layer')}  `,
    groupHint,
    key('Enter'),
    ` ${t('or click to pin')}  `,
    key('+'),
    key('−'),
    key('0'),
    ` ${t('zoom a large heatmap (or the wheel)')}  `,
    key('Esc'),
    ` ${t('unpin')}`,
  );
  const tokensSection = el(
    'section',
    'tokens-section',
    { 'aria-labelledby': 'tokens-title' },
    el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'tokens-title' }, t('Tokens')), focusInfo, unpinButton),
    parts.sequences,
    hints,
  );
  const views = el('div', 'views', undefined, ...parts.views);
  const workspace = el('div', 'workspace', { hidden: true }, parts.sidePanel, el('main', 'main-column', undefined, tokensSection, views));
  root.prepend(banners.element, headerSlot);
  root.append(workspace);
  return { banners, headerSlot, workspace, views, focusInfo, unpinButton, groupHint };
}
