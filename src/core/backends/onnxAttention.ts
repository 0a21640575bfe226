// Which onnxruntime outputs hold which attention group, and copying them into flat [L, H, Tq, Tk]
// tensors. Outputs come either from the model itself (explicit `attentions`, `encoder_attentions.N`...)
// or from graph surgery (the exposed Softmax outputs, classified by src/core/onnx/attentionFinder).
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelLoadError } from '../errors';
import type { AttentionSite } from '../onnx/attentionFinder';
import { siteLayout } from '../onnx/siteTensors';
import type { AttentionGroup } from '../types';

export type GroupName = AttentionGroup['name'];

/** Where one group's attention is in a run's outputs. */
export interface GroupOutputs {
  name: GroupName;
  /** One stacked [L, 1, H, Tq, Tk] output, or one [1, H, Tq, Tk] / [H, Tq, Tk] output per layer in layer order. */
  outputs: string[];
  stacked: boolean;
  /** K/V heads when fewer than query heads (grouped-query attention). */
  kvHeads?: number;
}

const EXPLICIT_PREFIX: Record<string, GroupName> = { encoder_: 'encoder', decoder_: 'decoder', cross_: 'cross' };
const SITE_GROUP: Record<AttentionSite['kind'], GroupName> = { 'encoder-self': 'encoder', 'decoder-self': 'decoder', cross: 'cross' };
const ENCODER_DECODER_ORDER: GroupName[] = ['encoder', 'decoder', 'cross'];

/**
 * Groups attention outputs. `explicit` are the model's own attention outputs in order (see
 * explicitAttentionOutputs); they win over surgery sites. A model whose sites or outputs include
 * cross-attention is an encoder–decoder: its groups are encoder, decoder, cross (all three needed).
 * Otherwise everything is one 'self' group (decoder- or encoder-only; sites of the one stack).
 */
export function planGroups(explicit: readonly string[], sites: readonly AttentionSite[], configKvHeads?: number): GroupOutputs[] {
  if (explicit.length > 0) {
    const byGroup = new Map<GroupName, string[]>();
    for (const name of explicit) {
      const prefix = Object.keys(EXPLICIT_PREFIX).find((candidate) => name.startsWith(candidate));
      const group = prefix ? EXPLICIT_PREFIX[prefix] : 'self';
      byGroup.set(group, [...(byGroup.get(group) ?? []), name]);
    }
    if (byGroup.has('cross')) return encoderDecoderGroups(byGroup, 'outputs', configKvHeads);
    const names = byGroup.get('self') ?? byGroup.get('decoder') ?? byGroup.get('encoder') ?? [];
    return [{ name: 'self', outputs: names, stacked: isStacked(names), ...kv(configKvHeads) }];
  }
  const byGroup = new Map<GroupName, string[]>();
  for (const site of sites) byGroup.set(SITE_GROUP[site.kind], [...(byGroup.get(SITE_GROUP[site.kind]) ?? []), site.output]);
  const siteKvHeads = sites.find((site) => site.kvHeads !== undefined)?.kvHeads;
  if (byGroup.has('cross')) return encoderDecoderGroups(byGroup, 'attention blocks', configKvHeads ?? siteKvHeads);
  return [{ name: 'self', outputs: sites.map((site) => site.output), stacked: false, ...kv(configKvHeads ?? siteKvHeads) }];
}

function encoderDecoderGroups(byGroup: Map<GroupName, string[]>, what: string, kvHeads?: number): GroupOutputs[] {
  const missing = ENCODER_DECODER_ORDER.filter((name) => !byGroup.has(name));
  if (missing.length > 0) {
    throw new ModelLoadError(`The model has cross-attention but no ${missing.join(' or ')} self-attention ${what}; ` +
      'an encoder–decoder model needs all three (encoder self, decoder self, cross) to be shown.');
  }
  return ENCODER_DECODER_ORDER.map((name) => {
    const outputs = byGroup.get(name)!;
    return { name, outputs, stacked: isStacked(outputs), ...kv(kvHeads) };
  });
}

function isStacked(names: readonly string[]): boolean {
  return names.length === 1 && /^(encoder_|decoder_|cross_)?attentions$/.test(names[0]);
}

function kv(kvHeads: number | undefined): { kvHeads?: number } {
  return kvHeads !== undefined ? { kvHeads } : {};
}

/**
 * Copies a group's outputs for batch 0 into one flat tensor.
 * [L, 1, H, Tq, Tk] or L x [1, H, Tq, Tk] -> [L, H, Tq, Tk], checked against the expected Tq, Tk.
 */
export function collectGroup(group: GroupOutputs, results: InferenceSession.ReturnType, Tq: number, Tk: number): { attention: Float32Array; dims: [number, number, number, number] } {
  if (group.stacked) {
    const name = group.outputs[0];
    const tensor = results[name] as Tensor;
    const [L, B, H, T1, T2] = tensor.dims;
    if (tensor.dims.length !== 5 || T1 !== Tq || T2 !== Tk || B !== 1) throw new ModelLoadError(`${name} has shape [${tensor.dims.join(', ')}], expected [L, 1, H, ${Tq}, ${Tk}].`);
    // [L, 1, H, Tq, Tk] has the same memory layout as [L, H, Tq, Tk]: onnxruntime's own output array
    // becomes the run's attention (no second copy of the biggest tensor of the run).
    const data = floatData(tensor, name);
    const attention = data.length === L * H * Tq * Tk && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : Float32Array.from(data);
    return { attention, dims: [L, H, Tq, Tk] };
  }
  const layouts = group.outputs.map((name) => siteLayout((results[name] as Tensor).dims, name));
  const H = layouts[0].heads;
  const L = group.outputs.length;
  const size = H * Tq * Tk;
  const attention = new Float32Array(L * size);
  group.outputs.forEach((name, layer) => {
    const layout = layouts[layer];
    if (layout.heads !== H || layout.queries !== Tq || layout.keys !== Tk) {
      throw new ModelLoadError(`${name} holds [${layout.heads}, ${layout.queries}, ${layout.keys}] attention, expected [${H}, ${Tq}, ${Tk}] like the first layer.`);
    }
    attention.set(floatData(results[name] as Tensor, name).subarray(0, size), layer * size);
  });
  return { attention, dims: [L, H, Tq, Tk] };
}

function floatData(tensor: Tensor, name: string): Float32Array {
  if (!(tensor.data instanceof Float32Array)) throw new ModelLoadError(`${name} is not float32 (${tensor.type}); only float32 attention is supported.`);
  return tensor.data;
}

/**
 * Where the softmax inputs (scores) of each attention group are, for a session whose graph exposes
 * the sites' Softmax inputs (exposeAttention with scores: true). Sites are grouped as planGroups
 * groups them, so the result lines up by name with the attention groups, whether those come from
 * surgery or from explicit outputs. Empty when the graph has no sites, or sites that cannot be
 * grouped (then scores are not shown).
 */
export function planScoreGroups(sites: readonly AttentionSite[]): GroupOutputs[] {
  if (sites.length === 0) return [];
  try {
    return planGroups([], sites.map((site) => ({ ...site, output: site.input })));
  } catch {
    return [];
  }
}

/**
 * A group's softmax inputs as one flat [L, H, Tq, Tk] tensor (reshaped like collectGroup: [1, H, Tq,
 * Tk] or [B*H, Tq, Tk] per layer), or undefined when they cannot be matched to the group's
 * attention (another layer count or shape, not float32, missing).
 */
export function collectScores(scoreGroup: GroupOutputs | undefined, results: InferenceSession.ReturnType, dims: readonly [number, number, number, number]): Float32Array | undefined {
  if (!scoreGroup || scoreGroup.outputs.length !== dims[0] || scoreGroup.outputs.some((name) => !results[name])) return undefined;
  try {
    const collected = collectGroup(scoreGroup, results, dims[2], dims[3]);
    return collected.dims.every((size, axis) => size === dims[axis]) ? collected.attention : undefined;
  } catch {
    return undefined;
  }
}
