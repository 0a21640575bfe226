// Attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): treat the
// layers as a graph and ask how much can flow from each input token to each output token.
//   nodes: (layer l, token t) for l = 0..L; node l*T + t. Layer 0 = the input tokens, layer L = the outputs.
//   edges: (l, j) -> (l+1, i) with capacity Â_l[i, j], the residual-augmented layer-mean attention
//          of rollout.ts (rownorm(0.5·I + 0.5·mean_h A_l)); zero weights (the causal mask) give no edge.
//   flow[i, j] = max flow from (0, j) to (L, i), then each row i divided by its sum so rows sum to 1,
//                as in the paper's plots (the raw max flows of a row need not sum to 1).
// Exact: Dinic's algorithm on float64 capacities (a residual capacity below 1e-12 counts as saturated).
// Cost: T² max-flow problems on V = (L+1)·T nodes and E <= L·T² edges; Dinic is O(V²·E) per problem,
// so O(T² · (L·T)² · L·T²) = O(L³·T⁶) in the worst case (in practice a few phases of O(E) each, so
// about T⁴·L·phases). Hence the limit on T: DEFAULT_FLOW_MAX_TOKENS tokens unless the caller allows more.
import { InputError } from '../errors';
import type { AttentionDims } from '../attentionViews';
import { residualLayerAttention } from './rollout';

/** The most tokens attentionFlow accepts by default (about 1 s for 12 layers × 48 tokens on one core). */
export const DEFAULT_FLOW_MAX_TOKENS = 48;

const SATURATED = 1e-12;

/** The layer graph as adjacency lists in flat arrays; edge e's reverse edge is e ^ 1. */
class LayerGraph {
  readonly first: Int32Array; // [V] first edge of each node, -1 = none
  readonly next: number[] = []; // [E2] next edge of the same node
  readonly to: number[] = []; // [E2] head of each edge
  readonly capacity: number[] = []; // [E2] capacity (reverse edges: 0)

  constructor(readonly nodes: number) {
    this.first = new Int32Array(nodes).fill(-1);
  }

  addEdge(from: number, to: number, capacity: number): void {
    for (const [a, b, c] of [[from, to, capacity], [to, from, 0]]) {
      this.to.push(b);
      this.capacity.push(c);
      this.next.push(this.first[a]);
      this.first[a] = this.to.length - 1;
    }
  }

  /** Dinic: max flow from source to sink on a fresh copy of the capacities. */
  maxFlow(source: number, sink: number): number {
    const residual = Float64Array.from(this.capacity);
    const level = new Int32Array(this.nodes);
    const current = new Int32Array(this.nodes);
    const queue = new Int32Array(this.nodes);
    let total = 0;
    for (;;) {
      // BFS: distance of every node from the source in the residual graph.
      level.fill(-1);
      level[source] = 0;
      let head = 0, tail = 0;
      queue[tail++] = source;
      while (head < tail) {
        const node = queue[head++];
        for (let e = this.first[node]; e !== -1; e = this.next[e]) {
          const to = this.to[e];
          if (level[to] < 0 && residual[e] > SATURATED) {
            level[to] = level[node] + 1;
            queue[tail++] = to;
          }
        }
      }
      if (level[sink] < 0) return total;
      current.set(this.first);
      // Blocking flow along level-increasing paths.
      const push = (node: number, limit: number): number => {
        if (node === sink) return limit;
        for (; current[node] !== -1; current[node] = this.next[current[node]]) {
          const e = current[node];
          const to = this.to[e];
          if (level[to] !== level[node] + 1 || residual[e] <= SATURATED) continue;
          const pushed = push(to, Math.min(limit, residual[e]));
          if (pushed > SATURATED) {
            residual[e] -= pushed;
            residual[e ^ 1] += pushed;
            return pushed;
          }
        }
        return 0;
      };
      for (let pushed = push(source, Infinity); pushed > SATURATED; pushed = push(source, Infinity)) total += pushed;
    }
  }
}

/**
 * Attention flow of one self-attention group: [L, H, T, T] -> [T, T], row i = output token i (top
 * layer), column j = input token j; rows normalised to sum to 1 (a row whose flows are all 0 stays 0).
 * Refuses T > maxTokens with an InputError (see the cost above).
 */
export function attentionFlow(attention: Float32Array, dims: AttentionDims, maxTokens = DEFAULT_FLOW_MAX_TOKENS): Float32Array {
  const [L, , T, Tk] = dims;
  if (T !== Tk) throw new InputError(`Attention flow needs self-attention (queries and keys the same tokens), got [${dims.join(', ')}].`);
  if (L < 1 || T < 1) throw new InputError('Attention flow needs at least one layer and one token.');
  if (T > maxTokens) {
    throw new InputError(`Attention flow is limited to ${maxTokens} tokens (its cost grows as T⁴ to T⁶); this input has ${T}. Use rollout, or a shorter text.`);
  }
  const graph = new LayerGraph((L + 1) * T);
  for (let l = 0; l < L; l++) {
    const augmented = residualLayerAttention(attention, dims, l); // [T, T]: row i (layer l+1) reads column j (layer l)
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const capacity = augmented[i * T + j];
        if (capacity > 0) graph.addEdge(l * T + j, (l + 1) * T + i, capacity);
      }
    }
  }
  const flow = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const raw = new Float64Array(T);
    let sum = 0;
    for (let j = 0; j < T; j++) {
      raw[j] = graph.maxFlow(j, L * T + i);
      sum += raw[j];
    }
    if (sum > 0) for (let j = 0; j < T; j++) flow[i * T + j] = raw[j] / sum;
  }
  return flow;
}
