// attention-inspector render: one view of a run written to a file, drawn by the same string
// builders as the panel's export (src/shared/export*.ts), with no browser.
//   heatmap: one head of one attention group; links: the same head as bertviz-style links (each
//   query's strongest keys); grid: every layer × head pooled to thumbnails with role badges (the
//   model view); rollout: the attention rollout [T, T] of the first group (core/analysis/rollout.ts).
//   Formats: svg; png (the SVG rasterised by resvg with the system's fonts, so labels and legend are
//   in it; cells only where resvg is missing); csv (heatmap, links, rollout: labelled rows; grid: one
//   row per head with its role scores); json (the run --json format).
import type { AttentionGroup, AttentionResult, TokenSpan } from '../core/types';
import { attentionRollout } from '../core/analysis/rollout';
import { headRoles, type HeadRole, type HeadRoleScores } from '../core/analysis/headRoles';
import { InputError } from '../core/errors';
import { describeWindow, windowProblem, type CellWindow } from '../core/attentionWindow';
import { csvField, defaultRampColor, defaultRampRgb, formatValue, heatmapSvg, matrixCsv, type LabelledMatrix } from '../shared/exportFormats';
import { gridSvg } from '../shared/exportGrid';
import { linksSvg, overviewFigure } from '../shared/exportLinks';
import { poolThumbnails } from '../shared/replies';
import { strongestRole } from '../shared/strongestRole';
import { cellsPng } from './png';
import { svgToPng } from './svgPng';
import { toJsonReport } from './format';

export const RENDER_VIEWS = ['heatmap', 'links', 'grid', 'rollout'] as const;
export const RENDER_FORMATS = ['svg', 'png', 'csv', 'json'] as const;
export type RenderView = (typeof RENDER_VIEWS)[number];
export type RenderFormat = (typeof RENDER_FORMATS)[number];

/** Thumbnail blocks per side in the grid (the panel's model view uses the same). */
export const GRID_THUMBNAIL_SIZE = 32;
/** Colour of the links (the panel's first head colour is theme-dependent; an export is on white). */
const LINK_COLOR = '#1f6fb4';
const ROLE_TAGS: Readonly<Record<HeadRole, string>> = { previousToken: 'prev', firstToken: 'first', sameToken: 'same', induction: 'induct', entropy: 'entropy' };

export interface RenderRequest {
  view: RenderView;
  format: RenderFormat;
  group: number;
  layer: number;
  head: number;
  /** heatmap and rollout: only this window of the map (the panel's zoom), exact cells. */
  cells?: CellWindow;
}

function tokenLabel(token: TokenSpan): string {
  return token.label ?? token.text;
}

function labelsOf(result: AttentionResult, sequence: 'source' | 'target'): string[] {
  return (sequence === 'target' ? (result.target?.tokens ?? []) : result.tokens).map(tokenLabel);
}

function groupOf(result: AttentionResult, request: RenderRequest): AttentionGroup {
  const group = result.groups[request.group];
  if (!group) throw new InputError(`--group ${request.group}: the model has ${result.groups.length} attention group(s) (0 to ${result.groups.length - 1}).`);
  return group;
}

/** The matrix a view shows: a head of a group (heatmap, links), or the rollout of the first group; with --cells only that window of it. */
export function viewMatrix(result: AttentionResult, request: RenderRequest): LabelledMatrix {
  const matrix = wholeViewMatrix(result, request);
  return request.cells ? cropMatrix(matrix, request.cells) : matrix;
}

/** [Tq, Tk] -> [row1 − row0, col1 − col0]: the window's rows, columns and labels. */
function cropMatrix(matrix: LabelledMatrix, window: CellWindow): LabelledMatrix {
  const Tq = matrix.rowLabels.length;
  const Tk = matrix.columnLabels.length;
  const problem = windowProblem(window, Tq, Tk);
  if (problem) throw new InputError(`--cells: ${problem}`);
  const { row0, row1, col0, col1 } = window;
  const cols = col1 - col0;
  const values = new Float32Array((row1 - row0) * cols); // [rows, cols]
  for (let t = row0; t < row1; t++) for (let s = col0; s < col1; s++) values[(t - row0) * cols + (s - col0)] = matrix.values[t * Tk + s];
  return {
    rowLabels: matrix.rowLabels.slice(row0, row1),
    columnLabels: matrix.columnLabels.slice(col0, col1),
    values,
    title: `${matrix.title ?? ''} (${describeWindow(window)})`,
    firstRow: row0,
    firstColumn: col0,
  };
}

function wholeViewMatrix(result: AttentionResult, request: RenderRequest): LabelledMatrix {
  if (request.view === 'rollout') {
    const first = result.groups[0];
    const labels = labelsOf(result, first.queries);
    return { rowLabels: labels, columnLabels: labels, values: attentionRollout(first.attention, first.dims), title: `${result.model.name}: attention rollout (${first.label})` };
  }
  const group = groupOf(result, request);
  const [L, H, Tq, Tk] = group.dims;
  if (request.layer >= L) throw new InputError(`--layer ${request.layer}: the model has ${L} layers (0 to ${L - 1}).`);
  if (request.head >= H) throw new InputError(`--head ${request.head}: the model has ${H} heads (0 to ${H - 1}).`);
  const offset = (request.layer * H + request.head) * Tq * Tk;
  return {
    rowLabels: labelsOf(result, group.queries),
    columnLabels: labelsOf(result, group.keys),
    values: group.attention.subarray(offset, offset + Tq * Tk),
    title: `${result.model.name}: ${group.label}, layer ${request.layer}, head ${request.head}`,
  };
}

/** Role scores of the group's heads, or undefined for cross-attention and one-token inputs (no roles to score). */
function rolesOf(result: AttentionResult, group: number): HeadRoleScores[] | undefined {
  try {
    return headRoles(result, group);
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}

function gridSvgOf(result: AttentionResult, request: RenderRequest): string {
  const group = groupOf(result, request);
  const [L, H] = group.dims;
  const pooled = poolThumbnails(group.attention, group.dims, GRID_THUMBNAIL_SIZE, group.causal === true);
  const roles = rolesOf(result, request.group);
  const badges = roles?.map((scores) => {
    const { role, value } = strongestRole(scores);
    return `${ROLE_TAGS[role]} ${value.toFixed(2)}`;
  });
  return gridSvg({ layers: L, heads: H, rows: pooled.rows, columns: pooled.columns, data: pooled.data, badges, title: `${result.model.name}: ${group.label}, every layer and head` });
}

/** Grid CSV: one row per head, its role scores (empty where the text has no repeats to score on). */
function gridCsv(result: AttentionResult, request: RenderRequest): string {
  groupOf(result, request);
  const roles = rolesOf(result, request.group);
  if (!roles) throw new InputError(`--view grid --format csv lists head roles, which group ${request.group} has none of (cross-attention or one token).`);
  const columns: HeadRole[] = ['previousToken', 'firstToken', 'sameToken', 'induction', 'entropy'];
  const lines = [['layer', 'head', ...columns].map(csvField).join(',')];
  for (const scores of roles) lines.push([scores.layer, scores.head, ...columns.map((role) => (scores[role] === null ? '' : formatValue(scores[role] as number)))].join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The view as SVG. */
export function viewSvg(result: AttentionResult, request: RenderRequest): string {
  switch (request.view) {
    case 'grid':
      return gridSvgOf(result, request);
    case 'links': {
      const matrix = viewMatrix(result, request);
      return linksSvg(overviewFigure(matrix.rowLabels, matrix.columnLabels, matrix.values, LINK_COLOR, matrix.title));
    }
    case 'heatmap':
    case 'rollout':
      return heatmapSvg(viewMatrix(result, request), { colorOf: defaultRampColor, legendLabel: request.view === 'rollout' ? 'rollout weight' : 'attention weight' });
  }
}

export interface RenderedFile {
  contents: string | Buffer;
  /** Said on stderr (e.g. a PNG without labels). */
  notice?: string;
}

/** The file's contents. */
export function renderView(result: AttentionResult, request: RenderRequest): RenderedFile {
  switch (request.format) {
    case 'json':
      return { contents: JSON.stringify(toJsonReport(result)) };
    case 'csv':
      return { contents: request.view === 'grid' ? gridCsv(result, request) : matrixCsv(viewMatrix(result, request)) };
    case 'svg':
      return { contents: viewSvg(result, request) };
    case 'png': {
      const png = svgToPng(viewSvg(result, request));
      if (png) return { contents: png };
      if (request.view !== 'heatmap' && request.view !== 'rollout') throw new InputError(`--view ${request.view} --format png needs @resvg/resvg-js (npm install @resvg/resvg-js); use --format svg`);
      const matrix = viewMatrix(result, request);
      return {
        contents: cellsPng(matrix.rowLabels.length, matrix.columnLabels.length, matrix.values, defaultRampRgb),
        notice: 'the PNG has the cells only: labels need @resvg/resvg-js (npm install @resvg/resvg-js); --format svg has them',
      };
    }
  }
}
