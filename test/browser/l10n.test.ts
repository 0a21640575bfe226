// Issue 9: the panel in Simplified Chinese, and CJK glyphs in the screenshots. The page is served as
// the host serves it for VS Code's display language zh-cn (<html lang="zh-cn"> and the strings of
// l10n/bundle.l10n.zh-cn.json); the run is 我爱你. Every label, legend, tooltip, keyboard hint and
// aria label must then be Chinese (no English word left but names and notation), and a CJK token
// chip must be drawn with a CJK font: full-width glyphs that differ from each other (missing fonts
// draw every character as the same fallback box). Screenshot: test-results/webview-zh-cn.png.

import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Page } from 'playwright-core';
import type { ComparisonPayload } from '../../src/shared/protocol';
import { buildFixture, headMatrix, type Fixture } from './attentionFixture';
import { frames, is, painted, SCREENSHOTS, usePanelBrowser } from './panelSupport';
import { workedExample } from './stepViewFixtures';

function chineseRun(): Fixture {
  const data = buildFixture({ sessionId: 21, text: 'x y z', layers: 1, heads: 2, causal: true, seed: 9 });
  const tokens = ['我', '爱', '你'].map((text, index) => ({ id: 1000 + index, text, start: index, end: index + 1 }));
  // What the host sends in zh-cn: its notes are translated there (vscode.l10n.t).
  data.session = { ...data.session, text: '我爱你', tokens, notes: ['没有选中文本：查看第 1 行。'], predictions: [{ token: '。', probability: 0.4 }, { token: '们', probability: 0.2 }], source: 'seed-sentences.txt:1:1–1:4' };
  return data;
}

function comparison(data: Fixture, layer: number, head: number): ComparisonPayload {
  const base = headMatrix(data, layer, head).slice();
  const varied = base.slice().reverse();
  return {
    variation: { positions: false },
    layer,
    head,
    tokens: data.session.tokens,
    variedTokens: data.session.tokens,
    variedIndex: [0, 1, 2],
    base: base.buffer as ArrayBuffer,
    varied: varied.buffer as ArrayBuffer,
    maxDifference: 0.5,
    baseVariation: {},
    permutation: { scope: 'last-row', expected: true, deviation: 0 },
    basePredictions: [{ id: 1, token: '。', probability: 0.3 }],
    variedPredictions: [{ id: 2, token: '们', probability: 0.2 }],
  };
}

/** Names and notation that stay as they are in any language. */
const NOTATION =
  /\b(Attention Inspector|tiny-gpt2|worked-example|builtin|seed-sentences\.txt|softmax|scale|logit|lens|MLP|d_k|d_v|d_model|W_O|b_O|K\/V|k_j|v_j|q·k_j|q·k|w_j|Infinity|float32|GPT-2|ONNX|ms|id|avg|Enter|Esc)\b/g;

/** English words (3+ letters) left in what the user sees or hears: text, titles, aria labels. */
async function englishLeft(page: Page): Promise<string[]> {
  const texts = await page.evaluate(() => {
    const found: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (parent && !parent.closest('[hidden]') && node.textContent?.trim()) found.push(node.textContent);
    }
    for (const element of document.querySelectorAll('[title], [aria-label], [aria-description]')) {
      for (const name of ['title', 'aria-label', 'aria-description']) {
        const value = element.getAttribute(name);
        if (value) found.push(value);
      }
    }
    return found;
  });
  return texts.filter((text) => /[A-Za-z]{3,}/.test(text.replace(NOTATION, '')));
}

describe('the panel in Simplified Chinese (zh-cn bundle) with CJK fonts', function () {
  const openPanel = usePanelBrowser({ language: 'zh-cn' });

  it('shows every label, legend, tooltip, keyboard hint and aria label in Chinese', async () => {
    const data = chineseRun();
    const { page, host } = await openPanel({ fixture: data, viewport: { width: 1280, height: 1400 } });
    // unavailableReason comes from the core (src/core/explain), which speaks English: the CLI shares it.
    host.explain = () => ({ explanation: { ...workedExample(), unavailableReason: '算例只是一个单独的头，没有 W_O，也没有外围的模型' } });
    host.compare = (request) => ({ comparison: comparison(data, request.layer, request.head) });
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-cn');
    assert.equal((await page.textContent('#tokens-title'))?.trim(), '词元');
    assert.match((await page.textContent('.hints')) ?? '', /或点击固定/);
    assert.equal(await page.getAttribute('canvas.heatmap-matrix', 'aria-label'), '注意力热力图，第 0 层，2 个头权重的平均，3 个查询词元 × 3 个键词元');
    assert.match((await page.textContent('.legend')) ?? '', /权重.*平方根刻度.*已掩码/s);
    assert.match((await page.textContent('.focus-info')) ?? '', /悬停、聚焦或点击一个词元/);

    // Pin 你, pick head 0: the Steps view; positions off: the Compare view with its statement.
    await page.click('.token[data-index="2"]');
    const since = host.mark();
    await page.click('.head-option[data-layer="0"][data-head="0"]');
    await painted(page, 0, 0);
    await host.waitFor(is('requestExplain', { layer: 0, head: 0, query: 2 }), 'requestExplain', since);
    await page.waitForSelector('[data-view="steps"] [data-row="weights"] td[data-key]');
    assert.match((await page.textContent('.focus-info')) ?? '', /#2 “你”（已固定） 最关注/);
    assert.match((await page.textContent('[data-view="steps"] .sv-title')) ?? '', /第 0 层 · 第 0 头 · 查询/);
    await page.click('[data-control="positions"]');
    await host.waitFor(is('requestComparison'), 'requestComparison', since);
    await page.waitForSelector('[data-view="compare"] [data-role="permutation"]');
    assert.match((await page.textContent('[data-view="compare"] [data-role="permutation"]')) ?? '', /没有位置信息时，最后一个词元的注意力恰好是原来的一个置换/);
    await frames(page);

    assert.deepEqual(await englishLeft(page), [], 'no English left in the panel');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'webview-zh-cn.png'), fullPage: true });
  });

  it('draws a CJK token chip with a CJK font: full-width, distinct glyphs, not fallback boxes', async () => {
    const { page } = await openPanel({ fixture: chineseRun() });
    const measured = await page.evaluate(() => {
      const chip = document.querySelector<HTMLElement>('.token[data-index="0"] .token-text')!;
      const style = getComputedStyle(chip);
      const fontSize = parseFloat(style.fontSize);
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 64;
      const context = canvas.getContext('2d', { willReadFrequently: true })!;
      context.font = `${style.fontWeight} ${fontSize}px ${style.fontFamily}`;
      const pixels = (text: string) => {
        context.clearRect(0, 0, 64, 64);
        context.fillStyle = '#000';
        context.textBaseline = 'top';
        context.fillText(text, 4, 4);
        return Array.from(context.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3)).join(',');
      };
      return {
        fontSize,
        chipWidth: chip.getBoundingClientRect().width,
        wo: context.measureText('我').width,
        // Private-use and unassigned code points have no glyph in any font: the fallback box.
        box: context.measureText('\uE000').width,
        box2: context.measureText('\u{10FFFD}').width,
        distinct: new Set([pixels('我'), pixels('爱'), pixels('你')]).size,
        boxPixels: pixels('\uE000') === pixels('我'),
      };
    });
    const hint = 'Chinese glyphs need a CJK font: apt-get install fonts-noto-cjk';
    assert.equal(measured.distinct, 3, `我, 爱 and 你 draw as three different glyphs (${hint})`);
    assert.equal(measured.boxPixels, false, `我 is not drawn as the fallback box (${hint})`);
    assert.ok(Math.abs(measured.wo - measured.fontSize) <= 0.15 * measured.fontSize, `我 is full-width: ${measured.wo}px at ${measured.fontSize}px (${hint})`);
    assert.ok(measured.wo !== measured.box || measured.wo !== measured.box2, `我's width differs from a fallback box's (${measured.box}px)`);
    assert.ok(Math.abs(measured.chipWidth - measured.wo) <= 2, `the chip's text is one glyph wide: ${measured.chipWidth}px vs ${measured.wo}px`);
  });
});
