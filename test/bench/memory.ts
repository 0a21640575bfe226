// Memory accounting for the bench on Linux: how much a run adds to the peak resident memory of this
// process and of the backend's own processes (ONNX child, Python), so the next, larger size is only
// run where it fits. The peak is reset before a run by writing 5 to /proc/<pid>/clear_refs.
import * as fs from 'fs';

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a measurement over `pids`; the returned function gives the bytes the peak rose by (undefined without /proc). */
export function startPeakMeasurement(pids: readonly number[]): () => number | undefined {
  const baselines = pids.map((pid) => {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      return undefined;
    }
    return statusField(pid, 'VmRSS');
  });
  return () => {
    let total = 0;
    for (let i = 0; i < pids.length; i++) {
      const baseline = baselines[i];
      const peak = statusField(pids[i], 'VmHWM');
      if (baseline === undefined || peak === undefined) return undefined;
      total += Math.max(0, peak - baseline);
    }
    return total;
  };
}

/** Bytes the kernel can hand out without swapping (MemAvailable), or undefined off Linux. */
export function availableBytes(): number | undefined {
  try {
    const match = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Should memory run out anyway, the kernel's OOM killer is to pick the bench (and the processes it
 * starts, which inherit this) before anything else on the machine.
 */
export function volunteerForOomKiller(): void {
  try {
    fs.writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {
    // not Linux, or not allowed: nothing to do
  }
}
