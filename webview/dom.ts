// A tiny element factory: the panel builds its DOM in code (never from HTML strings), so nothing
// can smuggle markup or inline styles past the Content-Security-Policy.

type Attributes = Record<string, string | number | boolean | undefined>;

/** Creates <tag class="className"> with the given attributes and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  attributes?: Attributes,
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (attributes) setAttributes(element, attributes);
  for (const child of children) element.append(child);
  return element;
}

/** Sets attributes; `false` and `undefined` remove them, `true` sets them empty. */
export function setAttributes(element: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) element.removeAttribute(name);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes?: Attributes): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  if (attributes) setAttributes(element, attributes);
  return element;
}

/** Reads the integer stored in data-<name> of the closest ancestor that has it, or undefined. */
export function closestIndex(target: EventTarget | null, selector: string, name: string): number | undefined {
  if (!(target instanceof Element)) return undefined;
  const found = target.closest<HTMLElement>(selector);
  if (!found) return undefined;
  const value = Number(found.dataset[name]);
  return Number.isInteger(value) ? value : undefined;
}

/** What a view's status line says: a hint, work in progress, an error (announced at once), or nothing. */
export type StatusKind = 'hint' | 'loading' | 'error' | 'variation' | 'none';

/** Sets a status line: its text, its kind (data-kind, for the stylesheet), hidden when empty, role alert for errors. */
export function setStatusLine(status: HTMLElement, text: string, kind: StatusKind): void {
  status.textContent = text;
  status.dataset.kind = kind;
  status.hidden = text === '';
  status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}
