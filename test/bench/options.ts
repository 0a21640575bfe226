// Command-line options of `npm run bench -- [options]`.

export interface BenchOptions {
  json: boolean;
  /** Fewer repetitions everywhere: a rough figure in a few minutes. */
  quick: boolean;
  /** Tiny sizes and models, one repetition: checks that every part runs (the unit test uses it). */
  smoke: boolean;
  torch: boolean;
  inference: boolean;
  panel: boolean;
}

export const USAGE = `npm run bench -- [--json] [--quick | --smoke] [--no-torch] [--no-panel | --only-panel]
  --json      print the figures as one JSON object (nothing else on stdout)
  --quick     fewer repetitions (noisy; for a first look)
  --smoke     tiny sizes and one repetition, to check that every part runs
  --no-torch  leave PyTorch out even when a Python with torch and transformers is found
  --no-panel  leave the headless-Chromium panel figures out
  --only-panel  only the panel figures (no inference, no matmul peak)
Python: BENCH_PYTHON, else tools/export/.venv, tools/train/work/venv, python3 (the first with torch and transformers).`;

export function parseOptions(argv: readonly string[]): BenchOptions | { help: string } | { error: string } {
  const options: BenchOptions = { json: false, quick: false, smoke: false, torch: true, inference: true, panel: true };
  for (const arg of argv) {
    if (arg === '--json') options.json = true;
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--smoke') options.smoke = true;
    else if (arg === '--no-torch') options.torch = false;
    else if (arg === '--no-panel') options.panel = false;
    else if (arg === '--only-panel') options.inference = false;
    else if (arg === '--help' || arg === '-h') return { help: USAGE };
    else return { error: `unknown option ${arg}\n${USAGE}` };
  }
  return options;
}
