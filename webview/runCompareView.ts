// The "Pinned run vs this run" view (issue 11 part 4): "Pin this run for comparison" keeps the
// current run on the host (pinRun); after another run (another selection, model or setting) the
// view asks for both runs at the shown layer and head (requestRunComparison) and draws pinned |
// current | difference (current − pinned, diverging colours), aligned by token when both runs have
// the same token sequence and by position over the first N tokens otherwise, with the rule stated
// (src/shared/runAlignment.ts). Reuses the Compare view's styles (media/compareView.css).

import { MEAN_HEAD, type RequestRunComparisonMessage, type RunComparisonMessage } from '../src/shared/protocol';
import { alignedDifference, cropMap } from '../src/shared/runAlignment';
import { tokenDisplay } from './displayText';
import { el, setStatusLine } from './dom';
import { differenceColor, mapFigure, weightColor } from './mapFigure';
import { t } from './l10n';
import { requestKey } from './requests';
import type { PanelView, ViewContext, ViewSetup } from './view';


export class RunCompareView implements PanelView {
  readonly id = 'runCompare';
  readonly element: HTMLElement;
  private readonly pinButton = el('button', 'cv-action', { type: 'button', 'data-control': 'pin-run', title: t('Keep this run to compare later runs with it') }, t('Pin this run for comparison'));
  private readonly unpinButton = el('button', 'cv-action', { type: 'button', 'data-control': 'unpin-run', hidden: true }, t('Unpin'));
  private readonly pinnedLine = el('p', 'cv-muted', { 'data-role': 'pinned-run', hidden: true });
  private readonly status = el('p', 'cv-status', { 'aria-live': 'polite', 'data-role': 'run-compare-status' });
  private readonly result = el('div', 'cv-result', { 'data-role': 'run-compare-result', hidden: true });
  private context: ViewContext | undefined;
  /** The pinned run's session id and label (null: none pinned). */
  private pinned: { sessionId: number; label: string } | null = null;
  private wanted: string | null = null;

  constructor(_setup: ViewSetup) {
    this.element = el(
      'section',
      'compare-section run-compare-section',
      { 'aria-labelledby': 'run-compare-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'run-compare-title' }, t('Pinned run vs this run'))),
      el('div', 'cv-controls', { role: 'group', 'aria-label': t('Pinned run') }, this.pinButton, this.unpinButton),
      this.pinnedLine,
      this.status,
      this.result,
    );
    this.pinButton.addEventListener('click', () => {
      const session = this.context?.session;
      if (!session) return;
      this.pinned = { sessionId: session.sessionId, label: `${session.model.name} · ${session.source}` };
      this.context?.host.post({ type: 'pinRun', sessionId: session.sessionId });
      this.refresh();
      this.unpinButton.focus();
    });
    this.unpinButton.addEventListener('click', () => {
      this.pinned = null;
      this.context?.host.post({ type: 'unpinRun' });
      this.refresh();
      this.pinButton.focus();
    });
  }

  update(context: ViewContext): void {
    this.context = context;
    switch (context.change.kind) {
      case 'pinnedRun':
        // The host's word wins: a page shown again (or reloaded) learns the pin it had.
        this.pinned = context.pinnedRun;
        this.refresh();
        return;
      case 'session':
        // A page that starts empty (shown again, reloaded) may have heard of the pin before this session.
        this.pinned ??= context.pinnedRun;
        this.refresh();
        return;
      case 'view':
      case 'group':
      case 'colorScale':
      case 'theme':
        this.refresh();
        return;
      default:
        return;
    }
  }

  private refresh(): void {
    const context = this.context;
    if (!context) return;
    const { session, state } = context;
    const pinned = this.pinned;
    this.unpinButton.hidden = pinned === null;
    this.pinButton.hidden = pinned !== null && pinned.sessionId === session.sessionId;
    this.pinnedLine.hidden = pinned === null;
    this.pinnedLine.textContent = pinned ? t('Pinned: {0}', pinned.label) : '';
    if (!pinned) return this.idle(t('Pin this run, then run again on another selection, model or setting to see both side by side.'));
    if (pinned.sessionId === session.sessionId) return this.idle(t('This run is pinned. Run again (another selection, model or setting) to compare.'));
    const request: RequestRunComparisonMessage = { type: 'requestRunComparison', sessionId: session.sessionId, group: state.group, layer: state.layer, head: state.head };
    const key = `${session.sessionId}:${requestKey(request)}`;
    this.wanted = key;
    this.setStatus(t('Comparing with the pinned run…'), 'loading');
    void context.host.request(request).then((reply) => {
      if (this.wanted === key && this.context) this.show(reply, this.context);
    });
  }

  private idle(text: string): void {
    this.wanted = null;
    this.result.hidden = true;
    this.result.replaceChildren();
    this.setStatus(text, 'hint');
  }

  private setStatus(text: string, kind: 'hint' | 'loading' | 'error' | 'none'): void {
    setStatusLine(this.status, text, kind);
  }

  private show(reply: RunComparisonMessage, context: ViewContext): void {
    const comparison = reply.comparison;
    if (!comparison) {
      const why = reply.unavailable;
      this.result.hidden = true;
      this.result.replaceChildren();
      if (why?.reason === 'missing-head') this.setStatus(t("The pinned run's model has {0} layers of {1} heads: it has no layer {2}, head {3}.", why.layers, why.heads, reply.layer, reply.head), 'error');
      else if (why?.reason === 'cross') this.setStatus(t('Runs are compared on self-attention groups; cross-attention reads two sequences. Pick the encoder or decoder group.'), 'hint');
      else if (why?.reason === 'missing-group') this.setStatus(t('The pinned run has no “{0}” attention group to compare with.', why.name), 'error');
      else this.setStatus(t('The host has no pinned run (it was unpinned or the panel was reopened): pin a run again.'), 'error');
      return;
    }
    const { alignment, pinned, current } = comparison;
    const N = alignment.count;
    const pinnedFull = new Float32Array(pinned.map);
    const currentFull = new Float32Array(current.map);
    const T1 = pinned.tokens.length;
    const T2 = current.tokens.length;
    if (pinnedFull.length !== T1 * T1 || currentFull.length !== T2 * T2) {
      this.setStatus(t('The comparison has {0} and {1} weights; expected {2}.', pinnedFull.length, currentFull.length, T1 * T1 + T2 * T2), 'error');
      return;
    }
    this.setStatus('', 'none');
    const { difference, maxAbs } = alignedDifference(pinnedFull, T1, currentFull, T2, N);
    const labels = (tokens: string[]) => tokens.slice(0, N).map((text) => tokenDisplay({ text }));
    const rule =
      alignment.rule === 'token'
        ? t('Aligned by token: same token sequence ({0} tokens).', N)
        : t('Aligned by position: the first {0} tokens (the pinned run has {1}, this run {2}; the token texts differ).', N, T1, T2);
    const head = reply.head === MEAN_HEAD ? t("layer {0}, average of the heads' weights", reply.layer) : t('layer {0}, head {1}', reply.layer, reply.head);
    const weight = (v: number) => weightColor(v, context);
    this.result.replaceChildren(
      el('p', 'cv-max', { 'data-role': 'alignment-rule', 'data-rule': alignment.rule, 'data-count': N }, rule),
      el(
        'div',
        'cv-maps',
        {},
        mapFigure('pinned', t('Pinned: {0} ({1})', pinned.label, head), cropMap(pinnedFull, T1, N), labels(pinned.tokens), context, weight),
        mapFigure('current', t('This run: {0} ({1})', current.label, head), cropMap(currentFull, T2, N), labels(current.tokens), context, weight),
        mapFigure('difference', t('Difference: this run − pinned (blue: higher, orange: lower)'), difference, labels(current.tokens), context, (v) => differenceColor(v, maxAbs, context)),
      ),
      el('p', 'cv-max', { 'data-role': 'run-max-difference', 'data-value': String(maxAbs) }, t('Largest difference: {0}', maxAbs < 1e-6 ? '0' : maxAbs.toPrecision(2))),
    );
    this.result.hidden = false;
  }
}

