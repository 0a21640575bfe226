// Finds the attention probabilities inside an unfused ONNX transformer graph.
//
// An attention block computes P = Softmax(Q·Kᵀ·scale + mask) over the key axis and then P·V, so its
// probabilities are the output of a Softmax whose input comes (through scaling and masking ops) from
// a MatMul, and whose output goes (through Cast/Dropout/Where-like ops) into the FIRST input of a
// MatMul. Each such Softmax is a site; sites are classified by where their queries and keys come from
// (see classify below) and numbered per kind in topological order.
import { GraphIndex, isSubset } from './graphIndex';
import { type ModelProto, type NodeProto, intAttribute, opsetVersion, toNumber, valueDims } from './onnxModel';
import { isTriangularMask, readTensorValues } from './tensorData';

export type AttentionKind = 'encoder-self' | 'decoder-self' | 'cross';

export interface AttentionSite {
  /** The Softmax output tensor: [B, H, T, S], or [B*H, T, S] in BART-style graphs (same memory for B = 1). */
  output: string;
  /** The Softmax input tensor: the scaled, biased and masked scores (same shape as `output`). */
  input: string;
  /** 0-based, counted separately for each kind in graph order. */
  layerIndex: number;
  kind: AttentionKind;
  /** Static guess that future keys are masked; confirm with looksCausal on the weights. */
  causal: boolean;
  /** Why `causal` was guessed: what masks the scores, or 'decoder-stream' (queries come from a decoder's input). */
  causalEvidence?: CausalEvidence;
  nodeName: string;
  /** Query heads, when a Reshape in the query path states them. */
  heads?: number;
  /** Key/value heads when fewer than query heads (grouped-query attention): query head h reads KV group floor(h / (heads / kvHeads)). */
  kvHeads?: number;
  /** Graph inputs whose values reach the queries, and the keys/values (for labels such as "Q: decoder_input_ids, K/V: input_ids"). */
  queryInputs: string[];
  keyValueInputs: string[];
}

export type CausalEvidence = 'trilu' | 'triangular-constant' | 'position-comparison' | 'decoder-stream';

export interface AttentionFinding {
  /** Graph outputs that already are attention probabilities, in order (see explicitAttentionOutputs). */
  explicit: string[];
  sites: AttentionSite[];
  /** Softmax nodes inside If/Loop/Scan subgraphs: they cannot become graph outputs (e.g. optimum's merged decoders). */
  softmaxInSubgraphs: number;
}

/** Ops between the probabilities and the MatMul with V that keep them probabilities; value = data input slots. */
const PROBABILITY_PASSTHROUGH: Record<string, number[]> = {
  Cast: [0], Dropout: [0], Identity: [0], Where: [1, 2], Mul: [0, 1], Div: [0], Reshape: [0], Squeeze: [0], Unsqueeze: [0],
};

/** Ops between the scores MatMul and the Softmax (scaling, masking, soft-capping); value = data input slots. */
const SCORE_CHAIN: Record<string, number[]> = {
  Add: [0, 1], Sub: [0, 1], Mul: [0, 1], Div: [0, 1], Where: [1, 2], Cast: [0], Reshape: [0], Identity: [0], Squeeze: [0],
  Unsqueeze: [0], Max: [0, 1], Min: [0, 1], Clip: [0], Tanh: [0],
};

const COMPARISONS = new Set(['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const MATMULS = new Set(['MatMul', 'FusedMatMul']);
const MAX_CHAIN_DEPTH = 8;
const MAX_MASK_NODES = 400;

export function findAttention(model: ModelProto): AttentionFinding {
  const index = new GraphIndex(model);
  const explicit = explicitAttentionOutputs((model.graph?.output ?? []).map((output) => output.name ?? ''));
  const softmaxDefaultAxis = opsetVersion(model) >= 13 ? -1 : 1;
  const candidates: Candidate[] = [];
  for (const node of index.nodes) {
    const standard = (node.domain ?? '') === '' || node.domain === 'ai.onnx';
    if (node.opType !== 'Softmax' || !standard) continue;
    const candidate = examineSoftmax(index, node, softmaxDefaultAxis);
    if (candidate) candidates.push(candidate);
  }
  return { explicit, sites: classify(index, candidates), softmaxInSubgraphs: countNestedSoftmax(index.nodes) };
}

function countNestedSoftmax(nodes: NodeProto[]): number {
  let count = 0;
  for (const node of nodes) {
    for (const attr of node.attribute ?? []) {
      for (const graph of [attr.g, ...(attr.graphs ?? [])]) {
        if (!graph) continue;
        const inner = graph.node ?? [];
        count += inner.filter((child) => child.opType === 'Softmax').length + countNestedSoftmax(inner);
      }
    }
  }
  return count;
}

interface Candidate {
  node: NodeProto;
  output: string;
  input: string;
  query: string;
  key: string;
  value: string;
  causalMask: CausalEvidence | undefined;
  heads?: number;
  keyHeads?: number;
}

function examineSoftmax(index: GraphIndex, node: NodeProto, defaultAxis: number): Candidate | undefined {
  const output = node.output?.[0];
  const input = node.input?.[0];
  if (!output || !input) return undefined;
  const axis = intAttribute(node, 'axis', defaultAxis);
  const rank = valueDims(index.valueInfo(output))?.length;
  // The key axis is the last one: [B, H, T, S] or [B*H, T, S].
  if (rank !== undefined ? !(axis === -1 || axis === rank - 1) || rank < 3 : !(axis === -1 || axis >= 2)) return undefined;
  const value = valueMatMulInput(index, output);
  if (value === undefined) return undefined;
  const scores = scoresChain(index, input);
  if (!scores) return undefined;
  const [query, key] = scores.matmul.input ?? [];
  if (!query || !key) return undefined;
  const heads = headsFromReshape(index, query);
  const keyHeads = headsFromReshape(index, key);
  return {
    node, output, input, query, key, value, heads, keyHeads,
    causalMask: causalMaskEvidence(index, scores.maskOperands),
  };
}

/** The V input of the MatMul the probabilities feed as first operand, within a few passthrough ops. */
function valueMatMulInput(index: GraphIndex, probabilities: string): string | undefined {
  let frontier = [probabilities];
  for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const tensor of frontier) {
      for (const consumer of index.consumers(tensor)) {
        const inputs = consumer.input ?? [];
        if (MATMULS.has(consumer.opType ?? '') && inputs[0] === tensor && inputs[1]) return inputs[1];
        const slots = PROBABILITY_PASSTHROUGH[consumer.opType ?? ''];
        if (slots?.some((slot) => inputs[slot] === tensor) && consumer.output?.[0]) next.push(consumer.output[0]);
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * Walks up from the Softmax input through score-chain ops to the nearest MatMul (Q·Kᵀ). The inputs
 * of the chain ops that are not on the path from that MatMul are the masks and biases.
 */
function scoresChain(index: GraphIndex, softmaxInput: string): { matmul: NodeProto; maskOperands: string[] } | undefined {
  const parent = new Map<string, string | null>([[softmaxInput, null]]);
  let frontier = [softmaxInput];
  for (let depth = 0; depth < MAX_CHAIN_DEPTH && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const tensor of frontier) {
      const producer = index.producer(tensor);
      if (!producer) continue;
      if (MATMULS.has(producer.opType ?? '')) {
        const path = new Set<string>();
        for (let at: string | null = tensor; at !== null; at = parent.get(at) ?? null) path.add(at);
        const maskOperands: string[] = [];
        for (const onPath of path) {
          const chainNode = index.producer(onPath);
          if (!chainNode || chainNode === producer) continue;
          for (const operand of chainNode.input ?? []) if (operand && !path.has(operand)) maskOperands.push(operand);
        }
        return { matmul: producer, maskOperands };
      }
      const slots = SCORE_CHAIN[producer.opType ?? ''];
      if (!slots) continue;
      for (const slot of slots) {
        const operand = producer.input?.[slot];
        if (!operand || parent.has(operand) || index.constant(operand)) continue;
        parent.set(operand, tensor);
        next.push(operand);
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * Static guess whether masks hide future keys: somewhere above them there is a Trilu, a triangular
 * constant (GPT-2's tril buffer), or a comparison of two computed position ranges
 * (transformers' `arange(T) < (arange(T) + 1).view(T, 1)`). Ancestry stops at Shape/Size, whose
 * outputs do not depend on values, so the search never wanders into the residual stream.
 */
function causalMaskEvidence(index: GraphIndex, operands: string[]): CausalEvidence | undefined {
  const seen = new Set<string>();
  const stack = [...operands];
  while (stack.length > 0 && seen.size < MAX_MASK_NODES) {
    const tensor = stack.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const constant = index.constant(tensor);
    if (constant) {
      if (index.isTriangular(tensor, constant, isTriangularMask)) return 'triangular-constant';
      continue;
    }
    const producer = index.producer(tensor);
    if (!producer) continue;
    const op = producer.opType ?? '';
    if (op === 'Trilu') return 'trilu';
    if (op === 'Shape' || op === 'Size' || MATMULS.has(op)) continue;
    const inputs = producer.input ?? [];
    if (COMPARISONS.has(op) && inputs.length === 2 && inputs.every((input) => !isConstantLike(index, input, 0))) return 'position-comparison';
    for (const input of inputs) if (input) stack.push(input);
  }
  return undefined;
}

/** Constants, and tensors made from them alone by shape-only ops (ConstantOfShape, Expand of a constant...). */
function isConstantLike(index: GraphIndex, tensor: string, depth: number): boolean {
  if (index.constant(tensor)) return true;
  const producer = index.producer(tensor);
  if (!producer || depth > 4) return false;
  switch (producer.opType) {
    case 'ConstantOfShape': return true;
    case 'Expand': case 'Cast': case 'Reshape': case 'Unsqueeze': case 'Squeeze': case 'Identity':
      return isConstantLike(index, producer.input?.[0] ?? '', depth + 1);
    default: return false;
  }
}

/** Ops walked when looking for the per-head Reshape above Q or K; value = slots followed. */
const HEAD_PATH: Record<string, number[]> = {
  Reshape: [0], Transpose: [0], Expand: [0], Tile: [0], Unsqueeze: [0], Squeeze: [0], Cast: [0], Identity: [0],
  Slice: [0], Concat: [], Add: [0, 1], Mul: [0, 1], Div: [0, 1], Sub: [0, 1], Neg: [0],
};

/**
 * The head count stated by the nearest Reshape above `tensor` whose target shape ends in known
 * [heads, head_dim] (e.g. view(B, T, H, D)), or in [-1, head_dim] (transformers' view(*shape, -1, D))
 * when the Reshape's data comes from a projection of known width: heads = width / head_dim. That is
 * what tells a grouped-query model's K/V heads from its query heads without config.json (K is
 * projected to kvHeads * D). Stops at the projection MatMul.
 */
function headsFromReshape(index: GraphIndex, tensor: string): number | undefined {
  const seen = new Set<string>([tensor]);
  let frontier = [tensor];
  for (let depth = 0; depth < 16 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const at of frontier) {
      const producer = index.producer(at);
      if (!producer) continue;
      const op = producer.opType ?? '';
      if (op === 'Reshape') {
        const heads = reshapeHeads(index, producer);
        if (heads !== undefined) return heads;
      }
      const slots = HEAD_PATH[op];
      if (!slots) continue;
      const inputs = producer.input ?? [];
      for (const slot of op === 'Concat' ? inputs.map((_, i) => i) : slots) {
        const input = inputs[slot];
        if (input && !seen.has(input)) {
          seen.add(input);
          next.push(input);
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/** Heads stated by a Reshape to [..., heads, head_dim], or to [..., -1, head_dim] of a projection of known width. */
function reshapeHeads(index: GraphIndex, reshape: NodeProto): number | undefined {
  const tail = constantShapeTail(index, reshape.input?.[1] ?? '');
  const [before, headDim] = [tail[tail.length - 2], tail[tail.length - 1]];
  if (before === undefined || !(headDim > 0)) return undefined;
  if (before > 0) return before;
  if (before !== -1) return undefined;
  const width = projectionWidth(index, reshape.input?.[0] ?? '');
  return width !== undefined && width % headDim === 0 && width > headDim ? width / headDim : undefined;
}

/** The trailing entries of a 1-D shape tensor that are constants (a Concat's constant tail, or all of a constant). */
function constantShapeTail(index: GraphIndex, shape: string): number[] {
  const whole = constantVector(index, shape, 0);
  if (whole) return whole;
  const producer = index.producer(shape);
  const parts = producer?.opType === 'Concat' ? producer.input ?? [] : [];
  const tail: number[] = [];
  for (let p = parts.length - 1; p >= 0; p--) {
    const values = constantVector(index, parts[p], 0);
    if (!values) break;
    tail.unshift(...values);
  }
  return tail;
}

/**
 * Output width of the linear projection that produces `tensor`: a MatMul by a constant [in, out]
 * weight, or a Gemm (transB: [out, in]), seen through a bias Add, Cast or Identity.
 */
function projectionWidth(index: GraphIndex, tensor: string): number | undefined {
  let at = tensor;
  for (let depth = 0; depth < 4; depth++) {
    const producer = index.producer(at);
    if (!producer) return undefined;
    const inputs = producer.input ?? [];
    switch (producer.opType) {
      case 'MatMul': {
        const dims = index.constant(inputs[1] ?? '')?.dims;
        return dims && dims.length === 2 ? toNumber(dims[1]) : undefined;
      }
      case 'Gemm': {
        const dims = index.constant(inputs[1] ?? '')?.dims;
        return dims && dims.length === 2 ? toNumber(dims[intAttribute(producer, 'transB', 0) ? 0 : 1]) : undefined;
      }
      case 'Add': {
        const data = inputs.filter((input) => input && !index.constant(input));
        if (data.length !== 1) return undefined;
        at = data[0];
        break;
      }
      case 'Cast': case 'Identity':
        at = inputs[0] ?? '';
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** Values of a small integer constant, seen through Unsqueeze/Cast/Identity. */
function constantVector(index: GraphIndex, tensor: string, depth: number): number[] | undefined {
  const constant = index.constant(tensor);
  if (constant) {
    const values = readTensorValues(constant, 16);
    return values ? Array.from(values) : undefined;
  }
  const producer = index.producer(tensor);
  if (!producer || depth > 3) return undefined;
  if (producer.opType === 'Unsqueeze' || producer.opType === 'Cast' || producer.opType === 'Identity') {
    return constantVector(index, producer.input?.[0] ?? '', depth + 1);
  }
  return undefined;
}

/**
 * Kinds from data flow: a site is cross attention when its queries depend on a graph input its
 * keys/values do not (the decoder's ids reach Q; K/V come from the encoder's output or
 * encoder_hidden_states). Self-attention is decoder self when its mask is causal or its queries come
 * from the stream that queries a cross attention (a decoder's self-attention is masked by
 * construction); encoder self otherwise.
 */
function classify(index: GraphIndex, candidates: Candidate[]): AttentionSite[] {
  const words = index.streamsOf('').length;
  const decoderOnly = new Uint32Array(words);
  const analysed = candidates.map((candidate) => {
    const queryBits = index.streamsOf(candidate.query);
    const keyValueBits = Uint32Array.from(index.streamsOf(candidate.key), (bits, w) => bits | index.streamsOf(candidate.value)[w]);
    const cross = !isSubset(queryBits, keyValueBits);
    if (cross) for (let w = 0; w < words; w++) decoderOnly[w] |= queryBits[w] & ~keyValueBits[w];
    return { candidate, queryBits, keyValueBits, cross };
  });
  const counters: Record<AttentionKind, number> = { 'encoder-self': 0, 'decoder-self': 0, cross: 0 };
  return analysed.map(({ candidate, queryBits, keyValueBits, cross }) => {
    const fromDecoder = queryBits.some((bits, w) => (bits & decoderOnly[w]) !== 0);
    const evidence = cross ? undefined : candidate.causalMask ?? (fromDecoder ? 'decoder-stream' : undefined);
    const kind: AttentionKind = cross ? 'cross' : evidence ? 'decoder-self' : 'encoder-self';
    const { heads, keyHeads } = candidate;
    const site: AttentionSite = {
      output: candidate.output,
      input: candidate.input,
      layerIndex: counters[kind]++,
      kind,
      causal: kind === 'decoder-self',
      nodeName: candidate.node.name || candidate.output,
      queryInputs: index.streamNames(queryBits),
      keyValueInputs: index.streamNames(keyValueBits),
    };
    if (evidence) site.causalEvidence = evidence;
    if (heads !== undefined) site.heads = heads;
    if (heads !== undefined && keyHeads !== undefined && keyHeads < heads && heads % keyHeads === 0) site.kvHeads = keyHeads;
    return site;
  });
}

/** Output names that hold attention probabilities, stacked ones first, then per layer in order. */
const EXPLICIT = /^(encoder_|decoder_|cross_)?(?:attentions?|attn_probs?|attention_probs)(?:[._](\d+))?$/;
const GROUP_ORDER: Record<string, number> = { '': 0, encoder_: 1, decoder_: 2, cross_: 3 };

export function explicitAttentionOutputs(outputNames: readonly string[]): string[] {
  const rank = (name: string): [number, number] => {
    const match = EXPLICIT.exec(name)!;
    return [GROUP_ORDER[match[1] ?? ''], match[2] === undefined ? -1 : Number(match[2])];
  };
  return outputNames.filter((name) => EXPLICIT.test(name)).sort((a, b) => {
    const [groupA, layerA] = rank(a);
    const [groupB, layerB] = rank(b);
    return groupA - groupB || layerA - layerB;
  });
}

/**
 * Empirical causality: true when every weight above the diagonal is at most `tolerance` in every
 * [T, S] map of a probability tensor [..., T, S] (S >= T; with a past of S - T keys, query t may see
 * keys up to S - T + t).
 */
export function looksCausal(probabilities: ArrayLike<number>, dims: readonly number[], tolerance = 1e-6): boolean {
  const T = dims[dims.length - 2];
  const S = dims[dims.length - 1];
  if (dims.length < 2 || S < T) return false;
  const maps = probabilities.length / (T * S);
  const past = S - T;
  for (let m = 0; m < maps; m++) {
    for (let t = 0; t < T; t++) {
      const row = (m * T + t) * S;
      for (let s = past + t + 1; s < S; s++) if (probabilities[row + s] > tolerance) return false;
    }
  }
  return true;
}

export { kvGroupOf } from '../attentionGroups';
