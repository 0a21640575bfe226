// One vector as a small bar strip on a canvas: one bar per entry (positive up, negative down from a
// middle line), or, when there are more entries than pixels, each pixel column spans the min..max
// of its entries. One DOM node however long the vector. The exact numbers are in the element's
// title and aria-label, and a pointer over the strip reports the entry under it.

import { el } from './dom';
import { exactNumber, exactVector, formatNumber, norm } from './stepViewFormat';
import { t } from './l10n';

export interface StripColors {
  positive: string;
  negative: string;
  axis: string;
}

export interface VectorStripOptions {
  /** Accessible name, e.g. "k_2 (爱)". */
  label: string;
  /** Widest the strip gets, in CSS pixels. */
  maxWidth?: number;
  height?: number;
  /** Values at or beyond ±range fill the half height; default the vector's own largest |entry|. */
  range?: number;
  /** Called with the entry under the pointer (or null when it leaves). */
  onPointEntry?: (entry: number | null) => void;
}

/** A bar strip's canvas width for a vector of `size` entries: 3 px per entry between 24 and maxWidth. */
export function stripWidth(size: number, maxWidth = 120): number {
  return Math.max(24, Math.min(maxWidth, size * 3));
}

export class VectorStrip {
  readonly element: HTMLCanvasElement;
  private readonly width: number;
  private readonly height: number;

  constructor(
    readonly values: readonly number[],
    private readonly options: VectorStripOptions,
  ) {
    this.width = stripWidth(values.length, options.maxWidth);
    this.height = options.height ?? 22;
    this.element = el('canvas', 'sv-strip', {
      role: 'img',
      'aria-label': `${options.label}: ${t('{0} entries, norm {1}, {2}', values.length, formatNumber(norm(values)), exactVector(values))}`,
      title: `${options.label} ${t('({0} entries, |·| = {1})', values.length, formatNumber(norm(values)))}\n${exactVector(values, 16)}`,
    });
    this.element.style.width = `${this.width}px`;
    this.element.style.height = `${this.height}px`;
    if (options.onPointEntry) {
      const report = options.onPointEntry;
      this.element.addEventListener('mousemove', (event) => report(this.entryAt(event.offsetX)));
      this.element.addEventListener('mouseleave', () => report(null));
    }
  }

  /** The entry under x (CSS pixels from the strip's left edge). */
  entryAt(x: number): number {
    const n = this.values.length;
    return Math.max(0, Math.min(n - 1, Math.floor((x / this.width) * n)));
  }

  describeEntry(entry: number): string {
    return `${this.options.label}[${entry}] = ${exactNumber(this.values[entry])}`;
  }

  paint(colors: StripColors): void {
    const dpr = window.devicePixelRatio || 1;
    const canvas = this.element;
    canvas.width = Math.round(this.width * dpr);
    canvas.height = Math.round(this.height * dpr);
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.clearRect(0, 0, this.width, this.height);
    const values = this.values;
    const n = values.length;
    if (n === 0) return;
    let range = this.options.range ?? 0;
    if (!(range > 0)) for (const v of values) range = Math.max(range, Math.abs(v));
    if (!(range > 0)) range = 1;
    const mid = this.height / 2;
    const half = mid - 1;
    const y = (v: number) => mid - Math.max(-1, Math.min(1, v / range)) * half;
    context.fillStyle = colors.axis;
    context.fillRect(0, Math.floor(mid), this.width, 1);
    if (n <= this.width) {
      const step = this.width / n;
      const gap = step >= 3 ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (!Number.isFinite(v) || v === 0) continue;
        const top = Math.min(y(v), mid);
        const bottom = Math.max(y(v), mid);
        context.fillStyle = v > 0 ? colors.positive : colors.negative;
        context.fillRect(i * step, top, Math.max(1, step - gap), Math.max(1, bottom - top));
      }
    } else {
      for (let x = 0; x < this.width; x++) {
        const from = Math.floor((x / this.width) * n);
        const to = Math.max(from + 1, Math.floor(((x + 1) / this.width) * n));
        let low = 0;
        let high = 0;
        for (let i = from; i < to; i++) {
          const v = values[i];
          if (!Number.isFinite(v)) continue;
          low = Math.min(low, v);
          high = Math.max(high, v);
        }
        if (high > 0) {
          context.fillStyle = colors.positive;
          context.fillRect(x, y(high), 1, Math.max(1, mid - y(high)));
        }
        if (low < 0) {
          context.fillStyle = colors.negative;
          context.fillRect(x, mid, 1, Math.max(1, y(low) - mid));
        }
      }
    }
  }
}
