// The "Positions & what if" view: sets up a variation of the inspected run (positions off, two
// tokens swapped, heads switched off), asks the host for the base and the varied run of the shown
// layer and head (requestComparison), and shows them side by side (the varied map in the base
// token order), their difference in diverging colours, the largest difference, the permutation
// check of a swap and the next-token predictions of both runs. The variation is shared with the
// Steps view (variationState.ts). Styles: media/compareView.css.

import type { RunVariation, HeadRef } from '../src/core/explain/types';
import type { TokenSpan } from '../src/core/types';
import { MEAN_HEAD, type ComparisonMessage, type ComparisonPayload, type RequestComparisonMessage } from '../src/shared/protocol';
import { formatPercent, tokenDisplay, truncateLabel } from './displayText';
import { el, setStatusLine } from './dom';
import { differenceColor, mapFigure, weightColor } from './mapFigure';
import { requestKey } from './requests';
import { describeVariation, headName, sharedVariation } from './variationState';
import type { PanelView, ViewContext, ViewSetup } from './view';
import { t } from './l10n';

/** Up to this many tokens the maps carry token labels and their values in data-values. */

export function compareHint(): string {
  return t('Turn positions off, swap two tokens or switch off a head to see how the attention of this head changes.');
}

export class CompareView implements PanelView {
  readonly id = 'compare';
  readonly element: HTMLElement;
  private readonly positionsButton = el('button', 'cv-toggle', { type: 'button', 'aria-pressed': 'false', 'data-control': 'positions', title: t('Run without position information (no position embeddings)') }, t('Positions off'));
  private readonly swapButton = el('button', 'cv-toggle', { type: 'button', 'aria-pressed': 'false', 'data-control': 'swap', title: t('Exchange two tokens (whole characters) before the run') }, t('Swap'));
  private readonly swapFirst = el('select', 'cv-picker', { 'aria-label': t('First token to swap'), 'data-control': 'swap-first' });
  private readonly swapSecond = el('select', 'cv-picker', { 'aria-label': t('Second token to swap'), 'data-control': 'swap-second' });
  private readonly ablateButton = el('button', 'cv-action', { type: 'button', 'data-control': 'ablate', title: t("Set this head's output to zero in the varied run") }, t('Switch off this head'));
  private readonly ablatedList = el('ul', 'cv-ablated', { 'aria-label': t('Switched-off heads'), 'data-role': 'ablated' });
  private readonly status = el('p', 'cv-status', { 'aria-live': 'polite', 'data-role': 'compare-status' });
  private readonly result = el('div', 'cv-result', { 'data-role': 'compare-result', hidden: true });
  private context: ViewContext | undefined;
  private positionsOff = false;
  private swapOn = false;
  private ablated: HeadRef[] = [];
  private wanted: string | null = null;
  private sessionId = -1;
  /** The pinned token the swap pickers were last filled from. */
  private prefilledFrom: number | null | undefined = undefined;
  /**
   * The session's tokens while the pickers hold only their chosen option: T options each (8,192 at
   * 4096 tokens) cost seconds of layout, so the full lists are built only when the section is first
   * used (a pointer or the keyboard reaches it), never for the panel's first paint.
   */
  private pickerTokens: readonly TokenSpan[] | null = null;

  constructor(_setup: ViewSetup) {
    const controls = el(
      'div',
      'cv-controls',
      { role: 'group', 'aria-label': t('Variation of the run') },
      this.positionsButton,
      el('span', 'cv-swap', {}, this.swapButton, this.swapFirst, el('span', 'cv-swap-arrow', { 'aria-hidden': 'true' }, '⇄'), this.swapSecond),
      this.ablateButton,
      this.ablatedList,
    );
    this.element = el(
      'section',
      'compare-section',
      { 'aria-labelledby': 'compare-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'compare-title' }, t('Positions & what if'))),
      controls,
      this.status,
      this.result,
    );
    this.positionsButton.addEventListener('click', () => {
      this.positionsOff = !this.positionsOff;
      this.changed();
    });
    this.swapButton.addEventListener('click', () => {
      this.swapOn = !this.swapOn;
      this.changed();
    });
    for (const picker of [this.swapFirst, this.swapSecond]) picker.addEventListener('change', () => this.swapOn && this.changed());
    // pointerdown comes before the select opens its list, focusin before the keyboard moves in it.
    for (const type of ['pointerdown', 'focusin'] as const) this.element.addEventListener(type, () => this.fillPickers());
    this.ablateButton.addEventListener('click', () => {
      const state = this.context?.state;
      if (!state || state.head === MEAN_HEAD) return;
      if (!this.ablated.some((ref) => ref.layer === state.layer && ref.head === state.head)) this.ablated = [...this.ablated, { layer: state.layer, head: state.head }];
      this.changed();
    });
    this.ablatedList.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest<HTMLElement>('button[data-layer]') : null;
      if (!button) return;
      const layer = Number(button.dataset.layer);
      const head = Number(button.dataset.head);
      this.ablated = this.ablated.filter((ref) => ref.layer !== layer || ref.head !== head);
      this.changed();
      (this.ablatedList.querySelector<HTMLElement>('button') ?? this.ablateButton).focus();
    });
  }

  update(context: ViewContext): void {
    this.context = context;
    switch (context.change.kind) {
      case 'session':
        if (context.session.sessionId !== this.sessionId) {
          this.sessionId = context.session.sessionId;
          this.positionsOff = false;
          this.swapOn = false;
          this.ablated = [];
          this.prefilledFrom = undefined;
          this.resetPickers(context.session.tokens);
          this.changed(false);
        }
        return;
      case 'group':
      case 'view':
      case 'colorScale':
      case 'theme':
        this.refresh();
        return;
      case 'focus':
        this.prefill();
        return;
      default:
        return;
    }
  }

  /** The variation the controls describe. */
  variation(): RunVariation {
    const variation: RunVariation = {};
    if (this.positionsOff) variation.positions = false;
    if (this.swapOn) {
      const first = Number(this.swapFirst.value);
      const second = Number(this.swapSecond.value);
      if (Number.isInteger(first) && Number.isInteger(second) && first !== second) variation.swap = [first, second];
    }
    if (this.ablated.length > 0) variation.ablate = this.ablated;
    return variation;
  }

  private changed(share = true): void {
    this.positionsButton.setAttribute('aria-pressed', String(this.positionsOff));
    this.swapButton.setAttribute('aria-pressed', String(this.swapOn));
    this.ablatedList.replaceChildren(
      ...this.ablated.map((ref) =>
        el('li', 'cv-ablated-head', {}, el('span', '', {}, t('{0} off', headName(ref))), el('button', 'cv-restore', { type: 'button', 'data-layer': ref.layer, 'data-head': ref.head, 'aria-label': t('Restore {0}', headName(ref)), title: t('Restore {0}', headName(ref)) }, t('Restore'))),
      ),
    );
    const variation = this.variation();
    if (share) sharedVariation.set(variation);
    this.refresh();
  }

  /** A new session: each picker holds only its default choice (the last two tokens) until fillPickers. */
  private resetPickers(tokens: readonly TokenSpan[]): void {
    this.pickerTokens = tokens;
    const last = Math.max(0, tokens.length - 1);
    this.choose(this.swapFirst, Math.max(0, last - 1));
    this.choose(this.swapSecond, last);
  }

  /** Every token as an option of both pickers, keeping their choices (once per session). */
  private fillPickers(): void {
    const tokens = this.pickerTokens;
    if (!tokens) return;
    this.pickerTokens = null;
    for (const picker of [this.swapFirst, this.swapSecond]) {
      const chosen = picker.value;
      picker.replaceChildren(...tokens.map((token, index) => tokenOption(token, index)));
      picker.value = chosen;
    }
  }

  /** Selects token `index` in a picker: in its full list, or as its only option while it is not filled. */
  private choose(picker: HTMLSelectElement, index: number): void {
    const token = this.pickerTokens?.[index];
    if (this.pickerTokens) picker.replaceChildren(...(token ? [tokenOption(token, index)] : []));
    picker.value = String(index);
  }

  /** While the swap is off, the pickers follow the pinned token: it and the character before it. */
  private prefill(): void {
    const context = this.context;
    if (!context || this.swapOn) return;
    const pinned = context.state.pinned;
    if (pinned === this.prefilledFrom) return;
    this.prefilledFrom = pinned;
    if (pinned === null) return;
    const tokens = context.session.tokens;
    let before = pinned - 1;
    while (before > 0 && tokens[before]?.text === '' && tokens[before]?.label === undefined) before--;
    if (before < 0) before = Math.min(tokens.length - 1, pinned + 1);
    this.choose(this.swapFirst, pinned);
    this.choose(this.swapSecond, before);
  }

  private refresh(): void {
    const context = this.context;
    if (!context) return;
    const { state, session } = context;
    this.ablateButton.disabled = state.head === MEAN_HEAD;
    const variation = this.variation();
    if (session.groups.length > 1) return this.idle(t('{0} works on decoder- and encoder-only models.', t('Positions & what if')));
    if (describeVariation(variation) === '') return this.idle(compareHint());
    if (state.head === MEAN_HEAD) return this.idle(t('Pick one head (side panel, or [ / ]) to compare its attention in the two runs.'));
    const request: RequestComparisonMessage = { type: 'requestComparison', sessionId: session.sessionId, layer: state.layer, head: state.head, variation };
    const key = requestKey(request);
    this.wanted = key;
    this.element.classList.add('loading');
    this.setStatus(t('Running the text twice (plain and {0})…', describeVariation(variation)), 'loading');
    void context.host.request(request).then((reply) => {
      if (this.wanted === key && this.context) this.show(reply, this.context);
    });
  }

  private idle(text: string): void {
    this.wanted = null;
    this.element.classList.remove('loading');
    this.result.hidden = true;
    this.result.replaceChildren();
    this.setStatus(text, 'hint');
  }

  private setStatus(text: string, kind: 'hint' | 'loading' | 'error' | 'none'): void {
    setStatusLine(this.status, text, kind);
  }

  private show(reply: ComparisonMessage, context: ViewContext): void {
    this.element.classList.remove('loading');
    const comparison = reply.comparison;
    if (!comparison) {
      this.result.hidden = true;
      this.result.replaceChildren();
      this.setStatus(reply.error ?? t('The host could not compare the runs.'), 'error');
      return;
    }
    this.setStatus('', 'none');
    const T = comparison.tokens.length;
    const base = new Float32Array(comparison.base);
    const varied = new Float32Array(comparison.varied);
    if (base.length !== T * T || varied.length !== T * T) {
      this.setStatus(t('The comparison has {0} and {1} weights; expected {2}.', base.length, varied.length, T * T), 'error');
      return;
    }
    const difference = new Float32Array(T * T);
    for (let i = 0; i < T * T; i++) difference[i] = varied[i] - base[i];
    const labels = comparison.tokens.map((token) => tokenDisplay(token));
    const baseName = describeVariation(comparison.baseVariation) || t('plain run');
    const variedName = describeVariation(comparison.variation);
    const maps = el(
      'div',
      'cv-maps',
      {},
      mapFigure('base', t('Base: {0}', baseName), base, labels, context, (v) => weightColor(v, context)),
      mapFigure('varied', t('Varied: {0} (in the base order)', variedName), varied, labels, context, (v) => weightColor(v, context)),
      mapFigure('difference', t('Difference: varied − base (blue: higher, orange: lower)'), difference, labels, context, (v) => differenceColor(v, comparison.maxDifference, context)),
    );
    const max = el(
      'p',
      'cv-max',
      { 'data-role': 'max-difference', 'data-value': String(comparison.maxDifference) },
      t('Largest difference anywhere in layer {0}, head {1}: {2}', comparison.layer, comparison.head, formatDeviation(comparison.maxDifference)),
    );
    const parts: HTMLElement[] = [maps, max];
    if (comparison.permutation) {
      parts.push(el('p', comparison.permutation.expected ? 'cv-permutation cv-ok' : 'cv-permutation', { 'data-role': 'permutation', 'data-deviation': String(comparison.permutation.deviation) }, permutationStatement(comparison)));
    }
    parts.push(this.predictions(comparison));
    this.result.replaceChildren(...parts);
    this.result.hidden = false;
  }

  private predictions(comparison: ComparisonPayload): HTMLElement {
    const list = (title: string, role: string, items: { token: string; probability: number }[]) =>
      el(
        'div',
        'cv-predictions-list',
        { 'data-role': role },
        el('h4', 'cv-subtitle', {}, title),
        items.length === 0
          ? el('p', 'cv-muted', {}, t('no predictions (this model has no LM head)'))
          : el('ol', '', {}, ...items.slice(0, 5).map((item) => el('li', '', {}, el('span', 'cv-token', {}, tokenDisplay({ text: item.token })), ' ', el('span', 'cv-prob', {}, formatPercent(item.probability))))),
      );
    return el(
      'div',
      'cv-predictions',
      {},
      list(t('Next token, base'), 'predictions-base', comparison.basePredictions),
      list(t('Next token, {0}', describeVariation(comparison.variation)), 'predictions-varied', comparison.variedPredictions),
    );
  }
}

/** One token as a swap picker option. */
function tokenOption(token: TokenSpan, index: number): HTMLOptionElement {
  // Continuation tokens (the rest of a character's bytes) move with the token before them.
  const continuation = token.text === '' && token.label === undefined && index > 0;
  return el('option', '', { value: index, disabled: continuation }, `#${index} ${truncateLabel(tokenDisplay(token), 16)}`);
}

/** "0" below a millionth (float rounding), else a few significant digits. */
export function formatDeviation(value: number): string {
  if (value < 1e-6) return '0';
  return value >= 0.01 ? value.toFixed(2) : value.toPrecision(2);
}

/** The sentence the swap lesson turns on. */
export function permutationStatement(comparison: Pick<ComparisonPayload, 'permutation' | 'variation' | 'layer' | 'tokens'>): string {
  const permutation = comparison.permutation;
  if (!permutation) return '';
  const who = permutation.scope === 'last-row' ? t("the last token's attention") : t("every token's attention");
  const deviation = formatDeviation(permutation.deviation);
  if (comparison.variation.positions !== false) return t('With positions on, order matters: largest deviation {0}.', deviation);
  if (permutation.expected) return t('Without positions, {0} is exactly a permutation of the original: largest deviation {1}.', who, deviation);
  return permutation.scope === 'last-row' && comparison.layer > 0
    ? t('Without positions, but at layer {0} the layers below have already mixed the swapped tokens into the others: largest deviation {1}.', comparison.layer, deviation)
    : t('Without positions, but the last token itself was swapped, so its query changed: largest deviation {0}.', deviation);
}
