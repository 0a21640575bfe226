import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fitTokens } from '../../src/core/backends/truncation';
import { InputError, ModelLoadError, TooManyTokensError } from '../../src/core/errors';
import { chooseBackend, inspectModelFolder } from '../../src/core/modelFolder';

function folderWith(files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-folder-'));
  for (const file of files) fs.writeFileSync(path.join(dir, file), file === 'config.json' ? '{"name": "tiny-gpt"}' : 'x');
  return dir;
}

describe('model folders', () => {
  it('says what a folder holds and takes the name from config.json', () => {
    const folder = inspectModelFolder(folderWith(['tokenizer.json', 'config.json', 'model.safetensors']));
    assert.deepEqual([folder.hasTokenizer, folder.hasConfig, folder.hasSafetensors, folder.hasOnnx], [true, true, true, false]);
    assert.equal(folder.name, 'tiny-gpt');
  });

  it('names a model after its folder, not config.json\'s _name_or_path (a checkpoint path such as "ckpt")', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ai-folder-')), 'my-bert');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ _name_or_path: '/runs/bert/ckpt', model_type: 'bert' }));
    assert.equal(inspectModelFolder(dir).name, 'my-bert');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ _name_or_path: '/runs/bert/ckpt', name: 'Tiny BERT' }));
    assert.equal(inspectModelFolder(dir).name, 'Tiny BERT', 'an explicit name wins');
  });

  it('auto prefers ONNX, falls back to the built-in block, and explains what is missing', () => {
    const both = inspectModelFolder(folderWith(['tokenizer.json', 'config.json', 'model.safetensors', 'model.onnx']));
    assert.equal(chooseBackend(both, 'auto'), 'onnx');
    assert.equal(chooseBackend(both, 'builtin'), 'builtin');
    const builtinOnly = inspectModelFolder(folderWith(['tokenizer.json', 'config.json', 'model.safetensors']));
    assert.equal(chooseBackend(builtinOnly, 'auto'), 'builtin');
    assert.throws(() => chooseBackend(builtinOnly, 'onnx'), (error: Error) => error instanceof ModelLoadError && /needs model\.onnx/.test(error.message));
    const onnxOnly = inspectModelFolder(folderWith(['tokenizer.json', 'model.onnx']));
    assert.throws(() => chooseBackend(onnxOnly, 'builtin'), /lacks config\.json and model\.safetensors/);
    const noTokenizer = inspectModelFolder(folderWith(['model.onnx']));
    assert.throws(() => chooseBackend(noTokenizer, 'auto'), /No tokenizer\.json/);
  });

  it('reports a missing folder or a file in its place clearly', () => {
    assert.throws(() => inspectModelFolder('/definitely/not/here'), (error: Error) => error instanceof ModelLoadError && /Model folder not found/.test(error.message));
    const file = path.join(folderWith(['tokenizer.json']), 'tokenizer.json');
    assert.throws(() => inspectModelFolder(file), /not a folder/);
  });
});

describe('token budget', () => {
  const tokens = Array.from({ length: 10 }, (_, i) => ({ id: i, text: 'x', start: i, end: i + 1 }));

  it('keeps short inputs whole and cuts long ones to the smaller of maxTokens and the model context', () => {
    assert.equal(fitTokens(tokens, { maxTokens: 20 }, 100).tokens.length, 10);
    assert.deepEqual(fitTokens(tokens, { maxTokens: 4 }, 100).tokens.map((t) => t.id), [0, 1, 2, 3]);
    assert.equal(fitTokens(tokens, { maxTokens: 4 }, 100).truncatedFrom, 10);
    assert.equal(fitTokens(tokens, { maxTokens: 512 }, 6).tokens.length, 6);
  });

  it('asks instead of cutting when told to, and refuses empty input', () => {
    assert.throws(() => fitTokens(tokens, { maxTokens: 4, failIfTooLong: true }, 100), (error: Error) => error instanceof TooManyTokensError && error.tokenCount === 10 && error.maxTokens === 4);
    assert.throws(() => fitTokens([], {}, 100), InputError);
    assert.throws(() => fitTokens(tokens, { maxTokens: 0 }, 100), InputError);
  });
});
