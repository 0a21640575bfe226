// Lookup tables over the top-level graph of a model: who produces and who consumes each tensor,
// which tensors are constants, nodes in a verified topological order, and for every tensor which of
// the graph's runtime inputs its VALUES depend on (the "streams" that feed it).
import { ModelLoadError } from '../errors';
import { type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto, attribute } from './onnxModel';

/** Ops whose output depends on the input's shape only, never its values: they end value ancestry. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

export class GraphIndex {
  readonly graph: GraphProto;
  /** Nodes in topological order (the graph's own order when it already is one, as ONNX requires). */
  readonly nodes: NodeProto[];
  /** Non-initializer graph inputs, the values fed at run time. */
  readonly runtimeInputs: string[];
  private readonly producers = new Map<string, number>();
  private readonly consumerLists = new Map<string, number[]>();
  private readonly constantTensors = new Map<string, TensorProto>();
  private readonly inputBit = new Map<string, number>();
  private readonly streamWords: number;
  private streams: Map<string, Uint32Array> | undefined;
  private readonly triangular = new Map<string, boolean>();
  private readonly valueInfos = new Map<string, ValueInfoProto>();

  constructor(model: ModelProto) {
    const graph = model.graph;
    if (!graph) throw new ModelLoadError('The model has no graph.');
    this.graph = graph;
    for (const tensor of graph.initializer ?? []) if (tensor.name) this.constantTensors.set(tensor.name, tensor);
    this.runtimeInputs = (graph.input ?? []).map((input) => input.name ?? '').filter((name) => name && !this.constantTensors.has(name));
    this.runtimeInputs.forEach((name, bit) => this.inputBit.set(name, bit));
    for (const info of [...(graph.valueInfo ?? []), ...(graph.output ?? []), ...(graph.input ?? [])]) {
      if (info.name && !this.valueInfos.has(info.name)) this.valueInfos.set(info.name, info);
    }
    this.streamWords = Math.max(1, Math.ceil(this.runtimeInputs.length / 32));
    this.nodes = topologicalOrder(graph.node ?? [], new Set([...this.runtimeInputs, ...this.constantTensors.keys()]));
    this.nodes.forEach((node, index) => {
      for (const output of node.output ?? []) if (output) this.producers.set(output, index);
      for (const input of node.input ?? []) {
        if (!input) continue;
        let list = this.consumerLists.get(input);
        if (!list) this.consumerLists.set(input, (list = []));
        list.push(index);
      }
      if (node.opType === 'Constant' && (node.domain ?? '') === '' && node.output?.[0]) {
        const value = attribute(node, 'value')?.t;
        if (value) this.constantTensors.set(node.output[0], value);
      }
    });
  }

  producer(tensor: string): NodeProto | undefined {
    const index = this.producers.get(tensor);
    return index === undefined ? undefined : this.nodes[index];
  }

  /** Position of the node producing the tensor in topological order; -1 for inputs and constants. */
  producerIndex(tensor: string): number {
    return this.producers.get(tensor) ?? -1;
  }

  consumers(tensor: string): NodeProto[] {
    return (this.consumerLists.get(tensor) ?? []).map((index) => this.nodes[index]);
  }

  /** The tensor's value when it is an initializer or a Constant node's output. */
  constant(tensor: string): TensorProto | undefined {
    return this.constantTensors.get(tensor);
  }

  /** Memoised check of a constant (a causal mask constant is shared by every layer). */
  isTriangular(tensor: string, value: TensorProto, check: (value: TensorProto) => boolean): boolean {
    let known = this.triangular.get(tensor);
    if (known === undefined) this.triangular.set(tensor, (known = check(value)));
    return known;
  }

  /** Declared type and shape of a tensor (value_info, graph outputs or inputs), when the graph has it. */
  valueInfo(tensor: string): ValueInfoProto | undefined {
    return this.valueInfos.get(tensor);
  }

  /** Bitset over runtimeInputs: the inputs whose values reach `tensor` (not through Shape/Size). */
  streamsOf(tensor: string): Uint32Array {
    this.streams ??= this.computeStreams();
    return this.streams.get(tensor) ?? new Uint32Array(this.streamWords);
  }

  /** Names of the runtime inputs in a bitset from streamsOf. */
  streamNames(bits: Uint32Array): string[] {
    return this.runtimeInputs.filter((_, bit) => (bits[bit >>> 5] & (1 << (bit & 31))) !== 0);
  }

  private computeStreams(): Map<string, Uint32Array> {
    const streams = new Map<string, Uint32Array>();
    for (const [name, bit] of this.inputBit) {
      const bits = new Uint32Array(this.streamWords);
      bits[bit >>> 5] |= 1 << (bit & 31);
      streams.set(name, bits);
    }
    for (const node of this.nodes) {
      const bits = new Uint32Array(this.streamWords);
      if (!SHAPE_ONLY.has(node.opType ?? '')) {
        for (const input of node.input ?? []) {
          const from = input ? streams.get(input) : undefined;
          if (from) for (let w = 0; w < bits.length; w++) bits[w] |= from[w];
        }
      }
      for (const output of node.output ?? []) if (output) streams.set(output, bits);
    }
    return streams;
  }
}

/** True when every stream in `inner` is also in `outer`. */
export function isSubset(inner: Uint32Array, outer: Uint32Array): boolean {
  for (let w = 0; w < inner.length; w++) if ((inner[w] & ~outer[w]) !== 0) return false;
  return true;
}

/**
 * The nodes in an order where every node follows the producers of its inputs. ONNX requires graphs
 * to be stored sorted; when one is not, this sorts it (Kahn's algorithm, stable on the stored order)
 * instead of trusting it, and a tensor nobody produces is a ModelLoadError.
 */
function topologicalOrder(nodes: NodeProto[], available: Set<string>): NodeProto[] {
  const known = new Set(available);
  let sorted = true;
  for (const node of nodes) {
    if ((node.input ?? []).some((input) => input && !known.has(input))) sorted = false;
    for (const output of node.output ?? []) known.add(output);
  }
  if (sorted) return nodes;

  const producedBy = new Map<string, number>();
  nodes.forEach((node, index) => (node.output ?? []).forEach((output) => producedBy.set(output, index)));
  const waitingOn = new Int32Array(nodes.length);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, index) => {
    for (const input of node.input ?? []) {
      if (!input || available.has(input)) continue;
      const producer = producedBy.get(input);
      if (producer === undefined) {
        throw new ModelLoadError(`The model's graph is invalid: node ${node.name || node.opType} reads ${input}, which no node, input or initializer provides.`);
      }
      waitingOn[index]++;
      dependents[producer].push(index);
    }
  });
  const order: NodeProto[] = [];
  // A min-ordered ready list keeps the stored order wherever the dependencies allow it.
  const ready: number[] = [];
  waitingOn.forEach((count, index) => count === 0 && ready.push(index));
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const index = ready.shift()!;
    order.push(nodes[index]);
    for (const dependent of dependents[index]) if (--waitingOn[dependent] === 0) ready.push(dependent);
  }
  if (order.length !== nodes.length) throw new ModelLoadError("The model's graph is invalid: it has a cycle.");
  return order;
}
