// attention-inspector render: one view of a run written to a file, drawn by the same string
// builder as the panel's export (src/shared/exportFormats.ts), with no browser.
//   heatmap: one head of one attention group; rollout: the attention rollout [T, T] of the first
//   group (core/analysis/rollout.ts). Formats: svg (cells, axis labels, legend), png (cells only:
//   no font rasteriser without a browser), csv (labelled rows), json (the run --json format).
import type { AttentionResult, TokenSpan } from '../core/types';
import { attentionRollout } from '../core/analysis/rollout';
import { InputError } from '../core/errors';
import { defaultRampColor, defaultRampRgb, heatmapSvg, matrixCsv, type LabelledMatrix } from '../shared/exportFormats';
import { cellsPng } from './png';
import { toJsonReport } from './format';

export const RENDER_VIEWS = ['heatmap', 'links', 'grid', 'rollout'] as const;
export const RENDER_FORMATS = ['svg', 'png', 'csv', 'json'] as const;
export type RenderView = (typeof RENDER_VIEWS)[number];
export type RenderFormat = (typeof RENDER_FORMATS)[number];
/** The views render draws today; links and grid are not drawn yet. */
export const RENDERED_VIEWS: readonly RenderView[] = ['heatmap', 'rollout'];

export interface RenderRequest {
  view: RenderView;
  format: RenderFormat;
  group: number;
  layer: number;
  head: number;
}

function tokenLabel(token: TokenSpan): string {
  return token.label ?? token.text;
}

/** The matrix a view shows: a head of a group, or the rollout of the first group. */
export function viewMatrix(result: AttentionResult, request: RenderRequest): LabelledMatrix {
  const tokensOf = (sequence: 'source' | 'target') => (sequence === 'target' ? (result.target?.tokens ?? []) : result.tokens).map(tokenLabel);
  if (request.view === 'rollout') {
    const first = result.groups[0];
    const labels = tokensOf(first.queries);
    return { rowLabels: labels, columnLabels: labels, values: attentionRollout(first.attention, first.dims), title: `${result.model.name}: attention rollout (${first.label})` };
  }
  const group = result.groups[request.group];
  if (!group) throw new InputError(`--group ${request.group}: the model has ${result.groups.length} attention group(s) (0 to ${result.groups.length - 1}).`);
  const [L, H, Tq, Tk] = group.dims;
  if (request.layer >= L) throw new InputError(`--layer ${request.layer}: the model has ${L} layers (0 to ${L - 1}).`);
  if (request.head >= H) throw new InputError(`--head ${request.head}: the model has ${H} heads (0 to ${H - 1}).`);
  const offset = (request.layer * H + request.head) * Tq * Tk;
  return {
    rowLabels: tokensOf(group.queries),
    columnLabels: tokensOf(group.keys),
    values: group.attention.subarray(offset, offset + Tq * Tk),
    title: `${result.model.name}: ${group.label}, layer ${request.layer}, head ${request.head}`,
  };
}

/** The file's contents. */
export function renderView(result: AttentionResult, request: RenderRequest): string | Buffer {
  if (request.format === 'json') return JSON.stringify(toJsonReport(result));
  const matrix = viewMatrix(result, request);
  switch (request.format) {
    case 'svg':
      return heatmapSvg(matrix, { colorOf: defaultRampColor, legendLabel: request.view === 'rollout' ? 'rollout weight' : 'attention weight' });
    case 'csv':
      return matrixCsv(matrix);
    case 'png':
      return cellsPng(matrix.rowLabels.length, matrix.columnLabels.length, matrix.values, defaultRampRgb);
  }
}
