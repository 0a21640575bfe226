// Colour arithmetic for the canvases: parsing whatever CSS colour a theme defines, mixing in
// OKLab (perceptually even steps, so a ramp's midpoints neither go muddy nor wash out), and
// packing RGB into the Uint32 layout of ImageData for fast fills.

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

interface Oklab {
  l: number;
  a: number;
  b: number;
}

let parser: CanvasRenderingContext2D | null | undefined;

/**
 * Parses any CSS colour (hex with or without alpha, rgb(), hsl(), names) by letting a canvas
 * normalise it; translucent colours are composited over `under`. Undefined when it is not a colour.
 */
export function parseCssColor(value: string, under: Rgb): Rgb | undefined {
  const text = value.trim();
  if (!text) return undefined;
  if (parser === undefined) parser = document.createElement('canvas').getContext('2d');
  if (!parser) return undefined;
  // An invalid colour leaves fillStyle unchanged, so two different sentinels reveal rejection.
  parser.fillStyle = '#010203';
  parser.fillStyle = text;
  const first = String(parser.fillStyle);
  parser.fillStyle = '#040506';
  parser.fillStyle = text;
  if (String(parser.fillStyle) !== first) return undefined;
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(first);
  if (hex) return { r: parseInt(hex[1], 16), g: parseInt(hex[2], 16), b: parseInt(hex[3], 16) };
  const rgba = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(first);
  if (!rgba) return undefined;
  const alpha = rgba[4] === undefined ? 1 : Number(rgba[4]);
  const over = (channel: string, base: number) => Math.round(Number(channel) * alpha + base * (1 - alpha));
  return { r: over(rgba[1], under.r), g: over(rgba[2], under.g), b: over(rgba[3], under.b) };
}

export function cssRgb({ r, g, b }: Rgb, alpha = 1): string {
  return alpha >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Relative luminance (WCAG), 0 black .. 1 white. */
export function luminance({ r, g, b }: Rgb): number {
  return 0.2126 * toLinear(r) + 0.7152 * toLinear(g) + 0.0722 * toLinear(b);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

/** RGB -> one opaque pixel in ImageData's byte order (RGBA in memory), viewed as a Uint32. */
export function packRgb({ r, g, b }: Rgb): number {
  return LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

/** Mixes `from` towards `to` by t in [0, 1], in OKLab. */
export function mixColors(from: Rgb, to: Rgb, t: number): Rgb {
  const a = toOklab(from);
  const b = toOklab(to);
  return fromOklab({ l: a.l + (b.l - a.l) * t, a: a.a + (b.a - a.a) * t, b: a.b + (b.b - a.b) * t });
}

/** A colour from OKLCH: lightness 0..1, chroma ~0..0.3, hue in degrees (clipped to sRGB). */
export function oklch(lightness: number, chroma: number, hueDegrees: number): Rgb {
  const hue = (hueDegrees * Math.PI) / 180;
  return fromOklab({ l: lightness, a: chroma * Math.cos(hue), b: chroma * Math.sin(hue) });
}

function toLinear(channel: number): number {
  const v = channel / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function fromLinear(v: number): number {
  const c = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}

// Björn Ottosson's OKLab matrices (sRGB primaries, D65).
function toOklab(color: Rgb): Oklab {
  const r = toLinear(color.r);
  const g = toLinear(color.g);
  const b = toLinear(color.b);
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return {
    l: 0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    a: 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    b: 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  };
}

function fromOklab(color: Oklab): Rgb {
  const l = (color.l + 0.3963377774 * color.a + 0.2158037573 * color.b) ** 3;
  const m = (color.l - 0.1055613458 * color.a - 0.0638541728 * color.b) ** 3;
  const s = (color.l - 0.0894841775 * color.a - 1.291485548 * color.b) ** 3;
  return {
    r: fromLinear(4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s),
    g: fromLinear(-1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s),
    b: fromLinear(-0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s),
  };
}
