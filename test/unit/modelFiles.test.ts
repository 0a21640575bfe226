// Model files and --file are checked before they are read (src/core/modelFiles.ts): links to
// devices, pipes, link loops, files that outgrow their format, external data that escapes the model
// folder through a link, safetensors with bytes no tensor uses, binary text and odd --max-tokens.
// Each case must fail fast with a message that names the file, never hang or fill memory.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { OnnxBackend } from '../../src/core/backends/onnxBackend';
import { ModelLoadError, TooManyTokensError } from '../../src/core/errors';
import { Gpt2Model } from '../../src/core/gpt2/model';
import { FILE_LIMITS, checkFile, readCheckedFile } from '../../src/core/modelFiles';
import { exposeAttention } from '../../src/core/onnx/exposeAttention';
import { SafetensorsFile } from '../../src/core/safetensors';
import { TextTokenizer } from '../../src/core/tokenizer/textTokenizer';
import { repoRoot } from '../support/heldout';
import { tinyModelFolder } from '../support/tinyModel';

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
  return { code, stdout, stderr };
}

describe('model files are checked before they are read', function () {
  this.timeout(60_000);
  let scratch: string;
  let tiny: string;
  before(async () => {
    tiny = await tinyModelFolder();
  });
  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-files-'));
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the tiny model folder in which `file` is replaced by a symlink to `target`. */
  function folderWithLink(file: string, target: string): string {
    const dir = path.join(scratch, 'model');
    fs.cpSync(tiny, dir, { recursive: true });
    fs.rmSync(path.join(dir, file));
    fs.symlinkSync(target, path.join(dir, file));
    return dir;
  }

  it('model.safetensors linked to /dev/zero: a clear error about a device, at once', async () => {
    const dir = folderWithLink('model.safetensors', '/dev/zero');
    const started = Date.now();
    await assert.rejects(Gpt2Model.fromFolder(dir), (error: Error) => error instanceof ModelLoadError && /model\.safetensors/.test(error.message) && /a device/.test(error.message) && /\/dev\/zero/.test(error.message));
    assert.ok(Date.now() - started < 5000);
  });

  it('tokenizer.json linked to a named pipe: refused without opening it (no hang)', async () => {
    const fifo = path.join(scratch, 'pipe');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo (coreutils) makes the pipe');
    const dir = folderWithLink('tokenizer.json', fifo);
    await assert.rejects(TextTokenizer.fromFile(path.join(dir, 'tokenizer.json')), (error: Error) => error instanceof ModelLoadError && /a pipe/.test(error.message));
  });

  it('config.json in a link loop: says "link loop", not "not found"', async () => {
    const dir = path.join(scratch, 'model');
    fs.cpSync(tiny, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'config.json'));
    fs.symlinkSync('loop-b', path.join(dir, 'config.json'));
    fs.symlinkSync('config.json', path.join(dir, 'loop-b'));
    await assert.rejects(Gpt2Model.fromFolder(dir), (error: Error) => /link loop/.test(error.message) && /config\.json/.test(error.message));
  });

  it('a file larger than its format allows is refused before reading (sparse 300 MiB config.json)', async () => {
    const big = path.join(scratch, 'config.json');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 300 * 1024 * 1024);
    await assert.rejects(checkFile(big, { what: 'config.json', maxBytes: FILE_LIMITS.json }), (error: Error) => /config\.json .* is 300\.0 MiB, more than the 256\.0 MiB/.test(error.message));
  });

  it('a folder where a file should be, and a link out of the model folder for referenced files', async () => {
    await assert.rejects(checkFile(scratch, { what: 'model.onnx', maxBytes: 10 }), /is a folder/);
    const outside = path.join(scratch, 'outside.bin');
    fs.writeFileSync(outside, Buffer.alloc(16));
    const dir = path.join(scratch, 'inner');
    fs.mkdirSync(dir);
    fs.symlinkSync(outside, path.join(dir, 'w.bin'));
    await assert.rejects(readCheckedFile(path.join(dir, 'w.bin'), { what: 'w.bin', maxBytes: 100, insideDir: dir }), /outside the model folder/);
    // The same link is fine where nothing requires the folder (HF cache snapshots link into blobs/).
    assert.equal((await readCheckedFile(path.join(dir, 'w.bin'), { what: 'w.bin', maxBytes: 100 })).length, 16);
  });

  for (const mode of ['inline', 'reference'] as const) {
    it(`ONNX external data linked to a file outside the folder is refused (${mode})`, async () => {
      const fixture = path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'external-data');
      const dir = path.join(scratch, 'model');
      fs.cpSync(fixture, dir, { recursive: true });
      const outside = path.join(scratch, 'elsewhere.data');
      fs.renameSync(path.join(dir, 'model.onnx.data'), outside);
      fs.symlinkSync(outside, path.join(dir, 'model.onnx.data'));
      await assert.rejects(
        exposeAttention(fs.readFileSync(path.join(dir, 'model.onnx')), { modelDir: dir, externalData: mode, source: 'model.onnx' }),
        (error: Error) => error instanceof ModelLoadError && /outside the model folder/.test(error.message),
      );
    });
  }

  it('ONNX external data shorter than its tensors is refused in the reference mode too', async () => {
    const fixture = path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'external-data');
    const dir = path.join(scratch, 'model');
    fs.cpSync(fixture, dir, { recursive: true });
    fs.truncateSync(path.join(dir, 'model.onnx.data'), 10);
    await assert.rejects(exposeAttention(fs.readFileSync(path.join(dir, 'model.onnx')), { modelDir: dir, externalData: 'reference' }), /too short/);
  });

  it('safetensors with bytes after the last tensor is refused', () => {
    const header = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    const exact = Buffer.concat([length, header, Buffer.alloc(4)]);
    assert.equal(SafetensorsFile.parse(exact).names().length, 1);
    assert.throws(() => SafetensorsFile.parse(Buffer.concat([exact, Buffer.alloc(1000)])), /cover 4 bytes after the header but the file has 1004/);
  });

  it('CLI --file: /dev/zero is refused at once; a file with NUL bytes runs with a warning', async () => {
    const zero = await runCli(['run', '--file', '/dev/zero', '--model', tiny]);
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /a device/);
    const binary = path.join(scratch, 'binary.txt');
    fs.writeFileSync(binary, Buffer.from('abc\u0000def', 'utf8'));
    const run = await runCli(['run', '--file', binary, '--model', tiny]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /NUL bytes/);
  });

  it('CLI --max-tokens takes only plain positive integers', async () => {
    for (const value of ['1e3', '0x10', '+5', '5.0', ' 5', '0']) {
      const result = await runCli(['run', '--text', 'x', '--model', tiny, '--max-tokens', value]);
      assert.equal(result.code, 2, `--max-tokens ${JSON.stringify(value)}`);
    }
    assert.equal((await runCli(['run', '--text', 'x', '--model', tiny, '--max-tokens', '7'])).code, 0);
  });
});

describe('ONNX models without config.json', function () {
  this.timeout(60_000);
  it('take their context from the graph\'s position table, and longer inputs are cut or refused with a message', async () => {
    const fixture = path.join(repoRoot(), 'test', 'fixtures', 'onnx', 'gpt2-plain');
    const positions = JSON.parse(fs.readFileSync(path.join(fixture, 'config.json'), 'utf8')).n_positions as number;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-noconfig-'));
    try {
      for (const file of ['model.onnx', 'tokenizer.json']) fs.copyFileSync(path.join(fixture, file), path.join(dir, file));
      const backend = new OnnxBackend(dir, 'no-config');
      try {
        assert.equal((await backend.describe()).maxPositions, positions);
        const long = Array.from({ length: positions * 2 }, (_, i) => `w${i}`).join(' ');
        await assert.rejects(backend.run(long, { maxTokens: 4096, failIfTooLong: true }), (error: Error) => error instanceof TooManyTokensError && error.maxTokens === positions);
        const cut = await backend.run(long, { maxTokens: 4096 });
        assert.equal(cut.tokens.length, positions);
        assert.ok(cut.truncatedFrom !== undefined && cut.truncatedFrom > positions);
      } finally {
        backend.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
