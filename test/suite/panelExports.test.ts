// The panel's export messages in a real extension host: SVG and CSV content and the PNG bytes are
// written where the save dialog says (stubbed to a temp path), JSON is the run in the CLI's
// `run --json` format, Copy CSV lands on the clipboard; malformed exports are dropped.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import { waitFor } from './waitFor';

describe('panel exports', function () {
  this.timeout(120_000);
  let modelBefore: unknown;
  before(() => {
    modelBefore = vscode.workspace.getConfiguration('attentionInspector').inspect('model')?.globalValue;
  });
  after(async () => {
    await vscode.workspace.getConfiguration('attentionInspector').update('model', modelBefore, vscode.ConfigurationTarget.Global);
  });

  it('writes SVG, CSV, PNG and JSON where the save dialog says, and copies CSV to the clipboard', async () => {
    const api = await vscode.extensions.getExtension<AttentionInspectorApi>('attention-inspector.attention-inspector')!.activate();
    await vscode.workspace.getConfiguration('attentionInspector').update('model', 'bundled:worked-example', vscode.ConfigurationTarget.Global);
    const document = await vscode.workspace.openTextDocument({ content: '我爱你' });
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    editor.selection = new vscode.Selection(0, 0, 0, 3);
    await vscode.commands.executeCommand('attentionInspector.showAttention');
    await api.whenIdle();
    const session = api.lastSession()!;
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-export-'));
    let asked: vscode.SaveDialogOptions | undefined;
    let target = '';
    api.setSaveDialog(async (options) => {
      asked = options;
      return vscode.Uri.file(target);
    });
    const base = { type: 'export' as const, sessionId: session.sessionId, name: 'attention-G0-L0-H0' };
    const cases = [
      { format: 'svg' as const, content: '<svg xmlns="http://www.w3.org/2000/svg"></svg>\n' },
      { format: 'csv' as const, content: 'query \\ key,0: 我\r\n' },
      { format: 'png' as const, base64: 'iVBORw0KGgoAAAANSUhEUg==' },
      { format: 'json' as const },
    ];
    for (const item of cases) {
      target = path.join(folder, `out.${item.format}`);
      await api.receiveFromWebview({ ...base, ...item });
      await waitFor(`${item.format} written`, () => fs.existsSync(target) && fs.statSync(target).size > 0);
      assert.deepEqual(asked?.filters, { [item.format.toUpperCase()]: [item.format] });
      const bytes = fs.readFileSync(target);
      if ('content' in item) assert.equal(bytes.toString('utf8'), item.content);
      if ('base64' in item) assert.deepEqual(bytes, Buffer.from(item.base64 ?? '', 'base64'));
      if (item.format === 'json') {
        const report = JSON.parse(bytes.toString('utf8'));
        assert.deepEqual(report.tokens.map((token: { text: string }) => token.text).join(''), '我爱你');
        assert.deepEqual(report.attention.dims, session.dims);
        assert.equal(report.attention.dtype, 'float32');
      }
    }
    // Malformed: not written (unknown format, a path as the name, SVG content that is not SVG).
    target = path.join(folder, 'bad.txt');
    for (const bad of [{ ...base, format: 'exe', content: 'x' }, { ...base, format: 'csv', name: '../x', content: 'x' }, { ...base, format: 'svg', content: '<script>' }]) {
      await api.receiveFromWebview(bad as never);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(fs.existsSync(target), false);

    await api.receiveFromWebview({ ...base, format: 'copyCsv', content: 'a,b\r\n1,2\r\n' });
    const deadline = Date.now() + 10_000;
    while ((await vscode.env.clipboard.readText()) !== 'a,b\r\n1,2\r\n' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await vscode.env.clipboard.readText(), 'a,b\r\n1,2\r\n');
  });
});
