// The panel keeps no page while hidden (retainContextWhenHidden false): shown again, the page says
// ready, gets the last session again and asks for the head it shows — the view comes back without
// a re-run, in a real extension host and webview.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import type { HostToWebview } from '../../src/shared/protocol';
import { waitFor } from './waitFor';

describe('the panel hidden and shown again', function () {
  this.timeout(120_000);
  let modelBefore: unknown;
  before(() => {
    modelBefore = vscode.workspace.getConfiguration('attentionInspector').inspect('model')?.globalValue;
  });
  after(async () => {
    await vscode.workspace.getConfiguration('attentionInspector').update('model', modelBefore, vscode.ConfigurationTarget.Global);
  });

  it('comes back with the same session and asks for its head again, without a new run', async () => {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>('attention-inspector.attention-inspector');
    const api = await extension!.activate();
    await vscode.workspace.getConfiguration('attentionInspector').update('model', 'bundled:worked-example', vscode.ConfigurationTarget.Global);
    const document = await vscode.workspace.openTextDocument({ content: '我爱你' });
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    editor.selection = new vscode.Selection(0, 0, 0, 3);
    await vscode.commands.executeCommand('attentionInspector.showAttention');
    await api.whenIdle();
    const posted = () => api.postedMessages() as HostToWebview[];
    const session = [...posted()].reverse().find((m): m is Extract<HostToWebview, { type: 'session' }> => m.type === 'session')!.session;
    // The page asks for the head it draws once it has the session.
    await waitFor('the first head request', () => posted().some((m) => m.type === 'headAttention' && m.sessionId === session.sessionId));
    assert.equal(api.panelVisible(), true);

    // Cover the panel with an editor in its column, then close that editor.
    const panelColumn = vscode.window.tabGroups.all.find((group) => group.tabs.some((tab) => tab.input instanceof vscode.TabInputWebview))?.viewColumn;
    assert.ok(panelColumn, 'the panel has a column');
    const cover = await vscode.workspace.openTextDocument({ content: 'cover' });
    await vscode.window.showTextDocument(cover, { viewColumn: panelColumn, preview: false });
    await waitFor('the panel to be hidden', () => !api.panelVisible());
    const before = posted().length;
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await waitFor('the panel to be visible again', () => api.panelVisible());

    // The new page got the session again and asks for its head: a reply for the same session follows.
    await waitFor('a head reply for the same session after showing the panel again', () =>
      posted().slice(before).some((m) => m.type === 'headAttention' && m.sessionId === session.sessionId),
    );
    assert.ok(!posted().slice(before).some((m) => m.type === 'session'), 'no new run was made');
  });
});
