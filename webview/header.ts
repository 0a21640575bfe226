// The run's header: model, kind, backend, layers × heads, token counts (source and target for
// encoder–decoder runs), time and source, then any notes (such as truncation) and the model's top
// next-token predictions.

import type { SessionInfo } from '../src/shared/protocol';
import { formatElapsed, formatPercent, visibleText } from './displayText';
import { el } from './dom';
import { kvHeadsOf } from './groups';
import { t } from './l10n';

export function renderHeader(session: SessionInfo): HTMLElement {
  const { model, groups } = session;
  const [layers, heads] = groups[0].dims;
  const tokens = session.tokens.length;
  const targetTokens = session.target?.tokens.length;
  const kvHeads = kvHeadsOf(groups[0]);
  const fact = (label: string, value: string, className = 'fact') =>
    el('li', className, { title: label }, el('span', 'visually-hidden', undefined, t('{0}: ', label)), value);
  const facts = el(
    'ul',
    'facts',
    { 'aria-label': t('Run details') },
    fact(t('Model kind'), modelKindName(model.kind)),
    fact(t('Backend'), backendText(model)),
    fact(t('Layers × heads'), t('{0} layers × {1} heads', layers, heads)),
    ...(kvHeads !== undefined ? [fact(t('K/V heads'), t('{0} K/V heads (grouped-query)', kvHeads))] : []),
    fact(
      t('Tokens'),
      targetTokens === undefined
        ? tokens === 1 ? t('1 token') : t('{0} tokens', tokens)
        : t('{0} → {1}', tokens === 1 ? t('1 source token') : t('{0} source tokens', tokens), targetTokens === 1 ? t('1 target token') : t('{0} target tokens', targetTokens)),
    ),
    fact(t('Elapsed'), formatElapsed(session.elapsedMs)),
    fact(t('Attention'), groups.length > 1 ? t('{0} attention groups', groups.length) : groups[0].causal ? t('causal') : t('bidirectional')),
  );
  const header = el(
    'header',
    'run-header',
    undefined,
    el('div', 'title-row', undefined, el('h1', 'model-name', undefined, model.name), facts),
  );
  if (session.source) header.append(el('p', 'source', { title: t('Source of the inspected text') }, session.source));
  if (session.notes.length > 0) {
    header.append(el('ul', 'notes', { 'aria-label': t('Notes') }, ...session.notes.map((note) => el('li', 'note', undefined, note))));
  }
  if (session.predictions.length > 0) header.append(renderPredictions(session.predictions));
  return header;
}

/** decoder, encoder, encoder–decoder in the display language. */
export function modelKindName(kind: SessionInfo['model']['kind']): string {
  switch (kind) {
    case 'decoder':
      return t('decoder');
    case 'encoder':
      return t('encoder');
    case 'encoder-decoder':
      return t('encoder-decoder');
    default:
      return String(kind);
  }
}

/** The backend, with where ONNX attention came from or which kernels ran the built-in block. */
function backendText(model: SessionInfo['model']): string {
  if (model.attentionSource) return t('{0} · attention from {1}', model.backend, attentionSourceName(model.attentionSource));
  // The kernels' name ("WebAssembly SIMD", "TypeScript", or why WebAssembly did not load) is not translated.
  if (model.kernels) return t('{0} · {1} kernels', model.backend, model.kernels);
  return model.backend;
}

function attentionSourceName(source: string): string {
  if (source === 'explicit outputs') return t('explicit outputs');
  if (source === 'graph surgery') return t('graph surgery');
  return source;
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
  return el('div', 'predictions', undefined, el('span', 'predictions-label', { id: 'predictions-label' }, t('Next token')), el('ol', 'prediction-list', { 'aria-labelledby': 'predictions-label' }, ...items));
}
