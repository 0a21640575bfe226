// The run's header: model, kind, backend, layers × heads, token counts (source and target for
// encoder–decoder runs), time and source, then any notes (such as truncation) and the model's top
// next-token predictions.

import type { SessionInfo } from '../src/shared/protocol';
import { formatElapsed, formatPercent, visibleText } from './displayText';
import { el } from './dom';
import { kvHeadsOf } from './groups';

export function renderHeader(session: SessionInfo): HTMLElement {
  const { model, groups } = session;
  const [layers, heads] = groups[0].dims;
  const tokens = session.tokens.length;
  const targetTokens = session.target?.tokens.length;
  const kvHeads = kvHeadsOf(groups[0]);
  const fact = (label: string, value: string, className = 'fact') =>
    el('li', className, { title: label }, el('span', 'visually-hidden', undefined, `${label}: `), value);
  const facts = el(
    'ul',
    'facts',
    { 'aria-label': 'Run details' },
    fact('Model kind', model.kind),
    fact('Backend', model.attentionSource ? `${model.backend} · attention from ${model.attentionSource}` : model.backend),
    fact('Layers × heads', `${layers} layers × ${heads} heads`),
    ...(kvHeads !== undefined ? [fact('K/V heads', `${kvHeads} K/V heads (grouped-query)`)] : []),
    fact('Tokens', targetTokens === undefined ? plural(tokens, 'token') : `${plural(tokens, 'source token')} → ${plural(targetTokens, 'target token')}`),
    fact('Elapsed', formatElapsed(session.elapsedMs)),
    fact('Attention', groups.length > 1 ? `${groups.length} attention groups` : groups[0].causal ? 'causal' : 'bidirectional'),
  );
  const header = el(
    'header',
    'run-header',
    undefined,
    el('div', 'title-row', undefined, el('h1', 'model-name', undefined, model.name), facts),
  );
  if (session.source) header.append(el('p', 'source', { title: 'Source of the inspected text' }, session.source));
  if (session.notes.length > 0) {
    header.append(el('ul', 'notes', { 'aria-label': 'Notes' }, ...session.notes.map((note) => el('li', 'note', undefined, note))));
  }
  if (session.predictions.length > 0) header.append(renderPredictions(session.predictions));
  return header;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function renderPredictions(predictions: SessionInfo['predictions']): HTMLElement {
  const best = Math.max(...predictions.map((p) => p.probability), 1e-9);
  const items = predictions.map(({ token, probability }) => {
    const bar = el('span', 'prediction-bar', { 'aria-hidden': 'true' });
    bar.style.setProperty('--share', String(Math.max(0, Math.min(1, probability / best))));
    return el(
      'li',
      'prediction',
      { title: `${JSON.stringify(token)}: ${(probability * 100).toFixed(2)}%` },
      el('span', 'prediction-token', undefined, visibleText(token)),
      el('span', 'prediction-probability', undefined, formatPercent(probability)),
      bar,
    );
  });
  return el('div', 'predictions', undefined, el('span', 'predictions-label', { id: 'predictions-label' }, 'Next token'), el('ol', 'prediction-list', { 'aria-labelledby': 'predictions-label' }, ...items));
}
