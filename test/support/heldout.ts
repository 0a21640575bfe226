// Held-out text (validation-split files the default model never trained on), for parity and benchmarks.
import * as fs from 'fs';
import * as path from 'path';

export interface HeldOutSample {
  kind: 'code' | 'prose';
  source: string;
  path: string;
  text: string;
}

/** The repository root: the nearest folder above this bundle with our package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'media'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export function heldOutSamples(): HeldOutSample[] {
  const file = path.join(repoRoot(), 'test', 'fixtures', 'heldout.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { samples: HeldOutSample[] }).samples;
}

export const bundledModelDir = (): string => path.join(repoRoot(), 'media', 'models', 'default');
