// Workspace trust and setting scopes: the manifest restricts the settings a cloned repository could
// abuse, and Choose Model… writes the model where it is set (a workspace value is updated, not
// shadowed by a user value that changes nothing).
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'attention-inspector.attention-inspector';

describe('workspace trust and setting scopes', function () {
  this.timeout(60_000);

  it('the manifest declares limited support in untrusted workspaces, restricting model, backend, maxTokens and memoryBudgetMB', () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    const manifest = JSON.parse(fs.readFileSync(path.join(extension.extensionPath, 'package.json'), 'utf8'));
    const trust = manifest.capabilities.untrustedWorkspaces;
    assert.equal(trust.supported, 'limited');
    assert.deepEqual([...trust.restrictedConfigurations].sort(), ['attentionInspector.backend', 'attentionInspector.maxTokens', 'attentionInspector.memoryBudgetMB', 'attentionInspector.model']);
    const properties = manifest.contributes.configuration.properties;
    for (const key of trust.restrictedConfigurations) assert.equal(properties[key].scope, 'machine-overridable', key);
  });

  it('Choose Model… updates a workspace value where one is set, and the user value otherwise', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    await extension!.activate();
    const config = () => vscode.workspace.getConfiguration('attentionInspector');
    const window = vscode.window as unknown as { showQuickPick: unknown; showInformationMessage: unknown };
    const originalPick = window.showQuickPick;
    const originalInfo = window.showInformationMessage;
    const globalBefore = config().inspect('model')?.globalValue;
    const pick = (label: string) => {
      window.showQuickPick = async (items: vscode.QuickPickItem[]) => items.find((item) => item.label.includes(label));
    };
    window.showInformationMessage = async () => undefined;
    try {
      assert.equal(vscode.workspace.isTrusted, true, 'the test workspace is trusted');
      await config().update('model', 'bundled:dates', vscode.ConfigurationTarget.Workspace);
      pick('worked-example');
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.equal(config().inspect('model')?.workspaceValue, 'bundled:worked-example', 'the workspace value was updated');
      assert.equal(config().inspect('model')?.globalValue, globalBefore, 'the user value was left alone');
      assert.equal(config().get('model'), 'bundled:worked-example');

      await config().update('model', undefined, vscode.ConfigurationTarget.Workspace);
      pick('dates');
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.equal(config().inspect('model')?.globalValue, 'bundled:dates', 'without a workspace value the user value is written');
    } finally {
      window.showQuickPick = originalPick;
      window.showInformationMessage = originalInfo;
      await config().update('model', undefined, vscode.ConfigurationTarget.Workspace);
      await config().update('model', globalBefore, vscode.ConfigurationTarget.Global);
    }
  });
});
