// Export of one attention matrix (a head, or an aggregate such as the rollout) as an SVG heatmap
// with axis labels and a legend, or as CSV (one row per query, one column per key, labelled).
// Pure string building: no DOM and no Node, so the CLI (`render`) and the panel share it.

/** One [rows, columns] matrix with its labels: rows are queries, columns are keys. */
export interface LabelledMatrix {
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** Row-major [rows, columns]. */
  values: ArrayLike<number>;
  /** Shown above the heatmap (e.g. "Layer 0, head 1"). */
  title?: string;
  /** The token indices of the first row and column when the matrix is a window of a larger map (CSV labels keep the map's indices); default 0. */
  firstRow?: number;
  firstColumn?: number;
}

export interface HeatmapSvgOptions {
  /** weight -> CSS colour; default: defaultRampColor. */
  colorOf?: (weight: number) => string;
  /** Cell size in SVG units (default 18). */
  cellSize?: number;
  background?: string;
  foreground?: string;
  /** Legend caption (default "attention weight"). */
  legendLabel?: string;
}

const LOW = { r: 255, g: 255, b: 255 };
const HIGH = { r: 8, g: 48, b: 107 };

/** The export's colour ramp: white at weight 0 to dark blue at 1, linear in the weight (clamped; NaN is 0). */
export function defaultRampColor(weight: number): string {
  const t = weight > 0 ? Math.min(1, weight) : 0;
  const channel = (a: number, b: number) => Math.round(a + (b - a) * t);
  return rgbHex(channel(LOW.r, HIGH.r), channel(LOW.g, HIGH.g), channel(LOW.b, HIGH.b));
}

/** The same ramp as RGB bytes (for the PNG writer). */
export function defaultRampRgb(weight: number): [number, number, number] {
  const hex = defaultRampColor(weight);
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

function rgbHex(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((value) => value.toString(16).padStart(2, '0')).join('');
}

/** Text and attribute values for XML: & < > " ' escaped, and characters XML 1.0 forbids (controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- these are the characters XML forbids
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function checkShape(matrix: LabelledMatrix): { rows: number; columns: number } {
  const rows = matrix.rowLabels.length;
  const columns = matrix.columnLabels.length;
  if (matrix.values.length !== rows * columns) throw new Error(`export: ${matrix.values.length} values for ${rows} × ${columns} labels`);
  return { rows, columns };
}

/** Label width estimate in SVG units (no font metrics without a browser): wide characters count double. */
export function textWidth(text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) units += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f000}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(ch) ? 1 : 0.6;
  return units * fontSize;
}

/**
 * The heatmap as a standalone SVG: one <rect> per cell (filled by colorOf(weight), the weight in
 * its <title>), the query labels left of the rows, the key labels rotated above the columns, and a
 * legend (a gradient with ticks at 0, 0.5 and 1).
 */
export function heatmapSvg(matrix: LabelledMatrix, options: HeatmapSvgOptions = {}): string {
  const { rows, columns } = checkShape(matrix);
  const colorOf = options.colorOf ?? defaultRampColor;
  const cell = options.cellSize ?? 18;
  const font = Math.max(8, Math.min(12, Math.round(cell * 0.65)));
  const background = options.background ?? '#ffffff';
  const foreground = options.foreground ?? '#1f1f1f';
  const maxLabel = (labels: readonly string[]) => Math.min(240, labels.reduce((max, label) => Math.max(max, textWidth(label, font)), 0));
  const pad = 8;
  const titleHeight = matrix.title ? font + 10 : 0;
  const left = pad + maxLabel(matrix.rowLabels) + 6;
  const top = pad + titleHeight + maxLabel(matrix.columnLabels) + 6;
  const gridWidth = columns * cell;
  const gridHeight = rows * cell;
  const legendTop = top + gridHeight + 16;
  const legendWidth = Math.max(120, Math.min(240, gridWidth));
  const width = Math.ceil(Math.max(left + gridWidth, left + legendWidth + 40) + pad);
  const height = Math.ceil(legendTop + 12 + font + 8 + pad);
  const lines: string[] = [];
  lines.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${font}">`);
  lines.push(`<rect width="${width}" height="${height}" fill="${xmlEscape(background)}"/>`);
  if (matrix.title) lines.push(`<text class="title" x="${pad}" y="${pad + font}" fill="${xmlEscape(foreground)}" font-weight="bold">${xmlEscape(matrix.title)}</text>`);
  lines.push(`<g class="row-labels" fill="${xmlEscape(foreground)}" text-anchor="end" xml:space="preserve">`);
  matrix.rowLabels.forEach((label, i) => lines.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2}" dominant-baseline="central">${xmlEscape(label)}</text>`));
  lines.push('</g>');
  lines.push(`<g class="column-labels" fill="${xmlEscape(foreground)}" xml:space="preserve">`);
  matrix.columnLabels.forEach((label, j) => {
    const x = left + j * cell + cell / 2;
    const y = top - 4;
    lines.push(`<text x="${x}" y="${y}" transform="rotate(-90 ${x} ${y})" dominant-baseline="central">${xmlEscape(label)}</text>`);
  });
  lines.push('</g>');
  lines.push('<g class="cells">');
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const weight = Number(matrix.values[i * columns + j]);
      lines.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${xmlEscape(colorOf(weight))}"><title>${xmlEscape(`${matrix.rowLabels[i]} → ${matrix.columnLabels[j]}: ${formatValue(weight)}`)}</title></rect>`);
    }
  }
  lines.push('</g>');
  const stops = [0, 0.25, 0.5, 0.75, 1];
  lines.push(`<defs><linearGradient id="legend-ramp" x1="0" x2="1" y1="0" y2="0">${stops.map((stop) => `<stop offset="${stop}" stop-color="${xmlEscape(colorOf(stop))}"/>`).join('')}</linearGradient></defs>`);
  lines.push(`<g class="legend" fill="${xmlEscape(foreground)}">`);
  lines.push(`<rect x="${left}" y="${legendTop}" width="${legendWidth}" height="12" fill="url(#legend-ramp)" stroke="${xmlEscape(foreground)}" stroke-width="0.5"/>`);
  for (const tick of [0, 0.5, 1]) {
    lines.push(`<text x="${left + tick * legendWidth}" y="${legendTop + 12 + font + 2}" text-anchor="${tick === 0 ? 'start' : tick === 1 ? 'end' : 'middle'}">${tick}</text>`);
  }
  lines.push(`<text x="${left + legendWidth + 6}" y="${legendTop + 10}">${xmlEscape(options.legendLabel ?? 'attention weight')}</text>`);
  lines.push('</g>');
  lines.push('</svg>');
  return lines.join('\n') + '\n';
}

/** A weight in an export: shortest decimal that reads back as the same float32 (NaN for masked/undefined). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'NaN';
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = Number(single.toPrecision(digits)).toString();
    if (Math.fround(Number(text)) === single) return text;
  }
  return String(single);
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or leading/trailing space. */
export function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV of the matrix: a header row (a corner cell "query \ key", then each key label), then one row
 * per query: its label and its weights as decimals. Labels are prefixed with their index
 * ("3: fox") so that repeated tokens stay distinct.
 */
export function matrixCsv(matrix: LabelledMatrix): string {
  const { rows, columns } = checkShape(matrix);
  const [firstRow, firstColumn] = [matrix.firstRow ?? 0, matrix.firstColumn ?? 0];
  const lines = [['query \\ key', ...matrix.columnLabels.map((label, j) => `${firstColumn + j}: ${label}`)].map(csvField).join(',')];
  for (let i = 0; i < rows; i++) {
    const row = [csvField(`${firstRow + i}: ${matrix.rowLabels[i]}`)];
    for (let j = 0; j < columns; j++) row.push(formatValue(Number(matrix.values[i * columns + j])));
    lines.push(row.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 parser (for tests and round trips): rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
