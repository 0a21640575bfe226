// The order [ and ] step through the heads of a layer, and { and } through the layers. The panel
// steps with it, and the host uses it to answer the neighbouring heads' overviews ahead
// (overviewPrefetch.ts), so both must agree.
import { MEAN_HEAD } from './protocol';

/** Steps through the heads of a layer in the order mean, 0, 1, .., H-1, wrapping at both ends. */
export function stepHead(head: number, heads: number, delta: number): number {
  const count = heads + 1;
  const position = head === MEAN_HEAD ? 0 : head + 1;
  const next = (((position + delta) % count) + count) % count;
  return next === 0 ? MEAN_HEAD : next - 1;
}

/** Steps through layers 0..L-1, wrapping at both ends. */
export function stepLayer(layer: number, layers: number, delta: number): number {
  return (((layer + delta) % layers) + layers) % layers;
}
