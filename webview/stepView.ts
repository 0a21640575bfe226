// The step view: one attention head, one query token, every step of scaled dot-product attention
// with the model's own numbers (src/core/explain/types.ts, HeadExplanation), then what the head
// writes into the residual stream, the stream's size layer by layer and the logit lens.
//
// Every row of the key table is aligned with the key tokens (one column per key; long inputs show
// the first key, the query's neighbours and the keys with the largest weights, the rest folded
// into "…" columns). Vectors are canvas bar strips (one node each, however long). Every number and
// vector is keyboard reachable: one tab stop per row, ←/→ (Home/End) along it, ↑/↓ between rows;
// focus or hover writes the exact value into the detail line, and aria-labels carry it too.
// Styles: media/stepView.css. DOM built in code only (the panel's CSP forbids inline styles from
// HTML strings; element.style from script is allowed).

import type { HeadExplanation } from '../src/core/explain/types';
import { scaleWeight } from './colorScale';
import { tokenDisplay, visibleText } from './displayText';
import { el } from './dom';
import {
  describeAblated,
  describeSteps,
  exactNumber,
  formatNumber,
  formatProbability,
  maxAbsDifference,
  MAX_COLUMNS,
  norm,
  outputArithmetic,
  selectColumns,
  sumOf,
  sumsMatch,
  sumVectors,
} from './stepViewFormat';
import { VectorStrip, type StripColors } from './vectorStrip';
import { t } from './l10n';

export type StepColorScale = 'linear' | 'sqrt' | 'log';

export interface StepViewOptions {
  /** How a weight's cell shading follows its value (the attentionInspector.colorScale setting). Default 'sqrt'. */
  colorScale?: StepColorScale;
}

export function stepViewHint(): string {
  return t('Pin a token (click) to see how this head computes its attention, step by step.');
}

export function workedExampleNote(): string {
  return t('A well-known study note gives 1.4 / 1.8 / 2.2 here; that is an arithmetic slip (it would need V = [0.8], [1.8], [2.8]). With V = [1], [2], [3]: 0.6·1 + 0.2·2 + 0.2·3 = 1.6.');
}

type Column = { kind: 'key'; j: number } | { kind: 'gap'; from: number; to: number };

/** Shown columns in key order, with a gap column wherever keys were left out. */
function layoutColumns(shown: number[], count: number): Column[] {
  const columns: Column[] = [];
  let next = 0;
  for (const j of shown) {
    if (j > next) columns.push({ kind: 'gap', from: next, to: j - 1 });
    columns.push({ kind: 'key', j });
    next = j + 1;
  }
  if (next < count) columns.push({ kind: 'gap', from: next, to: count - 1 });
  return columns;
}

function maxAbs(vectors: readonly (readonly number[])[]): number {
  let max = 0;
  for (const vector of vectors) for (const v of vector) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  return max;
}

export class StepView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly detail: HTMLElement;
  private strips: VectorStrip[] = [];
  private themeObserver: MutationObserver | undefined;
  private paintScheduled = false;
  private revealQuery = false;

  constructor() {
    this.body = el('div', 'sv-body');
    this.detail = el('div', 'sv-detail', { 'aria-live': 'polite', 'data-role': 'detail' });
    this.element = el('section', 'step-view', { 'aria-label': t('Step view: how one head computes its attention') }, this.body, this.detail);
    this.element.addEventListener('keydown', (event) => this.onKeyDown(event));
    this.element.addEventListener('focusin', (event) => {
      const target = event.target instanceof HTMLElement ? event.target : null;
      if (target?.classList.contains('sv-focus')) {
        this.rove(target);
        this.setDetail(target.dataset.detail ?? target.getAttribute('aria-label') ?? '');
      }
    });
    this.element.addEventListener('mouseover', (event) => {
      const target = event.target instanceof Element ? event.target.closest<HTMLElement>('.sv-focus') : null;
      if (target && !(target instanceof HTMLCanvasElement)) this.setDetail(target.dataset.detail ?? target.getAttribute('aria-label') ?? '');
    });
    if (typeof MutationObserver !== 'undefined' && document.body) {
      // VS Code switches theme by changing the body's class: repaint the canvases in the new colours.
      this.themeObserver = new MutationObserver(() => this.schedulePaint());
      this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
    }
    this.show(null);
  }

  show(explanation: HeadExplanation | null, options: StepViewOptions = {}): void {
    this.strips = [];
    this.detail.textContent = '';
    if (!explanation) {
      this.element.classList.add('sv-empty');
      this.body.replaceChildren(el('p', 'sv-hint', {}, stepViewHint()));
      return;
    }
    this.element.classList.remove('sv-empty');
    const scale = options.colorScale ?? 'sqrt';
    this.body.replaceChildren(
      this.header(explanation),
      ...this.notes(explanation),
      this.keyTable(explanation, scale),
      this.outputSection(explanation),
      ...this.residualSection(explanation),
      ...this.lensSection(explanation),
    );
    this.revealQuery = true;
    this.schedulePaint();
  }

  /** Repaints the strips in the current theme's colours (call after a theme change if the body class did not change). */
  repaint(): void {
    if (!this.element.isConnected) {
      this.schedulePaint();
      return;
    }
    const colors = this.colors();
    for (const strip of this.strips) strip.paint(colors);
    if (this.revealQuery) {
      this.revealQuery = false;
      this.scrollQueryIntoView();
    }
  }

  /** Scrolls the key table so the query's own column (and its masked neighbours) are in view. */
  private scrollQueryIntoView(): void {
    const scroller = this.body.querySelector<HTMLElement>('[data-section="keys"] .sv-scroll');
    const column = scroller?.querySelector<HTMLElement>('.sv-query-key');
    if (!scroller || !column || scroller.scrollWidth <= scroller.clientWidth) return;
    const box = column.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    // Keep the query column a little left of the right edge so the next (masked) keys show too.
    const overflow = box.right + box.width * 2 - view.right;
    if (overflow > 0) scroller.scrollLeft += overflow;
  }

  dispose(): void {
    this.themeObserver?.disconnect();
    this.element.remove();
  }

  // ------------------------------------------------------------------ sections

  private header(x: HeadExplanation): HTMLElement {
    const group = x.group !== 0 ? `${t('group {0}', x.group)} · ` : '';
    const title = el(
      'h3',
      'sv-title',
      {},
      `${group}${t('Layer {0} · Head {1} · query', x.layer, x.head)} `,
      el('span', 'sv-token', { title: t('token {0}', x.query.index) }, visibleText(x.query.text)),
      el('span', 'sv-index', {}, ` #${x.query.index}`),
    );
    const root = Math.sqrt(x.dK);
    const facts = el('p', 'sv-facts', {}, `${x.model.name} · d_k = ${x.dK} · √d_k = ${formatNumber(root)} · scale = ${formatNumber(x.scale)}`);
    if (Math.abs(x.scale * root - 1) > 1e-6) facts.append(` ${t("(not 1/√d_k = {0}: the model's config scales further)", formatNumber(1 / root))}`);
    facts.append(` · ${x.causal ? t('causal mask') : t('no mask')}`);
    return el('header', 'sv-header', {}, title, facts);
  }

  private notes(x: HeadExplanation): HTMLElement[] {
    const notes: HTMLElement[] = [];
    const variation: string[] = [];
    if (!x.positions) variation.push(t('Positions off: this run had no position information'));
    if (x.ablated.length > 0) variation.push(describeAblated(x.ablated));
    if (variation.length > 0) notes.push(el('p', 'sv-note sv-variation', { 'data-role': 'variation' }, variation.join(' · ')));
    if (x.unavailable.length > 0) {
      const text = x.unavailableReason ? t('This model cannot show {0}: {1}', describeSteps(x.unavailable), x.unavailableReason) : t('This model cannot show {0}.', describeSteps(x.unavailable));
      notes.push(el('p', 'sv-note sv-unavailable', { 'data-role': 'unavailable' }, text));
    }
    if (x.model.name === 'worked-example') notes.push(el('aside', 'sv-note sv-aside', { 'data-role': 'worked-example' }, workedExampleNote()));
    return notes;
  }

  private keyTable(x: HeadExplanation, colorScale: StepColorScale): HTMLElement {
    const count = x.keys.length;
    const shown = selectColumns(x, MAX_COLUMNS);
    const columns = layoutColumns(shown, count);
    const keyName = (j: number) => t('{0} (key {1})', tokenDisplay(x.keys[j]), x.keys[j].index);

    // The query vector and the sizes, above the table.
    const lead = el('div', 'sv-lead sv-row', { 'data-row': 'q' }, el('span', 'sv-label', {}, 'q'));
    if (x.q) {
      lead.append(this.strip(x.q, t('q (query {0})', visibleText(x.query.text)), 160));
      lead.append(el('span', 'sv-muted', {}, ` d_k = ${x.dK}, |q| = ${formatNumber(norm(x.q))}`));
    } else {
      lead.append(el('span', 'sv-muted', {}, t('not available for this model')));
    }

    const head = el('tr', 'sv-keys', {}, el('th', 'sv-rowhead', { scope: 'col' }, t('key j')));
    for (const column of columns) {
      if (column.kind === 'gap') {
        const hidden = column.to - column.from + 1;
        head.append(el('th', 'sv-gap', { scope: 'col', title: hidden === 1 ? t('1 key not shown (#{0}–#{1})', column.from, column.to) : t('{0} keys not shown (#{1}–#{2})', hidden, column.from, column.to) }, '…'));
        continue;
      }
      const key = x.keys[column.j];
      const classes = ['sv-key', key.index === x.query.index ? 'sv-query-key' : '', x.masked[column.j] ? 'sv-masked-key' : ''].filter(Boolean).join(' ');
      head.append(
        el('th', classes, { scope: 'col', 'data-key': column.j, title: t('key {0}: {1}', key.index, JSON.stringify(key.text)) }, el('span', 'sv-token', {}, tokenDisplay(key)), el('span', 'sv-index', {}, `#${key.index}`)),
      );
    }
    head.append(el('th', 'sv-sum', { scope: 'col' }, count > shown.length ? t('all {0} keys', count) : ''));

    const rows: HTMLTableRowElement[] = [];
    const row = (name: string, label: string | Node, cell: (j: number) => HTMLElement, sum?: HTMLElement, labelTitle?: string): void => {
      const tr = el('tr', 'sv-row', { 'data-row': name }, el('th', 'sv-rowhead', { scope: 'row', title: labelTitle }, label));
      for (const column of columns) tr.append(column.kind === 'gap' ? el('td', 'sv-gap', {}, '') : cell(column.j));
      tr.append(sum ?? el('td', 'sv-sum'));
      rows.push(tr);
    };
    const numberCell = (name: string, j: number, value: number | null, extra = ''): HTMLElement => {
      if (value === null) return el('td', 'sv-num sv-missing', {}, '—');
      const label = t('{0} for {1}: {2}', name, keyName(j), exactNumber(value));
      return el('td', `sv-num sv-focus ${extra}`.trim(), { tabindex: -1, 'aria-label': label, title: label, 'data-value': exactNumber(value), 'data-key': j }, formatNumber(value));
    };

    if (x.k) {
      const range = maxAbs(x.k);
      row('k', 'k_j', (j) => this.stripCell(x.k![j], `k_${j} (${keyName(j)})`, range, j), undefined, t('the key vectors, d_k = {0}', x.dK));
    }
    if (x.v) {
      const range = maxAbs(x.v);
      row('v', 'v_j', (j) => this.stripCell(x.v![j], `v_${j} (${keyName(j)})`, range, j), undefined, t('the value vectors, d_v = {0}', x.v[0]?.length ?? 0));
    }
    if (x.scores) {
      const scores = x.scores;
      row('scores', 'q·k_j', (j) => numberCell('q·k', j, scores[j]), undefined, t('raw scores: the dot product of q with each key'));
      const rootLabel = el('span', '', {}, '× 1/√d_k', el('span', 'sv-sub', {}, t('√{0} = {1}, scale {2}', x.dK, formatNumber(Math.sqrt(x.dK)), formatNumber(x.scale))));
      row('scaledScores', rootLabel, (j) => numberCell(`q·k × ${exactNumber(x.scale)}`, j, scores[j] * x.scale), undefined, t('scores multiplied by scale = {0}', exactNumber(x.scale)));
    }
    if (x.bias) {
      const bias = x.bias;
      row('bias', t('+ position bias'), (j) => numberCell(t('position bias'), j, bias[j]), undefined, t('relative position bias added to the scaled scores'));
    }
    const scaledLabel = x.bias ? t('scaled = scores·scale + bias') : t('scaled = scores·scale');
    row(
      'masked',
      el('span', '', {}, t('mask'), el('span', 'sv-sub', {}, `${x.causal ? t('future keys') : t('masked keys')} → −∞`)),
      (j) => (x.masked[j] ? this.maskedCell(keyName(j), j) : numberCell(t('softmax input'), j, x.scaled[j] ?? null)),
      undefined,
      t('{0}; masked keys get −∞ so softmax gives them 0', scaledLabel),
    );
    const total = sumOf(x.weights);
    const sumLabel = t('Σ of all {0} weights = {1}', count, exactNumber(total));
    const sumCell = el('td', 'sv-sum sv-num sv-focus', { tabindex: -1, 'aria-label': sumLabel, title: sumLabel, 'data-value': exactNumber(total), 'data-role': 'weight-sum' }, `Σ = ${total.toFixed(3)}`);
    row(
      'weights',
      el('span', '', {}, 'softmax → w_j'),
      (j) => {
        if (x.masked[j]) return numberCell(t('weight'), j, x.weights[j], 'sv-masked');
        const cell = numberCell(t('weight'), j, x.weights[j], 'sv-weight');
        cell.style.setProperty('--sv-w', String(scaleWeight(x.weights[j], colorScale)));
        return cell;
      },
      sumCell,
      t('the attention weights: softmax over the unmasked keys'),
    );

    // One tab stop per row: the first focusable cell.
    for (const tr of [lead, ...rows]) tr.querySelector<HTMLElement>('.sv-focus')?.setAttribute('tabindex', '0');

    const table = el('table', 'sv-table', {}, el('caption', 'visually-hidden', {}, t('Scores, scaling, mask and softmax per key')), el('thead', '', {}, head), el('tbody', '', {}, ...rows));
    const scroller = el('div', 'sv-scroll', {}, table);
    const caption = el('h4', 'sv-step', {}, x.bias ? t('1–2 · q, k_j and v_j; q·k_j → × 1/√d_k → + bias → mask → softmax') : t('1–2 · q, k_j and v_j; q·k_j → × 1/√d_k → mask → softmax'));
    const explainScaled = el('p', 'sv-muted sv-formula', {}, t('{0}; weights = softmax over the unmasked keys.', scaledLabel));
    if (count > shown.length) explainScaled.append(` ${t("{0} of {1} keys shown: the first, the query's neighbours and the largest weights; “…” columns hide the rest.", shown.length, count)}`);
    return el('div', 'sv-section sv-group', { 'data-section': 'keys' }, caption, lead, explainScaled, scroller);
  }

  private outputSection(x: HeadExplanation): HTMLElement {
    const section = el('div', 'sv-section sv-group', { 'data-section': 'output' }, el('h4', 'sv-step', {}, t("3 · The head's output and its write")));
    if (x.output) {
      const dV = x.output.length;
      const arithmetic = outputArithmetic(x);
      const line = el('div', 'sv-line sv-row', { 'data-row': 'output' }, el('span', 'sv-label', {}, 'Σ_j w_j·v_j'));
      if (arithmetic) {
        const label = t('head output: {0} (exact {1})', arithmetic, exactNumber(x.output[0]));
        line.append(el('span', 'sv-arithmetic sv-focus', { tabindex: 0, 'aria-label': label, title: label, 'data-role': 'arithmetic', 'data-value': exactNumber(x.output[0]) }, arithmetic));
      } else {
        line.append(this.strip(x.output, t('head output Σ w·v'), 160));
        line.append(el('span', 'sv-muted', {}, ` ${t('d_v = {0}, |output| = {1}', dV, formatNumber(norm(x.output)))}`));
      }
      section.append(line);
    }

    const mixing = el('p', 'sv-muted sv-formula', {}, t('Heads are concatenated and mixed by W_O, not averaged: each head writes its output through its own slice of W_O, and the writes add up.'));
    section.append(mixing);

    if (x.headWrites) {
      const range = maxAbs(x.headWrites);
      const heads = el('div', 'sv-heads sv-row', { 'data-row': 'headWrites' }, el('span', 'sv-label', {}, t("heads' writes")));
      x.headWrites.forEach((write, h) => {
        const current = h === x.head;
        const label = current ? t("H{0}: this head's write (its slice of W_O)", h) : t('H{0} write', h);
        heads.append(el('figure', current ? 'sv-head sv-current' : 'sv-head', { 'data-head': h }, this.strip(write, label, 96, range), el('figcaption', '', {}, current ? t('H{0} (this head)', h) : `H${h}`)));
      });
      section.append(heads);
    } else if (x.headWrite) {
      section.append(el('div', 'sv-line sv-row', { 'data-row': 'headWrite' }, el('span', 'sv-label', {}, t("this head's write (its slice of W_O)")), this.strip(x.headWrite, t("this head's write"), 160)));
    }

    if (x.headWrites && x.attentionOutput) {
      const recomputed = sumVectors(x.headWrites, x.attentionBias);
      const difference = maxAbsDifference(recomputed, x.attentionOutput);
      const ok = sumsMatch(recomputed, x.attentionOutput);
      const range = maxAbs([recomputed, x.attentionOutput]);
      const sumLine = el(
        'div',
        'sv-line sv-row',
        { 'data-row': 'sublayer' },
        el('span', 'sv-label', {}, x.attentionBias ? t("Σ heads' writes + b_O") : t("Σ heads' writes")),
        this.strip(recomputed, x.attentionBias ? t("Σ heads' writes + b_O") : t("Σ heads' writes"), 160, range),
        el('span', 'sv-op', {}, '='),
        this.strip(x.attentionOutput, t('attention sublayer output'), 160, range),
        el('span', 'sv-muted', {}, ` ${t('attention sublayer output')}`),
      );
      const checkText = `${t('|Σ| = {0} · |output| = {1} · max |difference| = {2}', formatNumber(norm(recomputed)), formatNumber(norm(x.attentionOutput)), formatNumber(difference, 2))} ${ok ? t('✓ matches') : t('✗ does not match')}`;
      const check = el('p', ok ? 'sv-check sv-ok sv-focus' : 'sv-check sv-bad sv-focus', {
        tabindex: 0,
        'data-role': 'sum-check',
        'data-max-difference': exactNumber(difference),
        'aria-label': t('Check: norm of the sum {0}, norm of the sublayer output {1}, largest difference {2}, {3}', exactNumber(norm(recomputed)), exactNumber(norm(x.attentionOutput)), exactNumber(difference), ok ? t('they match') : t('they do not match')),
      }, checkText);
      section.append(sumLine, check);
    }
    return section;
  }

  private residualSection(x: HeadExplanation): HTMLElement[] {
    if (!x.residual || x.residual.length === 0) return [];
    const fields = [
      ['before', t('|x| before')],
      ['attention', t('|attention write|')],
      ['afterAttention', t('|x + attention|')],
      ['mlp', t('|MLP write|')],
      ['after', t('|x| after')],
    ] as const;
    let max = 0;
    for (const layer of x.residual) for (const [field] of fields) max = Math.max(max, layer[field]);
    const head = el('tr', '', {}, el('th', 'sv-rowhead', { scope: 'col' }, t('layer')), ...fields.map(([, label]) => el('th', '', { scope: 'col' }, label)));
    const rows = x.residual.map((layer) => {
      const tr = el('tr', layer.layer === x.layer ? 'sv-row sv-current' : 'sv-row', { 'data-layer': layer.layer }, el('th', 'sv-rowhead', { scope: 'row' }, `L${layer.layer}`));
      fields.forEach(([field, label], i) => {
        const value = layer[field];
        const text = t('layer {0} {1}: {2}', layer.layer, label, exactNumber(value));
        const bar = el('span', `sv-bar sv-bar-${field}`);
        bar.style.setProperty('--sv-frac', String(max > 0 ? value / max : 0));
        tr.append(el('td', 'sv-num sv-focus sv-norm', { tabindex: i === 0 ? 0 : -1, 'aria-label': text, title: text, 'data-value': exactNumber(value) }, el('span', 'sv-norm-value', {}, formatNumber(value)), bar));
      });
      return tr;
    });
    return [
      el(
        'div',
        'sv-section sv-group',
        { 'data-section': 'residual' },
        el('h4', 'sv-step', {}, t('4 · The residual stream of this token (norms)')),
        el('p', 'sv-muted sv-formula', {}, t('Each block adds its sublayers’ writes onto the stream: after = before + attention write + MLP write.')),
        el('div', 'sv-scroll', {}, el('table', 'sv-table sv-residual', {}, el('thead', '', {}, head), el('tbody', '', {}, ...rows))),
      ),
    ];
  }

  private lensSection(x: HeadExplanation): HTMLElement[] {
    if (!x.logitLens || x.logitLens.length === 0) return [];
    const rows = x.logitLens.map((layer) => {
      const tr = el('tr', layer.layer === x.layer ? 'sv-row sv-current' : 'sv-row', { 'data-layer': layer.layer }, el('th', 'sv-rowhead', { scope: 'row' }, `L${layer.layer}`));
      const cell = el('td', 'sv-lens');
      layer.top.forEach((prediction, i) => {
        const text = t('layer {0} prediction {1}: {2} {3}', layer.layer, i + 1, JSON.stringify(prediction.token), exactNumber(prediction.probability));
        cell.append(
          el(
            'span',
            'sv-prediction sv-focus',
            { tabindex: i === 0 ? 0 : -1, 'aria-label': text, title: text, 'data-value': exactNumber(prediction.probability) },
            el('span', 'sv-token', {}, visibleText(prediction.token)),
            el('span', 'sv-prob', {}, formatProbability(prediction.probability)),
          ),
        );
      });
      tr.append(cell);
      return tr;
    });
    return [
      el(
        'div',
        'sv-section sv-group',
        { 'data-section': 'lens' },
        el('h4', 'sv-step', {}, t('5 · Logit lens: what the stream would predict after each layer')),
        el('div', 'sv-scroll', {}, el('table', 'sv-table sv-lens-table', {}, el('tbody', '', {}, ...rows))),
      ),
    ];
  }

  // ------------------------------------------------------------------ pieces

  private strip(values: readonly number[], label: string, maxWidth: number, range?: number): HTMLCanvasElement {
    const strip = new VectorStrip(values, {
      label,
      maxWidth,
      range,
      onPointEntry: (entry) => this.setDetail(entry === null ? '' : strip.describeEntry(entry)),
    });
    this.strips.push(strip);
    strip.element.classList.add('sv-focus');
    strip.element.tabIndex = 0;
    strip.element.dataset.detail = `${label} = ${strip.element.getAttribute('aria-label')?.slice(label.length + 2) ?? ''}`;
    return strip.element;
  }

  private stripCell(values: readonly number[], label: string, range: number, key: number): HTMLElement {
    const canvas = this.strip(values, label, 44, range);
    canvas.tabIndex = -1;
    canvas.dataset.key = String(key);
    return el('td', 'sv-vec', {}, canvas);
  }

  private maskedCell(keyName: string, key: number): HTMLElement {
    const label = t('{0} for {1}: {2}', t('softmax input'), keyName, t('masked (−Infinity)'));
    return el('td', 'sv-num sv-focus sv-masked', { tabindex: -1, 'aria-label': label, title: label, 'data-value': '-Infinity', 'data-key': key }, '−∞');
  }

  private setDetail(text: string): void {
    this.detail.textContent = text;
  }

  private colors(): StripColors {
    const style = getComputedStyle(this.element);
    const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const foreground = style.color || '#888888';
    return { positive: read('--sv-positive', '#3794ff'), negative: read('--sv-negative', '#d18616'), axis: read('--sv-axis', foreground) };
  }

  private schedulePaint(): void {
    if (this.paintScheduled) return;
    this.paintScheduled = true;
    requestAnimationFrame(() => {
      this.paintScheduled = false;
      if (this.element.isConnected) this.repaint();
      else this.schedulePaint();
    });
  }

  // ------------------------------------------------------------------ keyboard

  /** Makes `target` its row's tab stop. */
  private rove(target: HTMLElement): void {
    const row = target.closest('.sv-row');
    if (!row) return;
    for (const item of row.querySelectorAll<HTMLElement>('.sv-focus')) item.tabIndex = item === target ? 0 : -1;
  }

  private onKeyDown(event: KeyboardEvent): void {
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (!target?.classList.contains('sv-focus')) return;
    const row = target.closest('.sv-row');
    if (!row) return;
    const items = [...row.querySelectorAll<HTMLElement>('.sv-focus')];
    const at = items.indexOf(target);
    let next: HTMLElement | undefined;
    switch (event.key) {
      case 'ArrowLeft':
        next = items[Math.max(0, at - 1)];
        break;
      case 'ArrowRight':
        next = items[Math.min(items.length - 1, at + 1)];
        break;
      case 'Home':
        next = items[0];
        break;
      case 'End':
        next = items[items.length - 1];
        break;
      case 'ArrowUp':
      case 'ArrowDown': {
        const group = row.closest('.sv-group');
        if (!group) return;
        const rows = [...group.querySelectorAll('.sv-row')].filter((r) => r.querySelector('.sv-focus'));
        const other = rows[rows.indexOf(row) + (event.key === 'ArrowUp' ? -1 : 1)];
        if (!other) return;
        const otherItems = [...other.querySelectorAll<HTMLElement>('.sv-focus')];
        // Same key column when both rows have one, else the same position.
        const key = target.dataset.key ?? target.closest<HTMLElement>('td')?.querySelector<HTMLElement>('[data-key]')?.dataset.key;
        next = otherItems.find((item) => key !== undefined && (item.dataset.key ?? item.closest<HTMLElement>('[data-key]')?.dataset.key) === key) ?? otherItems[Math.min(at, otherItems.length - 1)];
        break;
      }
      default:
        return;
    }
    if (!next) return;
    event.preventDefault();
    this.rove(next);
    next.focus();
    next.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
}
