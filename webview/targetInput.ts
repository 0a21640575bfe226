// The target text of an encoder–decoder run: what the decoder read, prefilled with the session's
// target and saying whether that was the model's own greedy output or text the user gave. Run (or
// Enter; Shift+Enter for a new line) asks the host to run again with the typed text, "Use model
// output" with the model's greedy output. Empty text sends nothing and says why next to the field.

import { MAX_TARGET_CHARS } from '../src/shared/protocol';
import { el } from './dom';
import { t } from './l10n';

export interface TargetInputEvents {
  /** Run again with this target (null: the model's own greedy output). */
  onSubmit(text: string | null): void;
}

export class TargetInput {
  readonly element: HTMLElement;
  private readonly field: HTMLTextAreaElement;
  private readonly note: HTMLElement;
  private readonly hint: HTMLElement;

  constructor(private readonly events: TargetInputEvents) {
    this.field = el('textarea', 'target-field', {
      id: 'target-field',
      rows: 2,
      maxlength: MAX_TARGET_CHARS,
      spellcheck: 'false',
      'aria-describedby': 'target-note target-hint',
    });
    this.note = el('p', 'target-note', { id: 'target-note' });
    this.hint = el('p', 'target-hint', { id: 'target-hint', role: 'status', 'aria-live': 'polite' });
    const run = el('button', 'target-run', { type: 'button', title: t('Run the model again with this target (Enter)') }, t('Run'));
    const useModel = el('button', 'target-model', { type: 'button', title: t('Run again with the model’s own greedy output as the target') }, t('Use model output'));
    this.element = el(
      'div',
      'target-input',
      { role: 'group', 'aria-label': t('Target') },
      el('label', 'target-label', { id: 'target-label', for: 'target-field' }, t('Target text (decoder input)')),
      this.field,
      el('div', 'target-actions', undefined, run, useModel, this.note),
      this.hint,
    );
    run.addEventListener('click', () => this.submit());
    useModel.addEventListener('click', () => {
      this.showHint('');
      this.events.onSubmit(null);
    });
    this.field.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      this.submit();
    });
    this.field.addEventListener('input', () => {
      if (this.field.value.trim() !== '') this.showHint('');
    });
  }

  /** A new run: the target the decoder read, and where it came from. */
  setTarget(text: string, generated: boolean): void {
    this.field.value = text;
    this.note.textContent = generated ? t('The model’s own greedy output.') : t('Your text.');
    this.element.dataset.generated = String(generated);
    this.showHint('');
  }

  private submit(): void {
    const text = this.field.value;
    if (text.trim() === '') {
      this.showHint(t('Type a target text to run, or use the model output.'));
      this.field.focus();
      return;
    }
    if (text.length > MAX_TARGET_CHARS) {
      this.showHint(t('The target may have at most {0} characters (it has {1}).', MAX_TARGET_CHARS, text.length));
      return;
    }
    this.showHint('');
    this.events.onSubmit(text);
  }

  private showHint(message: string): void {
    // Emptied rather than hidden: a live region must stay rendered to be announced.
    this.hint.textContent = message;
    if (message === '') this.field.removeAttribute('aria-invalid');
    else this.field.setAttribute('aria-invalid', 'true');
  }
}
