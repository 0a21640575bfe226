// The extensionTestsPath module: VS Code's extension host loads it after activating the extension
// under development and calls run(). It runs mocha over the compiled suite files next to it
// (dist/test/suite/*.test.js) and writes a results file, because the extension host's own output
// is hard to read from outside (in VS Code for the Web it only reaches the server log).
// The extension host exits with code 0 when run() resolves and non-zero when it rejects.

import * as fs from 'fs';
import * as path from 'path';

/** Where the results go: $ATTENTION_INSPECTOR_TEST_RESULTS, else test-results/integration-results.json. */
export function resultsPath(): string {
  if (process.env.ATTENTION_INSPECTOR_TEST_RESULTS) return process.env.ATTENTION_INSPECTOR_TEST_RESULTS;
  // This file runs as dist/test/suite/index.js; the repository root is three folders up.
  return path.resolve(__dirname, '..', '..', '..', 'test-results', 'integration-results.json');
}

export interface TestOutcome {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: { message: string; stack?: string };
}

export interface SuiteResults {
  startedAt: string;
  durationMs: number;
  passes: number;
  failures: number;
  tests: TestOutcome[];
  /** Set when mocha itself could not run (e.g. a suite file failed to load). */
  fatal?: string;
}

/** Live progress, one line per test, next to the results file: the runner outside prints it as it grows. */
export function progressPath(): string {
  return resultsPath().replace(/\.json$/, '') + '.progress.log';
}

function progress(line: string): void {
  try {
    fs.appendFileSync(progressPath(), line + '\n');
  } catch {
    // progress is a convenience; the results file is what counts
  }
}

function writeResults(results: SuiteResults): void {
  const file = resultsPath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

interface MochaTest {
  title: string;
  fullTitle(): string;
  duration?: number;
}

export async function run(): Promise<void> {
  // Resolved at run time from the repository's node_modules (mocha is external to the bundle).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require('mocha') as typeof import('mocha');
  const startedAt = new Date();
  const results: SuiteResults = { startedAt: startedAt.toISOString(), durationMs: 0, passes: 0, failures: 0, tests: [] };

  // 'spec' output reaches the server log (and the browser console); no colours in log files.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env.ATTENTION_INSPECTOR_TEST_GREP;
  if (grep) mocha.grep(grep);
  const suiteFiles = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  for (const name of suiteFiles) mocha.addFile(path.join(__dirname, name));

  fs.mkdirSync(path.dirname(progressPath()), { recursive: true });
  fs.writeFileSync(progressPath(), '');
  try {
    if (suiteFiles.length === 0) throw new Error(`no *.test.js files in ${__dirname}; run node esbuild.js first`);
    const failures = await new Promise<number>((resolve) => {
      const runner = mocha.run((count) => resolve(count));
      runner.on('test', (test: MochaTest) => progress(`start ${test.fullTitle()}`));
      runner.on('pass', (test: MochaTest) => {
        progress(`ok    ${test.fullTitle()} (${test.duration ?? 0} ms)`);
        results.tests.push({ title: test.title, fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration ?? 0 });
      });
      // Hooks fail through this event too ('"before each" hook for ...'), so they are counted.
      runner.on('fail', (test: MochaTest, error: Error) => {
        progress(`FAIL  ${test.fullTitle()}: ${String(error?.message ?? error).split('\n')[0]}`);
        results.tests.push({
          title: test.title,
          fullTitle: test.fullTitle(),
          state: 'failed',
          durationMs: test.duration ?? 0,
          error: { message: String(error?.message ?? error), stack: error?.stack },
        });
      });
    });
    results.passes = results.tests.filter((test) => test.state === 'passed').length;
    results.failures = Math.max(failures, results.tests.filter((test) => test.state === 'failed').length);
  } catch (error) {
    results.fatal = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  results.durationMs = Date.now() - startedAt.getTime();
  progress(results.fatal ? `fatal ${results.fatal.split('\n')[0]}` : `done  ${results.passes} passing, ${results.failures} failing`);
  writeResults(results);

  if (results.fatal) throw new Error(`the integration suite could not run: ${results.fatal}`);
  if (results.failures > 0) throw new Error(`${results.failures} integration test(s) failed`);
}
