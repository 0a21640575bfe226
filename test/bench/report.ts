// The figures of one run: as JSON (`--json`) and as readable tables with ratios and the machine.
import * as os from 'os';
import * as fs from 'fs';
import { CONTENDER_LABELS, type ContenderKey } from './contenders';
import { forwardFlops, type ModelShape } from './flops';
import type { SizeResult } from './inference';
import type { PanelFigures } from './panel';
import { roundMs } from './stats';

export interface ModelRun {
  label: string;
  shape: ModelShape;
  results: Map<number, SizeResult>;
}

export interface BenchReport {
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string };
  models: ModelRun[];
  peak?: { gflops: number; method: string };
  panel?: Record<string, PanelFigures>;
  pytorch?: string;
  notices: string[];
}

export function machineInfo(): BenchReport['machine'] {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux: os.cpus() it is
  }
  return { cpu: cpu.trim(), cores: os.cpus().length, node: process.version, platform: `${os.platform()}-${os.arch()}` };
}

const BUILTIN: ContenderKey[] = ['builtin-wasm', 'builtin-typescript'];

/** `{"inference": {"<backend>": {"<T>": ms}}, "peakGflops": n, "panel": {"<T>": {...}}}` plus context. */
export function toJson(report: BenchReport): object {
  const inference: Record<string, Record<string, number>> = {};
  const spread: Record<string, Record<string, number>> = {};
  const gflops: Record<string, Record<string, number>> = {};
  const extras: Record<string, Record<string, Record<string, number>>> = {};
  for (const model of report.models) {
    for (const [T, result] of model.results) {
      for (const [key, ms] of Object.entries(result.ms) as [ContenderKey, number][]) {
        (inference[key] ??= {})[T] = roundMs(ms);
        (spread[key] ??= {})[T] = Math.round((result.spread[key] ?? 0) * 1000) / 1000;
        if (BUILTIN.includes(key)) (gflops[key] ??= {})[T] = Math.round((forwardFlops(model.shape, T) / (ms / 1000) / 1e9) * 100) / 100;
      }
      for (const [key, values] of Object.entries(result.extras)) (extras[key] ??= {})[T] = values;
    }
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    inference,
    ...(report.peak ? { peakGflops: round1(report.peak.gflops) } : {}),
    ...(report.panel
      ? {
          panel: Object.fromEntries(Object.entries(report.panel).map(([T, f]) => [T, { firstPaintMs: roundMs(f.firstPaintMs), headSwitchMs: roundMs(f.headSwitchMs), hoverMs: roundMs(f.hoverMs), heapMB: round1(f.heapMB), ...(f.firstPaintTimeline ? { firstPaintTimeline: f.firstPaintTimeline } : {}) }])),
        }
      : {}),
    spread,
    builtinGflops: gflops,
    ...(report.peak ? { peakMethod: report.peak.method } : {}),
    backendExtras: extras,
    models: Object.fromEntries(report.models.map((model) => [model.label, { ...model.shape, sizes: [...model.results.keys()] }])),
    pytorch: report.pytorch ?? null,
    date: report.date,
    machine: report.machine,
    notices: report.notices,
  };
}

const fmt = (ms: number | undefined) => (ms === undefined ? '—' : roundMs(ms).toString());
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);

/** Markdown tables (they paste into the README as they are). */
export function toTables(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`npm run bench — ${report.date}, ${m.cpu}, ${m.cores} cores, Node ${m.node} (${m.platform})${report.pytorch ? `, ${report.pytorch}` : ''}`);
  if (report.peak) lines.push(`One-core fp32 matmul peak: ${report.peak.gflops.toFixed(1)} GFLOP/s (${report.peak.method})`);
  for (const model of report.models) {
    lines.push('', `Inference, ${model.label}: ${model.shape.layers} layers × ${model.shape.heads} heads, d_model ${model.shape.dModel}, vocabulary ${model.shape.vocabSize}. Median ms of interleaved runs (± half-range):`, '');
    const keys = (Object.keys(CONTENDER_LABELS) as ContenderKey[]).filter((key) => [...model.results.values()].some((r) => r.ms[key] !== undefined));
    lines.push(`| tokens | ${keys.map((key) => CONTENDER_LABELS[key]).join(' | ')} | WASM vs PyTorch | TS vs PyTorch | child / in-process | WASM % of peak | TS % of peak |`);
    lines.push(`| ---: | ${keys.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: |`);
    for (const [T, r] of model.results) {
      const cells = keys.map((key) => `${fmt(r.ms[key])}${r.ms[key] !== undefined && (r.spread[key] ?? 0) > 0 ? ` ±${Math.round((r.spread[key] ?? 0) * 100)}%` : ''}`);
      const share = (key: ContenderKey) => {
        const ms = r.ms[key];
        if (ms === undefined || !report.peak) return '—';
        const gflops = forwardFlops(model.shape, T) / (ms / 1000) / 1e9;
        return `${gflops.toFixed(1)} GF/s = ${((100 * gflops) / report.peak.gflops).toFixed(1)}%`;
      };
      const torch = r.ms['pytorch-eager'];
      // "vs PyTorch" is a speed ratio: above 1 the built-in block is faster.
      lines.push(`| ${T} | ${cells.join(' | ')} | ${ratio(torch, r.ms['builtin-wasm'])} | ${ratio(torch, r.ms['builtin-typescript'])} | ${ratio(r.ms['onnx-child'], r.ms['onnx-in-process'])} | ${share('builtin-wasm')} | ${share('builtin-typescript')} |`);
    }
    const [firstSize, first] = [...model.results.entries()][0] ?? [];
    if (first) {
      const cold = keys.filter((key) => first.extras[key]?.firstRunMs !== undefined).map((key) => `${CONTENDER_LABELS[key]} ${first.extras[key]!.firstRunMs} ms`);
      if (cold.length > 0) lines.push('', `First run at ${firstSize} tokens, loading included (a cold start; PyTorch loads its model beforehand): ${cold.join(', ')}.`);
    }
    const peaks = [...model.results.entries()].at(-1);
    if (peaks) {
      const [T, r] = peaks;
      const added = keys.filter((key) => r.extras[key]?.addedPeakMB !== undefined).map((key) => `${CONTENDER_LABELS[key]} ${r.extras[key]!.addedPeakMB} MB`);
      if (added.length > 0) lines.push(`Memory a run adds at its peak at ${T} tokens (attention ${r.extras[keys[0]]?.attentionMB ?? '?'} MB; this process and the backend's own): ${added.join(', ')}.`);
    }
  }
  if (report.panel) {
    lines.push('', 'Panel in headless Chromium (median of fresh panels; heap after GC, JS objects + ArrayBuffers):', '');
    lines.push('| tokens | first paint (ms) | head switch (ms) | hover (ms) | webview heap (MB) |', '| ---: | ---: | ---: | ---: | ---: |');
    for (const [T, f] of Object.entries(report.panel)) lines.push(`| ${T} | ${fmt(f.firstPaintMs)} | ${fmt(f.headSwitchMs)} | ${fmt(f.hoverMs)} | ${f.heapMB.toFixed(1)} |`);
    const timelines = Object.entries(report.panel).filter(([, f]) => f.firstPaintTimeline?.length);
    if (timelines.length > 0) lines.push('', 'Host messages reaching the page during first paint (ms after the session):');
    for (const [T, f] of timelines) lines.push(`  ${T}: ${f.firstPaintTimeline!.map((entry) => `${entry.type} ${entry.ms}`).join(', ')}`);
  }
  if (report.notices.length > 0) lines.push('', ...report.notices.map((line) => `notice: ${line}`));
  return lines.join('\n');
}
