// "Attention Inspector: Choose Model…": pick a model folder (or go back to the bundled one) and
// write attentionInspector.model. The folder is checked first, so a bad pick loses nothing.
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { chooseBackend, inspectModelFolder } from '../core/modelFolder';
import type { BackendChoice } from '../core/types';

const PICK_FOLDER = 'Choose a model folder…';
const USE_BUNDLED = 'Use the bundled default model';

export async function chooseModel(): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentionInspector');
  const current = (config.get<string>('model') ?? '').trim();
  if (current !== '') {
    const choice = await vscode.window.showQuickPick([PICK_FOLDER, USE_BUNDLED], { title: 'Attention Inspector: Choose Model', placeHolder: `Now: ${current}` });
    if (!choice) return;
    if (choice === USE_BUNDLED) {
      await config.update('model', '', vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage('Attention Inspector will use the bundled default model.');
      return;
    }
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
