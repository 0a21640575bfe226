// An exported SVG drawn into a canvas and read back as PNG (base64), so the panel's PNG is the same
// figure as its SVG, labels and legend included (the CLI does the same with resvg). The webview's
// CSP allows data: images; an SVG image without foreignObject leaves the canvas readable.

/** Larger SVGs are not rasterised (the caller falls back to what its canvas shows). */
export const MAX_RASTER_SVG_CHARS = 4_000_000;

export async function svgToPngBase64(svg: string, scale = 2): Promise<string | null> {
  if (svg.length > MAX_RASTER_SVG_CHARS) return null;
  const size = /<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
  if (!size) return null;
  const [width, height] = [Number(size[1]), Number(size[2])];
  const image = new Image();
  const loaded = new Promise<boolean>((resolve) => {
    image.onload = () => resolve(true);
    image.onerror = () => resolve(false);
  });
  image.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  if (!(await loaded)) return null;
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(width * scale);
  canvas.height = Math.ceil(height * scale);
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const url = canvas.toDataURL('image/png');
  const comma = url.indexOf(',');
  return comma >= 0 ? url.slice(comma + 1) : null;
}
