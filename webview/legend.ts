// The colour legend under the heatmap title: the ramp with ticks at the current scale's
// landmark weights, plus a swatch of the hatch that marks masked (future) cells.

import type { ColorScale } from '../src/shared/protocol';
import { packRgb } from './colorMath';
import { legendTicks, RAMP_STEPS, scaleWeight } from './colorScale';
import { el } from './dom';
import type { Theme } from './theme';
import { t } from './l10n';

const SCALE_NAMES: Record<ColorScale, () => string> = {
  linear: () => t('linear scale'),
  sqrt: () => t('square-root scale'),
  log: () => t('log (1e-4 … 1) scale'),
};

export class Legend {
  readonly element: HTMLElement;
  private readonly bar: HTMLCanvasElement;
  private readonly ticks: HTMLElement;
  private readonly scaleName: HTMLElement;
  private readonly maskItem: HTMLElement;
  private readonly maskSwatch: HTMLCanvasElement;

  constructor() {
    this.bar = el('canvas', 'legend-bar', { 'aria-hidden': 'true', width: RAMP_STEPS, height: 1 });
    this.ticks = el('div', 'legend-ticks', { 'aria-hidden': 'true' });
    this.scaleName = el('span', 'legend-scale');
    this.maskSwatch = el('canvas', 'mask-swatch', { 'aria-hidden': 'true', width: 24, height: 12 });
    this.maskItem = el('span', 'legend-mask', undefined, this.maskSwatch, el('span', undefined, undefined, t('masked')));
    this.element = el(
      'div',
      'legend',
      { role: 'group', 'aria-label': t('Colour legend') },
      el('span', 'legend-label', undefined, t('weight')),
      el('div', 'legend-scale-wrap', undefined, this.bar, this.ticks),
      this.scaleName,
      this.maskItem,
    );
  }

  update(scale: ColorScale, theme: Theme, causal: boolean): void {
    this.paintBar(theme);
    this.paintMask(theme);
    this.maskItem.hidden = !causal;
    this.scaleName.textContent = SCALE_NAMES[scale]();
    this.ticks.replaceChildren(
      ...legendTicks(scale).map(({ weight, label }, index, all) => {
        const tick = el('span', index === 0 ? 'tick first' : index === all.length - 1 ? 'tick last' : 'tick', undefined, label);
        tick.style.left = `${scaleWeight(weight, scale) * 100}%`;
        return tick;
      }),
    );
  }

  private paintBar(theme: Theme): void {
    const context = this.bar.getContext('2d');
    if (!context) return;
    const image = context.createImageData(RAMP_STEPS, 1);
    new Uint32Array(image.data.buffer).set(theme.ramp);
    context.putImageData(image, 0, 0);
  }

  private paintMask(theme: Theme): void {
    const dpr = Math.max(1, Math.round(window.devicePixelRatio || 1));
    const width = 24 * dpr;
    const height = 12 * dpr;
    this.maskSwatch.width = width;
    this.maskSwatch.height = height;
    const context = this.maskSwatch.getContext('2d');
    if (!context) return;
    const image = context.createImageData(width, height);
    const pixels = new Uint32Array(image.data.buffer);
    const base = packRgb(theme.maskBase);
    const line = packRgb(theme.maskLine);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) pixels[y * width + x] = (x + y) % (6 * dpr) < 2 * dpr ? line : base;
    }
    context.putImageData(image, 0, 0);
  }
}
