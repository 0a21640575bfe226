// The "Learn attention" walkthrough's buttons: each opens a sample shipped in media/samples, selects
// the text the step is about, picks the bundled model that shows it best and runs Show Attention.
// The steps' words live in media/walkthrough/*.md; package.json lists the steps.
import * as vscode from 'vscode';
import { BUNDLED_PREFIX } from '../core/bundledModels';
import { inertText } from '../shared/inertText';
import { settingTarget } from './settings';

export interface WalkthroughExample {
  /** File in media/samples/. */
  sample: string;
  /** The text to select (its first occurrence); undefined selects the whole file. */
  select?: string;
  /** attentionInspector.model for the example: '' = the default model, 'bundled:NAME'. */
  model: string;
}

/** One example per walkthrough step, by the step's id (the argument of attentionInspector.tryExample). */
export const WALKTHROUGH_EXAMPLES: Readonly<Record<string, WalkthroughExample>> = {
  'self-attention': { sample: 'self-attention.txt', select: "The animal didn't cross the street because it was too tired.", model: '' },
  'scale-softmax': { sample: 'seed-sentences.txt', select: '我爱你', model: `${BUNDLED_PREFIX}worked-example` },
  masked: { sample: 'masked.py', model: '' },
  'cross-attention': { sample: 'dates.txt', select: 'the 5th of March, 2021', model: `${BUNDLED_PREFIX}dates` },
  'heads-positions': { sample: 'seed-sentences.txt', select: '我爱你', model: '' },
};

/** attentionInspector.tryExample(step): open, select, switch model (saying so), run. */
export async function tryExample(extensionUri: vscode.Uri, step: unknown): Promise<void> {
  const example = typeof step === 'string' && Object.prototype.hasOwnProperty.call(WALKTHROUGH_EXAMPLES, step) ? WALKTHROUGH_EXAMPLES[step] : undefined;
  if (!example) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Attention Inspector: there is no walkthrough example called {0}.', inertText(JSON.stringify(String(step)).slice(0, 60))));
    return;
  }
  const config = vscode.workspace.getConfiguration('attentionInspector');
  if ((config.get<string>('model') ?? '').trim() !== example.model) {
    await config.update('model', example.model === '' ? undefined : example.model, settingTarget(config, 'model'));
    const name = example.model === '' ? vscode.l10n.t('the default model') : vscode.l10n.t('the bundled {0} model', example.model.slice(BUNDLED_PREFIX.length));
    void vscode.window.showInformationMessage(vscode.l10n.t('Attention Inspector now uses {0} (Choose Model… switches back).', name));
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(extensionUri, 'media', 'samples', example.sample));
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
  const text = document.getText();
  const start = example.select === undefined ? 0 : Math.max(0, text.indexOf(example.select));
  const end = example.select === undefined ? text.length : start + example.select.length;
  editor.selection = new vscode.Selection(document.positionAt(start), document.positionAt(end));
  editor.revealRange(editor.selection);
  await vscode.commands.executeCommand('attentionInspector.showAttention');
}
