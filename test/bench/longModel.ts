// The 4096-position model for the 2048- and 4096-token sizes: a seeded random-weight GPT-2
// (test/support/randomGpt2.ts) in a temp folder, with the default model's tokenizer so the same
// held-out text runs through it, and model.onnx when a PyTorch with the exporter is at hand.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeRandomGpt2Folder } from '../support/randomGpt2';
import type { ModelShape } from './flops';
import type { TorchEager } from './torchEager';

export interface LongModelShape {
  layers: number;
  heads: number;
  dModel: number;
  positions: number;
}

/** A realistic small model: 6 layers × 8 heads, d_model 256 (head size 32), 4096 positions. */
export const LONG_MODEL: LongModelShape = { layers: 6, heads: 8, dModel: 256, positions: 4096 };

export interface LongModel {
  dir: string;
  shape: ModelShape;
  /** Why there is no model.onnx (ONNX backends skipped), when there is none. */
  noOnnx?: string;
  remove(): void;
}

export async function makeLongModel(tokenizerFrom: string, shape: LongModelShape, torch: TorchEager | undefined): Promise<LongModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-bench-gpt2-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(tokenizerFrom, 'tokenizer.json'), 'utf8')) as object;
    await writeRandomGpt2Folder(dir, { seed: 4096, ...shape, tokenizerJson });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { vocab_size: number };
    let noOnnx: string | undefined;
    if (torch) {
      try {
        await torch.load(dir);
        await torch.exportOnnx(path.join(dir, 'model.onnx'));
      } catch (error) {
        fs.rmSync(path.join(dir, 'model.onnx'), { force: true });
        noOnnx = `exporting model.onnx failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    } else noOnnx = 'no PyTorch to export model.onnx with (tools/export/export_core.py needs torch)';
    return { dir, shape: { layers: shape.layers, heads: shape.heads, dModel: shape.dModel, vocabSize: config.vocab_size }, noOnnx, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
