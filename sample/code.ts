// Select a function and run "Attention Inspector: Show Attention".
function add(a: number, b: number): number {
  return a + b;
}

export function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((total, e) => total + e, 0);
  return exps.map((e) => e / sum);
}

console.log(add(1, 2), softmax([1, 2, 3]));
