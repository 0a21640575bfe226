// The memory budget: a run whose attention (layers × heads × T² × 4 bytes, times the copies a
// backend makes) would exceed attentionInspector.memoryBudgetMB is cut to the tokens that fit, or
// refused with the numbers when cutting was not allowed — in-process and across the ONNX worker.
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { IsolatedOnnxBackend } from '../../src/core/backends/isolated/isolatedOnnxBackend';
import { tokensWithinBudget } from '../../src/core/backends/truncation';
import { MemoryBudgetError } from '../../src/core/errors';
import { main } from '../../src/cli/main';
import { repoRoot } from '../support/heldout';

const defaultModel = () => path.join(repoRoot(), 'media', 'models', 'default');
/** About 300 tokens of ordinary words for the default model. */
const TEXT = Array.from({ length: 300 }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ');

describe('memory budget', function () {
  this.timeout(60_000);

  it('tokensWithinBudget: the largest T with copies·L·H·T²·4 bytes ≤ the budget', () => {
    // 1 MiB / (1 copy · 4 layers · 4 heads · 4 bytes) = 16384 = 128².
    assert.equal(tokensWithinBudget({ memoryBudgetMB: 1 }, { layers: 4, heads: 4, copies: 1 }), 128);
    // 3 copies: 2^20 / 192 = 5461.3 -> 73 (73² = 5329 fits, 74² = 5476 does not).
    assert.equal(tokensWithinBudget({ memoryBudgetMB: 1 }, { layers: 4, heads: 4, copies: 3 }), 73);
    assert.equal(tokensWithinBudget({ memoryBudgetMB: 1 }, { layers: 0, heads: 4, copies: 3 }), Infinity, 'unknown shape: no limit from the budget');
  });

  it('built-in backend: cuts to the tokens that fit, or refuses with the numbers', async () => {
    const backend = new BuiltinBackend(defaultModel(), 'default');
    try {
      const full = await backend.run(TEXT, { maxTokens: 512 });
      const T = full.tokens.length;
      assert.ok(T > 128, `the text has ${T} tokens`);
      const cut = await backend.run(TEXT, { maxTokens: 512, memoryBudgetMB: 1 });
      assert.equal(cut.tokens.length, 128);
      assert.equal(cut.truncatedFrom, T);
      await assert.rejects(backend.run(TEXT, { maxTokens: 512, memoryBudgetMB: 1, failIfTooLong: true }), (error: Error) => {
        assert.ok(error instanceof MemoryBudgetError, String(error));
        assert.equal(error.maxTokens, 128);
        const megabytes = Math.round((4 * 4 * T * T * 4) / 2 ** 20);
        assert.match(error.message, new RegExp(`about ${megabytes} MB .* budget of 1 MB .* at most 128 tokens fit`));
        return true;
      });
    } finally {
      backend.dispose();
    }
  });

  it('ONNX backend in its worker: three copies count, and the error crosses the process boundary as a MemoryBudgetError', async () => {
    const backend = new IsolatedOnnxBackend(defaultModel(), 'default');
    try {
      const cut = await backend.run(TEXT, { maxTokens: 512, memoryBudgetMB: 1 });
      assert.equal(cut.tokens.length, 73);
      await assert.rejects(backend.run(TEXT, { maxTokens: 512, memoryBudgetMB: 1, failIfTooLong: true }), (error: Error) => error instanceof MemoryBudgetError && error.maxTokens === 73);
    } finally {
      backend.dispose();
    }
  });

  it('CLI --memory-budget-mb', async () => {
    let stdout = '';
    let stderr = '';
    const code = await main(['run', '--text', TEXT, '--backend', 'builtin', '--memory-budget-mb', '1', '--json'], (text) => (stdout += text), (text) => (stderr += text));
    assert.equal(code, 0, stderr);
    assert.equal(JSON.parse(stdout).tokens.length, 128);
    assert.equal(await main(['run', '--text', 'x', '--memory-budget-mb', '0'], () => undefined, () => undefined), 2);
  });
});
