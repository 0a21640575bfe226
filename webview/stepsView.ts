// The Steps view: the step-by-step explanation (StepView, stepView.ts) of the pinned token, else
// the keyboard-focused one, else the hovered one after HOVER_DELAY_MS, for the shown group, layer
// and head, computed by the host (requestExplain) under the Compare view's variation when one is
// set (positions off, heads off; a swap is left out so token numbers stay the inspected run's).
// The mean of the heads has no steps: a hint asks for one head. Styles: media/stepsView.css.

import type { HeadExplanation } from '../src/core/explain/types';
import { MEAN_HEAD, type ExplanationMessage, type RequestExplainMessage } from '../src/shared/protocol';
import { el, setStatusLine } from './dom';
import { requestKey } from './requests';
import { StepView } from './stepView';
import { describeVariation, sharedVariation, stepsVariation } from './variationState';
import type { PanelView, ViewContext, ViewSetup } from './view';
import { mergedQueryNote } from './unitsView';
import { t } from './l10n';

export const HOVER_DELAY_MS = 150;
export function meanHeadHint(): string {
  return t('The average of the heads is a summary, not something the model computes: pick one head (side panel, or [ / ]) to see its steps.');
}
const CACHE_SIZE = 8;

export class StepsView implements PanelView {
  readonly id = 'steps';
  readonly element: HTMLElement;
  private readonly stepView = new StepView();
  private readonly status = el('p', 'steps-status', { 'aria-live': 'polite', 'data-role': 'steps-status' });
  private readonly backendLine = el('p', 'steps-backend', { 'data-role': 'steps-backend', hidden: true });
  private context: ViewContext | undefined;
  private wanted: string | null = null;
  private shownKey: string | null = null;
  private hoverTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cache = new Map<string, ExplanationMessage>();
  private sessionId = -1;

  constructor(_setup: ViewSetup) {
    this.element = el(
      'section',
      'steps-section',
      { 'aria-labelledby': 'steps-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'steps-title' }, t('Steps: how this head computes its attention')), this.backendLine),
      this.status,
      this.stepView.element,
    );
    sharedVariation.onChange(() => this.refresh(true));
  }

  update(context: ViewContext): void {
    this.context = context;
    switch (context.change.kind) {
      case 'session':
        if (context.session.sessionId !== this.sessionId) {
          this.sessionId = context.session.sessionId;
          this.cache.clear();
          this.wanted = null;
          this.shownKey = null;
          this.stepView.show(null);
          this.backendLine.hidden = true;
        }
        return;
      case 'group':
      case 'view':
        this.refresh(true);
        return;
      case 'focus':
        this.refresh(context.focus.pinned || context.change.reveal);
        return;
      case 'colorScale':
        this.refresh(true, true);
        return;
      case 'theme':
        this.stepView.repaint();
        return;
      default:
        return;
    }
  }

  dispose(): void {
    clearTimeout(this.hoverTimer);
    this.stepView.dispose();
  }

  /** Asks for (or shows) the explanation the current state calls for; `now`: no hover delay. */
  private refresh(now: boolean, redraw = false): void {
    const context = this.context;
    if (!context) return;
    clearTimeout(this.hoverTimer);
    const { state, session, focus } = context;
    if (state.head === MEAN_HEAD) {
      this.wanted = null;
      this.shownKey = null;
      this.stepView.show(null);
      this.backendLine.hidden = true;
      this.setStatus(meanHeadHint(), 'hint');
      return;
    }
    const token = state.pinned ?? focus.token;
    if (token === null) {
      // Nothing hovered: keep what is shown while it is still this head (the pointer may be on its way here).
      if (this.shownKey === null || !this.shownKey.startsWith(`explain:${state.group}:${state.layer}:${state.head}:`)) {
        this.wanted = null;
        this.shownKey = null;
        this.stepView.show(null);
        this.backendLine.hidden = true;
        this.setStatus('', 'none');
      }
      return;
    }
    const variation = stepsVariation(sharedVariation.variation);
    const request: RequestExplainMessage = {
      type: 'requestExplain',
      sessionId: session.sessionId,
      group: state.group,
      layer: state.layer,
      head: state.head,
      query: token,
      ...(variation ? { variation } : {}),
    };
    const key = requestKey(request);
    if (key === this.shownKey && !redraw) {
      this.wanted = key;
      return;
    }
    const cached = this.cache.get(key);
    if (cached) {
      this.wanted = key;
      this.showReply(cached, key);
      return;
    }
    if (now) this.ask(request, key);
    else this.hoverTimer = setTimeout(() => this.ask(request, key), HOVER_DELAY_MS);
  }

  private ask(request: RequestExplainMessage, key: string): void {
    const context = this.context;
    if (!context) return;
    this.wanted = key;
    this.element.classList.add('loading');
    this.setStatus(t('Computing the steps of layer {0}, head {1} for token #{2}…', request.layer, request.head, request.query), 'loading');
    void context.host.request(request).then((reply) => {
      if (reply.explanation) {
        this.cache.set(key, reply);
        while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
      }
      if (this.wanted === key) this.showReply(reply, key);
    });
  }

  private showReply(reply: ExplanationMessage, key: string): void {
    this.element.classList.remove('loading');
    if (!reply.explanation) {
      this.shownKey = null;
      this.stepView.show(null);
      this.backendLine.hidden = true;
      this.setStatus(reply.error ?? t('The host could not explain this head.'), 'error');
      return;
    }
    this.shownKey = key;
    this.stepView.show(reply.explanation, { colorScale: this.context?.colorScale ?? 'sqrt' });
    this.backendLine.hidden = false;
    this.backendLine.textContent = describeBackend(reply.explanation, this.context?.session.model.backend);
    const varied = describeVariation(reply.variation);
    this.setStatus(varied ? t('Explaining the varied run ({0}), as set in “{1}”.', varied, t('Positions & what if')) : '', varied ? 'variation' : 'none');
    // Characters or words: the host explained the unit's last token (src/extension/mergedSteps.ts).
    const unitNote = mergedQueryNote(this.context?.session, reply.query, reply.explanation);
    if (unitNote) this.setStatus(this.status.textContent ? `${this.status.textContent} ${unitNote}` : unitNote, this.status.dataset.kind === 'variation' ? 'variation' : 'hint');
  }

  private setStatus(text: string, kind: 'hint' | 'loading' | 'error' | 'variation' | 'none'): void {
    setStatusLine(this.status, text, kind);
  }
}

/** "Computed by the built-in GPT-2 block (default), from the same weights as the ONNX run above." */
export function describeBackend(explanation: HeadExplanation, runBackend: string | undefined): string {
  const by = explanation.model.backend === 'builtin' ? t('the built-in GPT-2 block') : t('the ONNX model (from its softmax inputs)');
  const line = t('Computed by {0} · {1}', by, explanation.model.name);
  return runBackend && runBackend !== explanation.model.backend ? t('{0} — the heatmap came from {1}, the same weights', line, runBackend === 'onnx' ? 'ONNX' : runBackend) : line;
}
