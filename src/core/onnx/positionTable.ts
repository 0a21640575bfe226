// How many positions an ONNX model's learned position embeddings cover, read from the graph: the
// first dimension of a rank-2 initializer gathered by a node and named like a position table
// (wpe, position_embeddings, embed_positions, ...). Used when config.json is missing, so inputs
// longer than the table are refused with a message instead of failing inside onnxruntime.
import type { ModelProto } from './onnxModel';

const POSITION_NAME = /pos|wpe/i;

/** The largest such table's row count, or undefined when the graph has none (relative or rotary positions). */
export function positionTableSize(model: ModelProto): number | undefined {
  const graph = model.graph;
  if (!graph) return undefined;
  const rows = new Map<string, number>();
  for (const tensor of graph.initializer ?? []) {
    const dims = (tensor.dims ?? []).map(Number);
    if (tensor.name && dims.length === 2 && dims[0] > 0) rows.set(tensor.name, dims[0]);
  }
  let best: number | undefined;
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Gather') continue;
    const table = node.input?.[0];
    if (!table || !rows.has(table) || !(POSITION_NAME.test(table) || POSITION_NAME.test(node.name ?? ''))) continue;
    best = Math.max(best ?? 0, rows.get(table)!);
  }
  return best;
}
