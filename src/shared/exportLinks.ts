// Export of the links view (bertviz's head view) as a standalone SVG: query tokens in a left column,
// key tokens in a right column, one curve per drawn link whose opacity follows the weight, a title
// and a line saying which links are drawn. Pure string building, shared by the panel and the CLI.
import { xmlEscape, textWidth } from './exportFormats';
import { OVERVIEW_MIN_WEIGHT, overviewLinks, overviewLinksPerQuery } from './linkSelection';

export interface LinkLine {
  query: number;
  key: number;
  weight: number;
  /** 0..1; the overview uses the weight itself. */
  opacity: number;
  color: string;
}

export interface LinksFigure {
  queryLabels: readonly string[];
  keyLabels: readonly string[];
  lines: readonly LinkLine[];
  title?: string;
  /** What the lines are (the legend line under the figure). */
  caption: string;
  /** A query drawn highlighted (the panel's active token). */
  activeQuery?: number;
}

export interface LinksSvgOptions {
  background?: string;
  foreground?: string;
  /** Row height in SVG units (default 18). */
  rowHeight?: number;
}

/** The overview of one [Tq, Tk] matrix: every query's strongest links, opacity = weight, one colour. */
export function overviewFigure(queryLabels: readonly string[], keyLabels: readonly string[], matrix: ArrayLike<number>, color: string, title?: string): LinksFigure {
  if (matrix.length !== queryLabels.length * keyLabels.length) throw new Error(`export: ${matrix.length} values for ${queryLabels.length} × ${keyLabels.length} labels`);
  const lines = overviewLinks(matrix, queryLabels.length, keyLabels.length).map((link) => ({ ...link, opacity: Math.min(1, link.weight), color }));
  const caption = `line opacity = attention weight; each query's ${overviewLinksPerQuery(queryLabels.length)} strongest keys of weight ≥ ${OVERVIEW_MIN_WEIGHT}`;
  return { queryLabels, keyLabels, lines, title, caption };
}

export function linksSvg(figure: LinksFigure, options: LinksSvgOptions = {}): string {
  const row = options.rowHeight ?? 18;
  const font = Math.max(8, Math.min(12, Math.round(row * 0.65)));
  const background = options.background ?? '#ffffff';
  const foreground = options.foreground ?? '#1f1f1f';
  const pad = 8;
  const widest = (labels: readonly string[]) => Math.min(240, labels.reduce((max, label) => Math.max(max, textWidth(label, font)), 0));
  const titleHeight = figure.title ? font + 12 : 0;
  const top = pad + titleHeight;
  const leftEdge = pad + widest(figure.queryLabels) + 6;
  const gap = 160;
  const rightEdge = leftEdge + gap;
  const rows = Math.max(figure.queryLabels.length, figure.keyLabels.length);
  const captionTop = top + rows * row + 8;
  const width = Math.ceil(Math.max(rightEdge + widest(figure.keyLabels) + 6, pad + textWidth(figure.caption, font)) + pad);
  const height = Math.ceil(captionTop + font + 4 + pad);
  const y = (index: number) => top + index * row + row / 2;
  const lines: string[] = [];
  lines.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${font}">`);
  lines.push(`<rect width="${width}" height="${height}" fill="${xmlEscape(background)}"/>`);
  if (figure.title) lines.push(`<text class="title" x="${pad}" y="${pad + font}" fill="${xmlEscape(foreground)}" font-weight="bold">${xmlEscape(figure.title)}</text>`);
  lines.push('<g class="links" fill="none" stroke-width="1.5">');
  const middle = (leftEdge + rightEdge) / 2;
  for (const link of figure.lines) {
    const y1 = y(link.query).toFixed(1);
    const y2 = y(link.key).toFixed(1);
    lines.push(`<path d="M${leftEdge + 2} ${y1} C${middle} ${y1} ${middle} ${y2} ${rightEdge - 2} ${y2}" stroke="${xmlEscape(link.color)}" stroke-opacity="${Math.max(0, Math.min(1, link.opacity)).toFixed(3)}"><title>${xmlEscape(`${figure.queryLabels[link.query]} → ${figure.keyLabels[link.key]}: ${link.weight.toFixed(3)}`)}</title></path>`);
  }
  lines.push('</g>');
  lines.push(`<g class="query-labels" fill="${xmlEscape(foreground)}" text-anchor="end" xml:space="preserve">`);
  figure.queryLabels.forEach((label, i) => lines.push(`<text x="${leftEdge - 4}" y="${y(i)}" dominant-baseline="central"${i === figure.activeQuery ? ' font-weight="bold"' : ''}>${xmlEscape(label)}</text>`));
  lines.push('</g>');
  lines.push(`<g class="key-labels" fill="${xmlEscape(foreground)}" xml:space="preserve">`);
  figure.keyLabels.forEach((label, j) => lines.push(`<text x="${rightEdge + 4}" y="${y(j)}" dominant-baseline="central">${xmlEscape(label)}</text>`));
  lines.push('</g>');
  lines.push(`<text class="legend" x="${pad}" y="${captionTop + font}" fill="${xmlEscape(foreground)}">${xmlEscape(figure.caption)}</text>`);
  lines.push('</svg>');
  return lines.join('\n') + '\n';
}
