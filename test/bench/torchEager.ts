// PyTorch eager as a bench contender: test/bench/torch_eager.py in a long-lived child process, one
// JSON request per line on stdin and one reply per line on stdout, every request under a time limit.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { repoRoot } from '../support/heldout';
import { within } from './deadline';

interface Reply {
  ok: boolean;
  error?: string;
  missing?: boolean;
  [key: string]: unknown;
}

/** Pythons to try, in order: BENCH_PYTHON, the export guide's venv, the training venv, python3. */
export function pythonCandidates(root = repoRoot()): string[] {
  const venvs = [path.join(root, 'tools', 'export', '.venv', 'bin', 'python'), path.join(root, 'tools', 'train', 'work', 'venv', 'bin', 'python')];
  return [...(process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : []), ...venvs.filter((file) => fs.existsSync(file)), 'python3'];
}

export class TorchEager {
  private readonly pending: ((reply: Reply) => void)[] = [];
  private stderrTail = '';
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess, readonly python: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        return; // a library printed to stdout; only JSON lines are replies
      }
      this.pending.shift()?.(reply);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000)));
    child.on('exit', (code, signal) => {
      this.exited = `exited (${signal ?? code})`;
      for (const resolve of this.pending.splice(0)) resolve({ ok: false, error: `the Python process ${this.exited}: ${this.stderrTail.trim().split('\n').slice(-3).join(' / ')}` });
    });
    child.on('error', (error) => {
      this.exited = error.message;
      for (const resolve of this.pending.splice(0)) resolve({ ok: false, error: `${python}: ${error.message}`, missing: true });
    });
  }

  /**
   * The first candidate Python that imports torch and transformers, started and waiting; or the
   * reasons none did (so the bench can say why PyTorch is skipped).
   */
  static async start(candidates = pythonCandidates()): Promise<TorchEager | { skipped: string }> {
    const reasons: string[] = [];
    for (const python of candidates) {
      const child = spawn(python, [path.join(repoRoot(), 'test', 'bench', 'torch_eager.py')], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' },
      });
      const driver = new TorchEager(child, python);
      const ready = await driver.next(60_000, `starting ${python} (import torch, transformers)`).catch((error: Error) => ({ ok: false, error: error.message }) as Reply);
      if (ready.ok) return driver;
      driver.close();
      reasons.push(`${python}: ${ready.missing ? 'no torch/transformers' : ready.error}`);
    }
    return { skipped: reasons.join('; ') };
  }

  private next(timeoutMs: number, what: string): Promise<Reply> {
    if (this.exited) return Promise.resolve({ ok: false, error: `the Python process ${this.exited}` });
    return within(new Promise<Reply>((resolve) => this.pending.push(resolve)), timeoutMs, what);
  }

  /** Sends one request and waits for its reply; a failed request throws with Python's message. */
  async request(message: object, timeoutMs: number, what: string): Promise<Reply> {
    const reply = this.next(timeoutMs, what);
    this.child.stdin!.write(JSON.stringify(message) + '\n');
    const answer = await reply;
    if (!answer.ok) throw new Error(`PyTorch ${what}: ${answer.error ?? 'failed'}`);
    return answer;
  }

  load(dir: string): Promise<Reply> {
    return this.request({ cmd: 'load', dir }, 120_000, `loading ${dir}`);
  }

  /** One timed run (tokenization + forward) in milliseconds as Python measured it. */
  async run(text: string, ids: readonly number[], timeoutMs: number): Promise<{ ms: number; tokensMatch: boolean }> {
    const reply = await this.request({ cmd: 'run', text, ids }, timeoutMs, `running ${ids.length} tokens`);
    return { ms: reply.ms as number, tokensMatch: reply.tokensMatch as boolean };
  }

  /** Exports the loaded model to ONNX with tools/export/export_core.py. */
  async exportOnnx(out: string): Promise<void> {
    await this.request({ cmd: 'export', out, exportTools: path.join(repoRoot(), 'tools', 'export') }, 300_000, `exporting ${out}`);
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.child.pid;
  }

  close(): void {
    if (this.exited) return;
    this.child.stdin!.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    const child = this.child;
    // A process that does not leave on its own within a few seconds is killed.
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref();
  }
}
