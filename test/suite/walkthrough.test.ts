// The "Learn attention" walkthrough inside a real extension host: every step in package.json has a
// markdown page and a "Try it" link whose example exists, and each example opens its sample, selects
// the step's text, switches to the step's bundled model and shows the attention the step is about.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/extension/extension';
import type { HostToWebview, SessionInfo } from '../../src/shared/protocol';

const EXTENSION_ID = 'attention-inspector.attention-inspector';

interface WalkthroughStep {
  id: string;
  description: string;
  media: { markdown: string };
}

describe('walkthrough: learn attention', function () {
  this.timeout(180_000);
  let api: AttentionInspectorApi;
  let root: string;
  let steps: WalkthroughStep[];
  let modelBefore: unknown;

  before(async () => {
    const extension = vscode.extensions.getExtension<AttentionInspectorApi>(EXTENSION_ID);
    assert.ok(extension);
    api = await extension.activate();
    root = extension.extensionPath;
    // package.json names its strings %key%; package.nls.json has the English (VS Code substitutes them).
    const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'), (_key, value: unknown) =>
      typeof value === 'string' && /^%[\w.-]+%$/.test(value) ? nls[value.slice(1, -1)] ?? value : value,
    );
    steps = manifest.contributes.walkthroughs[0].steps;
    modelBefore = vscode.workspace.getConfiguration('attentionInspector').inspect('model')?.globalValue;
  });

  after(async () => {
    await vscode.workspace.getConfiguration('attentionInspector').update('model', modelBefore, vscode.ConfigurationTarget.Global);
  });

  /** The step argument of a description's command link. */
  const stepArgument = (step: WalkthroughStep) => {
    const match = /command:attentionInspector\.tryExample\?([^)]+)\)/.exec(step.description);
    assert.ok(match, `step ${step.id} has a Try it link`);
    return (JSON.parse(decodeURIComponent(match[1])) as string[])[0];
  };

  it('has five steps, each with its page', () => {
    assert.equal(steps.length, 5);
    for (const step of steps) assert.ok(fs.existsSync(path.join(root, step.media.markdown)), step.media.markdown);
  });

  const expectations: Record<string, { model: string; text: string | RegExp; group?: string }> = {
    'self-attention': { model: 'default', text: "The animal didn't cross the street because it was too tired." },
    'scale-softmax': { model: 'worked-example', text: '我爱你' },
    masked: { model: 'default', text: /^def mean\(values\):/ },
    'cross-attention': { model: 'dates', text: 'the 5th of March, 2021', group: 'cross' },
    'heads-positions': { model: 'default', text: '我爱你' },
  };

  for (const [index, name] of Object.keys(expectations).entries()) {
    it(`step ${index + 1} (${name}) opens its sample, selects the text and shows it with the right model`, async () => {
      assert.equal(stepArgument(steps[index]), name);
      const before = api.postedMessages().length;
      await vscode.commands.executeCommand('attentionInspector.tryExample', name);
      await api.whenIdle();
      const sessions = (api.postedMessages().slice(before) as HostToWebview[]).filter((m): m is { type: 'session'; session: SessionInfo } => m.type === 'session');
      const session = sessions.at(-1)?.session;
      assert.ok(session, `a session was shown (posted: ${JSON.stringify(api.postedMessages().slice(before)).slice(0, 300)})`);
      const expected = expectations[name];
      assert.equal(session.model.name, expected.model);
      if (typeof expected.text === 'string') assert.equal(session.text, expected.text);
      else assert.match(session.text, expected.text);
      const editor = vscode.window.activeTextEditor;
      assert.ok(editor && editor.document.uri.path.includes('/media/samples/'), 'the sample is open');
      assert.equal(editor.document.getText(editor.selection), session.text, 'the selection is what was inspected');
      if (expected.group) assert.ok(session.groups.some((group) => group.name === expected.group), `groups: ${session.groups.map((g) => g.name)}`);
    });
  }

  it('an unknown example is refused with a message, nothing runs', async () => {
    const before = api.postedMessages().length;
    await vscode.commands.executeCommand('attentionInspector.tryExample', 'nope');
    await api.whenIdle();
    assert.equal(api.postedMessages().length, before);
  });
});
