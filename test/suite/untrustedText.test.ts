// Untrusted text cannot run commands from a notification: a model folder whose name is a markdown
// command link reaches the error notification inert (src/shared/inertText.ts), in a real extension host.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import { NOTIFICATION_LINK } from '../../src/shared/inertText';

describe('untrusted text in notifications', function () {
  this.timeout(60_000);
  const shown: string[] = [];
  let restore: (() => void) | undefined;
  let scratch: string;
  let modelBefore: unknown;

  before(() => {
    const original = vscode.window.showErrorMessage;
    (vscode.window as { showErrorMessage: unknown }).showErrorMessage = (message: string) => {
      shown.push(message);
      return Promise.resolve(undefined);
    };
    restore = () => ((vscode.window as { showErrorMessage: unknown }).showErrorMessage = original);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-untrusted-'));
    modelBefore = vscode.workspace.getConfiguration('attentionInspector').inspect('model')?.globalValue;
  });

  after(async () => {
    restore?.();
    await vscode.workspace.getConfiguration('attentionInspector').update('model', modelBefore, vscode.ConfigurationTarget.Global);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a model folder named like a command link shows its error without a link', async () => {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>('attention-inspector.attention-inspector');
    assert.ok(extension);
    const api = await extension.activate();
    const evil = path.join(scratch, '[boom](command:workbench.action.closeWindow)');
    fs.mkdirSync(evil);
    fs.writeFileSync(path.join(evil, 'config.json'), '{}');
    await vscode.workspace.getConfiguration('attentionInspector').update('model', evil, vscode.ConfigurationTarget.Global);
    const document = await vscode.workspace.openTextDocument({ content: 'the cat sat on the mat' });
    const editor = await vscode.window.showTextDocument(document, { preview: false });
    editor.selection = new vscode.Selection(0, 0, 0, 10);
    const before = shown.length;
    await vscode.commands.executeCommand('attentionInspector.showAttention');
    await api.whenIdle();
    const messages = shown.slice(before);
    assert.ok(messages.some((message) => message.includes('boom')), `the error names the folder: ${JSON.stringify(messages)}`);
    for (const message of messages) {
      NOTIFICATION_LINK.lastIndex = 0;
      assert.equal(NOTIFICATION_LINK.test(message), false, `no link in ${JSON.stringify(message)}`);
    }
  });
});
