// A deliberately plain GPT-2 forward pass in float64 with nested arrays, written for the tests of
// the step view: it shares no code with src/core (not the kernels, not the loaders) and keeps every
// intermediate, so the built-in block's explanation can be checked against it.
// Tensors use Hugging Face names without prefix, Conv1D weights [in, out].

export interface NaiveOptions {
  layers: number;
  heads: number;
  causal?: boolean;
  layerNorm?: boolean;
  positions?: boolean;
  /** "l:h" keys of heads whose output is zeroed. */
  ablate?: Set<string>;
}

export interface NaiveLayer {
  x: number[][]; // [T][D] entering the block
  q: number[][][]; // [H][T][dK]
  k: number[][][];
  v: number[][][];
  scores: number[][][]; // [H][T][T] raw q·k
  weights: number[][][]; // [H][T][T]
  headOut: number[][][]; // [H][T][dK] (zero when ablated)
  attnOut: number[][]; // [T][D]
  mlpOut: number[][]; // [T][D]
  xAfter: number[][]; // [T][D]
}

export interface NaiveRun {
  layers: NaiveLayer[];
  /** logits[t][v] after ln_f at every position */
  logits: number[][];
  /** lens[l][t][v]: ln_f + unembedding applied after layer l */
  lens: number[][][];
}

type Tensors = ReadonlyMap<string, ArrayLike<number>>;

function get(tensors: Tensors, name: string): ArrayLike<number> {
  const found = tensors.get(name) ?? tensors.get(`transformer.${name}`);
  if (!found) throw new Error(`naive GPT-2: no tensor ${name}`);
  return found;
}

/** y[o] = Σ_i x[i]·W[i, o] + b[o] with W stored [in, out]. */
function linear(x: number[], weight: ArrayLike<number>, bias: ArrayLike<number>, outDim: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outDim; o++) {
    let sum = bias[o];
    for (let i = 0; i < x.length; i++) sum += x[i] * weight[i * outDim + o];
    out.push(sum);
  }
  return out;
}

function norm(x: number[], weight: ArrayLike<number>, bias: ArrayLike<number>, enabled: boolean): number[] {
  if (!enabled) return [...x];
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((value, i) => ((value - mean) / Math.sqrt(variance + 1e-5)) * weight[i] + bias[i]);
}

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

export function naiveGpt2(tensors: Tensors, ids: number[], options: NaiveOptions): NaiveRun {
  const { layers: L, heads: H, causal = true, layerNorm = true, positions = true } = options;
  const wte = get(tensors, 'wte.weight');
  const wpe = get(tensors, 'wpe.weight');
  const D = get(tensors, 'h.0.attn.c_proj.bias').length;
  const vocab = wte.length / D;
  const dK = D / H;
  const T = ids.length;
  let x = ids.map((id, t) => Array.from({ length: D }, (_, c) => wte[id * D + c] + (positions ? wpe[t * D + c] : 0)));
  const layers: NaiveLayer[] = [];
  const lens: number[][][] = [];
  const lnF = (row: number[]) => norm(row, layerNorm ? get(tensors, 'ln_f.weight') : [], layerNorm ? get(tensors, 'ln_f.bias') : [], layerNorm);
  const unembed = (row: number[]) => Array.from({ length: vocab }, (_, v) => row.reduce((sum, value, c) => sum + value * wte[v * D + c], 0));
  for (let l = 0; l < L; l++) {
    const p = `h.${l}.`;
    const ln1 = x.map((row) => norm(row, layerNorm ? get(tensors, `${p}ln_1.weight`) : [], layerNorm ? get(tensors, `${p}ln_1.bias`) : [], layerNorm));
    const qkv = ln1.map((row) => linear(row, get(tensors, `${p}attn.c_attn.weight`), get(tensors, `${p}attn.c_attn.bias`), 3 * D));
    const relative = tensors.get(`${p}attn.relative_position_bias`);
    const P = relative ? (relative.length / H + 1) / 2 : 0;
    const layer: NaiveLayer = { x, q: [], k: [], v: [], scores: [], weights: [], headOut: [], attnOut: [], mlpOut: [], xAfter: [] };
    const concat = Array.from({ length: T }, () => new Array<number>(D).fill(0));
    for (let h = 0; h < H; h++) {
      const q = qkv.map((row) => row.slice(h * dK, (h + 1) * dK));
      const k = qkv.map((row) => row.slice(D + h * dK, D + (h + 1) * dK));
      const v = qkv.map((row) => row.slice(2 * D + h * dK, 2 * D + (h + 1) * dK));
      const scores = q.map((qi) => k.map((kj) => qi.reduce((sum, value, c) => sum + value * kj[c], 0)));
      const weights = scores.map((row, t) => {
        const logits = row.map((score, s) => score / Math.sqrt(dK) + (relative && positions ? relative[h * (2 * P - 1) + (s - t) + P - 1] : 0));
        const visible = logits.map((_, s) => !causal || s <= t);
        const max = Math.max(...logits.filter((_, s) => visible[s]));
        const e = logits.map((value, s) => (visible[s] ? Math.exp(value - max) : 0));
        const total = e.reduce((a, b) => a + b, 0);
        return e.map((value) => value / total);
      });
      const off = options.ablate?.has(`${l}:${h}`) ?? false;
      const headOut = weights.map((row) => Array.from({ length: dK }, (_, c) => (off ? 0 : row.reduce((sum, w, s) => sum + w * v[s][c], 0))));
      headOut.forEach((row, t) => row.forEach((value, c) => (concat[t][h * dK + c] = value)));
      layer.q.push(q);
      layer.k.push(k);
      layer.v.push(v);
      layer.scores.push(scores);
      layer.weights.push(weights);
      layer.headOut.push(headOut);
    }
    layer.attnOut = concat.map((row) => linear(row, get(tensors, `${p}attn.c_proj.weight`), get(tensors, `${p}attn.c_proj.bias`), D));
    const mid = x.map((row, t) => row.map((value, c) => value + layer.attnOut[t][c]));
    const inner = get(tensors, `${p}mlp.c_fc.bias`).length;
    layer.mlpOut = mid.map((row) => {
      const ln2 = norm(row, layerNorm ? get(tensors, `${p}ln_2.weight`) : [], layerNorm ? get(tensors, `${p}ln_2.bias`) : [], layerNorm);
      const hidden = linear(ln2, get(tensors, `${p}mlp.c_fc.weight`), get(tensors, `${p}mlp.c_fc.bias`), inner).map(gelu);
      return linear(hidden, get(tensors, `${p}mlp.c_proj.weight`), get(tensors, `${p}mlp.c_proj.bias`), D);
    });
    x = mid.map((row, t) => row.map((value, c) => value + layer.mlpOut[t][c]));
    layer.xAfter = x;
    layers.push(layer);
    lens.push(x.map((row) => unembed(lnF(row))));
  }
  return { layers, logits: lens[lens.length - 1], lens };
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((value) => Math.exp(value - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((value) => value / total);
}

export function vectorNorm(values: readonly number[]): number {
  return Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
}
