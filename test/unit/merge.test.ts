// Character and word views (src/core/merge.ts, `run --merge`): the identities of merging, checked
// against sums and averages computed here by hand, and the byte tokens of 鼹鼠爱你 on the bundled model.
import * as assert from 'node:assert/strict';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
import { main } from '../../src/cli/main';
import { selfGroup } from '../../src/core/attentionGroups';
import { mergeAttention, mergeResult, mergeUnits, type MergeMode } from '../../src/core/merge';
import type { AttentionResult, TokenSpan } from '../../src/core/types';
import { parseWebviewMessage } from '../../src/shared/protocol';

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
  return { code, stdout, stderr };
}

function span(text: string, start: number, end: number, id = 0, label?: string): TokenSpan {
  return { id, text: text.slice(start, end), start, end, ...(label !== undefined ? { label } : {}) };
}

/** Tokens from [start, end) pairs over `text`. */
function tokensOf(text: string, spans: [number, number][]): TokenSpan[] {
  return spans.map(([start, end], index) => span(text, start, end, 100 + index));
}

/** A causal [L, H, T, T] tensor of random rows that sum to 1. */
function randomCausal(L: number, H: number, T: number, seed = 7): Float32Array {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const attention = new Float32Array(L * H * T * T);
  for (let m = 0; m < L * H; m++) {
    for (let t = 0; t < T; t++) {
      const row = Array.from({ length: t + 1 }, () => random() + 0.01);
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((value, s) => (attention[(m * T + t) * T + s] = value / sum));
    }
  }
  return attention;
}

function resultOf(text: string, tokens: TokenSpan[], attention: Float32Array, L: number, H: number): AttentionResult {
  const T = tokens.length;
  const dims: [number, number, number, number] = [L, H, T, T];
  return {
    model: { name: 'test', kind: 'decoder', layers: L, heads: H, dModel: 4, vocabSize: 200, maxPositions: 64, backend: 'builtin' },
    text,
    tokens,
    dims,
    attention,
    causal: true,
    groups: [selfGroup(attention, dims, true)],
    elapsedMs: 0,
  };
}

function assertRowsSumToOne(attention: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += attention[r * cols + c];
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r % cols} sums to ${sum}`);
  }
}

describe('merge: units', () => {
  // 我爱你 as the bundled byte-level model splits it: each character's first byte token covers it,
  // the two continuation tokens after it have empty spans.
  const cjk = '我爱你';
  const cjkTokens = tokensOf(cjk, [[0, 1], [1, 1], [1, 1], [1, 2], [2, 2], [2, 2], [2, 3], [3, 3], [3, 3]]);

  it('chars: a token holding only continuation bytes joins its character; spans are the union of the tokens’', () => {
    const units = mergeUnits(cjkTokens, 'chars', cjk);
    assert.deepEqual(units.map((unit) => unit.tokens), [[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    assert.deepEqual(units.map((unit) => [unit.text, unit.start, unit.end]), [['我', 0, 1], ['爱', 1, 2], ['你', 2, 3]]);
    assert.deepEqual(units[0].ids, [100, 101, 102]);
    assert.equal(units[0].id, -1);
  });

  it('merging whole-character tokens changes nothing (units and attention)', () => {
    const text = 'the quick fox';
    const tokens = tokensOf(text, [[0, 3], [3, 9], [9, 10], [10, 13]]);
    const units = mergeUnits(tokens, 'chars', text);
    assert.deepEqual(units.map(({ id, text: unitText, start, end }) => ({ id, text: unitText, start, end })), tokens);
    const attention = randomCausal(2, 3, tokens.length);
    const merged = mergeResult(resultOf(text, tokens, attention, 2, 3), 'chars');
    assert.deepEqual(merged.dims, [2, 3, 4, 4]);
    assert.deepEqual(Array.from(merged.groups[0].attention), Array.from(attention), 'bit-identical');
  });

  it('words: whitespace/punctuation-delimited runs, a leading space with its word, apostrophes inside, CJK one character per word', () => {
    const text = "The quick brown fox, it's 2021-03. 我爱你";
    // A GPT-2-like split: words broken inside, punctuation on its own, 我爱你 as byte tokens.
    const cuts: [number, number][] = [[0, 3], [3, 6], [6, 9], [9, 15], [15, 17], [17, 19], [19, 20], [20, 23], [23, 25], [25, 28], [28, 30], [30, 31], [31, 33], [33, 34], [34, 35], [35, 36], [36, 36], [36, 37], [37, 37], [37, 38], [38, 38]];
    const tokens = tokensOf(text, cuts);
    const words = mergeUnits(tokens, 'words', text).map((unit) => unit.text);
    assert.deepEqual(words, ['The', ' quick', ' brown', ' fox', ',', " it's", ' 2021', '-', '03', '.', ' ', '我', '爱', '你']);
  });

  it('special tokens stay units of their own; units cover the text in order without overlapping', () => {
    const text = 'ab cd';
    const tokens = [span(text, 0, 0, 1, '[CLS]'), span(text, 0, 1), span(text, 1, 2), span(text, 2, 5), span(text, 5, 5, 2, '[SEP]')];
    for (const mode of ['chars', 'words'] as MergeMode[]) {
      const units = mergeUnits(tokens, mode, text);
      assert.equal(units[0].label, '[CLS]');
      assert.deepEqual(units[0].tokens, [0]);
      assert.equal(units[units.length - 1].label, '[SEP]');
      assert.deepEqual(units.flatMap((unit) => unit.tokens), [0, 1, 2, 3, 4], `${mode}: every token in exactly one unit, in order`);
      assert.equal(units.map((unit) => text.slice(unit.start, unit.end)).join(''), text, `${mode}: spans cover the text`);
      for (let u = 1; u < units.length; u++) assert.ok(units[u].start >= units[u - 1].end, `${mode}: ordered, no overlap`);
    }
    assert.deepEqual(mergeUnits(tokens, 'words', text).map((unit) => unit.text), ['', 'ab', ' cd', '']);
  });
});

describe('merge: attention', () => {
  it('equals the sums over merged keys and averages over merged queries computed by hand', () => {
    // Three tokens, units {0, 1} and {2}; one layer, one head.
    const a = new Float32Array([1, 0, 0, 0.25, 0.75, 0, 0.2, 0.3, 0.5]);
    const units = [{ tokens: [0, 1] }, { tokens: [2] }];
    const merged = mergeAttention(a, [1, 1, 3, 3], units, units);
    // Row of unit 0: mean of rows 0 and 1, keys 0+1 summed: ((1 + 0) + (0.25 + 0.75)) / 2 = 1, (0 + 0) / 2 = 0.
    // Row of unit 1: row 2, keys 0+1 summed: 0.2 + 0.3 = 0.5, then 0.5.
    assert.deepEqual(Array.from(merged), [1, 0, 0.5, 0.5]);
  });

  it('rows still sum to 1 and a causal map stays causal, for every layer and head, in both modes', () => {
    const text = "我爱你 it's fine";
    const tokens = tokensOf(text, [[0, 1], [1, 1], [1, 1], [1, 2], [2, 2], [2, 2], [2, 3], [3, 3], [3, 3], [3, 6], [6, 8], [8, 13], [13, 15]]);
    const attention = randomCausal(2, 2, tokens.length, 3);
    for (const mode of ['chars', 'words'] as MergeMode[]) {
      const merged = mergeResult(resultOf(text, tokens, attention, 2, 2), mode);
      const U = merged.tokens.length;
      assert.deepEqual(merged.dims, [2, 2, U, U]);
      assert.equal(merged.attention, merged.groups[0].attention);
      assertRowsSumToOne(merged.attention, 2 * 2 * U, U);
      for (let m = 0; m < 4; m++) {
        for (let u = 0; u < U; u++) for (let v = u + 1; v < U; v++) assert.equal(merged.attention[(m * U + u) * U + v], 0, `${mode}: causal`);
      }
      // Merging again from the merged result starts from the tokens, not the units.
      assert.deepEqual(mergeResult(merged, 'chars').tokens, mergeResult(resultOf(text, tokens, attention, 2, 2), 'chars').tokens);
    }
    assert.equal(mergeResult(resultOf(text, tokens, attention, 2, 2), 'chars').tokens.length, 3 + 4);
  });
});

describe('merge: CLI and protocol', () => {
  it('run --merge chars --json on the bundled model gives 鼹鼠爱你 (five tokens: 鼹 is two byte pieces) as four characters whose rows sum to 1', async () => {
    const text = '鼹鼠爱你';
    const { code, stdout, stderr } = await runCli(['run', '--text', text, '--merge', 'chars', '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as JsonReport;
    assert.equal(report.merge, 'chars');
    assert.deepEqual(report.tokens.map((unit) => unit.text), ['鼹', '鼠', '爱', '你']);
    const units = [[0, 1], [2], [3], [4]];
    assert.deepEqual(report.tokens.map((unit) => unit.tokens), units);
    const [L, H, T, T2] = report.attention.dims;
    assert.deepEqual([T, T2], [4, 4]);
    assertRowsSumToOne(base64ToFloat32(report.attention.data), L * H * T, T);
    assert.deepEqual(report.groups[0].dims, report.attention.dims);

    // The same numbers from the unmerged run, merged here by hand: a unit's row is the mean of its tokens' rows,
    // each summed over the key unit's tokens.
    const plain = JSON.parse((await runCli(['run', '--text', text, '--json'])).stdout) as JsonReport;
    const a = base64ToFloat32(plain.attention.data);
    const m = base64ToFloat32(report.attention.data);
    assert.equal(plain.tokens.length, 5);
    const head = (L - 1) * H + (H - 1);
    for (let u = 0; u < 4; u++) {
      for (let v = 0; v < 4; v++) {
        let sum = 0;
        for (const t of units[u]) for (const s of units[v]) sum += a[(head * 5 + t) * 5 + s];
        assert.ok(Math.abs(m[(head * 4 + u) * 4 + v] - sum / units[u].length) < 1e-6, `unit ${u} key ${v}`);
      }
    }
  });

  it('run --merge words on an English sentence: one unit per word, text report names the rule', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const json = JSON.parse((await runCli(['run', '--text', text, '--merge', 'words', '--json'])).stdout) as JsonReport;
    assert.deepEqual(json.tokens.map((unit) => unit.text), ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.']);
    assert.equal(json.tokens.map((unit) => text.slice(unit.start, unit.end)).join(''), text);
    const plain = await runCli(['run', '--text', text, '--merge', 'words']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /Units: words \(attention summed over a unit's keys, averaged over its queries; rows still sum to 1\)/);
  });

  it('--merge is refused by explain and compare and must be chars or words', async () => {
    for (const args of [
      ['explain', '--text', 'x', '--merge', 'chars', '--layer', '0', '--head', '0', '--query', '0'],
      ['compare', '--text', 'x', '--merge', 'chars', '--layer', '0', '--head', '0', '--no-positions'],
      ['run', '--text', 'x', '--merge', 'bytes'],
    ]) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /--merge/);
    }
  });

  it('setMerge is parsed strictly', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'setMerge', sessionId: 3, merge: 'words' }), { type: 'setMerge', sessionId: 3, merge: 'words' });
    assert.deepEqual(parseWebviewMessage({ type: 'setMerge', sessionId: 3, merge: 'tokens' }), { type: 'setMerge', sessionId: 3, merge: 'tokens' });
    assert.equal(parseWebviewMessage({ type: 'setMerge', sessionId: 3, merge: 'bytes' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'setMerge', merge: 'chars' }), undefined);
  });
});
