// SVG -> PNG for `render --format png`, with the labels and legend: resvg (@resvg/resvg-js, a Rust SVG
// renderer with prebuilt binaries per platform) draws the same SVG the svg format writes, with the
// system's fonts (CJK labels need a CJK font such as Debian's fonts-noto-cjk). Loaded only when asked
// for; where it is missing (the packaged extension does not ship it) the PNG is the cells only.

interface ResvgModule {
  Resvg: new (svg: string, options: object) => { render(): { asPng(): Buffer } };
}

let resvg: ResvgModule | null | undefined;

function loadResvg(): ResvgModule | null {
  if (resvg === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native module, loaded on demand
      resvg = require('@resvg/resvg-js') as ResvgModule;
    } catch {
      resvg = null;
    }
  }
  return resvg;
}

/** Whether labelled PNGs can be drawn here. */
export function canRasterise(): boolean {
  return loadResvg() !== null;
}

/** The SVG drawn at `scale` device pixels per SVG unit; null where resvg is missing. */
export function svgToPng(svg: string, scale = 2): Buffer | null {
  const module = loadResvg();
  if (!module) return null;
  return new module.Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  }).render().asPng();
}

