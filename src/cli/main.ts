// attention-inspector run (--text STR | --file PATH) [--model DIR] [--backend auto|builtin|onnx] [--kernels auto|wasm|typescript] [--max-tokens N] [--target STR] [--merge chars|words] [--roles] [--aggregate rollout|flow] [variation] [--json] [--out FILE.safetensors|FILE.npy]
// attention-inspector explain (--text STR | --file PATH) --layer L --head H --query I [--group G] [--model DIR] [--backend ...] [variation] [--json]
// attention-inspector compare (--text STR | --file PATH) --layer L --head H variation [--model DIR] [--json]
// attention-inspector stats --file PATH [--model DIR] [--window N] [--json]
// attention-inspector render (--text STR | --file PATH) [--model DIR] --view heatmap|links|grid|rollout [--layer L --head H] [--cells R0:R1,C0:C1] --format svg|png|csv|json --out FILE
//   variation: [--no-positions] [--swap I,J] [--ablate L:H[,L:H...]]
// The same core as the extension; errors go to stderr with a non-zero exit code.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { BackendRegistry, backendFactory } from '../core/backends/backendRegistry';
import { isKernelChoice, KERNEL_CHOICES, type KernelChoice } from '../core/math/wasm/kernelChoice';
import { FILE_LIMITS, readCheckedFileSync } from '../core/modelFiles';
import { DEFAULT_MEMORY_BUDGET_MB } from '../core/backends/truncation';
import { AttentionInspectorError, describeError } from '../core/errors';
import type { AttentionResult, BackendChoice } from '../core/types';
import type { HeadRef, RunVariation } from '../core/explain/types';
import { describeVariation } from '../core/explain/variation';
import { bundledModelDir, bundledModelName, BUNDLED_PREFIX } from '../core/bundledModels';
import { toComparisonJson, toComparisonText, toExplainJson, toExplainText } from './explainFormat';
import { runComparison } from '../core/explain/compare';
import { formatHeadStats, jsonReportWith, toTextReport } from './format';
import { Base64Tensor, streamWriter, writeJson, type ChunkWriter } from './jsonStream';
import { TENSOR_FILE_EXTENSIONS, writeTensorFile } from './tensorFiles';
import { headStatsForFolder } from './headStatsCommand';
import { isMergeMode, mergeResult, MERGE_RULE } from '../core/merge';
import { headRoles } from '../core/analysis/headRoles';
import { DEFAULT_FLOW_MAX_TOKENS } from '../core/analysis/flow';
import { RENDER_FORMATS, RENDER_VIEWS, renderView, type RenderFormat, type RenderView } from './renderCommand';
import type { CellWindow } from '../core/attentionWindow';
import { AGGREGATE_KINDS, aggregatesJson, aggregatesText, computeAggregates, rolesText, type AggregateKind } from './analysisFormat';

const USAGE = `Usage: attention-inspector run (--text STR | --file PATH) [options]
       attention-inspector explain (--text STR | --file PATH) --layer L --head H --query I [options]
       attention-inspector compare (--text STR | --file PATH) --layer L --head H [--no-positions] [--swap I,J] [--ablate L:H,...] [options]
       attention-inspector stats --file PATH [--model DIR] [--window N] [--json]
       attention-inspector render (--text STR | --file PATH) --view heatmap|links|grid|rollout [--layer L --head H] --format svg|png|csv|json --out FILE [options]

run      runs a transformer on the text and prints its tokens, shape and attention.
explain  one head for one query token, step by step: q, k, v, the scores q·k, ÷√d_k, the mask,
         softmax, the weighted sum of v, every head's write through W_O, the residual stream and
         the logit lens (the built-in backend shows every step; ONNX models show the softmax
         input and the weights, and name the steps they cannot show).
compare  two runs side by side for one head (built-in backend): the plain run and one without
         positions or with heads switched off; or, with --swap, the same run with two tokens
         exchanged — and whether the last token's attention is exactly a permutation of the first
         run's (it must be without positions at layer 0; with positions it is not).
stats    measures what every head does on held-out text (built-in backend): mean attention to the
         previous token, to the first token and to itself, row entropy, and an induction score on
         random tokens repeated twice.
render   writes one view to a file, drawn without a browser: --view heatmap (one head; --group,
         --layer, --head, default 0), links (the same head as lines from each query to its
         strongest keys), grid (every layer and head as thumbnails with role badges) or rollout
         (attention rollout of the first group); --format svg (axis labels and legend), png (the
         same drawing rasterised by resvg with the system's fonts), csv (header row of key labels,
         one labelled row per query; grid: one row per head with its role scores) or json (the
         run --json format).

Options:
  --text STR          text to inspect
  --file PATH         read the text from a file (UTF-8)
  --model DIR         model folder, or bundled:NAME (default, dates, worked-example);
                      default: the bundled default model
  --backend NAME      auto | builtin | onnx (default: auto)
  --kernels NAME      auto | wasm | typescript (default: auto): what runs the built-in backend —
                      WebAssembly SIMD where it loads (auto), insisting on it (wasm: an error
                      where it cannot load), or the TypeScript reference kernels
  --max-tokens N      inspect at most N tokens (default: 512)
  --memory-budget-mb N
                      the most memory one run's attention may hold, copies included
                      (default: 2048); longer inputs are cut to the tokens that fit
  --target STR        encoder–decoder models: the target text the decoder reads
                      (default: the model's own greedy output)
  --merge MODE        run: chars | words — show characters (a token holding only the rest of a
                      character's bytes joins it) or words (whitespace/punctuation-delimited;
                      Chinese and Japanese: one character per word); ${MERGE_RULE}
  --roles             run: score every head on this text — previous token, first token, same
                      token, induction (where the text repeats), entropy — with the formulas of
                      the model card's statistics (--group picks the attention group)
  --aggregate KINDS   run: rollout, flow or rollout,flow — how much each input token reaches
                      each output token through all layers (rollout: layer-mean attention with
                      the residual as 0.5·I + 0.5·A, multiplied through; flow: max flow through
                      the layer graph, exact, at most ${DEFAULT_FLOW_MAX_TOKENS} tokens); encoder–decoder
                      models: the encoder's, and with rollout also crossRollout
  --view V, --format F, --out FILE
                      render: the view, the file format and the file to write
  --cells R0:R1,C0:C1 render heatmap or rollout: only queries R0 … R1−1 and keys C0 … C1−1 (the
                      panel's zoomed window, exact cells)
  --window N          stats: tokens per held-out window (default: 128)
  --layer L, --head H, --query I
                      explain: the head (0-based) and the query token index
  --group G           explain, --roles: attention group index (encoder–decoder models: 0 encoder,
                      1 decoder, 2 cross; default 0)
  --no-positions      run without position information (built-in backend): the model sees
                      the tokens as an unordered bag
  --swap I,J          exchange tokens I and J before running (built-in backend)
  --ablate L:H,...    switch heads off: their write is zero (built-in backend)
  --json              print one JSON object: model, tokens, attention (base64 float32 [L,H,T,T]),
                      groups (each with kind, Q and K/V sources, dims [L,H,Tq,Tk] and data; the
                      first group's tensor is attention, carried once: that group has
                      "dataIn": "attention" instead of data) and, for encoder–decoder models,
                      the target tokens; streamed, so any number of tokens prints
  --out FILE          run: also write the attention to FILE.safetensors (every group, named
                      attention.<group>, tokens and model in the metadata; Python:
                      safetensors.numpy.load_file(FILE)) or FILE.npy (the first group's
                      [L,H,Tq,Tk]; Python: numpy.load(FILE))
  -h, --help          show this help
`;

class UsageError extends Error {}

/** The package root: the nearest folder above this script that holds media/models (dist/.. when installed; also right from a test bundle in dist/test/unit). */
function packageRoot(): string {
  for (let dir = path.resolve(__dirname, '..'); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'media', 'models'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}

/** Where the bundled model lives: media/models/default next to dist/. */
export function defaultModelDir(): string {
  return bundledModelDir(packageRoot(), 'default');
}

/**
 * out: one line of output; err: one line of diagnostics; write: raw chunks of a large output (run --json),
 * awaited so a stream can apply back-pressure — without it the chunks are joined and given to out.
 */
export async function main(argv: string[], out: (text: string) => void, err: (text: string) => void, write?: ChunkWriter): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        text: { type: 'string' },
        file: { type: 'string' },
        model: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        kernels: { type: 'string', default: 'auto' },
        'max-tokens': { type: 'string', default: '512' },
        'memory-budget-mb': { type: 'string', default: String(DEFAULT_MEMORY_BUDGET_MB) },
        target: { type: 'string' },
        merge: { type: 'string' },
        window: { type: 'string', default: '128' },
        layer: { type: 'string' },
        head: { type: 'string' },
        query: { type: 'string' },
        group: { type: 'string', default: '0' },
        'no-positions': { type: 'boolean', default: false },
        swap: { type: 'string' },
        ablate: { type: 'string' },
        roles: { type: 'boolean', default: false },
        aggregate: { type: 'string' },
        view: { type: 'string' },
        cells: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    err(`attention-inspector: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  try {
    const kernels = parseKernels(values.kernels);
    if (positionals[0] === 'stats' && positionals.length === 1) {
      if (values.file === undefined) throw new UsageError('stats needs --file with held-out text');
      const window = Number(values.window);
      if (!Number.isInteger(window) || window < 2) throw new UsageError(`--window must be an integer of at least 2, not "${values.window}"`);
      const report = await headStatsForFolder(resolveModel(values.model), readTextFile(values.file, err), window, { kernels });
      out(values.json ? JSON.stringify(report, null, 2) : formatHeadStats(report));
      return 0;
    }
    const command = positionals[0];
    if (command === 'render' && positionals.length === 1) return await render(values, kernels, err);
    if ((command !== 'run' && command !== 'explain' && command !== 'compare') || positionals.length > 1) throw new UsageError(positionals.length === 0 ? 'missing command "run"' : `unknown command "${positionals.join(' ')}"`);
    if ((values.text === undefined) === (values.file === undefined)) throw new UsageError('give exactly one of --text or --file');
    const backend = values.backend as string;
    if (!['auto', 'builtin', 'onnx'].includes(backend)) throw new UsageError(`--backend must be auto, builtin or onnx, not "${backend}"`);
    const maxTokens = /^[1-9][0-9]{0,8}$/.test(values['max-tokens'] as string) ? Number(values['max-tokens']) : NaN;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new UsageError(`--max-tokens must be a positive integer, not "${values['max-tokens']}"`);
    const memoryBudgetMB = /^[1-9][0-9]{0,6}$/.test(values['memory-budget-mb'] as string) ? Number(values['memory-budget-mb']) : NaN;
    if (!(memoryBudgetMB > 0)) throw new UsageError(`--memory-budget-mb must be a positive integer, not "${values['memory-budget-mb']}"`);
    const merge = values.merge;
    if (merge !== undefined && !isMergeMode(merge)) throw new UsageError(`--merge must be chars or words, not "${merge}"`);
    if (merge !== undefined && command !== 'run') {
      throw new UsageError(`--merge applies to run only: ${command} works on tokens (run --merge ${merge} --json lists each unit's tokens; explain the last token of a unit)`);
    }
    const roles = values.roles === true;
    const aggregateKinds = values.aggregate === undefined ? [] : parseAggregates(values.aggregate);
    if ((roles || aggregateKinds.length > 0) && command !== 'run') throw new UsageError(`--roles and --aggregate apply to run only`);
    if ((roles || aggregateKinds.length > 0) && merge !== undefined) throw new UsageError('--roles and --aggregate read tokens: leave out --merge');
    const rolesGroup = roles ? index(values.group, '--group') : 0;
    if (values.out !== undefined) {
      if (command !== 'run') throw new UsageError(`--out applies to run and render only`);
      if (!TENSOR_FILE_EXTENSIONS.some((extension) => (values.out as string).toLowerCase().endsWith(extension))) throw new UsageError(`run --out writes ${TENSOR_FILE_EXTENSIONS.join(' or ')} files, not "${values.out}"`);
    }
    const variation = parseVariation(values['no-positions'] === true, values.swap, values.ablate);
    if (command === 'compare' && variation === undefined) throw new UsageError('compare needs a variation: --no-positions, --swap I,J or --ablate L:H');
    const explainRequest =
      command !== 'run'
        ? { group: index(values.group, '--group'), layer: index(values.layer, '--layer'), head: index(values.head, '--head'), query: command === 'explain' ? index(values.query, '--query') : 0 }
        : undefined;
    const text = values.text ?? readTextFile(values.file as string, err);

    const registry = new BackendRegistry(backendFactory({ kernels }));
    try {
      const backendForModel = registry.get(resolveModel(values.model), backend as BackendChoice, explainRequest !== undefined || variation !== undefined);
      const options = { maxTokens, memoryBudgetMB, target: values.target, variation };
      if (command === 'compare' && explainRequest && variation) {
        const comparison = await runComparison(backendForModel, text, { maxTokens, memoryBudgetMB }, variation, explainRequest.layer, explainRequest.head);
        out(values.json ? JSON.stringify(toComparisonJson(comparison)) : toComparisonText(comparison));
      } else if (explainRequest) {
        const { explanation, result } = await backendForModel.explain(text, explainRequest, options);
        warnAbout(result.warnings, err);
        out(values.json ? JSON.stringify(toExplainJson(explanation)) : toExplainText(explanation));
      } else {
        const run = await backendForModel.run(text, options);
        warnAbout(run.warnings, err);
        const result = merge !== undefined ? mergeResult(run, merge) : run;
        const varied = describeVariation(variation);
        const roleScores = roles ? headRoles(run, rolesGroup) : undefined;
        const aggregates = aggregateKinds.length > 0 ? computeAggregates(run, aggregateKinds) : undefined;
        if (values.out !== undefined) writeRunTensors(result, values.out);
        if (values.json) {
          const report = { ...jsonReportWith(result, (tensor) => new Base64Tensor(tensor)), ...(varied ? { variation } : {}), ...(roleScores ? { roles: roleScores } : {}), ...(aggregates ? { aggregates: aggregatesJson(aggregates) } : {}) };
          if (write) await writeJson(report, write);
          else {
            const chunks: string[] = [];
            await writeJson(report, (chunk) => void chunks.push(chunk));
            out(chunks.join('').trimEnd());
          }
        } else {
          const extra = [...(roleScores ? [rolesText(roleScores, run, rolesGroup)] : []), ...(aggregates ? [aggregatesText(aggregates, run)] : [])];
          out((varied ? `Variation: ${varied}\n` : '') + (merge !== undefined ? `Units: ${merge === 'chars' ? 'characters' : 'words'} (${MERGE_RULE})\n` : '') + [toTextReport(result), ...extra].join('\n'));
        }
      }
    } finally {
      registry.dispose();
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`attention-inspector: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    err(`attention-inspector: ${describeError(error)}`);
    if (!(error instanceof AttentionInspectorError) && error instanceof Error && error.stack) err(error.stack);
    return 1;
  }
}

/** --cells R0:R1,C0:C1: a window of the heatmap or rollout (rows R0 … R1−1, columns C0 … C1−1); whether it fits the map is checked once the run says its size. */
function cellsOption(value: unknown, view: string): CellWindow | undefined {
  if (value === undefined) return undefined;
  if (view !== 'heatmap' && view !== 'rollout') throw new UsageError(`--cells applies to --view heatmap and rollout only, not ${view}`);
  const match = /^(\d{1,9}):(\d{1,9}),(\d{1,9}):(\d{1,9})$/.exec(String(value));
  if (!match) throw new UsageError(`--cells must be ROW0:ROW1,COL0:COL1 (e.g. 0:64,0:64), not "${String(value)}"`);
  const [row0, row1, col0, col1] = match.slice(1).map(Number);
  if (row0 >= row1 || col0 >= col1) throw new UsageError(`--cells ${String(value)} is empty: each start must be below its end`);
  return { row0, row1, col0, col1 };
}

/** render: validates its options, runs the model and writes --out. */
async function render(values: Record<string, string | boolean | undefined>, kernels: KernelChoice, err: (text: string) => void): Promise<number> {
  const view = values.view as string | undefined;
  const format = values.format as string | undefined;
  if (view === undefined || !(RENDER_VIEWS as readonly string[]).includes(view)) throw new UsageError(`render needs --view heatmap, links, grid or rollout, not "${view ?? ''}"`);
  if (format === undefined || !(RENDER_FORMATS as readonly string[]).includes(format)) throw new UsageError(`render needs --format svg, png, csv or json, not "${format ?? ''}"`);
  if (typeof values.out !== 'string' || values.out === '') throw new UsageError('render needs --out FILE');
  if ((values.text === undefined) === (values.file === undefined)) throw new UsageError('give exactly one of --text or --file');
  const backend = values.backend as string;
  if (!['auto', 'builtin', 'onnx'].includes(backend)) throw new UsageError(`--backend must be auto, builtin or onnx, not "${backend}"`);
  const maxTokens = /^[1-9][0-9]{0,8}$/.test(values['max-tokens'] as string) ? Number(values['max-tokens']) : NaN;
  if (!(maxTokens > 0)) throw new UsageError(`--max-tokens must be a positive integer, not "${values['max-tokens']}"`);
  const memoryBudgetMB = /^[1-9][0-9]{0,6}$/.test(values['memory-budget-mb'] as string) ? Number(values['memory-budget-mb']) : NaN;
  if (!(memoryBudgetMB > 0)) throw new UsageError(`--memory-budget-mb must be a positive integer, not "${values['memory-budget-mb']}"`);
  const optional = (value: unknown, name: string) => (value === undefined ? 0 : index(value as string, name));
  const request = { view: view as RenderView, format: format as RenderFormat, group: optional(values.group, '--group'), layer: optional(values.layer, '--layer'), head: optional(values.head, '--head'), cells: cellsOption(values.cells, view) };
  const text = (values.text as string | undefined) ?? readTextFile(values.file as string, err);
  const registry = new BackendRegistry(backendFactory({ kernels }));
  try {
    const run = await registry.get(resolveModel(values.model as string | undefined), backend as BackendChoice, false).run(text, { maxTokens, memoryBudgetMB, target: values.target as string | undefined });
    warnAbout(run.warnings, err);
    const { contents, notice } = renderView(run, request);
    if (notice) err(`attention-inspector: ${notice}`);
    try {
      fs.writeFileSync(values.out, contents);
    } catch (error) {
      throw new AttentionInspectorError(`cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } finally {
    registry.dispose();
  }
  return 0;
}

/** run --out: the tensors as .safetensors or .npy (src/cli/tensorFiles.ts). */
function writeRunTensors(result: AttentionResult, file: string): void {
  try {
    writeTensorFile(result, file);
  } catch (error) {
    throw new AttentionInspectorError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** NaN or infinite weights and outputs go to stderr, whatever the output format. */
function warnAbout(warnings: readonly string[] | undefined, err: (text: string) => void): void {
  for (const warning of warnings ?? []) err(`attention-inspector: warning: ${warning}`);
}

/** --model: a folder, or bundled:NAME for a model shipped in media/models. */
function resolveModel(model: string | undefined): string {
  if (model === undefined) return defaultModelDir();
  if (model.startsWith(BUNDLED_PREFIX)) {
    const name = bundledModelName(model);
    if (name === undefined) throw new UsageError(`unknown bundled model "${model}" (bundled: default, dates, worked-example)`);
    return bundledModelDir(packageRoot(), name);
  }
  return model;
}

/** --kernels: auto, wasm or typescript. */
function parseKernels(value: string | boolean | undefined): KernelChoice {
  const kernels = String(value ?? 'auto');
  if (!isKernelChoice(kernels)) throw new UsageError(`--kernels must be ${KERNEL_CHOICES.join(', ')}, not "${kernels}"`);
  return kernels;
}

/** A non-negative integer option (required). */
function index(value: string | undefined, name: string): number {
  if (value === undefined) throw new UsageError(`explain needs ${name}`);
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a non-negative integer, not "${value}"`);
  return Number(value);
}

/** --aggregate: rollout, flow, or both separated by a comma. */
function parseAggregates(value: string): AggregateKind[] {
  const kinds = value.split(',').map((part) => part.trim());
  for (const kind of kinds) {
    if (!(AGGREGATE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--aggregate takes rollout, flow or rollout,flow, not "${value}"`);
  }
  return [...new Set(kinds)] as AggregateKind[];
}

function parseVariation(noPositions: boolean, swap: string | undefined, ablate: string | undefined): RunVariation | undefined {
  const variation: RunVariation = {};
  if (noPositions) variation.positions = false;
  if (swap !== undefined) {
    const match = /^(\d+),(\d+)$/.exec(swap);
    if (!match || match[1] === match[2]) throw new UsageError(`--swap must be two different token indices I,J, not "${swap}"`);
    variation.swap = [Number(match[1]), Number(match[2])];
  }
  if (ablate !== undefined) {
    const heads: HeadRef[] = [];
    for (const part of ablate.split(',')) {
      const match = /^(\d+):(\d+)$/.exec(part.trim());
      if (!match) throw new UsageError(`--ablate takes LAYER:HEAD pairs separated by commas (e.g. 0:1,2:3), not "${ablate}"`);
      heads.push({ layer: Number(match[1]), head: Number(match[2]) });
    }
    variation.ablate = heads;
  }
  return describeVariation(variation) === '' ? undefined : variation;
}

/** --file: a regular file of at most FILE_LIMITS.text bytes, read as UTF-8; NUL bytes (binary input) get a warning. */
function readTextFile(file: string, warn: (text: string) => void): string {
  try {
    fs.lstatSync(file);
  } catch (error) {
    throw new AttentionInspectorError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = readCheckedFileSync(file, { what: 'The input file', maxBytes: FILE_LIMITS.text, error: AttentionInspectorError }).toString('utf8');
  if (text.includes('\u0000')) warn(`attention-inspector: warning: ${file} contains NUL bytes — it looks binary, not text; its bytes are inspected as UTF-8.`);
  return text;
}

if (require.main === module) {
  main(process.argv.slice(2), (text) => process.stdout.write(text + '\n'), (text) => process.stderr.write(text + '\n'), streamWriter(process.stdout)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`attention-inspector: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
