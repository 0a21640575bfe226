// NaN or infinite weights and outputs are named, not painted silently (src/core/finiteCheck.ts):
// a model folder with one poisoned weight warns about that tensor and the heads it spoils, in the
// core result and on the CLI's stderr.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { outputWarnings } from '../../src/core/finiteCheck';
import { SafetensorsFile, writeSafetensors, type WritableTensor } from '../../src/core/safetensors';
import type { AttentionResult } from '../../src/core/types';
import { tinyModelFolder } from '../support/tinyModel';

describe('NaN and infinite values are reported', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    const tiny = await tinyModelFolder();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-nan-'));
    fs.cpSync(tiny, dir, { recursive: true });
    const file = SafetensorsFile.parse(fs.readFileSync(path.join(tiny, 'model.safetensors')));
    const tensors = new Map<string, WritableTensor>();
    for (const name of file.names()) {
      const tensor = file.get(name)!;
      const data = Float32Array.from(tensor.data);
      // Poison one query weight of layer 1: its heads' scores become NaN there, layer 0 stays clean.
      if (name.endsWith('h.1.attn.c_attn.weight')) data[0] = Number.NaN;
      tensors.set(name, { dtype: 'F32', shape: tensor.shape, data });
    }
    fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the built-in backend names the tensor and the spoiled heads', async () => {
    const backend = new BuiltinBackend(dir, 'poisoned');
    try {
      const result = await backend.run('the quick brown fox', {});
      const warnings = result.warnings ?? [];
      assert.ok(warnings.some((w) => w.includes('"h.1.attn.c_attn.weight"') && /1 of \d+ values/.test(w)), JSON.stringify(warnings));
      assert.ok(warnings.some((w) => /L1 H0/.test(w) && !/L0 H/.test(w)), `layer 1 is spoiled, layer 0 is not: ${JSON.stringify(warnings)}`);
    } finally {
      backend.dispose();
    }
  });

  it('a clean model has no warnings', async () => {
    const backend = new BuiltinBackend(await tinyModelFolder(), 'tiny');
    try {
      assert.equal((await backend.run('the quick brown fox', {})).warnings, undefined);
    } finally {
      backend.dispose();
    }
  });

  it('the CLI prints the warnings on stderr and in --json', async () => {
    let stdout = '';
    let stderr = '';
    const code = await main(['run', '--text', 'the quick brown fox', '--model', dir, '--json'], (text) => (stdout += text), (text) => (stderr += text));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /warning: The weight tensor "h\.1\.attn\.c_attn\.weight"/);
    assert.ok(JSON.parse(stdout).warnings.length >= 2);
  });

  it('outputWarnings: non-finite logits, and at most five heads named', () => {
    const T = 2;
    const attention = new Float32Array(1 * 7 * T * T).fill(0.5);
    for (let h = 0; h < 7; h++) attention[h * T * T] = Number.POSITIVE_INFINITY;
    const result = {
      groups: [{ name: 'self', label: 'Masked self-attention', kind: 'masked-self', queries: 'source', keys: 'source', dims: [1, 7, T, T], attention, causal: true }],
      lastLogits: Float32Array.from([0, Number.NaN]),
    } as unknown as AttentionResult;
    const warnings = outputWarnings(result);
    assert.match(warnings[0], /L0 H0, L0 H1, L0 H2, L0 H3, L0 H4 and 2 more/);
    assert.match(warnings[1], /logits/);
  });
});
