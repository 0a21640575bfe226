// Reads the VS Code theme (the --vscode-* CSS variables and the body's vscode-light/-dark/
// -high-contrast class) into the colours the canvases paint with. Canvases cannot use CSS
// variables directly, so this is re-run whenever VS Code switches theme.

import { RAMP_STEPS } from './colorScale';
import { cssRgb, luminance, mixColors, oklch, packRgb, parseCssColor, type Rgb } from './colorMath';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  background: Rgb;
  foreground: Rgb;
  /** Secondary text (axis labels). */
  muted: Rgb;
  /** The heatmap's hue and the highlight colour. */
  accent: Rgb;
  focus: Rgb;
  /** RAMP_STEPS packed pixels from weight 0 (the editor background) to weight 1. */
  ramp: Uint32Array;
  /** The same ramp as CSS colours, for the legend and the token highlights. */
  rampCss: string[];
  /** Masked (future) cells: a neutral grey hatch that can never be mistaken for a zero weight. */
  maskBase: Rgb;
  maskLine: Rgb;
  /** One colour per head, taken from the theme's chart colours. */
  chartColors: Rgb[];
  labelFontFamily: string;
}

interface Fallback {
  background: string;
  foreground: string;
  focus: string;
  charts: string[];
}

const CHART_VARIABLES = ['blue', 'red', 'green', 'yellow', 'orange', 'purple'].map((name) => `--vscode-charts-${name}`);

const FALLBACKS: Record<ThemeKind, Fallback> = {
  dark: { background: '#1e1e1e', foreground: '#cccccc', focus: '#007fd4', charts: ['#3794ff', '#f14c4c', '#89d185', '#cca700', '#d18616', '#b180d7'] },
  light: { background: '#ffffff', foreground: '#3b3b3b', focus: '#0090f1', charts: ['#1a85ff', '#e51400', '#388a34', '#bf8803', '#d18616', '#652d90'] },
  'high-contrast': { background: '#000000', foreground: '#ffffff', focus: '#f38518', charts: ['#3794ff', '#f14c4c', '#89d185', '#cca700', '#d18616', '#b180d7'] },
  'high-contrast-light': { background: '#ffffff', foreground: '#292929', focus: '#006bbd', charts: ['#1a85ff', '#e51400', '#388a34', '#bf8803', '#d18616', '#652d90'] },
};

export function themeKindOf(body: HTMLElement): ThemeKind {
  const classes = body.classList;
  if (classes.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.contains('vscode-high-contrast')) return 'high-contrast';
  if (classes.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(body: HTMLElement = document.body): Theme {
  const style = getComputedStyle(body);
  const declaredKind = themeKindOf(body);
  const fallback = FALLBACKS[declaredKind];
  const read = (names: string[], fallbackColor: string, under: Rgb): Rgb => {
    for (const name of names) {
      const parsed = parseCssColor(style.getPropertyValue(name), under);
      if (parsed) return parsed;
    }
    return parseCssColor(fallbackColor, under) ?? under;
  };
  const black = { r: 0, g: 0, b: 0 };
  const background = read(['--vscode-editor-background'], fallback.background, black);
  // A theme without the class (a plain browser) still gets a ramp that suits its background.
  const kind: ThemeKind = body.classList.length === 0 && luminance(background) > 0.5 ? 'light' : declaredKind;
  const foreground = read(['--vscode-editor-foreground', '--vscode-foreground'], FALLBACKS[kind].foreground, background);
  const muted = read(['--vscode-descriptionForeground'], cssRgb(mixColors(background, foreground, 0.7)), background);
  const focus = read(['--vscode-focusBorder'], FALLBACKS[kind].focus, background);
  const chartColors = CHART_VARIABLES.map((name, index) => read([name], FALLBACKS[kind].charts[index], background));
  const accent = chartColors[0];
  const { ramp, rampCss } = buildRamp(background, accent, foreground, kind);
  const highContrast = kind === 'high-contrast' || kind === 'high-contrast-light';
  return {
    kind,
    background,
    foreground,
    muted,
    accent,
    focus,
    ramp,
    rampCss,
    maskBase: mixColors(background, foreground, highContrast ? 0.2 : 0.12),
    maskLine: mixColors(background, foreground, highContrast ? 0.45 : 0.27),
    chartColors,
    labelFontFamily: style.getPropertyValue('--vscode-editor-font-family').trim() || 'ui-monospace, Menlo, Consolas, monospace',
  };
}

/**
 * Background -> accent -> (accent towards the foreground): zero attention melts into the editor
 * background, and the strongest weights go brighter in dark themes and darker in light ones.
 */
function buildRamp(background: Rgb, accent: Rgb, foreground: Rgb, kind: ThemeKind): { ramp: Uint32Array; rampCss: string[] } {
  const peak = mixColors(accent, foreground, kind === 'light' ? 0.45 : 0.55);
  const accentAt = 0.6;
  const ramp = new Uint32Array(RAMP_STEPS);
  const rampCss: string[] = [];
  for (let i = 0; i < RAMP_STEPS; i++) {
    const t = i / (RAMP_STEPS - 1);
    const color = t <= accentAt ? mixColors(background, accent, t / accentAt) : mixColors(accent, peak, (t - accentAt) / (1 - accentAt));
    ramp[i] = packRgb(color);
    rampCss.push(cssRgb(color));
  }
  // Exactly the background at zero, whatever rounding the mixing did.
  ramp[0] = packRgb(background);
  rampCss[0] = cssRgb(background);
  return { ramp, rampCss };
}

/**
 * Head h's colour: the theme's six chart colours first, then further hues at the golden angle
 * with the chart colours' average lightness, so every head of a 12- or 16-head model differs.
 */
export function headColor(theme: Theme, head: number): Rgb {
  if (head < 0) return theme.foreground;
  if (head < theme.chartColors.length) return theme.chartColors[head];
  const lightness = theme.kind === 'light' || theme.kind === 'high-contrast-light' ? 0.55 : 0.74;
  return oklch(lightness, 0.14, (25 + (head - theme.chartColors.length) * 137.508 + 180) % 360);
}

export function headColorCss(theme: Theme, head: number): string {
  return cssRgb(headColor(theme, head));
}
