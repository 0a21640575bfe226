// A minimal PNG writer (8-bit RGB, one IDAT, zlib from Node) for `render --format png`: the
// heatmap's cells only. Text needs a font rasteriser, which the CLI does not have without a
// browser, so a PNG has no axis labels or legend; the SVG export has both.
import * as zlib from 'zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** [rows, columns] values drawn as cellPx × cellPx squares coloured by rgbOf. */
export function cellsPng(rows: number, columns: number, values: ArrayLike<number>, rgbOf: (weight: number) => [number, number, number], cellPx = 8): Buffer {
  const width = columns * cellPx;
  const height = rows * cellPx;
  if (width === 0 || height === 0) throw new Error('PNG: nothing to draw');
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const i = Math.floor(y / cellPx);
    raw[y * stride] = 0; // filter: none
    for (let j = 0; j < columns; j++) {
      const [r, g, b] = rgbOf(Number(values[i * columns + j]));
      for (let dx = 0; dx < cellPx; dx++) {
        const at = y * stride + 1 + (j * cellPx + dx) * 3;
        raw[at] = r;
        raw[at + 1] = g;
        raw[at + 2] = b;
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
