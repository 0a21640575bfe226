// One bench run, start to end: PyTorch found (or not), the matmul peak, the default model at the short
// sizes, the generated long model at the long sizes, then the panel. Whatever happens, child
// processes, the browser and the temp folder are gone when it returns.
import * as fs from 'fs';
import * as path from 'path';
import { bundledModelDir } from '../support/heldout';
import { contendersFor, isContender, CONTENDER_LABELS, type Contender } from './contenders';
import { runInterleaved } from './inference';
import { exactInputs, heldOutText } from './inputs';
import { makeLongModel, type LongModel } from './longModel';
import { measureMatmulPeak } from './matmulPeak';
import type { BenchOptions } from './options';
import { measurePanel } from './panel';
import { planFor } from './plan';
import { machineInfo, type BenchReport, type ModelRun } from './report';
import { TorchEager } from './torchEager';
import type { ModelShape } from './flops';

/** What to undo on the way out (also on Ctrl-C): dispose backends, stop Python, remove temp folders. */
export class Cleanup {
  private readonly steps: (() => void)[] = [];
  add(step: () => void): void {
    this.steps.push(step);
  }
  run(): void {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        step();
      } catch {
        // keep cleaning
      }
    }
  }
}

async function benchModel(label: string, dir: string, shape: ModelShape, sizes: number[], torch: TorchEager | undefined, torchSkipped: string | undefined, noOnnx: string | undefined, options: { repeats(T: number): number; timeoutMs(T: number): number }, cleanup: Cleanup, notice: (line: string) => void, progress: (line: string) => void): Promise<ModelRun> {
  const inputs = await exactInputs(dir, heldOutText(), sizes);
  const all = await contendersFor(dir, torch, torchSkipped);
  const contenders: Contender[] = [];
  for (const entry of all) {
    if (isContender(entry)) {
      contenders.push(entry);
      cleanup.add(() => entry.dispose());
    } else if (entry.key !== 'pytorch-eager') notice(`${CONTENDER_LABELS[entry.key]} on ${label}: ${entry.key.startsWith('onnx') && noOnnx ? noOnnx : entry.reason}`);
  }
  progress(`${label}: ${contenders.map((c) => CONTENDER_LABELS[c.key]).join(', ')} at ${sizes.join(' / ')} tokens`);
  const results = await runInterleaved(contenders, inputs, { ...options, layers: shape.layers, heads: shape.heads }, notice, progress);
  for (const contender of contenders) contender.dispose();
  return { label, shape, results };
}

export async function runBench(options: BenchOptions, progress: (line: string) => void, cleanup: Cleanup): Promise<BenchReport> {
  const plan = planFor(options);
  const notices: string[] = [];
  const notice = (line: string) => {
    notices.push(line);
    progress(`notice: ${line}`);
  };
  const report: BenchReport = { date: new Date().toISOString(), machine: machineInfo(), models: [], notices };

  let torch: TorchEager | undefined;
  let torchSkipped: string | undefined = 'left out (--no-torch)';
  if (options.torch && options.inference) {
    progress('looking for a Python with torch and transformers');
    const started = await TorchEager.start();
    if (started instanceof TorchEager) {
      torch = started;
      cleanup.add(() => started.close());
      const loaded = await torch.load(bundledModelDir());
      report.pytorch = `PyTorch ${String(loaded.torch)}, transformers ${String(loaded.transformers)} (${torch.python})`;
      torchSkipped = undefined;
    } else {
      torchSkipped = `skipped: no Python with torch and transformers (${started.skipped})`;
    }
  }
  if (options.inference) await benchInference(options, report, torch, torchSkipped, cleanup, notice, progress);
  torch?.close(); // its memory back before the browser starts
  if (options.panel) {
    progress(`panel in headless Chromium at ${plan.panel.sizes.join(' / ')} tokens (L${plan.panel.layers} H${plan.panel.heads})`);
    try {
      report.panel = await measurePanel(plan.panel, notice, progress);
    } catch (error) {
      notice(`panel figures failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return report;
}

async function benchInference(options: BenchOptions, report: BenchReport, torch: TorchEager | undefined, torchSkipped: string | undefined, cleanup: Cleanup, notice: (line: string) => void, progress: (line: string) => void): Promise<void> {
  const plan = planFor(options);
  if (torchSkipped) notice(`PyTorch eager ${torchSkipped}`);
  progress('one-core matmul peak');
  report.peak = await measureMatmulPeak(plan.peak.size, plan.peak.runs);

  const defaultDir = bundledModelDir();
  const json = JSON.parse(fs.readFileSync(path.join(defaultDir, 'config.json'), 'utf8')) as { n_layer: number; n_head: number; n_embd: number; vocab_size: number };
  const defaultShape: ModelShape = { layers: json.n_layer, heads: json.n_head, dModel: json.n_embd, vocabSize: json.vocab_size };
  report.models.push(await benchModel('the default model (media/models/default)', defaultDir, defaultShape, plan.shortSizes, torch, torchSkipped, undefined, plan, cleanup, notice, progress));

  progress(`generating the ${plan.longModel.positions}-position random-weight model${torch ? ' and exporting model.onnx' : ''}`);
  const long: LongModel = await makeLongModel(defaultDir, plan.longModel, torch);
  cleanup.add(() => long.remove());
  report.models.push(await benchModel(`a random-weight ${plan.longModel.positions}-position GPT-2`, long.dir, long.shape, plan.longSizes, torch, torchSkipped, long.noOnnx, plan, cleanup, notice, progress));
  long.remove();
}
