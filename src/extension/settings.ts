// Typed access to the attentionInspector.* settings; out-of-range values fall back to defaults.
import * as vscode from 'vscode';
import type { ColorScale } from '../shared/protocol';
import type { BackendChoice } from '../core/types';

export interface InspectorSettings {
  /** Absolute model folder ('' in the setting resolves to the bundled default, 'bundled:NAME' to media/models/NAME). */
  modelDir: string;
  /** True when the folder is one of the models shipped with the extension. */
  isBundledModel: boolean;
  /** What to call the model in messages: "default model", "dates (bundled)", or the folder's name. */
  modelLabel: string;
  backend: BackendChoice;
  maxTokens: number;
  /** attentionInspector.memoryBudgetMB: the most memory a run's attention may hold. */
  memoryBudgetMB: number;
  colorScale: ColorScale;
}

export { BUNDLED_MODELS, BUNDLED_PREFIX } from '../core/bundledModels';
import { BUNDLED_MODELS, BUNDLED_PREFIX } from '../core/bundledModels';
import { DEFAULT_MEMORY_BUDGET_MB } from '../core/backends/truncation';

const BACKENDS: readonly BackendChoice[] = ['auto', 'builtin', 'onnx'];
const SCALES: readonly ColorScale[] = ['linear', 'sqrt', 'log'];

export function readSettings(extensionUri: vscode.Uri): InspectorSettings {
  const config = vscode.workspace.getConfiguration('attentionInspector');
  const model = (config.get<string>('model') ?? '').trim();
  const backend = config.get<string>('backend') ?? 'auto';
  const maxTokens = config.get<number>('maxTokens') ?? 512;
  const memoryBudgetMB = config.get<number>('memoryBudgetMB') ?? DEFAULT_MEMORY_BUDGET_MB;
  const colorScale = config.get<string>('colorScale') ?? 'sqrt';
  const bundled = model === '' ? 'default' : model.startsWith(BUNDLED_PREFIX) ? model.slice(BUNDLED_PREFIX.length) : undefined;
  const isBundledModel = bundled !== undefined && BUNDLED_MODELS.some((candidate) => candidate.name === bundled);
  const modelDir = isBundledModel ? vscode.Uri.joinPath(extensionUri, 'media', 'models', bundled).fsPath : resolveModelPath(model);
  return {
    modelDir,
    isBundledModel,
    modelLabel: bundled === 'default' ? vscode.l10n.t('default model') : isBundledModel ? vscode.l10n.t('{0} (bundled)', bundled) : modelDir.split(/[\\/]/).filter(Boolean).at(-1) ?? modelDir,
    backend: (BACKENDS as readonly string[]).includes(backend) ? (backend as BackendChoice) : 'auto',
    maxTokens: Number.isInteger(maxTokens) && maxTokens > 0 ? maxTokens : 512,
    memoryBudgetMB: Number.isFinite(memoryBudgetMB) && memoryBudgetMB >= 16 ? memoryBudgetMB : DEFAULT_MEMORY_BUDGET_MB,
    colorScale: (SCALES as readonly string[]).includes(colorScale) ? (colorScale as ColorScale) : 'sqrt',
  };
}

/** Relative model paths are taken from the first workspace folder; ~ is the home folder. */
function resolveModelPath(setting: string): string {
  if (setting.startsWith('~/') || setting === '~') {
    return vscode.Uri.joinPath(vscode.Uri.file(process.env.HOME ?? process.env.USERPROFILE ?? '/'), setting.slice(1)).fsPath;
  }
  const isAbsolute = setting.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(setting) || setting.startsWith('\\\\');
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  return isAbsolute || !root ? vscode.Uri.file(setting).fsPath : vscode.Uri.joinPath(root, setting).fsPath;
}

/**
 * Where a command that changes a setting writes it: where it is already set (the workspace folder,
 * then the workspace) when the workspace is trusted, else the user settings. Writing to the user
 * settings while the workspace overrides them would change nothing the user can see.
 */
export function settingTarget(config: vscode.WorkspaceConfiguration, key: string): vscode.ConfigurationTarget {
  const inspected = config.inspect(key);
  if (vscode.workspace.isTrusted) {
    if (inspected?.workspaceFolderValue !== undefined) return vscode.ConfigurationTarget.WorkspaceFolder;
    if (inspected?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  }
  return vscode.ConfigurationTarget.Global;
}
