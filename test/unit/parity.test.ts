// The bundled model runs in both backends: the built-in block on model.safetensors and
// onnxruntime-node on model.onnx must agree on attention and on the next token.
import * as assert from 'node:assert/strict';
import { BuiltinBackend } from '../../src/core/backends/builtinBackend';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { bundledModelDir, heldOutSamples } from '../support/heldout';

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

describe('backend parity on the bundled model', () => {
  const dir = bundledModelDir();
  const builtin = new BuiltinBackend(dir);
  const onnx = new OnnxBackend(dir);
  after(() => {
    builtin.dispose();
    onnx.dispose();
  });

  const samples = heldOutSamples();
  const cases: [number, number][] = [[16, 3], [128, 1], [512, 4]]; // [tokens, sample index]: code and prose
  for (const [T, sampleIndex] of cases) {
    it(`agrees to 1e-4 on ${T} held-out tokens (${samples[sampleIndex].kind}: ${samples[sampleIndex].path})`, async function () {
      this.timeout(120000);
      const text = samples[sampleIndex].text;
      const a = await builtin.run(text, { maxTokens: T });
      const b = await onnx.run(text, { maxTokens: T });
      assert.equal(a.tokens.length, T, 'the sample is long enough to be cut to T tokens');
      assert.deepEqual(b.tokens, a.tokens);
      assert.deepEqual(b.dims, a.dims);
      assert.equal(a.causal, true);
      assert.equal(b.causal, true);
      let maxDiff = 0;
      for (let i = 0; i < a.attention.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.attention[i] - b.attention[i]));
      assert.ok(maxDiff <= 1e-4, `max |builtin - onnx| = ${maxDiff}`);
      assert.ok(a.lastLogits && b.lastLogits);
      assert.equal(argmax(a.lastLogits), argmax(b.lastLogits), 'same top-1 next token');
    });
  }
});
