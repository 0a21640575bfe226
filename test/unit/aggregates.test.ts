import * as assert from 'node:assert/strict';
import { attentionRollout, crossAttentionRollout } from '../../src/core/analysis/rollout';
import { attentionFlow, DEFAULT_FLOW_MAX_TOKENS } from '../../src/core/analysis/flow';
import { InputError } from '../../src/core/errors';
import { base64ToFloat32, type JsonReport } from '../../src/cli/format';
import { main } from '../../src/cli/main';

type Matrix = number[][];

/** The independent reference: explicit 0.5·I + 0.5·A, renormalised, multiplied layer by layer. */
function referenceRollout(layers: Matrix[]): Matrix {
  const T = layers[0].length;
  const augment = (A: Matrix) =>
    A.map((row, i) => {
      const mixed = row.map((a, j) => 0.5 * a + (i === j ? 0.5 : 0));
      const sum = mixed.reduce((x, y) => x + y, 0);
      return mixed.map((v) => v / sum);
    });
  const multiply = (A: Matrix, B: Matrix): Matrix => A.map((row) => B[0].map((_, j) => row.reduce((sum, a, k) => sum + a * B[k][j], 0)));
  let product = augment(layers[0]);
  for (let l = 1; l < layers.length; l++) product = multiply(augment(layers[l]), product);
  assert.equal(product.length, T);
  return product;
}

/** [L][H][T][T] nested -> flat [L, H, T, T]. */
function flat(att: Matrix[][]): { attention: Float32Array; dims: [number, number, number, number] } {
  const L = att.length, H = att[0].length, T = att[0][0].length;
  return { attention: Float32Array.from(att.flat(3)), dims: [L, H, T, T] };
}

const headMean = (heads: Matrix[]): Matrix => heads[0].map((row, i) => row.map((_, j) => heads.reduce((sum, h) => sum + h[i][j], 0) / heads.length));

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < tolerance, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

function assertRowsSumToOne(matrix: Float32Array, T: number): void {
  for (let i = 0; i < T; i++) {
    let sum = 0;
    for (let j = 0; j < T; j++) sum += matrix[i * T + j];
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
  }
}

describe('attention rollout', () => {
  // 3 layers, 2 heads, 3 tokens, causal rows that sum to 1.
  const att: Matrix[][] = [
    [[[1, 0, 0], [0.3, 0.7, 0], [0.2, 0.2, 0.6]], [[1, 0, 0], [1, 0, 0], [0, 1, 0]]],
    [[[1, 0, 0], [0.5, 0.5, 0], [0.1, 0.3, 0.6]], [[1, 0, 0], [0, 1, 0], [0.4, 0.4, 0.2]]],
    [[[1, 0, 0], [0.9, 0.1, 0], [1 / 3, 1 / 3, 1 / 3]], [[1, 0, 0], [0.2, 0.8, 0], [0, 0, 1]]],
  ];

  it('equals 0.5·I + 0.5·(head mean), renormalised, multiplied layer by layer, and its rows sum to 1', () => {
    const { attention, dims } = flat(att);
    const rollout = attentionRollout(attention, dims);
    assertClose(rollout, referenceRollout(att.map(headMean)).flat());
    assertRowsSumToOne(rollout, 3);
  });

  it('of one layer of one head is 0.5·I + 0.5·A', () => {
    const A = [[0.25, 0.75], [0.6, 0.4]];
    assertClose(attentionRollout(Float32Array.from(A.flat()), [1, 1, 2, 2]), [0.625, 0.375, 0.3, 0.7]);
  });

  it('composes decoder rollout · mean cross-attention · encoder rollout for an encoder–decoder', () => {
    const encoder = [[[[0.5, 0.5], [0.2, 0.8]]]]; // [1, 1, 2, 2]
    const decoder = [[[[1, 0, 0], [0.4, 0.6, 0], [0.1, 0.2, 0.7]]]]; // [1, 1, 3, 3]
    const cross = [[[[1, 0], [0.5, 0.5], [0, 1]]], [[[0, 1], [0.5, 0.5], [0.5, 0.5]]]]; // [2, 1, 3, 2]
    const R_enc = referenceRollout(encoder.map(headMean));
    const R_dec = referenceRollout(decoder.map(headMean));
    const C = [0, 1, 2].map((i) => [0, 1].map((j) => (cross[0][0][i][j] + cross[1][0][i][j]) / 2));
    const multiply = (A: Matrix, B: Matrix): Matrix => A.map((row) => B[0].map((_, j) => row.reduce((sum, a, k) => sum + a * B[k][j], 0)));
    const expected = multiply(R_dec, multiply(C, R_enc));
    const actual = crossAttentionRollout(flat(encoder), flat(decoder), { attention: Float32Array.from(cross.flat(3)), dims: [2, 1, 3, 2] });
    assertClose(actual, expected.flat());
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(actual[i * 2] + actual[i * 2 + 1] - 1) < 1e-6);
  });
});

describe('attention flow', () => {
  it('solves a 2-layer, 2-token graph worked by hand', () => {
    // Layer 0: A = [[1, 0], [1, 0]]  -> Â0 = 0.5·I + 0.5·A = [[1, 0], [0.5, 0.5]]
    // Layer 1: A = [[0, 1], [0, 1]]  -> Â1 = [[0.5, 0.5], [0, 1]]
    // Edges (capacity): a0→a1 1, a0→b1 0.5, b0→b1 0.5; a1→a2 0.5, b1→a2 0.5, b1→b2 1.
    // a0→a2: a0→a1→a2 carries 0.5 and a0→b1→a2 0.5, cut {a1→a2, b1→a2} = 1, so 1.
    // b0→a2: only b0→b1→a2, min(0.5, 0.5) = 0.5.   a0→b2: only a0→b1→b2 = 0.5.   b0→b2: b0→b1→b2 = 0.5.
    // Rows normalised: a2 [1, 0.5] / 1.5 = [2/3, 1/3]; b2 [0.5, 0.5] / 1 = [0.5, 0.5].
    // (Rollout of the same input is Â1·Â0 = [[0.75, 0.25], [0.5, 0.5]]: flow and rollout differ.)
    const attention = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
    assertClose(attentionFlow(attention, [2, 1, 2, 2]), [2 / 3, 1 / 3, 0.5, 0.5]);
    assertClose(attentionRollout(attention, [2, 1, 2, 2]), [0.75, 0.25, 0.5, 0.5]);
  });

  it('of a single layer is that layer’s residual-augmented attention', () => {
    const A = [[0.25, 0.75], [0.6, 0.4]];
    assertClose(attentionFlow(Float32Array.from(A.flat()), [1, 1, 2, 2]), [0.625, 0.375, 0.3, 0.7]);
  });

  it('gives causal inputs no flow from later tokens and rows that sum to 1', () => {
    const T = 6, L = 3, H = 2;
    const attention = new Float32Array(L * H * T * T);
    for (let m = 0; m < L * H; m++) {
      for (let t = 0; t < T; t++) {
        const weights = Array.from({ length: t + 1 }, (_, s) => 1 + ((m * 7 + t * 3 + s * 5) % 4));
        const sum = weights.reduce((a, b) => a + b, 0);
        weights.forEach((w, s) => (attention[(m * T + t) * T + s] = w / sum));
      }
    }
    const flow = attentionFlow(attention, [L, H, T, T]);
    assertRowsSumToOne(flow, T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) assert.equal(flow[i * T + j], 0);
    assert.equal(flow[0], 1);
  });

  it(`refuses more than ${DEFAULT_FLOW_MAX_TOKENS} tokens, naming the limit`, () => {
    const T = DEFAULT_FLOW_MAX_TOKENS + 1;
    const attention = new Float32Array(T * T).fill(1 / T);
    assert.throws(() => attentionFlow(attention, [1, 1, T, T]), (error: unknown) => error instanceof InputError && error.message.includes(String(DEFAULT_FLOW_MAX_TOKENS)));
    assert.throws(() => attentionFlow(new Float32Array(16).fill(0.25), [1, 1, 4, 4], 3), /limited to 3 tokens/);
  });
});

describe('CLI run --aggregate', () => {
  async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await main(args, (text) => (stdout += text + '\n'), (text) => (stderr += text + '\n'));
    return { code, stdout, stderr };
  }

  it('rollout on the bundled default model: rows sum to 1 and equal the composition of the run’s own attention', async function () {
    this.timeout(60000);
    const { code, stdout, stderr } = await runCli(['run', '--text', 'the cat sat on the mat because the cat was tired', '--aggregate', 'rollout', '--json']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as JsonReport & { aggregates: Record<string, { dims: [number, number]; dtype: string; data: string }> };
    const [L, H, T] = report.attention.dims;
    const att = base64ToFloat32(report.attention.data);
    const layers: Matrix[] = [];
    for (let l = 0; l < L; l++) {
      const heads: Matrix[] = [];
      for (let h = 0; h < H; h++) heads.push(Array.from({ length: T }, (_, t) => Array.from(att.subarray(((l * H + h) * T + t) * T, ((l * H + h) * T + t + 1) * T))));
      layers.push(headMean(heads));
    }
    const rollout = report.aggregates.rollout;
    assert.deepEqual(rollout.dims, [T, T]);
    assert.equal(rollout.dtype, 'float32');
    const data = base64ToFloat32(rollout.data);
    assertRowsSumToOne(data, T);
    assertClose(data, referenceRollout(layers).flat(), 1e-5);
  });

  it('text report names the last token’s top sources for rollout and flow', async function () {
    this.timeout(60000);
    const { code, stdout, stderr } = await runCli(['run', '--text', 'one two three one two', '--aggregate', 'rollout,flow']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Attention rollout .*: last token "[^"]*" draws on \(top 5\): /);
    assert.match(stdout, /Attention flow .*: last token /);
  });

  it('refuses an unknown aggregate and --aggregate with --merge', async () => {
    assert.equal((await runCli(['run', '--text', 'a b', '--aggregate', 'sum'])).code, 2);
    assert.equal((await runCli(['run', '--text', 'a b', '--aggregate', 'rollout', '--merge', 'words'])).code, 2);
  });
});
