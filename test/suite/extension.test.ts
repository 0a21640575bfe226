// Integration tests that run inside a real VS Code extension host (code-server's Node extension
// host here; desktop VS Code through @vscode/test-electron elsewhere), against the real command,
// panel, settings and editor. scripts/run-integration.js opens a copy of sample/ as the workspace.
//
// The model is the seeded tiny random GPT-2 folder of test/support/tinyModel.ts, set through
// attentionInspector.model like a user would; the bundled default model is not needed.

import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import type { HostToWebview, SessionInfo, WebviewToHost } from '../../src/shared/protocol';
import { tinyModelFolder } from '../support/tinyModel';

const EXTENSION_ID = 'attention-inspector.attention-inspector';
const COMMAND = 'attentionInspector.showAttention';
const SETTINGS = ['model', 'backend', 'maxTokens', 'colorScale'] as const;
type SettingName = (typeof SETTINGS)[number];

/** A message the extension showed through vscode.window.show*Message. */
interface ShownMessage {
  level: 'info' | 'warning' | 'error';
  message: string;
  choices: string[];
}

/** What one Show Attention produced. */
interface RunOutcome {
  editor: vscode.TextEditor;
  /** The session posted by this run, if it produced one. */
  session: SessionInfo | undefined;
  /** Every message posted to the panel during the run. */
  posted: HostToWebview[];
  /** Error messages posted to the panel during the run. */
  errors: string[];
  /** Notifications shown during the run. */
  shown: ShownMessage[];
}

let api: AttentionInspectorApi;
let tinyModel: string;
const shown: ShownMessage[] = [];
/** How stubbed prompts answer: the choice to click, or undefined to dismiss. */
let answerPrompt: (choices: string[]) => string | undefined = () => undefined;
const restoreWindow: (() => void)[] = [];

function workspaceUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the integration suite needs a workspace folder (a copy of sample/)');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function openSample(name: string): Promise<vscode.TextDocument> {
  return vscode.workspace.openTextDocument(workspaceUri(name));
}

async function setSetting(name: SettingName, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('attentionInspector').update(name, value, vscode.ConfigurationTarget.Global);
}

async function resetSettings(): Promise<void> {
  for (const name of SETTINGS) await setSetting(name, undefined);
  await setSetting('model', tinyModel);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until probe returns a value other than undefined; fails with `what` after timeoutMs. */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

function posted(): HostToWebview[] {
  return api.postedMessages() as HostToWebview[];
}

/** Selects `selection` in `document` (in the first editor column, focused) and runs the command. */
async function showAttention(document: vscode.TextDocument, selection: vscode.Selection): Promise<RunOutcome> {
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false, preserveFocus: false });
  editor.selection = selection;
  editor.revealRange(selection);
  await api.whenIdle();
  const postedBefore = posted().length;
  const shownBefore = shown.length;
  await vscode.commands.executeCommand(COMMAND);
  await api.whenIdle();
  const during = posted().slice(postedBefore);
  const sessions = during.filter((message): message is Extract<HostToWebview, { type: 'session' }> => message.type === 'session');
  return {
    editor,
    session: sessions.at(-1)?.session,
    posted: during,
    errors: during.flatMap((message) => (message.type === 'error' ? [message.message] : [])),
    shown: shown.slice(shownBefore),
  };
}

function selectionOf(document: vscode.TextDocument, text: string): vscode.Selection {
  const offset = document.getText().indexOf(text);
  assert.ok(offset >= 0, `${JSON.stringify(text)} is not in ${document.uri.path}`);
  return new vscode.Selection(document.positionAt(offset), document.positionAt(offset + text.length));
}

/** The session's tokens are ordered, do not overlap, and each token's text is its span of the text. */
function assertTokensRebuild(session: SessionInfo, expectedText: string): void {
  assert.equal(session.text, expectedText, 'the session inspects exactly the selected text');
  assert.ok(session.tokens.length > 0, 'the session has tokens');
  let previousEnd = 0;
  for (const [index, token] of session.tokens.entries()) {
    assert.ok(token.start >= previousEnd, `token ${index} starts at ${token.start}, before the previous token's end ${previousEnd}`);
    assert.ok(token.end >= token.start, `token ${index} ends (${token.end}) before it starts (${token.start})`);
    assert.equal(token.text, session.text.slice(token.start, token.end), `token ${index}'s text is its span`);
    previousEnd = token.end;
  }
  assert.equal(session.tokens.map((token) => token.text).join(''), expectedText, 'the token texts concatenate to the selection');
}

/** Document range of a session token, given where the inspected text starts in the document. */
function tokenRange(document: vscode.TextDocument, baseOffset: number, token: { start: number; end: number }): [[number, number], [number, number]] {
  const start = document.positionAt(baseOffset + token.start);
  const end = document.positionAt(baseOffset + token.end);
  return [
    [start.line, start.character],
    [end.line, end.character],
  ];
}

/** Indices of tokens that cover at least one character (byte-continuation tokens cover none). */
function visibleTokens(session: SessionInfo): number[] {
  return session.tokens.flatMap((token, index) => (token.end > token.start && token.text.trim() !== '' ? [index] : []));
}

const SENTENCE = 'Self-attention lets every token look at every other token of the same input.';

describe('Attention Inspector in a real extension host', function () {
  this.timeout(120_000);

  before(async function () {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not loaded`);
    api = await extension.activate();
    for (const method of ['whenIdle', 'lastSession', 'panelVisible', 'receiveFromWebview', 'decorations', 'postedMessages'] as const) {
      assert.equal(typeof api[method], 'function', `activate() returns a test API with ${method}()`);
    }
    tinyModel = await tinyModelFolder();

    // Nobody can click notifications here: record them, and answer prompts the way a test asks.
    // The extension and this suite share the extension's `vscode` API object, so this reaches it.
    const window = vscode.window as unknown as Record<string, unknown>;
    const stub = (name: string, level: ShownMessage['level']) => {
      const original = window[name];
      window[name] = (message: string, ...rest: unknown[]) => {
        const choices = rest.flatMap((item) => (typeof item === 'string' ? [item] : item && typeof item === 'object' && 'title' in item ? [String(item.title)] : []));
        shown.push({ level, message, choices });
        const answer = level === 'error' ? undefined : answerPrompt(choices);
        const picked = rest.find((item) => item === answer || (typeof item === 'object' && item !== null && 'title' in item && item.title === answer));
        return Promise.resolve(picked);
      };
      restoreWindow.push(() => (window[name] = original));
    };
    stub('showInformationMessage', 'info');
    stub('showWarningMessage', 'warning');
    stub('showErrorMessage', 'error');
    await resetSettings();
  });

  afterEach(async function () {
    answerPrompt = () => undefined;
    await api.whenIdle();
    await resetSettings();
  });

  after(async function () {
    for (const restore of restoreWindow) restore();
    for (const name of SETTINGS) await setSetting(name, undefined);
  });

  it('registers the Show Attention command', async function () {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(COMMAND), `${COMMAND} is registered`);
  });

  it('opens the panel on a selection and sends it tokens that rebuild the selection', async function () {
    const document = await openSample('prose.md');
    const { session, errors } = await showAttention(document, selectionOf(document, SENTENCE));
    assert.deepEqual(errors, [], 'no error was posted');
    assert.ok(session, 'a session was posted to the panel');
    assert.equal(api.panelVisible(), true, 'the panel is visible');
    assertTokensRebuild(session, SENTENCE);
    const [L, H, T, T2] = session.dims;
    assert.ok(L > 0 && H > 0, `dims ${session.dims} name layers and heads`);
    assert.equal(T, session.tokens.length, 'dims[2] is the token count');
    assert.equal(T2, session.tokens.length, 'dims[3] is the token count');
    assert.equal(api.lastSession()?.sessionId, session.sessionId, 'lastSession() is the posted session');
  });

  it('loads the real webview, which asks for the attention of a head as binary data', async function () {
    const document = await openSample('prose.md');
    const { session } = await showAttention(document, selectionOf(document, SENTENCE));
    assert.ok(session);
    // Only the webview's script sends requestHead, after its ready handshake: this proves the panel's page runs.
    const webviewBundle = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri.fsPath, 'dist', 'webview.js');
    const hint = fs.existsSync(webviewBundle) ? '' : ` (${webviewBundle} does not exist: the webview never loaded its script)`;
    const reply = await waitFor(
      `the webview's requestHead, answered with headAttention${hint}`,
      () => posted().find((message) => message.type === 'headAttention' && message.sessionId === session.sessionId),
      60_000,
    );
    const T = session.tokens.length;
    const byteLength = (reply as unknown as { data: number }).data;
    assert.equal(byteLength, T * T * 4, 'a head travels as [T, T] float32 bytes');
  });

  it('paints the focused token and its attended tokens on the editor, and clears them on a null focus', async function () {
    const document = await openSample('prose.md');
    const selection = selectionOf(document, SENTENCE);
    const { session } = await showAttention(document, selection);
    assert.ok(session);
    const candidates = visibleTokens(session);
    assert.ok(candidates.length >= 3, 'the sentence has at least three visible tokens');
    const focus = candidates[candidates.length - 1];
    const attended = [
      { token: candidates[0], weight: 0.6 },
      { token: candidates[1], weight: 0.25 },
    ];
    const message: WebviewToHost = { type: 'tokenFocus', sessionId: session.sessionId, group: 0, token: focus, layer: 0, head: 0, attended };
    await api.receiveFromWebview(message);

    const base = document.offsetAt(selection.start);
    const uri = document.uri.toString();
    const decorations = await waitFor('decorations', () => (api.decorations().length > 0 ? api.decorations() : undefined));
    const byRange = (item: { start: [number, number]; end: [number, number] }) => JSON.stringify([item.start, item.end]);
    const focusDecorations = decorations.filter((item) => item.role === 'focus');
    assert.equal(focusDecorations.length, 1, 'exactly one focused token is decorated');
    assert.equal(focusDecorations[0].uri, uri);
    assert.equal(byRange(focusDecorations[0]), JSON.stringify(tokenRange(document, base, session.tokens[focus])), "the focus decoration covers the focused token's range");

    const attendedDecorations = decorations.filter((item) => item.role === 'attended');
    assert.deepEqual(
      attendedDecorations.map((item) => ({ uri: item.uri, range: byRange(item), weight: item.weight })).sort((a, b) => b.weight - a.weight),
      attended.map((item) => ({ uri, range: JSON.stringify(tokenRange(document, base, session.tokens[item.token])), weight: item.weight })),
      'each attended token is decorated over its own range with its weight',
    );
    for (const item of attendedDecorations) {
      const [[startLine, startChar], [endLine, endChar]] = [item.start, item.end];
      const text = document.getText(new vscode.Range(startLine, startChar, endLine, endChar));
      assert.ok(SENTENCE.includes(text) && text.length > 0, `decorated text ${JSON.stringify(text)} lies in the inspected sentence`);
    }

    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: session.sessionId, group: 0, token: null, layer: 0, head: 0, attended: [] });
    assert.deepEqual(api.decorations(), [], 'a null focus clears the decorations');
  });

  it('ignores token focus for a superseded session', async function () {
    const document = await openSample('prose.md');
    const first = await showAttention(document, selectionOf(document, SENTENCE));
    const second = await showAttention(document, selectionOf(document, 'Each token is'));
    assert.ok(first.session && second.session);
    assert.ok(second.session.sessionId > first.session.sessionId, 'session ids increase');
    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: first.session.sessionId, group: 0, token: 1, layer: 0, head: 0, attended: [{ token: 0, weight: 1 }] });
    assert.deepEqual(api.decorations(), [], 'no decoration for an old session');
  });

  it('focuses the token under the editor cursor in the panel', async function () {
    const document = await openSample('prose.md');
    const selection = selectionOf(document, SENTENCE);
    const { session, editor } = await showAttention(document, selection);
    assert.ok(session);
    const base = document.offsetAt(selection.start);
    const candidates = visibleTokens(session);
    for (const target of [candidates[Math.floor(candidates.length / 2)], candidates[candidates.length - 1]]) {
      const token = session.tokens[target];
      // Inside the token: its last character.
      const position = document.positionAt(base + token.end - 1);
      editor.selection = new vscode.Selection(position, position);
      const focus = await waitFor(`a focusToken message for token ${target} (${JSON.stringify(token.text)})`, () =>
        posted().find((message) => message.type === 'focusToken' && message.sessionId === session.sessionId && message.token === target),
      );
      assert.ok(focus);
    }
  });

  it('clears the decorations when the document is edited', async function () {
    const document = await openSample('prose.md');
    const selection = selectionOf(document, SENTENCE);
    const { session, editor } = await showAttention(document, selection);
    assert.ok(session);
    const [first, second] = visibleTokens(session);
    const focus: WebviewToHost = { type: 'tokenFocus', sessionId: session.sessionId, group: 0, token: second, layer: 0, head: 0, attended: [{ token: first, weight: 0.9 }] };
    await api.receiveFromWebview(focus);
    assert.ok(api.decorations().length > 0, 'decorations are painted before the edit');
    try {
      const edited = await editor.edit((builder) => builder.insert(new vscode.Position(0, 0), 'Edited. '));
      assert.ok(edited, 'the edit applied');
      await waitFor('decorations to clear after the edit', () => (api.decorations().length === 0 ? true : undefined));
      // The offsets are stale now: another focus must not paint at the old positions.
      await api.receiveFromWebview(focus);
      assert.deepEqual(api.decorations(), [], 'no decorations for a session whose document changed');
    } finally {
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    assert.equal(document.isDirty, false, 'the sample file is back to its saved state');
  });

  it('inspects the current line when nothing is selected, and says so', async function () {
    const document = await openSample('seed-sentences.txt');
    const line = 2; // "A fluffy blue creature roamed the verdant forest."
    const lineText = document.lineAt(line).text;
    assert.ok(lineText.trim().length > 0);
    const cursor = new vscode.Position(line, 5);
    const { session, errors } = await showAttention(document, new vscode.Selection(cursor, cursor));
    assert.deepEqual(errors, []);
    assert.ok(session, 'an empty selection still inspects something');
    assertTokensRebuild(session, lineText);
    assert.ok(
      session.notes.some((note) => /line/i.test(note) && note.includes(String(line + 1))),
      `a note says the current line (${line + 1}) was inspected: ${JSON.stringify(session.notes)}`,
    );
  });

  it('inspects CJK text with exact token offsets', async function () {
    const document = await openSample('seed-sentences.txt');
    const text = document.lineAt(0).text;
    assert.ok(/[\u4e00-\u9fff]/.test(text), 'the first seed sentence is CJK');
    const { session } = await showAttention(document, new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(0, text.length)));
    assert.ok(session);
    assertTokensRebuild(session, text);
  });

  it('offers to inspect the first maxTokens tokens of a longer selection and notes the cut', async function () {
    const maxTokens = 5;
    await setSetting('maxTokens', maxTokens);
    answerPrompt = (choices) => choices.find((choice) => /first/i.test(choice));
    const document = await openSample('prose.md');
    const { session } = await showAttention(document, selectionOf(document, SENTENCE));
    const offer = shown.find((item) => item.choices.some((choice) => /first/i.test(choice) && choice.includes(String(maxTokens))));
    assert.ok(offer, `a message offered to inspect the first ${maxTokens} tokens: ${JSON.stringify(shown.slice(-3))}`);
    assert.ok(session, 'accepting the offer produced a session');
    assert.equal(session.tokens.length, maxTokens, 'the session has exactly maxTokens tokens');
    assert.equal(session.dims[2], maxTokens);
    const covered = session.tokens.map((token) => token.text).join('');
    assert.ok(SENTENCE.startsWith(covered), 'the kept tokens are the start of the selection');
    assert.ok(
      session.notes.some((note) => /first/i.test(note) && note.includes(String(maxTokens))),
      `a note says only the first ${maxTokens} tokens were inspected: ${JSON.stringify(session.notes)}`,
    );
  });

  it('runs nothing when the offer to cut a long selection is dismissed', async function () {
    await setSetting('maxTokens', 3);
    answerPrompt = () => undefined;
    const document = await openSample('prose.md');
    const before = api.lastSession()?.sessionId;
    const { session, shown: notifications } = await showAttention(document, selectionOf(document, SENTENCE));
    assert.equal(session, undefined, 'no session without consent');
    assert.equal(api.lastSession()?.sessionId, before);
    assert.ok(notifications.some((item) => item.level === 'warning' || item.level === 'info'), 'the user was asked');
  });

  it('follows the colorScale setting', async function () {
    const document = await openSample('prose.md');
    await showAttention(document, selectionOf(document, SENTENCE));
    for (const scale of ['log', 'linear'] as const) {
      const postedBefore = posted().length;
      await setSetting('colorScale', scale);
      await waitFor(`a settings message with colorScale ${scale}`, () =>
        posted().slice(postedBefore).find((message) => message.type === 'settings' && message.colorScale === scale),
      );
      const { session } = await showAttention(document, selectionOf(document, SENTENCE));
      assert.equal(session?.colorScale, scale, `the next session uses colorScale ${scale}`);
    }
  });

  it('reports a clear error for the onnx backend on a folder without model.onnx, then recovers', async function () {
    assert.equal(fs.existsSync(path.join(tinyModel, 'model.onnx')), false, 'the tiny model folder has no model.onnx');
    await setSetting('backend', 'onnx');
    const document = await openSample('prose.md');
    const failed = await showAttention(document, selectionOf(document, SENTENCE));
    assert.equal(failed.session, undefined, 'no session from a backend that cannot run');
    assert.ok(
      failed.errors.some((message) => /model\.onnx/.test(message)),
      `the panel gets an error naming model.onnx: ${JSON.stringify(failed.errors)}`,
    );
    assert.ok(
      failed.shown.some((item) => item.level === 'error' && /model\.onnx/.test(item.message)),
      `an error notification names model.onnx: ${JSON.stringify(failed.shown)}`,
    );
    assert.ok(!failed.errors.some((message) => /Something went wrong|TypeError|undefined/.test(message)), 'the error is an expected one, not a crash');

    await setSetting('backend', 'builtin');
    const recovered = await showAttention(document, selectionOf(document, SENTENCE));
    assert.ok(recovered.session, 'the builtin backend runs the same folder');
    assert.equal(recovered.session.model.backend, 'builtin');
  });

  it('reports a deliberately corrupt model.onnx clearly, and keeps working', async function () {
    const corrupt = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-corrupt-'));
    fs.copyFileSync(path.join(tinyModel, 'tokenizer.json'), path.join(corrupt, 'tokenizer.json'));
    fs.writeFileSync(path.join(corrupt, 'model.onnx'), Buffer.from('not a protobuf at all: the file was cut off in the middle of a down'));
    await setSetting('model', corrupt);
    await setSetting('backend', 'onnx');
    const document = await openSample('prose.md');
    const failed = await showAttention(document, selectionOf(document, SENTENCE));
    assert.equal(failed.session, undefined);
    assert.ok(
      failed.errors.some((message) => message.includes('model.onnx') && /not a valid ONNX model/.test(message)),
      `the error says the model file is not valid ONNX: ${JSON.stringify(failed.errors)}`,
    );
    await setSetting('model', tinyModel);
    await setSetting('backend', 'builtin');
    const recovered = await showAttention(document, selectionOf(document, SENTENCE));
    assert.deepEqual(recovered.errors, []);
    assert.ok(recovered.session, 'the next run works');
  });

  it('reports a clear error for a model folder that does not exist, and the next good run works', async function () {
    const missing = path.join(os.tmpdir(), `attention-inspector-no-such-model-${process.pid}-${Date.now()}`);
    await setSetting('model', missing);
    const document = await openSample('code.ts');
    const selection = selectionOf(document, 'return a + b;');
    const failed = await showAttention(document, selection);
    assert.equal(failed.session, undefined);
    assert.ok(
      failed.errors.some((message) => message.includes(missing) && /not found|does not exist|no such/i.test(message)),
      `the error names the missing folder: ${JSON.stringify(failed.errors)}`,
    );

    await setSetting('model', tinyModel);
    const recovered = await showAttention(document, selection);
    assert.deepEqual(recovered.errors, []);
    assert.ok(recovered.session, 'a good model setting works right after the failure');
    assertTokensRebuild(recovered.session, 'return a + b;');
  });
  it('shows a GPT-2 exported without attention outputs as masked and a BERT encoder as bidirectional, found by graph surgery', async function () {
    const fixtures = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'test', 'fixtures', 'onnx');
    const document = await openSample('prose.md');
    await setSetting('backend', 'auto');

    await setSetting('model', path.join(fixtures, 'gpt2-plain'));
    // The fixture's context is 64 byte-level tokens: a short selection.
    const decoder = await showAttention(document, selectionOf(document, 'Each token is'));
    assert.deepEqual(decoder.errors, []);
    assert.ok(decoder.session);
    assert.deepEqual([decoder.session.model.backend, decoder.session.model.attentionSource, decoder.session.model.kind], ['onnx', 'graph surgery', 'decoder']);
    assert.deepEqual([decoder.session.causal, decoder.session.groups[0].label], [true, 'Masked self-attention']);
    assertTokensRebuild(decoder.session, 'Each token is');

    await setSetting('model', path.join(fixtures, 'bert-tiny'));
    const encoder = await showAttention(document, selectionOf(document, 'Each token is'));
    assert.deepEqual(encoder.errors, []);
    assert.ok(encoder.session);
    assert.deepEqual([encoder.session.model.kind, encoder.session.causal, encoder.session.groups[0].label], ['encoder', false, 'Self-attention']);
    assert.deepEqual([encoder.session.tokens[0].label, encoder.session.tokens.at(-1)!.label], ['[CLS]', '[SEP]']);
  });

  it('shows an encoder–decoder model as three labelled groups over its greedy output, and re-runs with a typed target', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    await setSetting('model', path.join(extension.extensionPath, 'media', 'models', 'dates'));
    await setSetting('backend', 'auto');
    const document = await openSample('dates.txt');
    const selection = selectionOf(document, 'the 5th of March, 2021');
    const { session, errors } = await showAttention(document, selection);
    assert.deepEqual(errors, []);
    assert.ok(session, 'a session for the encoder–decoder');
    assert.equal(session.model.kind, 'encoder-decoder');
    assert.deepEqual(session.groups.map((group) => [group.label, group.queries, group.keys]), [
      ['Encoder self-attention', 'source', 'source'],
      ['Decoder masked self-attention', 'target', 'target'],
      ['Cross-attention', 'target', 'source'],
    ]);
    assert.ok(session.target?.generated);
    assert.equal(session.target.text, '2021-03-05');
    const [, , Tq, Tk] = session.groups[2].dims;
    assert.deepEqual([Tq, Tk], [session.target.tokens.length, session.tokens.length]);

    // The panel asks for a cross-attention head: [Tq, Tk] floats come back, tagged with the group.
    await api.receiveFromWebview({ type: 'requestHead', sessionId: session.sessionId, group: 2, layer: 0, head: 1 });
    const head = await waitFor('cross-attention head data', () =>
      posted().find((message): message is Extract<HostToWebview, { type: 'headAttention' }> => message.type === 'headAttention' && message.sessionId === session.sessionId && message.group === 2),
    );
    // The panel's log keeps payload sizes, not bytes.
    assert.equal((head as unknown as { data: number }).data, Tq * Tk * 4, 'a cross-attention head travels as [Tq, Tk] float32 bytes');

    // Hovering a target token in the cross group lights up the source tokens it reads, in the editor.
    const march = session.tokens.findIndex((token) => token.text === 'March');
    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: session.sessionId, group: 2, token: 6, layer: 0, head: 0, attended: [{ token: march, weight: 0.8 }] });
    const decorations = await waitFor('decorations for cross-attention', () => (api.decorations().length > 0 ? api.decorations() : undefined));
    assert.deepEqual(decorations.map((item) => item.role), ['attended'], 'no focus box: the query is a target token, not in the editor');
    const base = document.offsetAt(selection.start);
    assert.equal(JSON.stringify([decorations[0].start, decorations[0].end]), JSON.stringify(tokenRange(document, base, session.tokens[march])));
    // Decoder self-attention keys are target tokens: nothing to show in the editor.
    await api.receiveFromWebview({ type: 'tokenFocus', sessionId: session.sessionId, group: 1, token: 3, layer: 0, head: 0, attended: [{ token: 1, weight: 0.8 }] });
    assert.deepEqual(api.decorations(), []);

    // The user types another target: the same source runs again and the decoder reads the typed text.
    const postedBefore = posted().length;
    await api.receiveFromWebview({ type: 'setTarget', sessionId: session.sessionId, text: '2021-05-03' });
    const retyped = await waitFor('a session with the typed target', () => {
      const message = posted().slice(postedBefore).find((item): item is Extract<HostToWebview, { type: 'session' }> => item.type === 'session');
      return message?.session;
    });
    await api.whenIdle();
    assert.equal(retyped.text, session.text);
    assert.deepEqual([retyped.target?.text, retyped.target?.generated], ['2021-05-03', false]);
    assert.ok(retyped.sessionId > session.sessionId);

    // An empty target is refused with a message, and nothing runs.
    const before = posted().length;
    await api.receiveFromWebview({ type: 'setTarget', sessionId: retyped.sessionId, text: '   ' });
    await api.whenIdle();
    const after = posted().slice(before);
    assert.ok(after.some((message) => message.type === 'error' && /target text is empty/.test(message.message)));
    assert.ok(!after.some((message) => message.type === 'session'));
  });

  it('explains a head of the default model with the built-in block: its weights are the ONNX run\'s row, softmax of the scaled scores', async function () {
    await setSetting('model', '');
    await setSetting('backend', 'auto');
    const document = await openSample('prose.md');
    const { session, errors } = await showAttention(document, selectionOf(document, 'Each token is'));
    assert.deepEqual(errors, []);
    assert.ok(session);
    assert.equal(session.model.backend, 'onnx', 'the default model runs ONNX for the heatmap');
    const T = session.tokens.length;
    const [layer, head, query] = [1, 2, T - 1];
    await api.receiveFromWebview({ type: 'requestHead', sessionId: session.sessionId, group: 0, layer, head });
    const reply = await waitFor('the headAttention reply', () =>
      posted().find((message) => message.type === 'headAttention' && message.sessionId === session.sessionId && message.layer === layer && message.head === head),
    );
    const values = (reply as unknown as { values?: number[] }).values;
    assert.ok(values && values.length === T * T, 'the logged head keeps its values');
    const row = values.slice(query * T, query * T + T);

    const before = posted().length;
    await api.receiveFromWebview({ type: 'requestExplain', sessionId: session.sessionId, group: 0, layer, head, query });
    await api.whenIdle();
    const message = await waitFor('the explanation', () =>
      posted().slice(before).find((item): item is Extract<HostToWebview, { type: 'explanation' }> => item.type === 'explanation' && item.sessionId === session.sessionId),
    );
    assert.equal(message.error, undefined, `no error: ${message.error}`);
    const explanation = message.explanation;
    assert.ok(explanation, 'an explanation');
    assert.equal(explanation.model.backend, 'builtin', 'explained by the built-in block');
    assert.deepEqual([explanation.layer, explanation.head, explanation.query.index], [layer, head, query]);
    assert.ok(explanation.q && explanation.q.length === explanation.dK, 'q is there');
    assert.equal(explanation.weights.length, T);
    explanation.weights.forEach((weight, j) => assert.ok(Math.abs(weight - row[j]) < 1e-4, `weight ${j}: ${weight} (built-in) vs ${row[j]} (ONNX)`));
    // softmax over the unmasked scaled scores, recomputed here; scaled = scores · scale (no bias in GPT-2).
    assert.ok(explanation.scores);
    const scaled = explanation.scaled;
    explanation.scores.forEach((score, j) => {
      if (!explanation.masked[j]) assert.ok(Math.abs(score * explanation.scale - scaled[j]!) < 1e-4, `scaled ${j}`);
    });
    const top = Math.max(...scaled.filter((value): value is number => value !== null));
    const exps = scaled.map((value) => (value === null ? 0 : Math.exp(value - top)));
    const total = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, j) => assert.ok(Math.abs(e / total - explanation.weights[j]) < 1e-5, `softmax ${j}`));
  });

  it('compares 我爱你 with 爱我你 without positions: the last token attends exactly the same at layer 0', async function () {
    await setSetting('model', '');
    await setSetting('backend', 'auto');
    const document = await openSample('seed-sentences.txt');
    const { session, errors } = await showAttention(document, selectionOf(document, '我爱你'));
    assert.deepEqual(errors, []);
    assert.ok(session);
    const second = session.tokens.findIndex((token) => token.start === 1 && token.text !== '');
    assert.ok(second > 0, 'a token starts at 爱');
    const before = posted().length;
    await api.receiveFromWebview({ type: 'requestComparison', sessionId: session.sessionId, layer: 0, head: 0, variation: { positions: false, swap: [0, second] } });
    await api.whenIdle();
    const message = await waitFor('the comparison', () =>
      posted().slice(before).find((item): item is Extract<HostToWebview, { type: 'comparison' }> => item.type === 'comparison' && item.sessionId === session.sessionId),
    );
    assert.equal(message.error, undefined, `no error: ${message.error}`);
    assert.ok(message.comparison?.permutation, 'a swap is checked for the permutation property');
    assert.equal(message.comparison.permutation.expected, true);
    assert.ok(message.comparison.permutation.deviation < 1e-6, `deviation ${message.comparison.permutation.deviation}`);
    assert.ok(message.comparison.maxDifference > 0, 'the maps themselves differ (rows of the swapped tokens)');
  });

  it('answers a variation on an ONNX-only model with an error reply, not a notification', async function () {
    const fixtures = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'test', 'fixtures', 'onnx');
    await setSetting('backend', 'auto');
    await setSetting('model', path.join(fixtures, 'gpt2-plain'));
    const document = await openSample('prose.md');
    const { session, errors, shown: shownDuringRun } = await showAttention(document, selectionOf(document, 'Each token is'));
    assert.deepEqual(errors, []);
    assert.ok(session);
    const shownBefore = shown.length;
    const before = posted().length;
    await api.receiveFromWebview({ type: 'requestExplain', sessionId: session.sessionId, group: 0, layer: 0, head: 0, query: 1, variation: { positions: false } });
    await api.receiveFromWebview({ type: 'requestComparison', sessionId: session.sessionId, layer: 0, head: 0, variation: { positions: false } });
    await api.whenIdle();
    const explanation = await waitFor('the explanation reply', () => posted().slice(before).find((item): item is Extract<HostToWebview, { type: 'explanation' }> => item.type === 'explanation'));
    const comparison = await waitFor('the comparison reply', () => posted().slice(before).find((item): item is Extract<HostToWebview, { type: 'comparison' }> => item.type === 'comparison'));
    assert.equal(explanation.explanation, null);
    assert.ok(explanation.error && explanation.error.length > 10, `an error message: ${explanation.error}`);
    assert.equal(comparison.comparison, null);
    assert.ok(comparison.error, 'the comparison says why too');
    assert.deepEqual(shownDuringRun.concat(shown.slice(shownBefore)), [], 'no notification');
  });

  it('Choose Model… offers the bundled models, writes a checked folder to the setting and refuses one without a model', async function () {
    const window = vscode.window as unknown as {
      showOpenDialog: (options: unknown) => Thenable<vscode.Uri[] | undefined>;
      showQuickPick: (items: vscode.QuickPickItem[]) => Thenable<vscode.QuickPickItem | undefined>;
    };
    const originalDialog = window.showOpenDialog;
    const originalQuickPick = window.showQuickPick;
    let offered: vscode.Uri[] | undefined;
    let pick: RegExp = /folder/i;
    let offeredItems: string[] = [];
    window.showOpenDialog = async () => offered;
    window.showQuickPick = async (items) => {
      offeredItems = items.map((item) => item.label);
      return items.find((item) => pick.test(item.label));
    };
    const modelSetting = () => vscode.workspace.getConfiguration('attentionInspector').get('model');
    try {
      await setSetting('model', '');
      offered = [vscode.Uri.file(tinyModel)];
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.deepEqual(offeredItems, ['Bundled: default', 'Bundled: dates', 'Bundled: worked-example', 'Choose a model folder…']);
      assert.equal(modelSetting(), tinyModel, 'the picked folder became the model setting');
      assert.ok(shown.some((item) => item.level === 'info' && item.message.includes('builtin backend')), 'the user is told which backend will run it');

      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-empty-'));
      offered = [vscode.Uri.file(empty)];
      const shownBefore = shown.length;
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.equal(modelSetting(), tinyModel, 'a folder without a model leaves the setting alone');
      assert.ok(
        shown.slice(shownBefore).some((item) => item.level === 'error' && /tokenizer\.json/.test(item.message) && /not changed/.test(item.message)),
        `the error says what is missing: ${JSON.stringify(shown.slice(shownBefore))}`,
      );

      // The bundled encoder–decoder demo is one pick away, and it runs.
      pick = /dates/;
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.equal(modelSetting(), 'bundled:dates');
      const document = await openSample('dates.txt');
      const { session, errors } = await showAttention(document, selectionOf(document, 'March 5, 2021'));
      assert.deepEqual(errors, []);
      assert.equal(session?.model.kind, 'encoder-decoder');
      assert.equal(session?.target?.text, '2021-03-05');

      pick = /default/;
      await vscode.commands.executeCommand('attentionInspector.chooseModel');
      assert.ok(!modelSetting(), 'back to the bundled default');
    } finally {
      window.showOpenDialog = originalDialog;
      window.showQuickPick = originalQuickPick;
    }
  });

  it('compares a pinned run with the next one: the reply carries both runs\' heads and the alignment', async function () {
    const document = await openSample('prose.md');
    const headOf = async (sessionId: number, layer: number, head: number): Promise<number[]> => {
      await api.receiveFromWebview({ type: 'requestHead', sessionId, group: 0, layer, head });
      const reply = await waitFor('the headAttention reply', () => posted().find((message) => message.type === 'headAttention' && message.sessionId === sessionId && message.layer === layer && message.head === head));
      const values = (reply as unknown as { values?: number[] }).values;
      assert.ok(values, 'the logged head keeps its values');
      return values;
    };
    // Short selections: a logged head keeps its values up to 1024 weights.
    const first = (await showAttention(document, selectionOf(document, 'Self-attention lets'))).session;
    assert.ok(first);
    const [layer, head] = [first.dims[0] - 1, first.dims[1] - 1];
    const pinnedHead = await headOf(first.sessionId, layer, head);
    await api.receiveFromWebview({ type: 'pinRun', sessionId: first.sessionId });
    // The host tells the page which run it keeps, so a page shown again does not forget the pin.
    const told = await waitFor('the pinnedRun message', () => posted().find((message): message is Extract<HostToWebview, { type: 'pinnedRun' }> => message.type === 'pinnedRun' && message.run?.sessionId === first.sessionId));
    assert.equal(told.run!.label, `${first.model.name} · ${first.source}`);
    const second = (await showAttention(document, selectionOf(document, 'Each token is'))).session;
    assert.ok(second && second.sessionId !== first.sessionId);
    const currentHead = await headOf(second.sessionId, layer, head);
    await api.receiveFromWebview({ type: 'requestRunComparison', sessionId: second.sessionId, group: 0, layer, head });
    const reply = await waitFor('the runComparison reply', () =>
      posted().find((message): message is Extract<HostToWebview, { type: 'runComparison' }> => message.type === 'runComparison' && message.sessionId === second.sessionId),
    );
    const comparison = reply.comparison;
    assert.ok(comparison, `a comparison (${JSON.stringify(reply.unavailable)})`);
    assert.equal(comparison.pinned.sessionId, first.sessionId);
    assert.deepEqual(Array.from(new Float32Array(comparison.pinned.map)), pinnedHead, "the pinned map is the first run's head");
    assert.deepEqual(Array.from(new Float32Array(comparison.current.map)), currentHead, "the current map is the second run's head");
    assert.deepEqual(comparison.pinned.tokens, first.tokens.map((token) => token.text));
    assert.deepEqual(comparison.current.tokens, second.tokens.map((token) => token.text));
    assert.deepEqual(comparison.alignment, { rule: 'position', count: Math.min(first.tokens.length, second.tokens.length) });
    // Unpinned: the host says there is nothing to compare with.
    await api.receiveFromWebview({ type: 'unpinRun' });
    await waitFor('pinnedRun null', () => posted().find((message) => message.type === 'pinnedRun' && (message as Extract<HostToWebview, { type: 'pinnedRun' }>).run === null));
    const before = posted().length;
    await api.receiveFromWebview({ type: 'requestRunComparison', sessionId: second.sessionId, group: 0, layer, head });
    const none = await waitFor('the unpinned reply', () => posted().slice(before).find((message): message is Extract<HostToWebview, { type: 'runComparison' }> => message.type === 'runComparison'));
    assert.deepEqual(none.unavailable, { reason: 'no-pin' });
  });
});
