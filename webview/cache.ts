// A least-recently-used cache with a byte budget, for attention received from the host: heads are
// [Tq, Tk] (1 MiB each at 512 × 512), so a count limit alone would let long inputs eat the memory.
// Keys always name the attention group: encoder–decoder runs hold three groups whose (layer, head)
// pairs overlap, and a head of one must never be drawn for another.

import type { CellEncoding, CellWindow } from '../src/shared/protocol';

/** Cache key of one head (head may be MEAN_HEAD) of a layer of a group; also the heatmap's data-painted. */
export function headKey(group: number, layer: number, head: number): string {
  return `${group}:${layer}:${head}`;
}

/**
 * Cache key of a block of one head: the whole map at exact cells is headKey (what a plain
 * requestHead gets); any other window, step or encoding names all three, so switching back to a
 * zoom or an overview finds it again and a reply for another window never stands in for it.
 */
export function blockKey(group: number, layer: number, head: number, block: { window: CellWindow; rowStep: number; colStep: number; encoding: CellEncoding }, Tq: number, Tk: number): string {
  const { window, rowStep, colStep } = block;
  const exact = rowStep === 1 && colStep === 1;
  if (exact && window.row0 === 0 && window.col0 === 0 && window.row1 === Tq && window.col1 === Tk) return headKey(group, layer, head);
  const encoding = exact ? 'float32' : block.encoding;
  return `${headKey(group, layer, head)}:r${window.row0}-${window.row1}:c${window.col0}-${window.col1}:s${rowStep}x${colStep}:${encoding}`;
}

/** Cache key of the [H, Tk] rows of one query token in a layer of a group. */
export function rowsKey(group: number, layer: number, token: number): string {
  return `${group}:${layer}:q${token}`;
}

export class LruCache<V extends { byteLength: number }> {
  private readonly entries = new Map<string, V>();
  private bytes = 0;

  /** Keeps at most maxBytes, but never fewer than minEntries (the ones on screen). */
  constructor(
    private readonly maxBytes: number,
    private readonly minEntries = 2,
  ) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry as most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: V): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.bytes -= previous.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [oldest, evicted] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size <= this.minEntries) break;
      this.entries.delete(oldest);
      this.bytes -= evicted.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
