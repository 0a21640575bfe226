// Rollout and flow (issue 11 part 3): how much each input token reaches each output token through
// all layers of the current self-attention group (src/core/analysis/rollout.ts, flow.ts), asked of
// the host only while the section is open, and drawn with the heatmap's own drawing (rows: output
// tokens, columns: input tokens; its tooltip names a row's weights under the pointer or focus).

import { AGGREGATE_FLOW_MAX_TOKENS, type AggregateMethod } from '../src/shared/protocol';
import { el } from './dom';
import { Heatmap } from './heatmap';
import { Legend } from './legend';
import { t } from './l10n';
import type { PanelView, ViewContext, ViewSetup } from './view';

export class AggregateView implements PanelView {
  readonly id = 'aggregate';
  readonly element: HTMLElement;
  private readonly details: HTMLDetailsElement;
  private readonly select: HTMLSelectElement;
  private readonly flowOption: HTMLOptionElement;
  private readonly status = el('p', 'aggregate-status', { role: 'status' });
  private readonly legend = new Legend();
  /** "Paint on the editor": the focused token's row of this map replaces the shown head's on the editor and the key strip. */
  private readonly paint = el('input', 'aggregate-paint', { type: 'checkbox', id: 'aggregate-paint', 'data-control': 'aggregate-paint' });
  /** The drawn map, for painting. */
  private drawn: Float32Array | null = null;
  /** Created when the section is first opened, so a closed section adds nothing to the panel's DOM. */
  private heatmapOrNone: Heatmap | undefined;
  private readonly setup: ViewSetup;
  private context: ViewContext | undefined;
  /** Which (session, group, method) is drawn or asked for, so a late reply for another is ignored. */
  private wanted = '';

  constructor(setup: ViewSetup) {
    this.setup = setup;
    this.select = el('select', 'aggregate-method', { 'aria-label': t('Aggregate over layers') });
    this.select.append(el('option', undefined, { value: 'rollout' }, t('Rollout')));
    this.flowOption = el('option', undefined, { value: 'flow' }, t('Flow'));
    this.select.append(this.flowOption);
    this.select.addEventListener('change', () => this.draw());
    this.details = el(
      'details',
      'aggregate-details',
      undefined,
      el('summary', 'section-title', undefined, t('Rollout and flow over all layers')),
      el('div', 'aggregate-controls', undefined, this.select, el('label', 'aggregate-paint-label', { for: 'aggregate-paint' }, this.paint, t('Paint the focused token’s row on the editor')), this.legend.element),
      this.status,
    );
    this.details.addEventListener('toggle', () => {
      this.draw();
      this.syncPaint();
    });
    this.paint.addEventListener('change', () => this.syncPaint());
    this.element = el('section', 'aggregate-section', undefined, this.details);
  }

  private get heatmap(): Heatmap {
    if (!this.heatmapOrNone) {
      this.heatmapOrNone = new Heatmap(this.context?.theme ?? this.setup.theme, { onPickQuery: (token) => this.setup.actions.togglePin(token) }, 'aggregate');
      this.details.append(this.heatmapOrNone.element);
      if (this.context) this.setAxes(this.context);
    }
    return this.heatmapOrNone;
  }

  /** Paints the drawn map on the editor while the box is ticked and the section open; else the shown head again. */
  private syncPaint(): void {
    const method = this.select.value === 'flow' ? t('attention flow') : t('attention rollout');
    this.setup.actions.paintMap(this.paint.checked && this.details.open && this.drawn ? { label: method, data: this.drawn } : null);
  }

  private setAxes(context: ViewContext): void {
    const { group, texts } = context;
    this.heatmap.setAxes({ queries: texts[group.queries] as string[], keys: texts[group.keys] as string[], querySequence: group.queries, keySequence: group.keys, causal: group.causal });
    this.heatmap.setScale(context.colorScale);
    this.heatmap.setActive(context.focus.token);
    this.legend.update(context.colorScale, context.theme, group.causal);
  }

  update(context: ViewContext): void {
    this.context = context;
    switch (context.change.kind) {
      case 'group': {
        const { group } = context;
        const T = group.dims[2];
        const flowAllowed = T <= AGGREGATE_FLOW_MAX_TOKENS;
        this.flowOption.disabled = !flowAllowed;
        this.flowOption.title = flowAllowed ? '' : t('Flow is limited to {0} tokens (its cost grows as T⁴ to T⁶); this text has {1}.', AGGREGATE_FLOW_MAX_TOKENS, T);
        if (!flowAllowed && this.select.value === 'flow') this.select.value = 'rollout';
        if (this.heatmapOrNone) this.setAxes(context);
        this.wanted = '';
        this.drawn = null;
        this.draw();
        return;
      }
      case 'theme':
        this.heatmapOrNone?.setTheme(context.theme);
        this.legend.update(context.colorScale, context.theme, context.group.causal);
        return;
      case 'colorScale':
        this.heatmapOrNone?.setScale(context.colorScale);
        this.legend.update(context.colorScale, context.theme, context.group.causal);
        return;
      case 'focus':
        this.heatmapOrNone?.setActive(context.focus.token);
        return;
      case 'resize':
        this.measure();
        return;
      default:
        return;
    }
  }

  private measure(): void {
    if (this.details.open) this.heatmap.resize(this.element.clientWidth);
  }

  private draw(): void {
    const context = this.context;
    if (!context || !this.details.open) return;
    this.measure();
    const { group, session, state } = context;
    const method = this.select.value as AggregateMethod;
    const T = group.dims[2];
    const key = `${session.sessionId}:${state.group}:${method}`;
    if (key === this.wanted) return;
    this.wanted = key;
    this.element.dataset.method = method;
    this.element.dataset.state = 'loading';
    const cross = group.queries !== group.keys;
    if (cross && method === 'flow') {
      this.show(null, t('Flow needs self-attention (queries and keys the same tokens); for cross-attention choose Rollout, which composes it with the encoder and the decoder.'), 'unavailable');
      return;
    }
    const limit = T > AGGREGATE_FLOW_MAX_TOKENS ? t('Flow is limited to {0} tokens (its cost grows as T⁴ to T⁶); this text has {1}.', AGGREGATE_FLOW_MAX_TOKENS, T) : '';
    this.status.textContent = cross
      ? t('Cross rollout: decoder rollout · cross-attention (mean of layers and heads) · encoder rollout; rows are target tokens, columns source tokens.')
      : method === 'rollout'
        ? t('Rollout: rows are output tokens, columns input tokens; each layer adds the residual as half the mass.') + (limit ? ' ' + limit : '')
        : t('Flow: the maximum flow from each input token to each output token through the layers.');
    this.heatmap.setLoading(true);
    void context.host.request({ type: 'requestAggregate', sessionId: session.sessionId, group: state.group, method }).then((reply) => {
      if (this.wanted !== key) return;
      if (reply.error !== undefined || reply.data.byteLength !== T * group.dims[3] * 4) {
        this.show(null, reply.error ?? t('The host sent no map.'), 'unavailable');
        return;
      }
      this.show(new Float32Array(reply.data), null, 'drawn');
      this.element.dataset.values = String(T * group.dims[3]);
    });
  }

  private show(data: Float32Array | null, message: string | null, state: string): void {
    this.heatmap.setLoading(false);
    const method = this.select.value === 'flow' ? t('attention flow') : t('attention rollout');
    this.heatmap.setData(data, data ? `aggregate:${this.wanted}` : '', method);
    if (message !== null) this.status.textContent = message;
    this.element.dataset.state = state;
    this.drawn = data;
    this.syncPaint();
  }
}
