// Runs the exported model.onnx with onnxruntime-node (the extension's ONNX engine) on the held-out
// references that export.py saved from PyTorch, and checks that the dynamic batch and sequence axes
// work and that attentions (<= 1e-5) and logits (<= 1e-3) match PyTorch.
// Usage: node tools/train/verify_onnx.cjs <model.onnx> <verify-folder>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ort = require('onnxruntime-node');

const ATTENTION_TOLERANCE = 1e-5;
const LOGIT_TOLERANCE = 1e-3;

function readFloat32(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

// Largest |a[i] - b[offset + i]| over a.length entries.
function maxAbsDifference(a, b, offset) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[offset + i]);
    if (!(d <= worst)) worst = d; // NaN propagates as a failure
  }
  return worst;
}

async function main() {
  const [modelPath, verifyDir] = process.argv.slice(2);
  if (!modelPath || !verifyDir) {
    console.error('usage: node verify_onnx.cjs <model.onnx> <verify-folder>');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(modelPath);
  const references = fs.readdirSync(verifyDir).filter((f) => /^reference_T\d+\.json$/.test(f)).sort();
  if (references.length === 0) throw new Error(`no reference_T*.json in ${verifyDir}`);
  let ok = true;
  const results = [];
  for (const file of references) {
    const reference = JSON.parse(fs.readFileSync(path.join(verifyDir, file), 'utf8'));
    const base = path.join(verifyDir, file.replace(/\.json$/, ''));
    const expectedAttentions = readFloat32(`${base}.attentions.f32`); // [L, 1, H, T, T]
    const expectedLogits = readFloat32(`${base}.logits.f32`); // [1, T, V]
    const T = reference.input_ids.length;
    // Batch of two identical rows: exercises the dynamic batch axis as well as the sequence axis.
    const B = 2;
    const ids = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(reference.input_ids[t]);
    const started = performance.now();
    const output = await session.run({ input_ids: new ort.Tensor('int64', ids, [B, T]) });
    const elapsedMs = performance.now() - started;
    const [L, , H] = reference.attentions_shape;
    const V = reference.logits_shape[2];
    const shapeOk = JSON.stringify(output.attentions.dims) === JSON.stringify([L, B, H, T, T]) &&
      JSON.stringify(output.logits.dims) === JSON.stringify([B, T, V]);
    const attentions = output.attentions.data;
    const logits = output.logits.data;
    let attentionDiff = 0;
    let logitDiff = 0;
    const block = H * T * T;
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const expected = expectedAttentions.subarray(l * block, (l + 1) * block);
        attentionDiff = Math.max(attentionDiff, maxAbsDifference(expected, attentions, (l * B + b) * block));
      }
      logitDiff = Math.max(logitDiff, maxAbsDifference(expectedLogits, logits, b * T * V));
    }
    const pass = shapeOk && attentionDiff <= ATTENTION_TOLERANCE && logitDiff <= LOGIT_TOLERANCE;
    ok &&= pass;
    results.push({ T, B, shapeOk, attentionDiff, logitDiff, elapsedMs: Math.round(elapsedMs), pass });
  }
  console.log(JSON.stringify({ onnxruntime: require('onnxruntime-node/package.json').version, results }));
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
