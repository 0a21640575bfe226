// Entry point of the panel's script (dist/webview.js). Installs the error reporting, builds the
// panel, listens for the host's messages, then says `ready`: the host posts nothing before that.

import { isHostMessage } from '../src/shared/protocol';
import { Panel } from './panel';
import { connectToHost } from './vscodeApi';
import { t } from './l10n';

const host = connectToHost();

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

window.addEventListener('error', (event) => {
  host.post({ type: 'webviewError', message: `${event.message} (${event.filename}:${event.lineno}:${event.colno})` });
});
window.addEventListener('unhandledrejection', (event) => {
  host.post({ type: 'webviewError', message: `Unhandled rejection: ${describe(event.reason)}` });
});

function start(): void {
  const root = document.getElementById('app');
  if (!root) {
    host.post({ type: 'webviewError', message: 'The panel page has no #app element.' });
    return;
  }
  const panel = new Panel(root, host);

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (!isHostMessage(message)) return;
    try {
      panel.handle(message);
    } catch (error) {
      panel.reportProblem(t('The panel failed to handle “{0}”: {1}', message.type, describe(error)));
    }
  });

  // VS Code switches theme by changing the body's class and the --vscode-* variables on <html>.
  let themeFrame = 0;
  const onThemeChange = () => {
    if (themeFrame) return;
    themeFrame = requestAnimationFrame(() => {
      themeFrame = 0;
      panel.themeChanged();
    });
  };
  new MutationObserver(onThemeChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  new MutationObserver(onThemeChange).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

  // Moving the window to a screen with another pixel ratio changes how many device pixels a cell has.
  const watchPixelRatio = () => {
    const query = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    query.addEventListener(
      'change',
      () => {
        panel.measure();
        watchPixelRatio();
      },
      { once: true },
    );
  };
  watchPixelRatio();

  host.post({ type: 'ready' });
}

start();
