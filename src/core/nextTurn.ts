// Long scans over a held run's weights (head roles, thumbnails: seconds at 4096 tokens) yield to
// the event loop between pieces, so the process holding the run answers other requests meanwhile.

/** The next turn of the event loop: setImmediate where there is one (Node; a zero timer waits at least 1 ms), else a zero timer. */
export function nextTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** Maps above this many cells are scanned in pieces with a yield between them (1024 × 1024). */
export const YIELD_ABOVE_CELLS = 1 << 20;
