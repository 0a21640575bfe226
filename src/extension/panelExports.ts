// The panel's "Export SVG / CSV / PNG / JSON" and "Copy CSV": the webview builds the head's SVG, CSV
// or PNG (src/shared/exportFormats.ts, the canvas) and posts an already validated ExportMessage
// (protocol.ts: format enum, size cap, file name); here the host asks where to save it and writes
// the file, builds the JSON (the CLI's `run --json` format) from the shown run, or copies the CSV.
// Only the JSON needs the run's whole attention: it is brought here (materialized) for that alone.
import * as vscode from 'vscode';
import { toJsonReport } from '../cli/format';
import { materializeResult, type HeldRun } from '../core/heldAttention';
import type { ExportMessage } from '../shared/protocol';

type FileFormat = Exclude<ExportMessage['format'], 'copyCsv'>;

const FILTERS: Record<FileFormat, Record<string, string[]>> = {
  svg: { SVG: ['svg'] },
  csv: { CSV: ['csv'] },
  png: { PNG: ['png'] },
  json: { JSON: ['json'] },
};

/** The dialogs and the clipboard; tests replace them. */
export interface ExportIo {
  showSaveDialog(options: vscode.SaveDialogOptions): Thenable<vscode.Uri | undefined>;
  writeFile(uri: vscode.Uri, bytes: Uint8Array): Thenable<void>;
  writeClipboard(text: string): Thenable<void>;
  info(message: string): void;
}

export class PanelExports {
  io: ExportIo = {
    showSaveDialog: (options) => vscode.window.showSaveDialog(options),
    writeFile: (uri, bytes) => vscode.workspace.fs.writeFile(uri, bytes),
    writeClipboard: (text) => vscode.env.clipboard.writeText(text),
    info: (message) => void vscode.window.showInformationMessage(message),
  };

  constructor(private readonly log: (line: string) => void) {}

  /** Writes or copies one export; `run` is the run the message's session shows (undefined: an older session, dropped). */
  async handle(message: ExportMessage, run: HeldRun | undefined): Promise<void> {
    if (!run) return;
    if (message.format === 'copyCsv') {
      await this.io.writeClipboard(message.content ?? '');
      this.io.info(vscode.l10n.t('Attention Inspector: the CSV of the shown head is on the clipboard.'));
      return;
    }
    const bytes = await contentOf(message as ExportMessage & { format: FileFormat }, run);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${message.name}.${message.format}`;
    const uri = await this.io.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: FILTERS[message.format as FileFormat],
      saveLabel: vscode.l10n.t('Export'),
    });
    if (!uri) return;
    await this.io.writeFile(uri, bytes);
    this.log(`Exported ${message.format} to ${uri.toString()} (${bytes.length} bytes).`);
  }
}

async function contentOf(message: ExportMessage & { format: FileFormat }, run: HeldRun): Promise<Uint8Array> {
  switch (message.format) {
    case 'png':
      return Buffer.from(message.base64 ?? '', 'base64');
    case 'json':
      return Buffer.from(JSON.stringify(toJsonReport(await materializeResult(run))), 'utf8');
    case 'svg':
    case 'csv':
      return Buffer.from(message.content ?? '', 'utf8');
  }
}
