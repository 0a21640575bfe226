// The export toolbar a view puts under its figure ("Export SVG", "Export PNG", …): one Tab stop, the
// arrow keys (Home, End) move between the buttons (a roving tabindex); a click calls back with the format.
import type { ExportFormat } from '../src/shared/protocol';
import { el } from './dom';

export interface ExportButton {
  format: ExportFormat;
  label: string;
}

export function exportBar(label: string, choices: readonly ExportButton[], onExport: (format: ExportFormat) => void): HTMLElement {
  const buttons = choices.map(({ format, label: text }) => {
    const node = el('button', 'export-button', { type: 'button', 'data-format': format }, text);
    node.addEventListener('click', () => onExport(format));
    return node;
  });
  buttons.forEach((node, index) => (node.tabIndex = index === 0 ? 0 : -1));
  const bar = el('div', 'export-bar', { role: 'toolbar', 'aria-label': label }, ...buttons);
  bar.addEventListener('keydown', (event) => {
    const current = buttons.indexOf(event.target as HTMLButtonElement);
    const next = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (current < 0 || next === undefined) return;
    event.preventDefault();
    const target = buttons[(next + buttons.length) % buttons.length];
    buttons.forEach((node) => (node.tabIndex = node === target ? 0 : -1));
    target.focus();
  });
  return bar;
}
