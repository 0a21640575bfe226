// The models shipped in media/models/, shared by the extension's Choose Model… and the CLI's
// `--model bundled:NAME`.
import * as path from 'path';

export interface BundledModel {
  name: string;
  description: string;
}

export const BUNDLED_MODELS: readonly BundledModel[] = [
  { name: 'default', description: 'GPT-2 style decoder trained on code and prose (4 layers × 4 heads)' },
  { name: 'dates', description: 'encoder–decoder demo: "March 5, 2021" → "2021-03-05" (cross-attention)' },
  { name: 'worked-example', description: 'the study notes’ example: 我 爱 你 as [1] [2] [3], one head, weights 0.6 / 0.2 / 0.2' },
];

export const BUNDLED_PREFIX = 'bundled:';

/** 'bundled:NAME' -> NAME when NAME is a bundled model, else undefined. */
export function bundledModelName(setting: string): string | undefined {
  if (!setting.startsWith(BUNDLED_PREFIX)) return undefined;
  const name = setting.slice(BUNDLED_PREFIX.length);
  return BUNDLED_MODELS.some((model) => model.name === name) ? name : undefined;
}

/** The folder of a bundled model, given the folder that holds media/ (the extension's or the package's root). */
export function bundledModelDir(root: string, name: string): string {
  return path.join(root, 'media', 'models', name);
}
