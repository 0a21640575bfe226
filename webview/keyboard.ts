// Panel-wide keys: ←/→ move the focused token, [ ] step through the heads (mean included),
// { } through the layers, g / G through the attention groups (encoder–decoder runs), Escape unpins. Widgets with their own arrow keys (the side panel's
// listbox) stop those events before they get here.

export interface KeyboardActions {
  moveToken(delta: number): void;
  /** Home/End inside the token strip. */
  jumpToken(to: 'first' | 'last'): void;
  stepHead(delta: number): void;
  stepLayer(delta: number): void;
  stepGroup(delta: number): void;
  unpin(): void;
}

export function installKeyboard(root: Document, actions: KeyboardActions): void {
  root.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isEditable(event.target)) return;
    const inStrip = event.target instanceof Element && event.target.closest('.token-flow') !== null;
    let handled = true;
    switch (event.key) {
      case 'ArrowLeft':
        actions.moveToken(-1);
        break;
      case 'ArrowRight':
        actions.moveToken(1);
        break;
      case 'Home':
      case 'End':
        if (!inStrip) return;
        actions.jumpToken(event.key === 'Home' ? 'first' : 'last');
        break;
      case '[':
        actions.stepHead(-1);
        break;
      case ']':
        actions.stepHead(1);
        break;
      case '{':
        actions.stepLayer(-1);
        break;
      case '}':
        actions.stepLayer(1);
        break;
      case 'g':
        actions.stepGroup(1);
        break;
      case 'G':
        actions.stepGroup(-1);
        break;
      case 'Escape':
        actions.unpin();
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}
