// Seeded random attention for tests that need weights shaped like a causal model's.
import { seededRandom } from '../../src/core/random';

/** [L, H, T, T] causal rows summing to 1 (exact zeros after each query), from seeded noise. */
export function randomCausalAttention(dims: readonly [number, number, number, number], seed: number): Float32Array {
  const random = seededRandom(seed);
  const [L, H, T] = dims;
  const attention = new Float32Array(L * H * T * T);
  for (let row = 0; row < L * H * T; row++) {
    const t = row % T;
    let sum = 0;
    for (let s = 0; s <= t; s++) sum += attention[row * T + s] = random() + 1e-3;
    for (let s = 0; s <= t; s++) attention[row * T + s] /= sum;
  }
  return attention;
}
