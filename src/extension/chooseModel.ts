// "Attention Inspector: Choose Model…": pick one of the bundled models or a model folder and write
// attentionInspector.model. A folder is checked first, so a bad pick loses nothing.
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { chooseBackend, inspectModelFolder } from '../core/modelFolder';
import type { BackendChoice } from '../core/types';
import { BUNDLED_MODELS, BUNDLED_PREFIX } from './settings';

const PICK_FOLDER = 'Choose a model folder…';

/** The setting's value for a bundled model: '' for the default, 'bundled:NAME' for the others. */
function bundledSetting(name: string): string {
  return name === 'default' ? '' : `${BUNDLED_PREFIX}${name}`;
}

export async function chooseModel(): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentionInspector');
  const current = (config.get<string>('model') ?? '').trim();
  const items: vscode.QuickPickItem[] = [
    ...BUNDLED_MODELS.map((model) => ({
      label: `Bundled: ${model.name}`,
      description: bundledSetting(model.name) === current ? '(in use)' : undefined,
      detail: model.description,
    })),
    { label: PICK_FOLDER, detail: 'tokenizer.json with model.onnx, or config.json + model.safetensors (see the README)' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Attention Inspector: Choose Model', placeHolder: `Now: ${current === '' ? 'Bundled: default' : current}` });
  if (!choice) return;
  const bundled = BUNDLED_MODELS.find((model) => choice.label === `Bundled: ${model.name}`);
  if (bundled) {
    await config.update('model', bundledSetting(bundled.name) || undefined, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`Attention Inspector will use the bundled ${bundled.name} model.`);
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use This Model',
    title: 'A model folder: tokenizer.json with model.onnx, or config.json + model.safetensors',
  });
  const folderUri = picked?.[0];
  if (!folderUri) return;
  try {
    const folder = inspectModelFolder(folderUri.fsPath);
    const backend = chooseBackend(folder, (config.get<string>('backend') as BackendChoice | undefined) ?? 'auto');
    await config.update('model', folder.dir, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`Attention Inspector will use ${folder.name} (${backend} backend).`);
  } catch (error) {
    void vscode.window.showErrorMessage(`Attention Inspector: ${describeError(error)} The model setting was not changed.`);
  }
}
