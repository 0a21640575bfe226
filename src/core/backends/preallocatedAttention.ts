// onnxruntime writes a run's attention straight into the run's own flat [L, H, T, T] tensor. Without
// this, each attention output first lives in onnxruntime's memory, then in the copy onnxruntime-node
// hands to JavaScript, then in the flat tensor collectGroup concatenates: three copies of the biggest
// thing a run makes (1 GB each at 4096 tokens for 4 layers × 4 heads). Bound as pre-allocated outputs
// (InferenceSession.run's fetches), each output is a view into the flat tensor, so onnxruntime's
// own copy is the flat tensor (onnxruntime-node still returns a copy of each output, which is
// dropped at once).
//
// An output's shape must be known before the run: the axes before the query and key axes ([1, H],
// [H], or [L, 1, H] for a stacked output) do not depend on the tokens, so they are learned from the
// previous run (the warm-up's one-token run, normally) and only the last two axes change.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { GroupOutputs } from './onnxAttention';

/** Per attention output of a group, in order: its dims before the query and key axes. */
export type OutputPrefixes = readonly (readonly number[])[];

/** The prefixes of a group's outputs as a run returned them; undefined when an output is missing. */
export function learnPrefixes(group: GroupOutputs, results: InferenceSession.ReturnType): OutputPrefixes | undefined {
  const prefixes: number[][] = [];
  for (const name of group.outputs) {
    const tensor = results[name] as Tensor | undefined;
    if (!tensor || tensor.type !== 'float32' || tensor.dims.length < 3) return undefined;
    prefixes.push(tensor.dims.slice(0, -2));
  }
  return prefixes;
}

export interface PreallocatedGroup {
  /** [L, H, Tq, Tk], written by the run. */
  attention: Float32Array;
  dims: [number, number, number, number];
  /** The attention outputs bound to views of `attention`, for InferenceSession.run's fetches. */
  outputs: Record<string, Tensor>;
}

/**
 * The flat tensor and its views for a run with Tq queries and Tk keys, or undefined when the learned
 * prefixes do not describe [L, H, Tq, Tk] in layer order (then the run allocates as usual).
 */
export function preallocate(TensorClass: typeof Tensor, group: GroupOutputs, prefixes: OutputPrefixes, Tq: number, Tk: number): PreallocatedGroup | undefined {
  if (prefixes.length !== group.outputs.length || prefixes.length === 0) return undefined;
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  let L: number;
  let H: number;
  if (group.stacked) {
    // One output [L, 1, H, Tq, Tk]: the same memory layout as [L, H, Tq, Tk].
    const [stack] = prefixes;
    if (stack.length !== 3 || stack[1] !== 1) return undefined;
    [L, , H] = stack;
  } else {
    // One output per layer, [1, H, Tq, Tk] or [H, Tq, Tk] (batch 1).
    L = prefixes.length;
    H = product(prefixes[0]);
    if (prefixes.some((prefix) => product(prefix) !== H || (prefix.length > 1 && prefix[0] !== 1))) return undefined;
  }
  if (!(L > 0 && H > 0)) return undefined;
  const attention = new Float32Array(L * H * Tq * Tk);
  const perOutput = attention.length / prefixes.length;
  const outputs: Record<string, Tensor> = {};
  group.outputs.forEach((name, index) => {
    // [...prefix, Tq, Tk] view of this output's slice of the flat tensor.
    const view = attention.subarray(index * perOutput, (index + 1) * perOutput);
    outputs[name] = new TensorClass('float32', view, [...prefixes[index], Tq, Tk]);
  });
  return { attention, dims: [L, H, Tq, Tk], outputs };
}
