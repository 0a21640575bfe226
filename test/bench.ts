// npm run bench [-- --json | --quick | --smoke | --no-torch | --no-panel]: inference time of the
// built-in block (WASM and TypeScript kernels), onnxruntime in-process, the ONNX child process and
// PyTorch eager in one interleaved run; the machine's one-core matmul peak; the panel's first paint,
// head switch, hover and heap in headless Chromium. The parts live in test/bench/.
import { volunteerForOomKiller } from './bench/memory';
import { parseOptions } from './bench/options';
import { toJson, toTables } from './bench/report';
import { Cleanup, runBench } from './bench/run';

/** Nothing in a run should take this long; past it the bench stops and says so. */
const OVERALL_LIMIT_MS = { smoke: 5 * 60_000, full: 120 * 60_000 };

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if ('help' in options) {
    console.log(options.help);
    return 0;
  }
  if ('error' in options) {
    console.error(options.error);
    return 2;
  }
  volunteerForOomKiller();
  const cleanup = new Cleanup();
  const stop = (why: string, code: number) => {
    console.error(why);
    cleanup.run();
    process.exit(code);
  };
  process.on('SIGINT', () => stop('bench: interrupted; cleaned up', 130));
  process.on('SIGTERM', () => stop('bench: terminated; cleaned up', 143));
  const limit = options.smoke ? OVERALL_LIMIT_MS.smoke : OVERALL_LIMIT_MS.full;
  setTimeout(() => stop(`bench: still running after ${limit / 60_000} minutes; stopped`, 1), limit).unref();
  try {
    const report = await runBench(options, (line) => console.error(`[bench] ${line}`), cleanup);
    console.log(options.json ? JSON.stringify(toJson(report), null, 2) : toTables(report));
    return 0;
  } finally {
    cleanup.run();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
