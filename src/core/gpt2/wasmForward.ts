// The built-in GPT-2's forward pass on the WebAssembly SIMD kernels (wasm/kernels.ts): the same
// steps, in the same order, as Gpt2Model's TypeScript pass (model.ts), with the tensors of the pass
// inside a kernel arena. What the kernels do not cover runs the TypeScript step on views of the
// arena: non-causal heads and the relative position bias (per head), activations other than GELU
// (tanh), the trace of the step view and the logit lens.
//
// Long inputs split each layer's heads between this thread and a worker (attentionThread.ts),
// which writes its heads' probabilities into the shared [L, H, T, T] output.

import { applyActivation } from '../math/activations';
import { attentionProbabilities, weightedValues } from '../math/attention';
import { embed, norm } from '../math/elementwise';
import { layerNorm } from '../math/layerNorm';
import { blockRowsFor, copyLowerTriangle, scoreStride } from '../math/wasm/attentionJob';
import { AttentionThread } from '../math/wasm/attentionThread';
import { KernelArena, roundUp8, uploadPackedWeight, uploadPaddedBias } from '../math/wasm/kernelArena';
import type { KernelModule } from '../math/wasm/kernelModule';
import type { Gpt2Config } from './config';
import { mergeHead, newTrace, recordHead, recordResidual, recordWrites, relativeBiasFor, splitHead } from './headSteps';
import type { Gpt2Output } from './model';
import type { Gpt2Weights } from './weights';

/** Multiply-adds per slice of a big matrix product between two yields (~10 ms with these kernels). */
const MULTIPLY_ADDS_PER_SLICE = 64_000_000;

/** What a pass needs besides the token ids; model.ts validates it. */
export interface WasmPassRequest {
  ids: ArrayLike<number>;
  usePositionEmbeddings: boolean;
  /** Flat indices l·H + h of heads whose output is zeroed. */
  ablated: ReadonlySet<number>;
  trace?: { layer: number; head: number; query: number };
  /** Yields a macrotask and throws when the run was cancelled. */
  pause: () => Promise<void>;
}

/** The weights of one arena: packed for gemm, or copied as they are (norms). */
interface UploadedLayer {
  ln1Weight: number;
  ln1Bias: number;
  qkvWeight: number;
  qkvBias: number;
  projWeight: number;
  projBias: number;
  ln2Weight: number;
  ln2Bias: number;
  upWeight: number;
  upBias: number;
  downWeight: number;
  downBias: number;
}

/** A kernel arena holding the model's weights; a pass borrows one for its scratch tensors. */
class Replica {
  readonly arena: KernelArena;
  readonly layers: UploadedLayer[];
  readonly finalNormWeight: number;
  readonly finalNormBias: number;
  readonly lmHead: number;

  constructor(module: KernelModule, config: Gpt2Config, w: Gpt2Weights) {
    const arena = (this.arena = new KernelArena(module));
    const { nEmbd: D, nInner: I, vocabSize: V } = config;
    this.layers = w.layers.map((layer) => ({
      ln1Weight: arena.upload(layer.ln1Weight),
      ln1Bias: arena.upload(layer.ln1Bias),
      qkvWeight: uploadPackedWeight(arena, layer.qkvWeightT, 3 * D, D),
      qkvBias: uploadPaddedBias(arena, layer.qkvBias),
      projWeight: uploadPackedWeight(arena, layer.attnProjWeightT, D, D),
      projBias: uploadPaddedBias(arena, layer.attnProjBias),
      ln2Weight: arena.upload(layer.ln2Weight),
      ln2Bias: arena.upload(layer.ln2Bias),
      upWeight: uploadPackedWeight(arena, layer.mlpUpWeightT, I, D),
      upBias: uploadPaddedBias(arena, layer.mlpUpBias),
      downWeight: uploadPackedWeight(arena, layer.mlpDownWeightT, D, I),
      downBias: uploadPaddedBias(arena, layer.mlpDownBias),
    }));
    this.finalNormWeight = arena.upload(w.finalNormWeight);
    this.finalNormBias = arena.upload(w.finalNormBias);
    this.lmHead = uploadPackedWeight(arena, w.lmHead, V, D);
  }
}

let nextPassId = 1;

export class WasmGpt2Pass {
  /** Arenas not in use; concurrent passes (they interleave at the yields) each take their own. */
  private readonly idle: Replica[] = [];
  private thread: AttentionThread | undefined;
  /** Names this model's weights in the worker (which may serve several models). */
  private readonly id = nextPassId++;
  /** Set when dist/kernelWorker.js is missing (an unusual bundle): long inputs then run in one thread. */
  private threadUnavailable = false;

  constructor(
    private readonly config: Gpt2Config,
    private readonly weights: Gpt2Weights,
    private readonly module: KernelModule,
    private readonly threadMinTokens: number,
  ) {}

  async forward(request: WasmPassRequest): Promise<Gpt2Output> {
    const replica = this.idle.pop() ?? new Replica(this.module, this.config, this.weights);
    const mark = replica.arena.mark();
    try {
      return await this.run(replica, request);
    } finally {
      replica.arena.release(mark);
      this.idle.push(replica);
    }
  }

  /** Stops the second thread and frees the arenas. */
  dispose(): void {
    this.thread?.dispose();
    this.thread = undefined;
    this.idle.length = 0;
  }

  private async run(replica: Replica, request: WasmPassRequest): Promise<Gpt2Output> {
    const { ids, usePositionEmbeddings, ablated, pause } = request;
    const config = this.config;
    const { nLayer: L, nHead: H, nEmbd: D, nInner: I, vocabSize: V, nPositions: P, causal, layerNormEpsilon: epsilon } = config;
    const T = ids.length;
    const dHead = D / H;
    const w = this.weights;
    const arena = replica.arena;
    const k = arena.kernels;

    // The pass's tensors in the arena, reserved before any view is taken (growing detaches views).
    const stride = scoreStride(T); // row stride of a block of scores
    const blockRows = blockRowsFor(T);
    const at = {
      x: arena.reserve(T * D), // residual stream [T, D]
      normed: arena.reserve(T * D),
      qkv: arena.reserve(T * 3 * D),
      merged: arena.reserve(T * D),
      projected: arena.reserve(T * D),
      mlpHidden: arena.reserve(T * I),
      kPack: arena.reserve(roundUp8(T) * dHead),
      vPack: arena.reserve(roundUp8(dHead) * T),
      block: arena.reserve(blockRows * stride),
      logits: arena.reserve(roundUp8(V)),
    };
    const x = arena.view(at.x, T * D);
    const normed = arena.view(at.normed, T * D);
    const qkv = arena.view(at.qkv, T * 3 * D);
    const merged = arena.view(at.merged, T * D);
    const projected = arena.view(at.projected, T * D);
    const mlpHidden = arena.view(at.mlpHidden, T * I);
    const block = arena.view(at.block, blockRows * stride);

    const hasBias = usePositionEmbeddings && w.layers.some((layer) => layer.relativePositionBias);
    const thread = causal && !hasBias && T >= this.threadMinTokens && H >= 2 ? this.attentionThread() : undefined;
    const threaded = thread !== undefined;
    const attentionBytes = L * H * T * T * 4;
    const attention = new Float32Array(threaded ? new SharedArrayBuffer(attentionBytes) : new ArrayBuffer(attentionBytes));
    const trace = request.trace && newTrace(request.trace, T, H, D, dHead);

    // What the second thread reads and writes: the fused projection, its heads' outputs, and the
    // input and output rows of its half of each linear layer.
    const sharedFloats = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));
    const shared = threaded
      ? { qkv: sharedFloats(T * 3 * D), merged: sharedFloats(T * D), input: sharedFloats(T * Math.max(D, I)), output: sharedFloats(T * Math.max(3 * D, I)) }
      : undefined;

    const normalize = (from: number, weight: number, bias: number, to: number, rows: number) => {
      if (config.layerNorm) k.layerNorm(from, weight, bias, to, rows, D, epsilon);
      else arena.view(to, rows * D).set(arena.view(from, rows * D));
    };
    /**
     * out = input · Wᵀ + b over row slices, yielding between slices; with a second thread, it takes the
     * second half of the rows. Shapes: [T, inDim] -> [T, outDim]; weightT [outDim, inDim] for the thread.
     */
    const linear = async (input: number, weight: number, bias: number, out: number, inDim: number, outDim: number, key: string, weightT: Float32Array, biasValues: Float32Array) => {
      const ownRows = shared ? Math.min(T, Math.ceil(T / 8) * 4) : T; // a multiple of 4: whole tiles here
      let workerDone: Promise<void> | undefined;
      let workerOutput: Float32Array | undefined;
      if (shared && thread && ownRows < T) {
        workerOutput = shared.output;
        const rows = T - ownRows;
        shared.input.set(arena.view(input + ownRows * inDim * 4, rows * inDim));
        workerDone = thread.linear({ key: `${this.id}:${key}`, weightT, bias: biasValues, input: shared.input, output: shared.output, rows, inDim, outDim });
        workerDone.catch(() => undefined); // awaited below, unless this pass is cancelled first
      }
      const rowsPerSlice = Math.max(4, Math.floor(MULTIPLY_ADDS_PER_SLICE / (inDim * outDim) / 4) * 4);
      for (let start = 0; start < ownRows; start += rowsPerSlice) {
        if (start > 0) await pause();
        const rows = Math.min(rowsPerSlice, ownRows - start);
        k.gemm(input + start * inDim * 4, inDim * 4, weight, inDim, inDim, bias, out + start * outDim * 4, outDim * 4, rows, outDim, 1);
      }
      if (workerDone && workerOutput) {
        await workerDone;
        arena.view(out + ownRows * outDim * 4, (T - ownRows) * outDim).set(workerOutput.subarray(0, (T - ownRows) * outDim));
      }
    };
    /** One causal head in this thread: probabilities into its [T, T] map, output into merged[:, h·dHead ..]. */
    const causalHead = (h: number, scale: number, probs: Float32Array) => {
      k.packHead(at.qkv, T, D, h, dHead, at.kPack, at.vPack);
      for (let r0 = 0; r0 < T; r0 += blockRows) {
        const r1 = Math.min(T, r0 + blockRows);
        k.attentionRows(at.qkv, T, D, h, dHead, scale, at.kPack, at.vPack, r0, r1, at.block, stride * 4, at.merged + h * dHead * 4, D * 4);
        copyLowerTriangle(block, stride, r0, r1, T, probs, 0);
      }
    };
    /** A head the kernels do not cover (non-causal, relative bias): the TypeScript steps on arena views. */
    const referenceHead = (h: number, scale: number, probs: Float32Array, bias: Float32Array | undefined) => {
      const q = new Float32Array(T * dHead);
      const key = new Float32Array(T * dHead);
      const vT = new Float32Array(dHead * T);
      const headOut = new Float32Array(T * dHead);
      splitHead(qkv, T, D, h, dHead, scale, q, key, vT); // [T, 3D] -> q, k [T, dHead], vT [dHead, T]
      attentionProbabilities(q, key, T, dHead, 1, causal, probs, bias); // -> [T, T]
      weightedValues(probs, vT, T, dHead, causal, headOut); // [T, T] x [T, dHead] -> [T, dHead]
      mergeHead(headOut, T, D, h, dHead, merged); // -> merged[:, h·dHead .. (h+1)·dHead]
    };

    embed(ids, w.tokenEmbedding, usePositionEmbeddings ? w.positionEmbedding : undefined, D, x);

    const workerHeads: [number, number] = [Math.ceil(H / 2), H];

    for (let l = 0; l < L; l++) {
      await pause();
      const layer = w.layers[l];
      const up = replica.layers[l];
      const scale = (config.scaleAttnWeights ? 1 / Math.sqrt(dHead) : 1) / (config.scaleAttnByInverseLayerIdx ? l + 1 : 1);
      const residualBefore = trace && norm(x, trace.query * D, D);

      normalize(at.x, up.ln1Weight, up.ln1Bias, at.normed, T); // [T, D] -> [T, D]
      await linear(at.normed, up.qkvWeight, up.qkvBias, at.qkv, D, 3 * D, `${l}.qkv`, layer.qkvWeightT, layer.qkvBias); // [T, D] -> [T, 3D]

      // The worker's heads: it writes only into this pass's shared buffers, so a job left running by
      // a cancelled pass harms no other pass (the worker finishes it, then takes the next job).
      let workerDone: Promise<void> | undefined;
      if (shared && thread) {
        shared.qkv.set(qkv);
        workerDone = thread.attention({ qkv: shared.qkv, attention, merged: shared.merged, layer: l, heads: workerHeads, T, D, H, scale });
        workerDone.catch(() => undefined); // awaited below, unless this pass is cancelled first
      }
      const ownHeads = workerDone ? workerHeads[0] : H;
      for (let h = 0; h < ownHeads; h++) {
        const probs = attention.subarray((l * H + h) * T * T, (l * H + h + 1) * T * T);
        const bias = usePositionEmbeddings && layer.relativePositionBias ? relativeBiasFor(layer.relativePositionBias, h, P, T) : undefined;
        if (causal && !bias) causalHead(h, scale, probs);
        else referenceHead(h, scale, probs, bias);
        if (h + 1 < H) await pause();
      }
      if (shared && workerDone) {
        await workerDone;
        for (let t = 0; t < T; t++) merged.set(shared.merged.subarray(t * D + workerHeads[0] * dHead, (t + 1) * D), t * D + workerHeads[0] * dHead);
      }
      for (let h = 0; h < H; h++) {
        if (ablated.has(l * H + h)) for (let t = 0; t < T; t++) merged.fill(0, t * D + h * dHead, t * D + (h + 1) * dHead); // the head is off: it writes nothing
        if (trace && l === trace.layer && h === trace.head) {
          const probs = attention.subarray((l * H + h) * T * T, (l * H + h + 1) * T * T);
          const bias = usePositionEmbeddings && layer.relativePositionBias ? relativeBiasFor(layer.relativePositionBias, h, P, T) : undefined;
          recordHead(trace, qkv, probs, bias, T, D, h, dHead, scale);
        }
      }

      await linear(at.merged, up.projWeight, up.projBias, at.projected, D, D, `${l}.proj`, layer.attnProjWeightT, layer.attnProjBias); // [T, D] -> [T, D]
      if (trace && l === trace.layer) recordWrites(trace, merged, layer.attnProjWeightT, layer.attnProjBias, projected, D, H, dHead);
      const attentionNorm = trace && norm(projected, trace.query * D, D);
      k.addInPlace(at.x, at.projected, T * D); // x = x + attn(ln_1(x))  [T, D]
      const afterAttention = trace && norm(x, trace.query * D, D);

      await pause();
      normalize(at.x, up.ln2Weight, up.ln2Bias, at.normed, T); // [T, D] -> [T, D]
      await linear(at.normed, up.upWeight, up.upBias, at.mlpHidden, D, I, `${l}.up`, layer.mlpUpWeightT, layer.mlpUpBias); // [T, D] -> [T, I]
      if (isGeluTanh(config.activationFunction)) k.geluTanh(at.mlpHidden, T * I);
      else applyActivation(config.activationFunction, mlpHidden);
      await linear(at.mlpHidden, up.downWeight, up.downBias, at.projected, I, D, `${l}.down`, layer.mlpDownWeightT, layer.mlpDownBias); // [T, I] -> [T, D]
      k.addInPlace(at.x, at.projected, T * D); // x = x + mlp(ln_2(x))  [T, D]

      if (trace) {
        const norms = { before: residualBefore as number, attention: attentionNorm as number, afterAttention: afterAttention as number };
        // Logit lens with the reference kernels: one row, not worth the arena.
        const finalNorm = (row: Float32Array, out: Float32Array) => (config.layerNorm ? layerNorm(row, w.finalNormWeight, w.finalNormBias, out, 1, D, epsilon) : out.set(row));
        recordResidual(trace, l, norms, x, projected, D, finalNorm, w.lmHead, V);
      }
    }

    normalize(at.x, replica.finalNormWeight, replica.finalNormBias, at.normed, T); // [T, D] -> [T, D]
    const hidden = normed.slice();
    k.gemm(at.normed + (T - 1) * D * 4, D * 4, replica.lmHead, D, D, 0, at.logits, V * 4, 1, V, 1); // [1, D] x [V, D]ᵀ -> [1, V]
    const lastLogits = arena.view(at.logits, V).slice();
    return { attention, lastLogits, hidden, trace };
  }

  /** The second thread, or undefined (one thread, then) where its script cannot be found. */
  private attentionThread(): AttentionThread | undefined {
    if (this.threadUnavailable) return undefined;
    try {
      return (this.thread ??= new AttentionThread());
    } catch {
      this.threadUnavailable = true;
      return undefined;
    }
  }
}

function isGeluTanh(name: Gpt2Config['activationFunction']): boolean {
  return name === 'gelu_new' || name === 'gelu_pytorch_tanh' || name === 'gelu_fast';
}

