// Text widths without layout: a canvas measures a string in the font the DOM would use, once per
// (font, text). Virtualised lists (the token strip, the link columns) place thousands of labels
// from these widths instead of creating and measuring an element for each.

let context: CanvasRenderingContext2D | null | undefined;
/** The font last given to the canvas (it normalises what it is given, so compare with ours). */
let contextFont = '';
const cache = new Map<string, Map<string, number>>();

/** The CSS font shorthand of an element's computed style (reads style, never layout). */
export function fontOf(style: CSSStyleDeclaration): string {
  return `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
}

/** The advance width of `text` in `font`, in CSS pixels; 0 where no canvas is available. */
export function textWidth(font: string, text: string): number {
  let widths = cache.get(font);
  if (!widths) {
    widths = new Map();
    cache.set(font, widths);
  }
  const known = widths.get(text);
  if (known !== undefined) return known;
  if (context === undefined) context = document.createElement('canvas').getContext('2d');
  if (!context) return 0;
  if (contextFont !== font) {
    context.font = font;
    contextFont = font;
  }
  const width = context.measureText(text).width;
  widths.set(text, width);
  return width;
}
