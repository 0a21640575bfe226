// The panel after a window reload, in a real extension host: VS Code hands the serializer a fresh
// WebviewPanel and the state the webview saved (its view and the session's RerunInfo). Simulated
// here by creating a panel of the same viewType and calling the extension's serializer with a saved
// state: the same text is run again (same tokens), the view (layer, head, pinned token) is sent
// with the new session, and the real webview applies it (asks for that head, paints the pin).
// Uses the bundled default model.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import type { HostToWebview, SessionInfo } from '../../src/shared/protocol';

const EXTENSION_ID = 'attention-inspector.attention-inspector';
const VIEW_TYPE = 'attentionInspector.panel';
const TEXT = 'Each token is';

describe('panel restored after a window reload', function () {
  this.timeout(120_000);
  let api: AttentionInspectorApi;
  let modelBefore: unknown;
  const config = () => vscode.workspace.getConfiguration('attentionInspector');
  const posted = () => api.postedMessages() as HostToWebview[];

  async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function inspect(): Promise<{ session: SessionInfo; document: vscode.TextDocument; base: number }> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder (a copy of sample/)');
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'prose.md'));
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    const base = document.getText().indexOf(TEXT);
    assert.ok(base >= 0);
    editor.selection = new vscode.Selection(document.positionAt(base), document.positionAt(base + TEXT.length));
    await api.whenIdle();
    await vscode.commands.executeCommand('attentionInspector.showAttention');
    await api.whenIdle();
    const session = api.lastSession();
    assert.ok(session && session.text === TEXT, 'a session for the selection');
    return { session, document, base };
  }

  /** What the webview would have saved with setState, showing (layer, head) with `pinned` pinned. */
  function savedState(session: SessionInfo, view: { layer: number; head: number; pinnedToken: number | null }): unknown {
    return { sessionId: session.sessionId, group: 0, ...view, rerun: session.rerun };
  }

  async function restore(state: unknown): Promise<vscode.WebviewPanel> {
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Attention', { viewColumn: vscode.ViewColumn.Two, preserveFocus: true }, { enableScripts: true });
    await api.serializer.deserializeWebviewPanel(panel, state);
    await api.whenIdle();
    return panel;
  }

  before(async () => {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
    modelBefore = config().inspect('model')?.globalValue;
    await config().update('model', '', vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update('model', modelBefore, vscode.ConfigurationTarget.Global);
  });

  it('runs the same text again and re-applies layer, head and pinned token; the real webview shows them', async () => {
    const { session, document, base } = await inspect();
    assert.deepEqual(session.rerun, {
      uri: document.uri.toString(),
      range: [document.positionAt(base).line, document.positionAt(base).character, document.positionAt(base + TEXT.length).line, document.positionAt(base + TEXT.length).character],
      text: TEXT,
      units: 'tokens',
    });
    const [L, H, T] = session.dims;
    const view = { layer: L - 1, head: Math.min(1, H - 1), pinnedToken: Math.min(2, T - 1) };

    const panel = await restore(savedState(session, view));
    const restored = api.lastSession();
    assert.ok(restored && restored.sessionId > session.sessionId, 'a new session is published for the restored panel');
    assert.deepEqual(restored.tokens, session.tokens, 'the same tokens');
    assert.equal(restored.text, TEXT);
    assert.deepEqual(restored.restoredView, { group: 0, ...view }, 'the view is sent with the session');
    assert.deepEqual(restored.rerun, session.rerun, 'and can be restored again');
    assert.ok(api.panelVisible(), 'the restored panel is the panel');

    // Only the real webview asks for a head: it asks for the restored one, and reports the pin (painted in the editor).
    await waitFor('the headAttention of the restored layer and head', () =>
      posted().find((message) => message.type === 'headAttention' && message.sessionId === restored.sessionId && message.layer === view.layer && message.head === view.head),
    );
    const pinned = session.tokens[view.pinnedToken];
    const from = document.positionAt(base + pinned.start);
    const to = document.positionAt(base + pinned.end);
    const focus = await waitFor('the pinned token painted in the editor', () => api.decorations().find((item) => item.role === 'focus'));
    assert.deepEqual([focus.start, focus.end], [[from.line, from.character], [to.line, to.character]], 'the pinned token is outlined where it is in the document');
    panel.dispose();
  });

  it('runs the kept text, not marked in the editor, when the document no longer holds it; with nothing to run the panel says so', async () => {
    const { session } = await inspect();
    const gone = { ...session.rerun!, uri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'no-such-file.md').toString() };
    let panel = await restore({ sessionId: session.sessionId, group: 0, layer: 0, head: -1, pinnedToken: 1, rerun: gone });
    const restored = api.lastSession();
    assert.ok(restored && restored.sessionId > session.sessionId);
    assert.deepEqual(restored.tokens, session.tokens, 'the kept text gives the same tokens');
    assert.ok(restored.notes.some((note) => /reload/.test(note)), 'a note says the text ran again without its document');
    assert.equal(restored.restoredView?.pinnedToken, 1);
    await waitFor('the webview asking for the restored head', () => posted().find((message) => message.type === 'headAttention' && message.sessionId === restored.sessionId));
    assert.deepEqual(api.decorations(), [], 'nothing is painted: the text has no place in an editor');
    panel.dispose();

    const before = posted().length;
    panel = await restore({ sessionId: 3, group: 0, layer: 0, head: -1, pinnedToken: null });
    const after = posted().slice(before);
    assert.equal(after.filter((message) => message.type === 'session').length, 0, 'nothing is run');
    assert.ok(after.some((message) => message.type === 'error' && /restored after a reload/.test(message.message)), 'the panel says what to do');
    panel.dispose();
  });
});
