// The built-in block's hot kernels in AssemblyScript, compiled to WebAssembly with 128-bit SIMD
// (f32x4) by `node esbuild.js` (scripts/build-wasm.js). Float32 throughout.
//
// Memory is owned by the caller (src/core/math/wasm/wasmKernels.ts): every argument named like a
// buffer is a byte address in this module's linear memory, and nothing here allocates. That keeps
// the module free of a runtime, so one compiled module serves every thread.
//
// One micro-kernel does all the products: C[4 rows, 8 cols] += A[4 rows, k] · B[k, 8 cols], with B
// "packed" in panels of 8 columns ([panels][inner][8], zero-padded), so each step loads two
// vectors of B and broadcasts four scalars of A. The linear layers pack their weights once at load;
// attention packs each head's keys and values once per head.

const LANES: i32 = 8; // columns per packed panel

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Packs a matrix given as "rows of B" with a row stride into panels of 8 columns.
 * Shapes: src [inner, cols] (element (k, c) at src + k·srcStride + c·4) -> dst [ceil(cols/8)][inner][8].
 */
export function packColumns(src: usize, srcStride: usize, inner: i32, cols: i32, dst: usize): void {
  const panels = (cols + LANES - 1) / LANES;
  for (let p = 0; p < panels; p++) {
    const panel = dst + <usize>(p * inner * LANES) * 4;
    const c0 = p * LANES;
    const width = min(LANES, cols - c0);
    for (let k = 0; k < inner; k++) {
      const from = src + <usize>k * srcStride + <usize>c0 * 4;
      const to = panel + <usize>(k * LANES) * 4;
      if (width == LANES) {
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
      } else {
        for (let c = 0; c < LANES; c++) store<f32>(to + <usize>c * 4, c < width ? load<f32>(from + <usize>c * 4) : 0);
      }
    }
  }
}

/**
 * Packs the transpose of a matrix: B[k, c] = src[c, k], for weights stored [out, in] and for keys.
 * Shapes: src [cols, inner] (element (c, k) at src + c·srcStride + k·4) -> dst [ceil(cols/8)][inner][8].
 */
export function packRows(src: usize, srcStride: usize, inner: i32, cols: i32, dst: usize): void {
  const panels = (cols + LANES - 1) / LANES;
  for (let p = 0; p < panels; p++) {
    const panel = dst + <usize>(p * inner * LANES) * 4;
    const c0 = p * LANES;
    for (let c = 0; c < LANES; c++) {
      const col = c0 + c;
      const from = src + <usize>col * srcStride;
      for (let k = 0; k < inner; k++) {
        store<f32>(panel + <usize>(k * LANES + c) * 4, col < cols ? load<f32>(from + <usize>k * 4) : 0);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Products

/** Lane c (0..7) of the pair (lo, hi); extract_lane needs a constant index. */
function lane8(lo: v128, hi: v128, c: i32): f32 {
  switch (c) {
    case 0: return f32x4.extract_lane(lo, 0);
    case 1: return f32x4.extract_lane(lo, 1);
    case 2: return f32x4.extract_lane(lo, 2);
    case 3: return f32x4.extract_lane(lo, 3);
    case 4: return f32x4.extract_lane(hi, 0);
    case 5: return f32x4.extract_lane(hi, 1);
    case 6: return f32x4.extract_lane(hi, 2);
    default: return f32x4.extract_lane(hi, 3);
  }
}

function storePartial(to: usize, lo: v128, hi: v128, valid: i32): void {
  for (let c = 0; c < valid; c++) store<f32>(to + <usize>c * 4, lane8(lo, hi, c));
}

/**
 * One tile: out[0..4, 0..valid) = scale · Σ_{k<inner} a[0..4, k] · panel[k, 0..8) (+ bias[0..8)).
 * a: 4 rows with stride lda bytes; panel: [inner][8] floats; bias: 0 or 8 floats; out: row stride ldc.
 */
@inline function tile4(a0: usize, lda: usize, bp: usize, inner: i32, bias: usize, o: usize, ldc: usize, valid: i32, vscale: v128): void {
  const a1 = a0 + lda;
  const a2 = a1 + lda;
  const a3 = a2 + lda;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < inner; k++) {
    const off = <usize>k * 4;
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    bp += 32;
    let x = v128.load32_splat(a0 + off);
    c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1 + off);
    c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2 + off);
    c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3 + off);
    c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
  }
  let bias0 = f32x4.splat(0), bias1 = f32x4.splat(0);
  if (bias != 0) {
    bias0 = v128.load(bias);
    bias1 = v128.load(bias, 16);
  }
  storeTile(o, f32x4.add(f32x4.mul(c00, vscale), bias0), f32x4.add(f32x4.mul(c01, vscale), bias1), valid);
  storeTile(o + ldc, f32x4.add(f32x4.mul(c10, vscale), bias0), f32x4.add(f32x4.mul(c11, vscale), bias1), valid);
  storeTile(o + 2 * ldc, f32x4.add(f32x4.mul(c20, vscale), bias0), f32x4.add(f32x4.mul(c21, vscale), bias1), valid);
  storeTile(o + 3 * ldc, f32x4.add(f32x4.mul(c30, vscale), bias0), f32x4.add(f32x4.mul(c31, vscale), bias1), valid);
}

/** tile4 for a single row. */
@inline function tile1(a0: usize, bp: usize, inner: i32, bias: usize, o: usize, valid: i32, vscale: v128): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < inner; k++) {
    const x = v128.load32_splat(a0 + <usize>k * 4);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(bp, 16)));
    bp += 32;
  }
  let bias0 = f32x4.splat(0), bias1 = f32x4.splat(0);
  if (bias != 0) {
    bias0 = v128.load(bias);
    bias1 = v128.load(bias, 16);
  }
  storeTile(o, f32x4.add(f32x4.mul(c0, vscale), bias0), f32x4.add(f32x4.mul(c1, vscale), bias1), valid);
}

/** Bytes of A one row chunk of gemm keeps hot while every panel of B passes over it (about half an L2). */
const CHUNK_BYTES: i32 = 128 * 1024;

/**
 * out[r, c] = scale · Σ_k a[r, k] · B[k, c] (+ bias[c]) for r < rows, c < cols.
 * a: row stride lda bytes; b: packed panels of `panelInner` steps, of which the first `inner` are
 * summed; bias: 0 or packed [ceil(cols/8)·8]; out: row stride ldc bytes.
 * Loop order: chunks of rows (A stays in L2), then panels (a panel stays in L1), then tiles of 4 rows.
 * Shapes: a [rows, inner], B [inner, cols] -> out [rows, cols].
 */
export function gemm(a: usize, lda: usize, b: usize, panelInner: i32, inner: i32, bias: usize, out: usize, ldc: usize, rows: i32, cols: i32, scale: f32): void {
  const panels = (cols + LANES - 1) / LANES;
  const panelBytes = <usize>(panelInner * LANES) * 4;
  const vscale = f32x4.splat(scale);
  const chunk = max(4, (CHUNK_BYTES / max(1, inner * 4)) & ~3);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = min(rows, r0 + chunk);
    for (let p = 0; p < panels; p++) {
      const bp = b + <usize>p * panelBytes;
      const pb: usize = bias == 0 ? 0 : bias + <usize>(p * LANES) * 4;
      const valid = min(LANES, cols - p * LANES);
      const column = <usize>(p * LANES) * 4;
      let r = r0;
      for (; r + 4 <= r1; r += 4) tile4(a + <usize>r * lda, lda, bp, inner, pb, out + <usize>r * ldc + column, ldc, valid, vscale);
      for (; r < r1; r++) tile1(a + <usize>r * lda, bp, inner, pb, out + <usize>r * ldc + column, valid, vscale);
    }
  }
}

@inline function storeTile(to: usize, lo: v128, hi: v128, valid: i32): void {
  if (valid == LANES) {
    v128.store(to, lo);
    v128.store(to, hi, 16);
  } else {
    storePartial(to, lo, hi, valid);
  }
}

// ---------------------------------------------------------------------------------------------
// exp, softmax, attention

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** 1.5·2^23: adding it to a float of magnitude < 2^22 rounds it to an integer held in the low mantissa bits. */
const ROUNDER: f32 = 12582912.0;
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

// The constants of exp4 and geluTanh, read from memory rather than written as v128.const: V8 builds
// each vector constant from general registers on every use (four instructions), which made a
// softmax row cost more than its scores; a broadcast load is one.
const EXP_MIN = 0, EXP_MAX = 1, EXP_LOG2E = 2, EXP_ROUNDER = 3, EXP_LN2_HI = 4, EXP_LN2_LO = 5;
const EXP_P0 = 6, EXP_P1 = 7, EXP_P2 = 8, EXP_P3 = 9, EXP_P4 = 10, EXP_P5 = 11, ONE = 12;
const HALF = 13, TWO = 14, GELU_CUBE = 15, GELU_SCALE = 16;
const CONSTANTS: usize = memory.data<f32>([
  -87.3, 88.7, LOG2E, ROUNDER, LN2_HI, LN2_LO,
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1,
  0.5, 2, 0.044715, SQRT_2_OVER_PI,
]);
/** The float bits of ROUNDER less the exponent bias: rounded's bits minus this are n + 127. */
const EXPONENT_BASE: usize = memory.data<i32>([0x4b400000 - 127]);

@inline function constant(index: i32): v128 {
  return v128.load32_splat(CONSTANTS + <usize>index * 4);
}

/**
 * e^x for four lanes (Cephes expf): x = n·ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial,
 * 2^n by building the exponent bits. Relative error about 2e-7. n is rounded by adding ROUNDER,
 * whose low mantissa bits then hold n as an integer (cheaper than nearest + a saturating convert).
 * x is clamped to [-87.3, 88.7] (e^-87.3 ≈ 1.2e-38: a softmax weight that small is 0 to every float32 consumer).
 */
@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, constant(EXP_MIN)), constant(EXP_MAX));
  const rounded = f32x4.add(f32x4.mul(x, constant(EXP_LOG2E)), constant(EXP_ROUNDER));
  const n = f32x4.sub(rounded, constant(EXP_ROUNDER));
  let r = f32x4.sub(x, f32x4.mul(n, constant(EXP_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, constant(EXP_LN2_LO)));
  let p = constant(EXP_P0);
  p = f32x4.add(f32x4.mul(p, r), constant(EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), constant(EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), constant(EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), constant(EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), constant(EXP_P5));
  const rr = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, rr), r), constant(ONE));
  // 2^n: (n + 127) << 23 as float bits, n + 127 read from the rounder's mantissa; n in [-126, 128]
  // after the clamp, and 2^128 overflows to inf as expf does.
  const bits = i32x4.shl(i32x4.sub(rounded, v128.load32_splat(EXPONENT_BASE)), 23);
  return f32x4.mul(p, bits);
}

/** Exported for the tests: out[i] = e^x[i] for n values (n a multiple of 4). */
export function expValues(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + <usize>i * 4, exp4(v128.load(x + <usize>i * 4)));
}

/**
 * Causal softmax of one row of scores in place: columns [0, visible) become
 * exp(x - max) / Σ exp(x - max); columns [visible, clearTo) become 0.
 */
function softmaxRow(row: usize, visible: i32, clearTo: i32): void {
  // max over the visible columns
  let vmax = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= visible; c += 4) vmax = f32x4.max(vmax, v128.load(row + <usize>c * 4));
  let rowMax = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; c < visible; c++) rowMax = max(rowMax, load<f32>(row + <usize>c * 4));
  // exponentials and their sum; the last partial vector is masked to 0 beyond `visible`
  const vm = f32x4.splat(rowMax);
  let vsum = f32x4.splat(0);
  const lanes = i32x4(0, 1, 2, 3);
  for (c = 0; c < visible; c += 4) {
    const at = row + <usize>c * 4;
    let e = exp4(f32x4.sub(v128.load(at), vm));
    if (c + 4 > visible) e = v128.and(e, i32x4.lt_s(lanes, i32x4.splat(visible - c)));
    v128.store(at, e);
    vsum = f32x4.add(vsum, e);
  }
  const sum = f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) + f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
  const inv = f32x4.splat(1 / sum);
  for (c = 0; c < visible; c += 4) {
    const at = row + <usize>c * 4;
    v128.store(at, f32x4.mul(v128.load(at), inv));
  }
  // the vector loop above may have written up to 3 zeros past `visible`; clear the rest
  for (c = (visible + 3) & ~3; c < clearTo; c++) store<f32>(row + <usize>c * 4, 0);
}

/**
 * Packs head h's keys and values out of the fused projection.
 * Shapes: qkv [T, 3D] (q | k | v) -> kPack [ceil(T/8)][dHead][8] (keys as columns), vPack [ceil(dHead/8)][T][8].
 */
export function packHead(qkv: usize, T: i32, D: i32, h: i32, dHead: i32, kPack: usize, vPack: usize): void {
  const stride = <usize>(3 * D) * 4;
  packRows(qkv + <usize>(D + h * dHead) * 4, stride, dHead, T, kPack);
  packColumns(qkv + <usize>(2 * D + h * dHead) * 4, stride, T, dHead, vPack);
}

/**
 * Fused causal attention of head h for query rows [r0, r1), after packHead:
 *   probs[t - r0, s] = softmax_s≤t(scale · q_t · k_s), and 0 for t < s < (the 4-row tile's end rounded up to 8),
 *   out[t, :] = Σ_s≤t probs[t - r0, s] · v_s.
 * Only the lower triangle is computed: a tile of 4 query rows reads the keys up to its last row.
 * Loops run panel by panel over all tiles of the block, so a panel of keys or values stays in cache.
 * Shapes: qkv [T, 3D], probs [r1 - r0, probsStride/4] (probsStride >= ceil(T/8)·32 bytes) -> out [T, dHead] with row stride outStride bytes.
 */
export function attentionRows(
  qkv: usize, T: i32, D: i32, h: i32, dHead: i32, scale: f32,
  kPack: usize, vPack: usize, r0: i32, r1: i32,
  probs: usize, probsStride: usize, out: usize, outStride: usize,
): void {
  const qStride = <usize>(3 * D) * 4;
  const q = qkv + <usize>(h * dHead) * 4;
  const vscale = f32x4.splat(scale);
  const one = f32x4.splat(1);
  // scores: [rows, dHead] x [dHead, keys] -> [rows, keys], keys < the tile's end
  const keyPanels = (r1 + LANES - 1) / LANES;
  const kPanelBytes = <usize>(dHead * LANES) * 4;
  for (let p = 0; p < keyPanels; p++) {
    const bp = kPack + <usize>p * kPanelBytes;
    const column = <usize>(p * LANES) * 4;
    // the first tile whose last row reaches panel p: rows t0 + 3 >= 8p
    let t0 = r0 + max(0, ((p * LANES - 3 - r0) + 3) & ~3);
    for (; t0 < r1; t0 += 4) {
      const rows = min(4, r1 - t0);
      const valid = min(LANES, t0 + rows - p * LANES);
      const a0 = q + <usize>t0 * qStride;
      const o = probs + <usize>(t0 - r0) * probsStride + column;
      if (rows == 4) tile4(a0, qStride, bp, dHead, 0, o, probsStride, valid, vscale);
      else for (let i = 0; i < rows; i++) tile1(a0 + <usize>i * qStride, bp, dHead, 0, o + <usize>i * probsStride, valid, vscale);
    }
  }
  for (let t = r0; t < r1; t++) {
    const tileEnd = min(r1, r0 + ((t - r0) & ~3) + 4);
    softmaxRow(probs + <usize>(t - r0) * probsStride, t + 1, min(T, (tileEnd + LANES - 1) & ~(LANES - 1)));
  }
  // weights·values: [rows, keys] x [keys, dHead] -> [rows, dHead]
  const valuePanels = (dHead + LANES - 1) / LANES;
  const vPanelBytes = <usize>(T * LANES) * 4;
  for (let p = 0; p < valuePanels; p++) {
    const bp = vPack + <usize>p * vPanelBytes;
    const valid = min(LANES, dHead - p * LANES);
    const column = <usize>(p * LANES) * 4;
    for (let t0 = r0; t0 < r1; t0 += 4) {
      const rows = min(4, r1 - t0);
      const keys = t0 + rows;
      const a0 = probs + <usize>(t0 - r0) * probsStride;
      const o = out + <usize>t0 * outStride + column;
      if (rows == 4) tile4(a0, probsStride, bp, keys, 0, o, outStride, valid, one);
      else for (let i = 0; i < rows; i++) tile1(a0 + <usize>i * probsStride, bp, keys, 0, o + <usize>i * outStride, valid, one);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise

/**
 * LayerNorm per row, as torch.nn.LayerNorm (biased variance, two passes).
 * Shapes: x [rows, dim], weight [dim], bias [dim] -> out [rows, dim] (out may be x).
 */
export function layerNorm(x: usize, weight: usize, bias: usize, out: usize, rows: i32, dim: i32, epsilon: f32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>(r * dim) * 4;
    const to = out + <usize>(r * dim) * 4;
    let vsum = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= dim; c += 4) vsum = f32x4.add(vsum, v128.load(row + <usize>c * 4));
    let sum = f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) + f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
    for (; c < dim; c++) sum += load<f32>(row + <usize>c * 4);
    const mean = sum / <f32>dim;
    const vmean = f32x4.splat(mean);
    let vsq = f32x4.splat(0);
    for (c = 0; c + 4 <= dim; c += 4) {
      const d = f32x4.sub(v128.load(row + <usize>c * 4), vmean);
      vsq = f32x4.add(vsq, f32x4.mul(d, d));
    }
    let squares = f32x4.extract_lane(vsq, 0) + f32x4.extract_lane(vsq, 1) + f32x4.extract_lane(vsq, 2) + f32x4.extract_lane(vsq, 3);
    for (; c < dim; c++) {
      const d = load<f32>(row + <usize>c * 4) - mean;
      squares += d * d;
    }
    const inv = <f32>(1 / Math.sqrt(<f64>squares / <f64>dim + <f64>epsilon));
    const vinv = f32x4.splat(inv);
    for (c = 0; c + 4 <= dim; c += 4) {
      const at = <usize>c * 4;
      const centred = f32x4.mul(f32x4.sub(v128.load(row + at), vmean), vinv);
      v128.store(to + at, f32x4.add(f32x4.mul(centred, v128.load(weight + at)), v128.load(bias + at)));
    }
    for (; c < dim; c++) {
      const at = <usize>c * 4;
      store<f32>(to + at, (load<f32>(row + at) - mean) * inv * load<f32>(weight + at) + load<f32>(bias + at));
    }
  }
}

/** GPT-2's gelu_new in place: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), tanh(u) = 1 - 2/(e^{2u} + 1). Shape: [n] -> [n]. */
export function geluTanh(data: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = data + <usize>i * 4;
    const x = v128.load(at);
    const half = constant(HALF), one = constant(ONE), two = constant(TWO), cube = constant(GELU_CUBE), k = constant(GELU_SCALE);
    const u = f32x4.mul(k, f32x4.add(x, f32x4.mul(cube, f32x4.mul(x, f32x4.mul(x, x)))));
    const tanh = f32x4.sub(one, f32x4.div(two, f32x4.add(exp4(f32x4.add(u, u)), one)));
    v128.store(at, f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanh)));
  }
  for (; i < n; i++) {
    const at = data + <usize>i * 4;
    const x = load<f32>(at);
    const u = <f64>SQRT_2_OVER_PI * (<f64>x + 0.044715 * <f64>x * <f64>x * <f64>x);
    store<f32>(at, <f32>(0.5 * <f64>x * (1 + Math.tanh(u))));
  }
}

/** target[i] += addend[i]. Shapes: [n] + [n] -> [n]. */
export function addInPlace(target: usize, addend: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i * 4;
    v128.store(target + at, f32x4.add(v128.load(target + at), v128.load(addend + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i * 4;
    store<f32>(target + at, load<f32>(target + at) + load<f32>(addend + at));
  }
}

/** The first byte the caller may use: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
