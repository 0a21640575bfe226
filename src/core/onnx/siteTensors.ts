// The shape of an exposed attention tensor, whichever way the graph laid it out.
import { ModelLoadError } from '../errors';

export interface SiteLayout {
  heads: number;
  /** Query positions T. */
  queries: number;
  /** Key positions S (T plus any past). */
  keys: number;
}

/**
 * Reads a site's output dims for batch 1: [1, H, T, S] (most exports) or [H, T, S] (BART/Marian
 * fold heads into the batch: [B*H, T, S]). Both have the memory layout of [H, T, S], so the data
 * can be copied as it is: data[(h * T + t) * S + s].
 */
export function siteLayout(dims: readonly number[], name = 'an attention output'): SiteLayout {
  if (dims.length === 4 && dims[0] === 1) return { heads: dims[1], queries: dims[2], keys: dims[3] };
  if (dims.length === 3) return { heads: dims[0], queries: dims[1], keys: dims[2] };
  throw new ModelLoadError(`${name} has shape [${dims.join(', ')}]; attention probabilities should be [1, H, T, S] or [H, T, S] for one input.`);
}
