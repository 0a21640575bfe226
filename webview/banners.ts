// The busy indicator (a run is being computed; the old view stays until replaced) and the error
// banner (a run failed; also kept until dismissed or replaced by a new session).

import { el } from './dom';
import { t } from './l10n';

export class Banners {
  readonly element: HTMLElement;
  private readonly busy: HTMLElement;
  private readonly busyText: HTMLElement;
  private readonly error: HTMLElement;
  private readonly errorText: HTMLElement;

  constructor() {
    this.busyText = el('span', 'busy-text');
    this.busy = el('div', 'busy', { role: 'status', 'aria-live': 'polite', hidden: true }, el('span', 'spinner', { 'aria-hidden': 'true' }), this.busyText);
    this.errorText = el('span', 'error-text');
    const dismiss = el('button', 'dismiss', { type: 'button', 'aria-label': t('Dismiss error'), title: t('Dismiss') }, '×');
    dismiss.addEventListener('click', () => this.hideError());
    this.error = el('div', 'error-banner', { role: 'alert', hidden: true }, el('span', 'error-icon', { 'aria-hidden': 'true' }, '!'), this.errorText, dismiss);
    this.element = el('div', 'banners', undefined, this.busy, this.error);
  }

  showBusy(message: string): void {
    this.busyText.textContent = message || t('Computing attention…');
    this.busy.hidden = false;
    document.body.classList.add('is-busy');
  }

  hideBusy(): void {
    this.busy.hidden = true;
    document.body.classList.remove('is-busy');
  }

  showError(message: string): void {
    this.errorText.textContent = message || t('Something went wrong.');
    this.error.hidden = false;
  }

  hideError(): void {
    this.error.hidden = true;
  }
}
