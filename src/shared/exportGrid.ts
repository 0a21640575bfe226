// Export of the model view as a standalone SVG: every layer × head as a small heatmap of its pooled
// attention (block means, as the panel's thumbnails: poolThumbnails in replies.ts), each coloured
// against its own strongest block, labelled "L0 H1", with the head's role badge under it.
import { defaultRampColor, xmlEscape } from './exportFormats';

export interface GridFigure {
  layers: number;
  heads: number;
  /** Block rows and columns per thumbnail. */
  rows: number;
  columns: number;
  /** [L, H, rows, columns] pooled weights (NaN: a block with no allowed cell). */
  data: ArrayLike<number>;
  title?: string;
  /** Per head (index l * H + h), a short badge such as "prev 0.98". */
  badges?: readonly (string | undefined)[];
  /** The caption under the grid (what the colours mean). */
  caption?: string;
}

export interface GridSvgOptions {
  /** Thumbnail side in SVG units (default 64). */
  thumb?: number;
  background?: string;
  foreground?: string;
  /** Colour of blocks with no allowed cell (above the causal diagonal). */
  maskColor?: string;
  /** Column and row headings (default "head 0", "layer 0"; the panel passes its localised ones). */
  headLabel?: (head: number) => string;
  layerLabel?: (layer: number) => string;
}

export function gridSvg(figure: GridFigure, options: GridSvgOptions = {}): string {
  const { layers: L, heads: H, rows, columns } = figure;
  if (figure.data.length !== L * H * rows * columns) throw new Error(`export: ${figure.data.length} values for ${L} × ${H} thumbnails of ${rows} × ${columns}`);
  const thumb = options.thumb ?? 64;
  const background = options.background ?? '#ffffff';
  const foreground = options.foreground ?? '#1f1f1f';
  const mask = options.maskColor ?? '#eeeeee';
  const headLabel = options.headLabel ?? ((head: number) => `head ${head}`);
  const layerLabel = options.layerLabel ?? ((layer: number) => `layer ${layer}`);
  const font = 11;
  const pad = 8;
  const labelWidth = 56;
  const gap = 10;
  const cellHeight = thumb + (figure.badges ? font + 6 : 0) + font + 6;
  const titleHeight = figure.title ? font + 12 : 0;
  const top = pad + titleHeight + font + 6;
  const caption = figure.caption ?? `each head pooled to ${rows} × ${columns} block means, coloured against its own strongest block`;
  const width = Math.ceil(Math.max(pad + labelWidth + H * (thumb + gap), pad + caption.length * font * 0.6) + pad);
  const height = Math.ceil(top + L * (cellHeight + gap) + font + 6 + pad);
  const blockW = thumb / columns;
  const blockH = thumb / rows;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${font}">`);
  out.push(`<rect width="${width}" height="${height}" fill="${xmlEscape(background)}"/>`);
  if (figure.title) out.push(`<text class="title" x="${pad}" y="${pad + font}" fill="${xmlEscape(foreground)}" font-weight="bold">${xmlEscape(figure.title)}</text>`);
  out.push(`<g class="head-labels" fill="${xmlEscape(foreground)}" text-anchor="middle">`);
  for (let h = 0; h < H; h++) out.push(`<text x="${pad + labelWidth + h * (thumb + gap) + thumb / 2}" y="${top - 6}">${xmlEscape(headLabel(h))}</text>`);
  out.push('</g>');
  for (let l = 0; l < L; l++) {
    const y0 = top + l * (cellHeight + gap);
    out.push(`<text class="layer-label" x="${pad}" y="${y0 + thumb / 2}" dominant-baseline="central" fill="${xmlEscape(foreground)}">${xmlEscape(layerLabel(l))}</text>`);
    for (let h = 0; h < H; h++) {
      const x0 = pad + labelWidth + h * (thumb + gap);
      const offset = (l * H + h) * rows * columns;
      let max = 0;
      for (let b = 0; b < rows * columns; b++) if (Number(figure.data[offset + b]) > max) max = Number(figure.data[offset + b]);
      out.push(`<g class="thumbnail" data-layer="${l}" data-head="${h}"><title>${xmlEscape(`layer ${l}, head ${h}${figure.badges?.[l * H + h] ? `: ${figure.badges[l * H + h]}` : ''}`)}</title>`);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < columns; j++) {
          const value = Number(figure.data[offset + i * columns + j]);
          const fill = Number.isNaN(value) ? mask : defaultRampColor(max > 0 ? value / max : 0);
          out.push(`<rect x="${(x0 + j * blockW).toFixed(2)}" y="${(y0 + i * blockH).toFixed(2)}" width="${blockW.toFixed(2)}" height="${blockH.toFixed(2)}" fill="${fill}"/>`);
        }
      }
      out.push(`<rect x="${x0}" y="${y0}" width="${thumb}" height="${thumb}" fill="none" stroke="${xmlEscape(foreground)}" stroke-width="0.5"/>`);
      out.push(`<text x="${x0 + thumb / 2}" y="${y0 + thumb + font + 2}" text-anchor="middle" fill="${xmlEscape(foreground)}">L${l} H${h}</text>`);
      const badge = figure.badges?.[l * H + h];
      if (badge) out.push(`<text class="badge" x="${x0 + thumb / 2}" y="${y0 + thumb + 2 * font + 6}" text-anchor="middle" fill="${xmlEscape(foreground)}">${xmlEscape(badge)}</text>`);
      out.push('</g>');
    }
  }
  out.push(`<text class="legend" x="${pad}" y="${height - pad}" fill="${xmlEscape(foreground)}">${xmlEscape(caption)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
