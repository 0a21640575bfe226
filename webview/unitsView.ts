// The Units view: a small bar above the heatmap with the panel option "Units: tokens | characters |
// words" (a <select>, reachable with Tab and changed with the arrow keys) and the legend of the
// merging rule. Choosing asks the host to show the inspected run as those units (setMerge); the host
// publishes it again as a new session whose tokens are the units (core/merge.ts), so the strips,
// heatmap, links, hover and editor painting all work on units without knowing it. The Steps view
// explains a unit by its last token and says so (mergedQueryNote). Every string is in STRINGS below.

import type { HeadExplanation } from '../src/core/explain/types';
import type { SessionInfo, UnitsMode } from '../src/shared/protocol';
import { el } from './dom';
import { t } from './l10n';
import type { PanelView, ViewContext, ViewSetup } from './view';

/** The view's words, in one place (each through t). */
const STRINGS = {
  label: () => t('Units'),
  option: { tokens: () => t('tokens'), chars: () => t('characters'), words: () => t('words') } satisfies Record<UnitsMode, () => string>,
  /** The legend of each mode: what a unit is, and the merging rule. */
  legend: {
    tokens: () => t("Each unit is one of the model's tokens."),
    chars: () => t("Characters: a token holding only the rest of a character's bytes joins that character. Attention is summed over a unit's keys and averaged over its queries, so rows still sum to 1."),
    words: () => t("Words: runs between spaces and punctuation (Chinese and Japanese: one character per word). Attention is summed over a unit's keys and averaged over its queries, so rows still sum to 1."),
  } satisfies Record<UnitsMode, () => string>,
  switching: () => t('Showing the run as other units…'),
  explainsLastToken: (token: number, text: string, unit: number) => t('Explaining the last token of the unit: token #{0} “{1}” of unit #{2}.', token, text, unit),
};

const MODES: readonly UnitsMode[] = ['tokens', 'chars', 'words'];

export class UnitsView implements PanelView {
  readonly id = 'units';
  readonly element: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly legend = el('p', 'units-legend', { 'data-role': 'units-legend', 'aria-live': 'polite' });
  private context: ViewContext | undefined;

  constructor(_setup: ViewSetup) {
    this.select = el(
      'select',
      'units-select',
      { 'data-control': 'units', id: 'units-select' },
      ...MODES.map((mode) => el('option', undefined, { value: mode }, STRINGS.option[mode]())),
    );
    this.select.addEventListener('change', () => this.choose(this.select.value as UnitsMode));
    this.element = el(
      'section',
      'units-section',
      { role: 'group', 'aria-label': STRINGS.label() },
      el('label', 'units-label', { for: 'units-select' }, STRINGS.label()),
      this.select,
      this.legend,
    );
  }

  update(context: ViewContext): void {
    this.context = context;
    if (context.change.kind !== 'session') return;
    const mode: UnitsMode = context.session.merge ?? 'tokens';
    this.select.value = mode;
    this.select.removeAttribute('aria-busy');
    this.element.dataset.units = mode;
    this.legend.textContent = STRINGS.legend[mode]();
  }

  private choose(mode: UnitsMode): void {
    const session = this.context?.session;
    if (!session || !MODES.includes(mode) || mode === (session.merge ?? 'tokens')) return;
    this.select.setAttribute('aria-busy', 'true');
    this.legend.textContent = STRINGS.switching();
    this.context?.host.post({ type: 'setMerge', sessionId: session.sessionId, merge: mode });
  }
}

/**
 * For the Steps view: on a session of merged units, the sentence that says which token explains
 * query unit `unit` (its last one, as the host maps it); '' on a session of tokens.
 */
export function mergedQueryNote(session: SessionInfo | undefined, unit: number, explanation: Pick<HeadExplanation, 'query'>): string {
  if (!session?.merge) return '';
  return STRINGS.explainsLastToken(explanation.query.index, explanation.query.text, unit);
}
