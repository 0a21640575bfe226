// The panel's DOM-free logic, in plain Node: how weights become pixels (including pooling for long
// inputs and rectangular cross-attention maps), colour scales, visible whitespace, head/layer/group
// stepping, grouped-query labels, the byte-budgeted cache and the session checks. The browser test
// covers the same code as a user sees it; this pins the details.

import * as assert from 'node:assert/strict';
import { MEAN_HEAD, type SessionInfo } from '../../src/shared/protocol';
import { headKey, LruCache, rowsKey } from '../../webview/cache';
import { rampIndex, scaleWeight } from '../../webview/colorScale';
import { endsLine, formatPercent, truncateLabel, visibleText } from '../../webview/displayText';
import { clampView, describeGroup, describeKvSharing, groupSources, kvGroupOf, stepGroup } from '../../webview/groups';
import { axisGeometry, cellSpan, matrixGeometry, paintMatrix, tokenAtPixel, type AxisGeometry, type MatrixGeometry, type MatrixPalette } from '../../webview/heatmapPaint';
import { sessionProblem, stepHead, stepLayer } from '../../webview/state';
import { buildEncoderDecoderFixture, buildFixture } from './attentionFixture';

// A palette whose "colours" are readable numbers: ramp[i] = 1000 + i, mask 1 and 2, gap 3.
const PALETTE: MatrixPalette = { ramp: Uint32Array.from({ length: 256 }, (_, i) => 1000 + i), maskBase: 1, maskLine: 2, gap: 3, hatchPeriod: 4, hatchWidth: 1 };

/** A square matrix whose two axes are the same. */
const square = (axis: AxisGeometry): MatrixGeometry => ({ rows: axis, columns: axis });

describe('webview logic', () => {
  it('makes whitespace visible and breaks lines after newlines', () => {
    assert.equal(visibleText(' the'), '·the');
    assert.equal(visibleText('\t\tx'), '→→x');
    assert.equal(visibleText('\r\n'), '↵');
    assert.equal(visibleText('\n\n'), '↵↵');
    assert.equal(visibleText(''), '⋯');
    assert.equal(visibleText('\u0007'), '␇');
    assert.equal(endsLine('.\n'), true);
    assert.equal(endsLine(' the'), false);
    assert.equal(truncateLabel('·internationalisation', 8), '·intern…');
    assert.equal(truncateLabel('short', 8), 'short');
    assert.equal(formatPercent(0.4123), '41%');
    assert.equal(formatPercent(0.0512), '5.1%');
    assert.equal(formatPercent(0.00123), '0.12%');
  });

  it('maps weights to the colour ramp per scale; log spans 1e-4 to 1', () => {
    assert.equal(scaleWeight(0.25, 'linear'), 0.25);
    assert.equal(scaleWeight(0.25, 'sqrt'), 0.5);
    assert.equal(scaleWeight(1e-2, 'log'), 0.5);
    assert.equal(scaleWeight(1e-4, 'log'), 0);
    assert.equal(scaleWeight(1e-6, 'log'), 0);
    assert.equal(scaleWeight(0, 'sqrt'), 0);
    assert.equal(scaleWeight(Number.NaN, 'linear'), 0);
    assert.equal(scaleWeight(1.5, 'log'), 1);
    assert.equal(rampIndex(1, 'linear'), 255);
    let previous = -1;
    for (let w = 1e-5; w <= 1; w *= 1.5) {
      const index = rampIndex(w, 'log');
      assert.ok(index >= previous, 'monotonic');
      previous = index;
    }
  });

  it('steps through heads (mean included) and layers, wrapping both ways', () => {
    assert.equal(stepHead(MEAN_HEAD, 3, 1), 0);
    assert.equal(stepHead(2, 3, 1), MEAN_HEAD);
    assert.equal(stepHead(MEAN_HEAD, 3, -1), 2);
    assert.equal(stepHead(0, 3, -1), MEAN_HEAD);
    assert.equal(stepLayer(0, 4, -1), 3);
    assert.equal(stepLayer(3, 4, 1), 0);
  });

  it('paints one colour per cell, a grid gap for large cells, and hatches only the masked future', () => {
    // T = 3, causal: [[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]
    const weights = Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
    const geometry = matrixGeometry(3, 3, 6, 100, 2, 1);
    assert.deepEqual(geometry, square({ tokens: 3, pixels: 6, cellPx: 2, gapPx: 0 }));
    const out = new Uint32Array(36);
    paintMatrix(out, weights, geometry, true, 'linear', PALETTE);
    const at = (x: number, y: number) => out[y * 6 + x];
    assert.equal(at(0, 0), 1255, 'query 0 → key 0 is weight 1');
    assert.equal(at(1, 1), 1255, 'a cell fills its 2×2 pixels');
    assert.equal(at(2, 2), 1000 + Math.round(0.5 * 255), 'query 1 → key 1');
    assert.equal(at(4, 5), 1000 + Math.round(0.5 * 255), 'query 2 → key 2 (row = query, column = key)');
    assert.equal(at(2, 4), 1000 + Math.round(0.3 * 255), 'query 2 → key 1');
    for (const [x, y] of [[2, 0], [5, 0], [4, 3], [5, 2]]) assert.ok([PALETTE.maskBase, PALETTE.maskLine].includes(at(x, y)), `(${x}, ${y}) is masked`);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) if (Math.floor(x / 2) <= Math.floor(y / 2)) assert.ok(at(x, y) >= 1000, `(${x}, ${y}) is a weight`);

    const big = matrixGeometry(3, 3, 90, 90, 30, 1);
    assert.equal(big.columns.cellPx, 30);
    assert.equal(big.rows.gapPx, 1);
    const bigOut = new Uint32Array(90 * 90);
    paintMatrix(bigOut, weights, big, false, 'linear', PALETTE);
    assert.equal(bigOut[29], PALETTE.gap, 'the last pixel column of a cell is the gap');
    assert.equal(bigOut[28], 1255);
    assert.equal(bigOut[29 * 90], PALETTE.gap, 'so is its last pixel row');
  });

  it('pools blocks of cells by their maximum when there are more tokens than pixels', () => {
    const T = 6;
    const weights = new Float32Array(T * T);
    weights[5 * T + 0] = 0.8; // a single strong link in the bottom-left block
    weights[1 * T + 1] = 0.4;
    assert.deepEqual(axisGeometry(T, 3, 10, 1), { tokens: 6, pixels: 12, cellPx: 2, gapPx: 0 }, 'never smaller than 16 px');
    assert.deepEqual(axisGeometry(40, 20, 10, 1), { tokens: 40, pixels: 20, cellPx: 0, gapPx: 0 }, '40 tokens on 20 px are pooled');
    assert.deepEqual(matrixGeometry(40, 40, 20, 960, 10, 1), square({ tokens: 40, pixels: 20, cellPx: 0, gapPx: 0 }), 'a square matrix pools both axes alike');
    const axis = { tokens: T, pixels: 3, cellPx: 0, gapPx: 0 };
    const small = square(axis);
    const out = new Uint32Array(9);
    paintMatrix(out, weights, small, true, 'linear', PALETTE);
    assert.equal(out[2 * 3 + 0], 1000 + Math.round(0.8 * 255), 'the strong link survives the downscale');
    assert.equal(out[0], 1000 + Math.round(0.4 * 255));
    assert.ok([PALETTE.maskBase, PALETTE.maskLine].includes(out[0 * 3 + 2]), 'a block wholly in the future is masked');
    assert.ok(out[1 * 3 + 1] >= 1000, 'a block on the diagonal is not');
    assert.equal(tokenAtPixel(axis, 2), 4);
    assert.equal(tokenAtPixel(axis, 3), -1);
    assert.deepEqual(cellSpan(axis, 3), { start: 1.5, size: 0.5 });
    // Null weights (still loading) paint zero everywhere but keep the mask.
    paintMatrix(out, null, small, true, 'linear', PALETTE);
    assert.equal(out[0], 1000);
    assert.ok([PALETTE.maskBase, PALETTE.maskLine].includes(out[2]));
    assert.throws(() => paintMatrix(new Uint32Array(8), weights, small, true, 'linear', PALETTE), /expected 9 pixels/);
  });

  it('paints a zoomed window from host-pooled cells (a block max per data cell, quantised) and from exact cells of the window', () => {
    // A 12 × 12 causal map zoomed to queries 4..12, keys 2..10 (8 × 8), drawn on 4 × 4 pixels: each pixel holds 2 × 2 tokens.
    const T = 12;
    const weights = new Float32Array(T * T);
    for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) weights[t * T + s] = ((t * 7 + s * 3) % 10) / 40; // ≤ 0.225
    weights[9 * T + 5] = 1; // one sharp weight inside the window
    const view = { row0: 4, col0: 2 };
    const axis = { tokens: 8, pixels: 4, cellPx: 0, gapPx: 0 };
    const geometry = square(axis);
    // The host's pooling of the window in blocks of 3 × 3 (ceil(8 / 3)), as uint8: data cell (i, j) = max over rows 4 + 3i …, columns 2 + 3j ….
    const step = 3;
    const cells = Math.ceil(8 / step);
    const values = new Uint8Array(cells * cells);
    for (let i = 0; i < cells; i++) {
      for (let j = 0; j < cells; j++) {
        let max = 0;
        for (let t = 4 + i * step; t < Math.min(12, 4 + (i + 1) * step); t++) for (let s = 2 + j * step; s < Math.min(10, 2 + (j + 1) * step); s++) max = Math.max(max, weights[t * T + s]);
        values[i * cells + j] = Math.round(max * 255);
      }
    }
    const out = new Uint32Array(16);
    paintMatrix(out, { values, unit: 1 / 255, row0: 4, col0: 2, rows: cells, cols: cells, rowStep: step, colStep: step }, geometry, true, 'linear', PALETTE, view);
    // Pixel (px, py) covers queries 4 + 2py, 4 + 2py + 1 and keys 2 + 2px, 2 + 2px + 1; it shows the max over the data cells those touch.
    for (let py = 0; py < 4; py++) {
      for (let px = 0; px < 4; px++) {
        const [t0, s0] = [4 + 2 * py, 2 + 2 * px];
        if (s0 > t0 + 1) {
          assert.ok([PALETTE.maskBase, PALETTE.maskLine].includes(out[py * 4 + px]), `(${px}, ${py}) is masked`);
          continue;
        }
        let max = 0;
        for (let i = Math.floor((t0 - 4) / step); i <= Math.floor((t0 + 1 - 4) / step); i++) for (let j = Math.floor((s0 - 2) / step); j <= Math.floor((s0 + 1 - 2) / step); j++) max = Math.max(max, values[i * cells + j]);
        assert.equal(out[py * 4 + px], 1000 + max, `(${px}, ${py})`);
      }
    }
    assert.equal(out[2 * 4 + 1], 1255, 'the sharp weight (query 9, key 5) is at its pixel');
    // Exact cells of the window at 2 px per cell: each cell its own weight, the future hatched.
    const exact = new Float32Array(8 * 8);
    for (let t = 0; t < 8; t++) for (let s = 0; s < 8; s++) exact[t * 8 + s] = weights[(4 + t) * T + 2 + s];
    const cellsGeometry = matrixGeometry(8, 8, 16, 16, 2, 1);
    const exactOut = new Uint32Array(256);
    paintMatrix(exactOut, { values: exact, unit: 1, row0: 4, col0: 2, rows: 8, cols: 8, rowStep: 1, colStep: 1 }, cellsGeometry, true, 'linear', PALETTE, view);
    for (let t = 0; t < 8; t++) {
      for (let s = 0; s < 8; s++) {
        const pixel = exactOut[(2 * t) * 16 + 2 * s];
        if (2 + s > 4 + t) assert.ok([PALETTE.maskBase, PALETTE.maskLine].includes(pixel), `cell ${t}, ${s} is masked`);
        else assert.equal(pixel, 1000 + Math.round(weights[(4 + t) * T + 2 + s] * 255), `cell ${t}, ${s}`);
      }
    }
    assert.throws(() => paintMatrix(out, { values, unit: 1 / 255, row0: 5, col0: 2, rows: cells, cols: cells, rowStep: step, colStep: step }, geometry, true, 'linear', PALETTE, view), /do not cover/);
  });

  it('paints rectangular (cross-attention) maps with query rows and key columns, square cells and no mask', () => {
    // Tq = 2 target rows, Tk = 3 source columns: [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]
    const weights = Float32Array.from([0.1, 0.2, 0.7, 0.6, 0.3, 0.1]);
    const geometry = matrixGeometry(2, 3, 9, 100, 3, 1);
    assert.deepEqual(geometry.rows, { tokens: 2, pixels: 6, cellPx: 3, gapPx: 0 });
    assert.deepEqual(geometry.columns, { tokens: 3, pixels: 9, cellPx: 3, gapPx: 0 });
    const out = new Uint32Array(6 * 9);
    paintMatrix(out, weights, geometry, false, 'linear', PALETTE);
    const at = (x: number, y: number) => out[y * 9 + x];
    const ramp = (w: number) => 1000 + Math.round(w * 255);
    for (let t = 0; t < 2; t++) {
      for (let s = 0; s < 3; s++) {
        for (const [dx, dy] of [[0, 0], [2, 2]]) assert.equal(at(s * 3 + dx, t * 3 + dy), ramp(weights[t * 3 + s]), `query ${t} → key ${s}`);
      }
    }
    assert.throws(() => paintMatrix(out, new Float32Array(9), geometry, false, 'linear', PALETTE), /expected 2×3 weights/);

    // The height limits the cell too: 40 rows in 80 px leave 2 px per cell on both axes.
    const tall = matrixGeometry(40, 5, 500, 80, 28, 1);
    assert.equal(tall.rows.cellPx, 2);
    assert.equal(tall.columns.pixels, 10);
    // Too many keys for the width: both axes pooled at the same scale, a short axis keeps whole cells.
    const wide = matrixGeometry(8, 600, 300, 960, 28, 1);
    assert.deepEqual(wide.columns, { tokens: 600, pixels: 300, cellPx: 0, gapPx: 0 });
    assert.deepEqual(wide.rows, { tokens: 8, pixels: 8, cellPx: 1, gapPx: 0 });
    const keys = new Float32Array(8 * 600);
    keys[5 * 600 + 599] = 1; // query 5's only weight, on the very last key
    const pooled = new Uint32Array(8 * 300);
    paintMatrix(pooled, keys, wide, false, 'linear', PALETTE);
    assert.equal(pooled[5 * 300 + 299], 1255, 'the last pooled column of row 5 keeps the weight');
    assert.equal(pooled[4 * 300 + 299], 1000, 'row 4 has none');
  });

  it('names groups by their Q and K/V sources and labels grouped-query heads with their K/V head', () => {
    const { session } = buildEncoderDecoderFixture({ sessionId: 1, source: 'a b c', target: 'x y', generated: true, layers: 2, heads: 8, seed: 3, kvHeads: 2 });
    const [encoder, decoder, cross] = session.groups;
    assert.equal(groupSources(encoder), 'Q, K, V: source');
    assert.equal(groupSources(decoder), 'Q, K, V: target');
    assert.equal(groupSources(cross), 'Q: target · K/V: source');
    assert.equal(describeGroup(cross), 'Cross-attention · Q: target · K/V: source');
    assert.equal(describeKvSharing(cross), '8 query heads share 2 K/V heads');
    assert.equal(describeKvSharing({ dims: [1, 8, 2, 2] }), undefined, 'no kvHeads: plain multi-head attention');
    assert.equal(describeKvSharing({ dims: [1, 8, 2, 2], kvHeads: 8 }), undefined, 'as many K/V heads as query heads is not grouped');
    assert.deepEqual(Array.from({ length: 8 }, (_, h) => kvGroupOf(h, 8, 2)), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(Array.from({ length: 4 }, (_, h) => kvGroupOf(h, 4, 2)), [0, 0, 1, 1]);
    assert.deepEqual(Array.from({ length: 6 }, (_, h) => kvGroupOf(h, 6, 3)), [0, 0, 1, 1, 2, 2]);
  });

  it('keeps layer and head across groups when they exist, clamps them otherwise, and cycles groups', () => {
    assert.deepEqual(clampView(1, 3, 2, 4), { layer: 1, head: 3 });
    assert.deepEqual(clampView(5, 7, 2, 4), { layer: 1, head: 3 });
    assert.deepEqual(clampView(5, MEAN_HEAD, 2, 4), { layer: 1, head: MEAN_HEAD });
    assert.equal(stepGroup(2, 3, 1), 0);
    assert.equal(stepGroup(0, 3, -1), 2);
    assert.notEqual(headKey(0, 1, 2), headKey(2, 1, 2), 'the same head of two groups has two cache keys');
    assert.notEqual(rowsKey(0, 1, 2), rowsKey(2, 1, 2));
    assert.notEqual(rowsKey(0, 1, 2), headKey(0, 1, 2), 'rows and heads never share a key');
  });

  it('keeps the cache within its byte budget, evicting the least recently used', () => {
    const cache = new LruCache<Float32Array>(3 * 400, 1);
    for (const key of ['a', 'b', 'c']) cache.set(key, new Float32Array(100));
    cache.get('a');
    cache.set('d', new Float32Array(100));
    assert.equal(cache.has('b'), false, 'b was least recently used');
    assert.equal(cache.has('a') && cache.has('c') && cache.has('d'), true);
    cache.set('huge', new Float32Array(1000));
    assert.equal(cache.size, 1, 'an entry over budget still stays (minEntries)');
  });

  it('refuses inconsistent sessions with a reason', () => {
    const { session } = buildFixture({ sessionId: 1, text: 'a b c', layers: 1, heads: 2, causal: true, seed: 1 });
    const group = session.groups[0];
    const withGroup = (changes: object): SessionInfo => ({ ...session, groups: [{ ...group, ...changes }] }) as SessionInfo;
    assert.equal(sessionProblem(session), undefined);
    assert.match(sessionProblem(withGroup({ dims: [1, 2, 3, 4] }))!, /lists 3 source tokens but dims say Tk = 4/);
    assert.match(sessionProblem(withGroup({ dims: [1, 2, 4, 4] }))!, /group 0: the session lists 3 source tokens but dims say Tq = 4/);
    assert.match(sessionProblem(withGroup({ dims: [1, 0, 3, 3] }))!, /four positive integers/);
    assert.match(sessionProblem(withGroup({ kvHeads: 3 }))!, /kvHeads must divide the 2 query heads/);
    assert.match(sessionProblem(withGroup({ keys: 'target' }))!, /reads the target, but the session has none/);
    assert.match(sessionProblem({ ...session, groups: [] })!, /no attention groups/);
    assert.match(sessionProblem({ ...session, colorScale: 'cubic' } as unknown as SessionInfo)!, /unknown colour scale/);

    const encoderDecoder = buildEncoderDecoderFixture({ sessionId: 2, source: 'a b c d', target: 'x y', generated: false, layers: 1, heads: 2, seed: 4 }).session;
    assert.equal(sessionProblem(encoderDecoder), undefined);
    const [encoder, decoder, cross] = encoderDecoder.groups;
    assert.match(sessionProblem({ ...encoderDecoder, groups: [encoder, decoder, { ...cross, dims: [1, 2, 3, 3] }] })!, /group 2: the session lists 4 source tokens but dims say Tk = 3/);
    assert.match(sessionProblem({ ...encoderDecoder, groups: [encoder, decoder, { ...cross, causal: true }] })!, /causal attention must be square, got 3×4/);
  });
});
