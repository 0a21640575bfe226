// attention-inspector run (--text STR | --file PATH) [--model DIR] [--backend auto|builtin|onnx] [--max-tokens N] [--target STR] [--json]
// attention-inspector stats --file PATH [--model DIR] [--window N] [--json]
// The same core as the extension; errors go to stderr with a non-zero exit code.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { BackendRegistry } from '../core/backends/backendRegistry';
import { AttentionInspectorError, describeError } from '../core/errors';
import type { BackendChoice } from '../core/types';
import { formatHeadStats, toJsonReport, toTextReport } from './format';
import { headStatsForFolder } from './headStatsCommand';

const USAGE = `Usage: attention-inspector run (--text STR | --file PATH) [options]
       attention-inspector stats --file PATH [--model DIR] [--window N] [--json]

run    runs a transformer on the text and prints its tokens, shape and attention.
stats  measures what every head does on held-out text (built-in backend): mean attention to the
       previous token, to the first token and to itself, row entropy, and an induction score on
       random tokens repeated twice.

Options:
  --text STR          text to inspect
  --file PATH         read the text from a file (UTF-8)
  --model DIR         model folder (default: the bundled model)
  --backend NAME      auto | builtin | onnx (default: auto)
  --max-tokens N      inspect at most N tokens (default: 512)
  --target STR        encoder–decoder models: the target text the decoder reads
                      (default: the model's own greedy output)
  --window N          stats: tokens per held-out window (default: 128)
  --json              print one JSON object: model, tokens, attention (base64 float32 [L,H,T,T]),
                      groups (each with kind, Q and K/V sources, dims [L,H,Tq,Tk] and data)
                      and, for encoder–decoder models, the target tokens
  -h, --help          show this help
`;

class UsageError extends Error {}

/** Where the bundled model lives: media/models/default next to dist/. */
export function defaultModelDir(): string {
  return path.resolve(__dirname, '..', 'media', 'models', 'default');
}

export async function main(argv: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
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
        'max-tokens': { type: 'string', default: '512' },
        target: { type: 'string' },
        window: { type: 'string', default: '128' },
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
    if (positionals[0] === 'stats' && positionals.length === 1) {
      if (values.file === undefined) throw new UsageError('stats needs --file with held-out text');
      const window = Number(values.window);
      if (!Number.isInteger(window) || window < 2) throw new UsageError(`--window must be an integer of at least 2, not "${values.window}"`);
      const report = await headStatsForFolder(values.model ?? defaultModelDir(), readTextFile(values.file), window);
      out(values.json ? JSON.stringify(report, null, 2) : formatHeadStats(report));
      return 0;
    }
    if (positionals[0] !== 'run' || positionals.length > 1) throw new UsageError(positionals.length === 0 ? 'missing command "run"' : `unknown command "${positionals.join(' ')}"`);
    if ((values.text === undefined) === (values.file === undefined)) throw new UsageError('give exactly one of --text or --file');
    const backend = values.backend as string;
    if (!['auto', 'builtin', 'onnx'].includes(backend)) throw new UsageError(`--backend must be auto, builtin or onnx, not "${backend}"`);
    const maxTokens = Number(values['max-tokens']);
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new UsageError(`--max-tokens must be a positive integer, not "${values['max-tokens']}"`);
    const text = values.text ?? readTextFile(values.file as string);

    const registry = new BackendRegistry();
    try {
      const result = await registry.get(values.model ?? defaultModelDir(), backend as BackendChoice).run(text, { maxTokens, target: values.target });
      out(values.json ? JSON.stringify(toJsonReport(result)) : toTextReport(result));
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

function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AttentionInspectorError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), (text) => process.stdout.write(text + '\n'), (text) => process.stderr.write(text + '\n')).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`attention-inspector: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
