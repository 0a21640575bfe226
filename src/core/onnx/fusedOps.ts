// Fused attention operators compute Softmax(Q·Kᵀ)·V inside one kernel, so their probabilities never
// exist as a tensor and graph surgery cannot expose them. Detecting them lets us say so, by name,
// with the way out (re-export with eager attention).
import { ModelLoadError } from '../errors';
import type { GraphProto, ModelProto, NodeProto } from './onnxModel';

/** onnxruntime contrib ops (com.microsoft) that fuse attention, plus ONNX's own Attention (opset 23). */
const FUSED_ATTENTION_OPS = new Set([
  'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'DecoderAttention', 'LongformerAttention',
  'SparseAttention', 'PagedAttention', 'QAttention', 'QOrderedAttention', 'QOrderedLongformerAttention',
  'RelativePositionBiasAttention', 'MultiHeadAttentionWithBias',
]);

/**
 * The first fused attention operator in the model (its graph, nested subgraphs and local functions),
 * as `domain.OpType` (e.g. 'com.microsoft.MultiHeadAttention', or 'Attention' for ONNX's own), or
 * undefined when there is none.
 */
export function detectFusedAttention(model: ModelProto): string | undefined {
  const fromGraph = model.graph ? findInGraph(model.graph) : undefined;
  if (fromGraph) return fromGraph;
  for (const fn of model.functions ?? []) {
    const found = findInNodes(fn.node ?? []);
    if (found) return found;
  }
  return undefined;
}

function findInGraph(graph: GraphProto): string | undefined {
  return findInNodes(graph.node ?? []);
}

function findInNodes(nodes: NodeProto[]): string | undefined {
  for (const node of nodes) {
    const domain = node.domain ?? '';
    if (FUSED_ATTENTION_OPS.has(node.opType ?? '') && (domain === '' || domain === 'ai.onnx' || domain === 'com.microsoft')) {
      return domain === '' || domain === 'ai.onnx' ? node.opType : `${domain}.${node.opType}`;
    }
    for (const attr of node.attribute ?? []) {
      for (const sub of [attr.g, ...(attr.graphs ?? [])]) {
        const found = sub ? findInGraph(sub) : undefined;
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** What to tell the user about a model whose attention is fused into `operator`. */
export function fusedAttentionMessage(operator: string, source = 'This model'): string {
  return `${source} computes attention with the fused operator ${operator}, which never materialises the attention ` +
    'probabilities, so they cannot be shown. Re-export the model with eager (unfused) attention: load it in ' +
    'transformers with attn_implementation="eager" and export it with torch.onnx.export (or optimum-cli export onnx ' +
    'with --no-post-process), and do not run onnxruntime\'s transformers optimizer (optimum\'s -O2..-O4 levels, ' +
    'onnxruntime.transformers.optimizer), which fuses attention. tools/export/hf_to_model_folder.py in the Attention Inspector repository does this (see tools/export/README.md).';
}

/** Throws a ModelLoadError naming the fused operator when the model has one. */
export function assertNoFusedAttention(model: ModelProto, source?: string): void {
  const operator = detectFusedAttention(model);
  if (operator) throw new ModelLoadError(fusedAttentionMessage(operator, source));
}
