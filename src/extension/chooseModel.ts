// "Attention Inspector: Choose Model…": pick one of the bundled models or a model folder and write
// attentionInspector.model. A folder is checked first, so a bad pick loses nothing.
import { inertText } from '../shared/inertText';
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { chooseBackend, inspectModelFolder } from '../core/modelFolder';
import type { BackendChoice } from '../core/types';
import { BUNDLED_MODELS, BUNDLED_PREFIX, settingTarget } from './settings';


/** The setting's value for a bundled model: '' for the default, 'bundled:NAME' for the others. */
function bundledSetting(name: string): string {
  return name === 'default' ? '' : `${BUNDLED_PREFIX}${name}`;
}

/** A bundled model's description in the display language (core describes them in English). */
function bundledModelDescription(name: string, english: string): string {
  switch (name) {
    case 'default':
      return vscode.l10n.t('GPT-2 style decoder trained on code and prose (4 layers × 4 heads)');
    case 'dates':
      return vscode.l10n.t('encoder–decoder demo: "March 5, 2021" → "2021-03-05" (cross-attention)');
    case 'worked-example':
      return vscode.l10n.t('the study notes’ example: 我 爱 你 as [1] [2] [3], one head, weights 0.6 / 0.2 / 0.2');
    default:
      return english;
  }
}

export async function chooseModel(): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentionInspector');
  const current = (config.get<string>('model') ?? '').trim();
  const bundledLabel = (name: string) => vscode.l10n.t('Bundled: {0}', name);
  const items: (vscode.QuickPickItem & { model?: string })[] = [
    ...BUNDLED_MODELS.map((model) => ({
      label: bundledLabel(model.name),
      description: bundledSetting(model.name) === current ? vscode.l10n.t('(in use)') : undefined,
      detail: bundledModelDescription(model.name, model.description),
      model: model.name,
    })),
    { label: vscode.l10n.t('Choose a model folder…'), detail: vscode.l10n.t('tokenizer.json with model.onnx, or config.json + model.safetensors (see the README)') },
  ];
  const choice = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Attention Inspector: Choose Model'),
    placeHolder: vscode.l10n.t('Now: {0}', current === '' ? bundledLabel('default') : inertText(current)),
  });
  if (!choice) return;
  const bundled = BUNDLED_MODELS.find((model) => choice.model === model.name);
  if (bundled) {
    await config.update('model', bundledSetting(bundled.name) || undefined, settingTarget(config, 'model'));
    void vscode.window.showInformationMessage(vscode.l10n.t('Attention Inspector will use the bundled {0} model.', bundled.name));
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: vscode.l10n.t('Use This Model'),
    title: vscode.l10n.t('A model folder: tokenizer.json with model.onnx, or config.json + model.safetensors'),
  });
  const folderUri = picked?.[0];
  if (!folderUri) return;
  try {
    const folder = inspectModelFolder(folderUri.fsPath);
    const backend = chooseBackend(folder, (config.get<string>('backend') as BackendChoice | undefined) ?? 'auto');
    await config.update('model', folder.dir, settingTarget(config, 'model'));
    void vscode.window.showInformationMessage(vscode.l10n.t('Attention Inspector will use {0} ({1} backend).', inertText(folder.name), backend));
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Attention Inspector: {0} The model setting was not changed.', inertText(describeError(error))));
  }
}
