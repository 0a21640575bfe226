// A least-recently-used cache with a byte budget, for attention received from the host: heads are
// [Tq, Tk] (1 MiB each at 512 × 512), so a count limit alone would let long inputs eat the memory.
// Keys always name the attention group: encoder–decoder runs hold three groups whose (layer, head)
// pairs overlap, and a head of one must never be drawn for another.

/** Cache key of one head (head may be MEAN_HEAD) of a layer of a group; also the heatmap's data-painted. */
export function headKey(group: number, layer: number, head: number): string {
  return `${group}:${layer}:${head}`;
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
