import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { main } from '../../src/cli/main';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
import { defaultRampColor, heatmapSvg, matrixCsv, parseCsv, xmlEscape } from '../../src/shared/exportFormats';
import { attentionRollout } from '../../src/core/analysis/rollout';
import { tinyModelFolder } from '../support/tinyModel';

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

    const pngFile = path.join(dir, 'rollout.png');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'rollout', '--format', 'png', '--out', pngFile])).code, 0);
    const png = fs.readFileSync(pngFile);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), T * 8);
    assert.equal(png.readUInt32BE(20), T * 8);
    const idatLength = png.readUInt32BE(33);
    assert.equal(png.toString('ascii', 37, 41), 'IDAT');
    assert.equal(zlib.inflateSync(png.subarray(41, 41 + idatLength)).length, T * 8 * (1 + T * 8 * 3));

    const jsonFile = path.join(dir, 'run.json');
    assert.equal((await runCli(['render', '--text', text, '--model', model, '--view', 'heatmap', '--format', 'json', '--out', jsonFile])).code, 0);
    const written = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as JsonReport;
    assert.equal(written.attention.data, report.attention.data);
  });

  it('bad --view, --format, a view not drawn yet, a missing --out and an out-of-range head are errors', async () => {
    const out = path.join(dir, 'never.svg');
    const base = ['render', '--text', text, '--model', model];
    for (const [args, code, pattern] of [
      [['--view', 'pie', '--format', 'svg', '--out', out], 2, /--view heatmap or rollout, not "pie"/],
      [['--view', 'heatmap', '--format', 'gif', '--out', out], 2, /--format svg, png, csv or json, not "gif"/],
      [['--view', 'links', '--format', 'svg', '--out', out], 2, /not drawn yet/],
      [['--view', 'heatmap', '--format', 'svg'], 2, /--out FILE/],
      [['--view', 'heatmap', '--head', '9', '--format', 'svg', '--out', out], 1, /--head 9: the model has 4 heads/],
    ] as const) {
      const result = await runCli([...base, ...args]);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, pattern);
    }
    assert.equal(fs.existsSync(out), false);
  });
});
