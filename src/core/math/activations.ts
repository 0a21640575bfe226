// The MLP non-linearities a GPT-2 config.json can name in activation_function.

/** Names accepted in config.json's activation_function (Hugging Face's ACT2FN spellings). */
export const ACTIVATION_NAMES = ['gelu_new', 'gelu', 'gelu_pytorch_tanh', 'gelu_fast', 'quick_gelu', 'relu'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export function isActivationName(name: string): name is ActivationName {
  return (ACTIVATION_NAMES as readonly string[]).includes(name);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = 1 / Math.SQRT2;

/** GPT-2's "gelu_new" (also gelu_pytorch_tanh, gelu_fast): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** The exact GELU, "gelu": x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT_2));
}

/** "quick_gelu": x·σ(1.702·x). */
export function quickGelu(x: number): number {
  return x / (1 + Math.exp(-1.702 * x));
}

export function relu(x: number): number {
  return x > 0 ? x : 0;
}

/** The scalar function behind an activation name. */
export function activationFunction(name: ActivationName): (x: number) => number {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'gelu':
      return geluErf;
    case 'quick_gelu':
      return quickGelu;
    case 'relu':
      return relu;
  }
}

/**
 * Applies the activation to data[start, end) in place. Shape: [n] -> [n].
 * One loop per function keeps every call site monomorphic, so V8 inlines the scalar function.
 */
export function applyActivation(name: ActivationName, data: Float32Array, start = 0, end = data.length): void {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      for (let i = start; i < end; i++) data[i] = geluTanh(data[i]);
      return;
    case 'gelu':
      for (let i = start; i < end; i++) data[i] = geluErf(data[i]);
      return;
    case 'quick_gelu':
      for (let i = start; i < end; i++) data[i] = quickGelu(data[i]);
      return;
    case 'relu':
      for (let i = start; i < end; i++) data[i] = relu(data[i]);
      return;
  }
}

/**
 * The error function to about 1e-15 (JavaScript has no Math.erf). Below |x| = 2 the Maclaurin
 * series erf(x) = 2/√π Σ (-1)ⁿ x^(2n+1) / (n!(2n+1)) converges with little cancellation; beyond,
 * erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) converges fast.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const magnitude = Math.abs(x);
  const sign = x < 0 ? -1 : 1;
  if (magnitude >= 6) return sign; // 1 - erf(6) < 3e-17: below double resolution.
  if (magnitude < 2) {
    const xx = x * x;
    let power = x; // (-1)ⁿ x^(2n+1) / n!
    let sum = x;
    for (let n = 1; n < 80; n++) {
      power *= -xx / n;
      const term = power / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction evaluated from a fixed depth upwards; 60 levels is past convergence at |x| >= 2.
  let fraction = magnitude;
  for (let k = 60; k >= 1; k--) fraction = magnitude + k / 2 / fraction;
  const erfc = Math.exp(-magnitude * magnitude) / Math.sqrt(Math.PI) / fraction;
  return sign * (1 - erfc);
}
