import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
import { defaultRampColor, heatmapSvg, matrixCsv, parseCsv, xmlEscape } from '../../src/shared/exportFormats';
import { attentionRollout } from '../../src/core/analysis/rollout';
import { tinyModelFolder } from '../support/tinyModel';
import { decodePng } from '../support/decodePng';

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
  return { code, stdout, stderr };
}

const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

describe('export formats', () => {
  const labels = ['<b>', 'a & b', '"q"', " it's", '中文'];
  const T = labels.length;
  const values = Float32Array.from({ length: T * T }, (_, k) => ((k * 37) % 11) / 10);

  it('SVG: every label XML-escaped, one rect per cell with the fill of its weight, and a legend', () => {
    const svg = heatmapSvg({ rowLabels: labels, columnLabels: labels, values, title: 'L0 <H1>' });
    assert.ok(!svg.includes('<b>'), 'raw markup leaked');
    for (const label of labels) {
      const rowTexts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      assert.equal(rowTexts.filter((text) => text === xmlEscape(label)).length, 2, `label ${label}: once per axis`);
    }
    const cells = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="18" height="18" fill="(#[0-9a-f]{6})"><title>([^<]*)<\/title><\/rect>/g)];
    assert.equal(cells.length, T * T);
    cells.forEach((cell, k) => {
      assert.equal(cell[1], defaultRampColor(values[k]));
      assert.ok(unescape(cell[2]).startsWith(`${labels[Math.floor(k / T)]} → ${labels[k % T]}: `));
    });
    assert.notEqual(defaultRampColor(0), defaultRampColor(1));
    assert.match(svg, /<g class="legend"/);
    assert.match(svg, /L0 &lt;H1&gt;/);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it('CSV round trip: the header holds the key labels, each row its query label and the same float32 weights', () => {
    const csv = matrixCsv({ rowLabels: labels, columnLabels: labels, values });
    const rows = parseCsv(csv);
    assert.equal(rows.length, T + 1);
    assert.deepEqual(rows[0], ['query \\ key', ...labels.map((label, j) => `${j}: ${label}`)]);
    for (let i = 0; i < T; i++) {
      assert.equal(rows[i + 1][0], `${i}: ${labels[i]}`);
      assert.deepEqual(Float32Array.from(rows[i + 1].slice(1).map(Number)), values.subarray(i * T, (i + 1) * T));
    }
  });
});

describe('CLI render', () => {
  let model: string;
  let dir: string;
  before(async () => {
    model = await tinyModelFolder();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-render-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const text = 'the <quick> & "brown" fox';

  it('heatmap SVG and CSV: written, exit 0; the CSV is the run --json head row by row', async () => {
    const svgFile = path.join(dir, 'head.svg');
    const svg = await runCli(['render', '--text', text, '--model', model, '--view', 'heatmap', '--layer', '1', '--head', '2', '--format', 'svg', '--out', svgFile]);
    assert.equal(svg.code, 0, svg.stderr);
    const svgText = fs.readFileSync(svgFile, 'utf8');
    const json = await runCli(['run', '--text', text, '--model', model, '--json']);
    const report = JSON.parse(json.stdout) as JsonReport;
    const [, H, T] = report.attention.dims;
    for (const token of report.tokens) assert.ok(svgText.includes(`>${xmlEscape(token.label ?? token.text)}</text>`), token.text);
    assert.equal((svgText.match(/<title>/g) ?? []).length, T * T);

    const csvFile = path.join(dir, 'head.csv');
    const csv = await runCli(['render', '--text', text, '--model', model, '--view', 'heatmap', '--layer', '1', '--head', '2', '--format', 'csv', '--out', csvFile]);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    const attention = base64ToFloat32(report.attention.data);
    const offset = (1 * H + 2) * T * T;
    assert.equal(rows.length, T + 1);
    assert.deepEqual(rows[0].slice(1), report.tokens.map((token, j) => `${j}: ${token.text}`));
    for (let i = 0; i < T; i++) assert.deepEqual(Float32Array.from(rows[i + 1].slice(1).map(Number)), attention.subarray(offset + i * T, offset + (i + 1) * T));
  });

  it('rollout CSV matches attentionRollout; PNG is a valid image of the cells; json is the run --json format', async () => {
    const csvFile = path.join(dir, 'rollout.csv');
    const result = await runCli(['render', '--text', text, '--model', model, '--view', 'rollout', '--format', 'csv', '--out', csvFile]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse((await runCli(['run', '--text', text, '--model', model, '--json'])).stdout) as JsonReport;
    const rollout = attentionRollout(base64ToFloat32(report.attention.data), report.attention.dims);
    const T = report.tokens.length;
    const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    for (let i = 0; i < T; i++) assert.deepEqual(Float32Array.from(rows[i + 1].slice(1).map(Number)), rollout.subarray(i * T, (i + 1) * T));

    // PNG: the same SVG rasterised at 2 px per unit, labels and legend included.
    const pngFile = path.join(dir, 'rollout.png');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'rollout', '--format', 'png', '--out', pngFile])).code, 0);
    const svgFile = path.join(dir, 'rollout.svg');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'rollout', '--format', 'svg', '--out', svgFile])).code, 0);
    const svg = fs.readFileSync(svgFile, 'utf8');
    const png = decodePng(fs.readFileSync(pngFile));
    const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    assert.equal(png.width, width * 2);
    assert.equal(png.height, height * 2);
    const firstCell = /<g class="cells">\n<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"/.exec(svg)!;
    const [left, top, cell] = [Number(firstCell[1]), Number(firstCell[2]), Number(firstCell[3])];
    const pixel = (x: number, y: number) => Array.from(png.rgba.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const expected = defaultRampColor(rollout[i * T + j]).slice(1).match(/../g)!.map((hex) => parseInt(hex, 16));
        const got = pixel(Math.round((left + (j + 0.5) * cell) * 2), Math.round((top + (i + 0.5) * cell) * 2));
        got.forEach((channel, k) => assert.ok(Math.abs(channel - expected[k]) <= 2, `cell ${i},${j}: ${got} vs ${expected}`));
      }
    }
    // The query labels are drawn left of the cells: dark pixels there, on a white background.
    let dark = 0;
    for (let y = Math.round(top * 2); y < Math.round((top + T * cell) * 2); y++) for (let x = 0; x < Math.round(left * 2) - 4; x++) if (pixel(x, y).every((channel) => channel < 128)) dark++;
    assert.ok(dark > 50, `only ${dark} dark pixels where the labels are`);

    const jsonFile = path.join(dir, 'run.json');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'heatmap', '--format', 'json', '--out', jsonFile])).code, 0);
    const written = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as JsonReport;
    assert.equal(written.attention.data, report.attention.data);
  });

  it('--cells renders a window of the heatmap: its exact cells, labelled with the map\'s token indices; a window off the map is an error', async () => {
    const report = JSON.parse((await runCli(['run', '--text', text, '--model', model, '--json'])).stdout) as JsonReport;
    const [, H, T] = report.attention.dims;
    assert.ok(T >= 3);
    const csvFile = path.join(dir, 'window.csv');
    const result = await runCli(['render', '--text', text, '--model', model, '--view', 'heatmap', '--layer', '1', '--head', '2', '--cells', `1:${T},0:${T - 1}`, '--format', 'csv', '--out', csvFile]);
    assert.equal(result.code, 0, result.stderr);
    const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    const attention = base64ToFloat32(report.attention.data);
    const offset = (1 * H + 2) * T * T;
    assert.equal(rows.length, T);
    assert.deepEqual(rows[0].slice(1), report.tokens.slice(0, T - 1).map((token, j) => `${j}: ${token.text}`));
    for (let t = 1; t < T; t++) {
      assert.equal(rows[t][0], `${t}: ${report.tokens[t].text}`);
      assert.deepEqual(Float32Array.from(rows[t].slice(1).map(Number)), attention.subarray(offset + t * T, offset + t * T + T - 1));
    }
    const out = path.join(dir, 'never-window.svg');
    const base = ['render', '--text', text, '--model', model, '--format', 'svg', '--out', out];
    for (const [args, code, pattern] of [
      [['--view', 'heatmap', '--cells', `0:${T + 1},0:1`], 1, new RegExp(`--cells: window rows 0\\.\\.${T + 1}, columns 0\\.\\.1 lies outside the ${T} × ${T} map`)],
      [['--view', 'heatmap', '--cells', '3:1,0:1'], 2, /--cells 3:1,0:1 is empty/],
      [['--view', 'heatmap', '--cells', '0-4'], 2, /--cells must be ROW0:ROW1,COL0:COL1/],
      [['--view', 'links', '--cells', '0:1,0:1'], 2, /--cells applies to --view heatmap and rollout only/],
    ] as const) {
      const failed = await runCli([...base, ...args]);
      assert.equal(failed.code, code, failed.stderr);
      assert.match(failed.stderr, pattern);
    }
    assert.equal(fs.existsSync(out), false);
  });

  it('bad --view, --format, a missing --out and an out-of-range head are errors', async () => {
    const out = path.join(dir, 'never.svg');
    const base = ['render', '--text', text, '--model', model];
    for (const [args, code, pattern] of [
      [['--view', 'pie', '--format', 'svg', '--out', out], 2, /--view heatmap, links, grid or rollout, not "pie"/],
      [['--view', 'heatmap', '--format', 'gif', '--out', out], 2, /--format svg, png, csv or json, not "gif"/],
      [['--view', 'links', '--head', '4', '--format', 'svg', '--out', out], 1, /--head 4: the model has 4 heads/],
      [['--view', 'heatmap', '--format', 'svg'], 2, /--out FILE/],
      [['--view', 'heatmap', '--head', '9', '--format', 'svg', '--out', out], 1, /--head 9: the model has 4 heads/],
    ] as const) {
      const result = await runCli([...base, ...args]);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, pattern);
    }
    assert.equal(fs.existsSync(out), false);
  });
  it('links SVG: one curve per query to each of its strongest keys (at most 6, weight ≥ 0.05), labels in both columns', async () => {
    const file = path.join(dir, 'links.svg');
    const result = await runCli(['render', '--text', text, '--model', model, '--view', 'links', '--layer', '1', '--head', '1', '--format', 'svg', '--out', file]);
    assert.equal(result.code, 0, result.stderr);
    const svg = fs.readFileSync(file, 'utf8');
    const report = JSON.parse((await runCli(['run', '--text', text, '--model', model, '--json'])).stdout) as JsonReport;
    const [, H, T] = report.attention.dims;
    const attention = base64ToFloat32(report.attention.data);
    const offset = (1 * H + 1) * T * T;
    const expected = new Set<string>();
    for (let i = 0; i < T; i++) {
      const keys = Array.from({ length: T }, (_, j) => j).filter((j) => attention[offset + i * T + j] >= 0.05);
      keys.sort((a, b) => attention[offset + i * T + b] - attention[offset + i * T + a]);
      for (const j of keys.slice(0, 6)) expected.add(`${i}>${j}`);
    }
    const drawn = [...svg.matchAll(/<path d="M[\d.]+ ([\d.]+) C[^"]* ([\d.]+)" stroke="[^"]+" stroke-opacity="([\d.]+)"><title>/g)];
    assert.equal(drawn.length, expected.size);
    const rowOf = (y: number) => Math.round((y - 8 - (12 + 12) - 9) / 18);
    for (const [, y1, y2, opacity] of drawn) {
      const [i, j] = [rowOf(Number(y1)), rowOf(Number(y2))];
      assert.ok(expected.has(`${i}>${j}`), `unexpected link ${i} → ${j}`);
      assert.ok(Math.abs(Number(opacity) - Math.min(1, attention[offset + i * T + j])) < 1e-3);
    }
    const labelOf = (token: (typeof report.tokens)[number]) => `>${xmlEscape(token.label ?? token.text)}</text>`;
    for (const token of report.tokens) assert.equal(svg.split(labelOf(token)).length - 1, 2 * report.tokens.filter((other) => labelOf(other) === labelOf(token)).length, token.text);
  });

  it('grid SVG and CSV: L × H thumbnails of pooled blocks with the strongest role as badge; the CSV holds every score', async () => {
    const report = JSON.parse((await runCli(['run', '--text', text, '--model', model, '--json'])).stdout) as JsonReport;
    const [L, H, T] = report.attention.dims;
    const attention = base64ToFloat32(report.attention.data);
    // Independent scores: mean weight on t-1 and on token 0 over t = 1..T-1; for rows whose token id
    // occurred before, mean weight on those earlier occurrences (same) and on the tokens after them (induction).
    const weight = (l: number, h: number, t: number, s: number) => attention[((l * H + h) * T + t) * T + s];
    const mean = (l: number, h: number, key: (t: number) => number) => {
      let sum = 0;
      for (let t = 1; t < T; t++) sum += weight(l, h, t, key(t));
      return sum / (T - 1);
    };
    const ids = report.tokens.map((token) => token.id);
    const repeats = (l: number, h: number, after: number): number | null => {
      let sum = 0;
      let rows = 0;
      for (let t = 1; t < T; t++) {
        const earlier = ids.slice(0, t).flatMap((id, s) => (id === ids[t] ? [s + after] : []));
        if (earlier.length === 0) continue;
        rows++;
        for (const s of new Set(earlier)) sum += weight(l, h, t, s);
      }
      return rows === 0 ? null : sum / rows;
    };
    const strongest = (l: number, h: number) => {
      let best: [string, number] = ['prev', mean(l, h, (t) => t - 1)];
      for (const [tag, value] of [['first', mean(l, h, () => 0)], ['same', repeats(l, h, 0)], ['induct', repeats(l, h, 1)]] as const) if (value !== null && value > best[1]) best = [tag, value];
      return `${best[0]} ${best[1].toFixed(2)}`;
    };
    const file = path.join(dir, 'grid.svg');
    const result = await runCli(['render', '--text', text, '--model', model, '--view', 'grid', '--format', 'svg', '--out', file]);
    assert.equal(result.code, 0, result.stderr);
    const svg = fs.readFileSync(file, 'utf8');
    const thumbnails = svg.split('<g class="thumbnail"').slice(1);
    assert.equal(thumbnails.length, L * H);
    thumbnails.forEach((thumbnail, index) => {
      const [l, h] = [Math.floor(index / H), index % H];
      assert.equal((thumbnail.match(/<rect [^>]*fill="#/g) ?? []).length, Math.min(T, 32) ** 2, 'one rect per block');
      const badge = /<text class="badge"[^>]*>([^<]+)</.exec(thumbnail)![1];
      assert.equal(badge, strongest(l, h), `L${l} H${h}`);
    });

    const csvFile = path.join(dir, 'grid.csv');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'grid', '--format', 'csv', '--out', csvFile])).code, 0);
    const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    assert.deepEqual(rows[0], ['layer', 'head', 'previousToken', 'firstToken', 'sameToken', 'induction', 'entropy']);
    assert.equal(rows.length, L * H + 1);
    for (const row of rows.slice(1)) {
      const [l, h] = [Number(row[0]), Number(row[1])];
      assert.ok(Math.abs(Number(row[2]) - mean(l, h, (t) => t - 1)) < 1e-6);
      assert.ok(Math.abs(Number(row[3]) - mean(l, h, () => 0)) < 1e-6);
      for (const [column, after] of [[4, 0], [5, 1]] as const) {
        const expected = repeats(l, h, after);
        if (expected === null) assert.equal(row[column], '');
        else assert.ok(Math.abs(Number(row[column]) - expected) < 1e-6);
      }
    }

    const pngFile = path.join(dir, 'grid.png');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'grid', '--format', 'png', '--out', pngFile])).code, 0);
    const png = decodePng(fs.readFileSync(pngFile));
    const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    assert.deepEqual([png.width, png.height], [width * 2, height * 2]);
  });
});
