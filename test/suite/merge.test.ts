// The Units option in a real extension host: setMerge re-publishes the inspected run as characters
// or words (a new session, no re-run), the attention the host serves is merged, the editor paints a
// unit over the union of its tokens' offsets, and the step view's requests explain a unit's last token.
// Uses the bundled default model, whose tokens are whole common Chinese characters but which splits a rare
// one (鼹, mole) into two byte pieces: 鼹鼠爱你 is five tokens, four characters.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import type { HostToWebview, SessionInfo } from '../../src/shared/protocol';

const EXTENSION_ID = 'attention-inspector.attention-inspector';

describe('units: characters and words in the extension host', function () {
  this.timeout(120_000);
  let api: AttentionInspectorApi;
  let modelBefore: unknown;

  const posted = () => api.postedMessages() as HostToWebview[];
  const config = () => vscode.workspace.getConfiguration('attentionInspector');

  async function inspect(file: string, text: string): Promise<{ session: SessionInfo; document: vscode.TextDocument; base: number }> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder (a copy of sample/)');
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, file));
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    const base = document.getText().indexOf(text);
    assert.ok(base >= 0, `${text} is in ${file}`);
    editor.selection = new vscode.Selection(document.positionAt(base), document.positionAt(base + text.length));
    await api.whenIdle();
    await vscode.commands.executeCommand('attentionInspector.showAttention');
    await api.whenIdle();
    const session = api.lastSession();
    assert.ok(session && session.text === text, 'a session for the selection');
    return { session, document, base };
  }

  async function setUnits(session: SessionInfo, merge: 'tokens' | 'chars' | 'words'): Promise<SessionInfo> {
    await api.receiveFromWebview({ type: 'setMerge', sessionId: session.sessionId, merge });
    await api.whenIdle();
    const next = api.lastSession();
    assert.ok(next && next.sessionId > session.sessionId, 'setMerge publishes a new session');
    return next;
  }

  async function reply<T extends HostToWebview['type']>(type: T, sessionId: number): Promise<Extract<HostToWebview, { type: T }>> {
    for (let waited = 0; waited < 60_000; waited += 50) {
      await api.whenIdle();
      const found = posted().find((message) => message.type === type && (message as { sessionId?: number }).sessionId === sessionId);
      if (found) return found as Extract<HostToWebview, { type: T }>;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${type} for session ${sessionId}`);
  }

  function rangeOf(document: vscode.TextDocument, base: number, start: number, end: number): [[number, number], [number, number]] {
    const from = document.positionAt(base + start);
    const to = document.positionAt(base + end);
    return [[from.line, from.character], [to.line, to.character]];
  }

  before(async () => {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
    modelBefore = config().inspect('model')?.globalValue;
    await config().update('model', '', vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    // Later suites expect tokens: the choice outlives a run.
    const session = api.lastSession();
    if (session?.merge) await setUnits(session, 'tokens');
    await config().update('model', modelBefore, vscode.ConfigurationTarget.Global);
  });

  it('setMerge chars: 鼹鼠爱你 (five tokens) becomes four characters; merged attention, painting and explanations follow the units', async () => {
    const { session: tokens, document, base } = await inspect('seed-sentences.txt', '鼹鼠爱你');
    assert.equal(tokens.tokens.length, 5, 'the bundled model splits 鼹 into two byte pieces and keeps 鼠, 爱, 你 whole');
    assert.equal(tokens.merge, undefined);

    const chars = await setUnits(tokens, 'chars');
    assert.equal(chars.merge, 'chars');
    assert.deepEqual(chars.tokens.map((unit) => unit.text), ['鼹', '鼠', '爱', '你']);
    assert.deepEqual(chars.tokens.map((unit) => unit.tokens), [[0, 1], [2], [3], [4]]);
    const [L, H, U, U2] = chars.dims;
    assert.deepEqual([U, U2], [4, 4]);
    assert.deepEqual(chars.groups[0].dims, chars.dims);

    // Every row of a merged head sums to 1; the causal triangle stays empty.
    await api.receiveFromWebview({ type: 'requestHead', sessionId: chars.sessionId, group: 0, layer: L - 1, head: H - 1 });
    // The panel's log of posted messages keeps a payload's byte length, and the values of small ones.
    const logged = (await reply('headAttention', chars.sessionId)) as unknown as { data: number; values?: number[] };
    assert.equal(logged.data, 4 * 4 * 4, 'a merged head travels as [4, 4] float32');
    const head = logged.values ?? [];
    assert.equal(head.length, 16);
    for (let u = 0; u < 4; u++) {
      assert.ok(Math.abs(head.slice(u * 4, u * 4 + 4).reduce((a, b) => a + b, 0) - 1) < 1e-5, `unit ${u}'s row sums to 1`);
      for (let v = u + 1; v < 4; v++) assert.equal(head[u * 4 + v], 0);
    }

    // The editor paints units: 你 focused, 鼹 and 爱 attended, each over the union of its tokens' offsets.
    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: chars.sessionId, group: 0, token: 3, layer: L - 1, head: H - 1, attended: [{ token: 0, weight: 0.6 }, { token: 2, weight: 0.3 }] });
    const painted = api.decorations();
    const union = (unit: number) => {
      const members = chars.tokens[unit].tokens ?? [];
      return rangeOf(document, base, Math.min(...members.map((t) => tokens.tokens[t].start)), Math.max(...members.map((t) => tokens.tokens[t].end)));
    };
    assert.deepEqual(painted.filter((d) => d.role === 'focus').map((d) => [d.start, d.end]), [union(3)]);
    assert.deepEqual(painted.filter((d) => d.role === 'attended').map((d) => [d.start, d.end]), [union(0), union(2)]);
    assert.deepEqual(union(0), rangeOf(document, base, 0, 1), '鼹 (two tokens) is one character wide');

    // The step view's request for unit 0 (鼹) is answered about its last token, 1; the reply keeps the unit's index.
    await api.receiveFromWebview({ type: 'requestExplain', sessionId: chars.sessionId, group: 0, layer: 0, head: 0, query: 0 });
    const explained = await reply('explanation', chars.sessionId);
    assert.equal(explained.error, undefined);
    assert.equal(explained.query, 0);
    assert.equal(explained.explanation?.query.index, 1);
  });

  it('setMerge words: a word of several tokens is painted over all of them; back to tokens restores the run', async () => {
    const text = 'Self-attention lets every token look at every other token of the same input.';
    const { session: kept, document, base } = await inspect('prose.md', text);
    // The choice outlives a run: the previous test left characters.
    assert.equal(kept.merge, 'chars', 'a new run is shown in the units chosen before');
    const tokens = await setUnits(kept, 'tokens');
    assert.equal(tokens.merge, undefined);
    const words = await setUnits(tokens, 'words');
    assert.equal(words.merge, 'words');
    assert.equal(words.tokens.map((unit) => unit.text).join(''), text, 'the units cover the text');
    assert.deepEqual(words.tokens.flatMap((unit) => unit.tokens ?? []), tokens.tokens.map((_, index) => index), 'every token in one unit, in order');
    const wide = words.tokens.findIndex((unit) => (unit.tokens ?? []).length > 1);
    assert.ok(wide >= 0, `some word has several tokens: ${JSON.stringify(tokens.tokens.map((t) => t.text))}`);
    const members = words.tokens[wide].tokens ?? [];
    const query = wide === words.tokens.length - 1 ? 0 : words.tokens.length - 1;
    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: words.sessionId, group: 0, token: query, layer: 0, head: 0, attended: [{ token: wide, weight: 0.5 }] });
    const attended = api.decorations().filter((d) => d.role === 'attended');
    assert.deepEqual(
      attended.map((d) => [d.start, d.end]),
      [rangeOf(document, base, tokens.tokens[members[0]].start, tokens.tokens[members[members.length - 1]].end)],
    );

    const back = await setUnits(words, 'tokens');
    assert.equal(back.merge, undefined);
    assert.deepEqual(back.tokens, tokens.tokens);
    assert.deepEqual(back.dims, tokens.dims);
  });
});
