// Entry point: registers the command and hands everything else to the InspectionController.
// activate() returns a small API that the integration tests use to look inside.
import * as vscode from 'vscode';
import type { SessionInfo, WebviewToHost } from '../shared/protocol';
import type { DecoratedRange } from './editorDecorations';
import { InspectionController } from './inspectionController';
import { PANEL_VIEW_TYPE } from './attentionPanel';
import { chooseModel } from './chooseModel';
import { tryExample } from './walkthrough';

export interface AttentionInspectorApi {
  /** Resolves when no run is in flight. */
  whenIdle(): Promise<void>;
  /** The last session sent to the panel, if any. */
  lastSession(): SessionInfo | undefined;
  /** Whether the panel exists and is visible. */
  panelVisible(): boolean;
  /** Feeds a message as if the webview had sent it. */
  receiveFromWebview(message: WebviewToHost): Promise<void>;
  /** Ranges decorated in visible editors right now. */
  decorations(): DecoratedRange[];
  /** Messages posted to the webview so far (ArrayBuffer payloads replaced by their byteLength). */
  postedMessages(): unknown[];
  /** Answers the next question the extension asks (e.g. whether to cut a long selection) with this choice. */
  answerNextPrompt(choice: string | undefined): void;
  /** Answers the panel exports' save dialogs with this function instead of asking (tests: a temp path). */
  setSaveDialog(show: (options: vscode.SaveDialogOptions) => Thenable<vscode.Uri | undefined>): void;
  /** The serializer that restores the panel after a window reload (tests call it with a panel and a saved state). */
  serializer: vscode.WebviewPanelSerializer;
}

export function activate(context: vscode.ExtensionContext): AttentionInspectorApi {
  const output = vscode.window.createOutputChannel('Attention Inspector');
  const controller = new InspectionController(context.extensionUri, output);
  // The panel survives a window reload: VS Code hands back the webview's saved state (panelRestore.ts).
  const serializer: vscode.WebviewPanelSerializer = { deserializeWebviewPanel: (panel, state) => controller.restore(panel, state) };
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, serializer),
    output,
    controller,
    vscode.commands.registerCommand('attentionInspector.showAttention', () => controller.showAttention()),
    vscode.commands.registerCommand('attentionInspector.chooseModel', () => chooseModel()),
    vscode.commands.registerCommand('attentionInspector.tryExample', (step: unknown) => tryExample(context.extensionUri, step)),
    vscode.commands.registerCommand('attentionInspector.openWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#learnAttention`, false),
    ),
  );
  const defaultAsk = controller.ask;
  return {
    whenIdle: () => controller.whenIdle(),
    lastSession: () => controller.lastSession(),
    panelVisible: () => controller.panelVisible,
    receiveFromWebview: async (message) => controller.receiveFromWebview(message),
    decorations: () => controller.decorationSnapshot(),
    postedMessages: () => [...controller.postedMessages],
    serializer,
    setSaveDialog: (show) => (controller.exports.io = { ...controller.exports.io, showSaveDialog: show }),
    answerNextPrompt: (choice) => {
      controller.ask = async () => {
        controller.ask = defaultAsk;
        return choice;
      };
    },
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
