// Every awaited step of the bench has a time limit, so a stuck backend, browser or Python process
// ends the run with a message that says which step it was instead of hanging.

export class BenchTimeoutError extends Error {}

/** Resolves like `promise`, or rejects with BenchTimeoutError naming `what` after `ms` milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchTimeoutError(`${what} took longer than ${Math.round(ms / 1000)} s; stopped`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
