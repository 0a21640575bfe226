// The model view: every layer × head of the current group as a small heatmap, on one canvas. The
// host pools each [Tq, Tk] map to at most THUMBNAIL_SIZE × THUMBNAIL_SIZE blocks (requestThumbnails,
// src/shared/replies.ts: block means, wholly masked blocks NaN), so the panel never holds L·H full
// maps; each thumbnail is coloured against its own strongest block (so weak heads still show their
// pattern). Thumbnails are painted a few at a time, one batch per animation frame, so a 12 × 12
// model at 512 tokens never stalls the panel. Over the canvas sits a grid of focusable cells
// (role="grid", roving tabindex, "Layer l, head h"): arrows move, Enter, Space or a click shows that
// head (the same as picking it in the side panel). The shown head is outlined; the pooled row that
// holds the focused or pinned query token is marked in every thumbnail. Head roles (requestRoles,
// scored on the host by src/core/analysis/headRoles.ts) give each cell a badge, its strongest role
// ("prev 0.98"), and every score in its aria-label and title; "Sort / highlight by role" badges every
// head with the chosen score, keeps the top heads bright (others dimmed) and lists them, best first.

import { gridSvg } from '../src/shared/exportGrid';
import { MEAN_HEAD, type ExportFormat, type HeadRole, type HeadRoleScores, type RolesMessage, type ThumbnailsMessage } from '../src/shared/protocol';
import { thumbnailBin } from '../src/shared/replies';
import { cssRgb, packRgb } from './colorMath';
import { rampIndex } from './colorScale';
import { closestIndex, el } from './dom';
import { exportBar } from './exportBar';
import { groupLabel } from './groups';
import { HEAD_ROLES, formatScore, headsByRole, roleBadge, roleExplanation, roleName, rolesText, strongestRole } from './headRoles';
import { t } from './l10n';
import { svgToPngBase64 } from './svgRaster';
import type { Theme } from './theme';
import type { PanelView, ViewActions, ViewContext, ViewSetup } from './view';

/** The largest thumbnail side the view asks for, in blocks. */
export const THUMBNAIL_SIZE = 32;
/** CSS px: the layer label column, the head label row, the gap between thumbnails. */
const LABEL_WIDTH = 30;
const HEADER_HEIGHT = 16;
const GAP = 4;
const MIN_THUMB = 18;
const MAX_THUMB = 64;
/** Painting stops for this frame once it has used this long (ms). */
const FRAME_BUDGET_MS = 6;
/** How many heads a chosen role highlights and lists (at most; fewer in a small model). */
export const TOP_ROLE_HEADS = 5;

export class ModelView implements PanelView {
  readonly id = 'model';
  readonly element: HTMLElement;
  private readonly canvas = el('canvas', 'model-canvas', { 'aria-hidden': 'true' });
  private readonly grid = el('div', 'model-grid', { role: 'grid', 'aria-label': t('Every layer and head') });
  private readonly hint = el('p', 'model-hint');
  private readonly stage = el('div', 'model-stage', undefined, this.canvas, this.grid);
  private readonly roleSelect = el('select', 'model-role-select', { id: 'model-role-select' });
  private readonly topList = el('ol', 'model-role-top', { 'aria-label': t('Top heads by the chosen role') });
  private readonly roleStatus = el('span', 'model-role-status', { 'aria-live': 'polite' });
  /** The current group's role scores (index layer·H + head), null: none for this group; undefined: not arrived. */
  private roles: readonly HeadRoleScores[] | null | undefined = undefined;
  private sortRole: HeadRole | '' = '';
  private readonly actions: ViewActions;
  private theme: Theme;
  private context: ViewContext | undefined;
  private cells: HTMLElement[][] = [];
  private layers = 0;
  private heads = 0;
  /** The current group's thumbnails, once arrived: [L, H, rows, columns]. */
  private thumbs: { key: string; rows: number; columns: number; data: Float32Array; tq: number } | null = null;
  /** Which (session, group) the view shows; replies for another are dropped. */
  private key = '';
  /** Thumbnails at their native size, side by side as on the grid ([H·columns] × [L·rows] pixels). */
  private atlas: HTMLCanvasElement | null = null;
  /** Maps painted into the atlas so far (in map order), and the frame that paints more. */
  private paintedMaps = 0;
  private paintFrame = 0;
  private paintFrames = 0;
  private thumbPx = 32;
  private focusCell = { layer: 0, head: 0 };
  private selected = { layer: -1, head: -1 };
  private queryToken: number | null = null;
  private measureFrame = 0;
  private readonly observer: ResizeObserver;

  constructor(setup: ViewSetup) {
    this.theme = setup.theme;
    this.actions = setup.actions;
    this.element = el(
      'section',
      'model-section',
      { 'aria-labelledby': 'model-title' },
      el('div', 'section-head', undefined, el('h2', 'section-title', { id: 'model-title' }, t('All heads'))),
      this.hint,
      this.roleControls(),
      this.stage,
      exportBar(t('Export every head'), [{ format: 'svg', label: t('Export SVG') }, { format: 'png', label: t('Export PNG') }], (format) => void this.export(format)),
      this.topList,
      el('ul', 'model-role-legend', { 'aria-label': t('Head roles') }, ...HEAD_ROLES.map((role) => el('li', undefined, { 'data-role': role }, roleExplanation(role)))),
    );
    this.roleSelect.addEventListener('change', () => {
      this.sortRole = this.roleSelect.value as HeadRole | '';
      this.showRoles();
    });
    this.topList.addEventListener('click', (event) => {
      const button = (event.target as Element | null)?.closest<HTMLElement>('button[data-layer]');
      if (button) this.pick(Number(button.dataset.layer), Number(button.dataset.head));
    });
    this.grid.addEventListener('click', (event) => {
      const cell = cellOf(event.target);
      if (cell) this.pick(cell.layer, cell.head);
    });
    this.grid.addEventListener('keydown', (event) => this.onKey(event));
    this.observer = new ResizeObserver(() => this.scheduleMeasure());
    this.observer.observe(this.element);
  }

  update(context: ViewContext): void {
    this.context = context;
    const { change } = context;
    switch (change.kind) {
      case 'session':
        this.theme = context.theme;
        return;
      case 'group':
        this.openGroup(context);
        return;
      case 'view':
        this.setSelected(context.state.layer, context.state.head);
        return;
      case 'focus':
        if (context.focus.token !== this.queryToken) {
          this.queryToken = context.focus.token;
          this.canvas.dataset.query = String(this.queryToken ?? '');
          this.compose();
        }
        return;
      case 'theme':
        this.theme = context.theme;
        this.repaint();
        return;
      case 'colorScale':
        this.repaint();
        return;
      case 'resize':
        this.measure();
        return;
      case 'arrived':
        return;
    }
  }

  dispose(): void {
    this.observer.disconnect();
    cancelAnimationFrame(this.paintFrame);
    cancelAnimationFrame(this.measureFrame);
  }

  // ---------------------------------------------------------------- the group's thumbnails

  private openGroup(context: ViewContext): void {
    const { group, session, state } = context;
    const [layers, heads, tq, tk] = group.dims;
    this.key = `${session.sessionId}:${state.group}`;
    this.thumbs = null;
    this.atlas = null;
    this.paintedMaps = 0;
    cancelAnimationFrame(this.paintFrame);
    this.paintFrame = 0;
    delete this.canvas.dataset.painted;
    this.element.dataset.state = 'loading';
    this.hint.textContent = t(
      'Every head of every layer, each pooled to at most {0} × {1} blocks (block means) and coloured against its own strongest block. Click a head, or move with the arrow keys and press Enter, to show it above.',
      Math.min(tq, THUMBNAIL_SIZE),
      Math.min(tk, THUMBNAIL_SIZE),
    );
    this.buildGrid(layers, heads);
    this.setSelected(state.layer, state.head);
    this.queryToken = context.focus.token;
    this.measure();
    const key = this.key;
    const groupIndex = state.group;
    this.roles = undefined;
    this.showRoles();
    void context.host.request({ type: 'requestRoles', sessionId: session.sessionId, group: groupIndex }).then((reply) => this.receiveRoles(reply, key));
    void context.host.request({ type: 'requestThumbnails', sessionId: session.sessionId, group: groupIndex, size: THUMBNAIL_SIZE }).then((reply) => this.receive(reply, key, tq));
  }

  private receive(reply: ThumbnailsMessage, key: string, tq: number): void {
    if (key !== this.key || `${reply.sessionId}:${reply.group}` !== key) return;
    const expected = this.layers * this.heads * reply.rows * reply.columns * 4;
    if (!(reply.data instanceof ArrayBuffer) || reply.data.byteLength !== expected || reply.rows < 1 || reply.columns < 1) {
      this.context?.host.post({ type: 'webviewError', message: `thumbnails: ${reply.data instanceof ArrayBuffer ? reply.data.byteLength : 0} bytes, expected ${expected}` });
      return;
    }
    this.thumbs = { key, rows: reply.rows, columns: reply.columns, data: new Float32Array(reply.data), tq };
    this.element.dataset.state = 'ready';
    this.repaint();
  }

  /** The grid as SVG or PNG (the same figure rasterised): thumbnails, headings and role badges. */
  private async export(format: ExportFormat): Promise<void> {
    const context = this.context;
    const thumbs = this.thumbs;
    if (!context || !thumbs || thumbs.key !== this.key) return;
    const roles = this.roles;
    const svgText = gridSvg(
      {
        layers: this.layers,
        heads: this.heads,
        rows: thumbs.rows,
        columns: thumbs.columns,
        data: thumbs.data,
        title: t('Every layer and head · {0}', groupLabel(context.group)),
        badges: roles ? roles.map((scores) => roleBadge(scores, this.sortRole || undefined)) : undefined,
        caption: t('Each head pooled to at most {0} × {1} blocks (block means), coloured against its own strongest block', thumbs.rows, thumbs.columns),
      },
      { headLabel: (head) => t('head {0}', head), layerLabel: (layer) => t('layer {0}', layer) },
    );
    const base = { type: 'export' as const, sessionId: context.session.sessionId, format, name: `heads-G${context.state.group}` };
    if (format === 'svg') context.host.post({ ...base, content: svgText });
    else if (format === 'png') {
      const base64 = await svgToPngBase64(svgText);
      if (base64) context.host.post({ ...base, base64 });
    }
  }

  // ---------------------------------------------------------------- head roles

  private roleControls(): HTMLElement {
    this.roleSelect.append(el('option', undefined, { value: '' }, t('strongest role of each head')));
    for (const role of HEAD_ROLES) this.roleSelect.append(el('option', undefined, { value: role }, roleName(role)));
    return el('div', 'model-role-controls', undefined, el('label', undefined, { for: 'model-role-select' }, t('Sort / highlight by role')), this.roleSelect, this.roleStatus);
  }

  private receiveRoles(reply: RolesMessage, key: string): void {
    if (key !== this.key || `${reply.sessionId}:${reply.group}` !== key) return;
    const valid = reply.roles && reply.roles.length === this.layers * this.heads ? reply.roles : null;
    this.roles = valid;
    this.showRoles();
  }

  /** Badges, labels, highlight and the top list, from the roles and the chosen score. */
  private showRoles(): void {
    const roles = this.roles;
    const role = this.sortRole || undefined;
    const ranked = roles && role ? headsByRole(roles, role).slice(0, Math.min(TOP_ROLE_HEADS, roles.length)) : [];
    const rank = new Map(ranked.map((index, position) => [index, position + 1]));
    this.element.dataset.roles = roles === undefined ? 'loading' : roles === null ? 'none' : 'ready';
    this.element.dataset.sortRole = this.sortRole;
    for (let layer = 0; layer < this.layers; layer++) {
      for (let head = 0; head < this.heads; head++) {
        const cell = this.cell(layer, head);
        if (!cell) continue;
        const scores = roles?.[layer * this.heads + head];
        let badge = cell.querySelector<HTMLElement>('.model-role');
        const label = t('Layer {0}, head {1}', layer, head);
        const title = t('Layer {0} · head {1}', layer, head);
        if (!scores) {
          badge?.remove();
          cell.setAttribute('aria-label', label);
          cell.title = title;
          delete cell.dataset.role;
          delete cell.dataset.rank;
          delete cell.dataset.dim;
          continue;
        }
        if (!badge) {
          badge = el('span', 'model-role', { 'aria-hidden': 'true' });
          cell.append(badge);
        }
        badge.textContent = roleBadge(scores, role);
        const text = rolesText(scores);
        const position = rank.get(layer * this.heads + head);
        const ranking = position === undefined ? '' : ` ${t('Rank {0} by {1}.', position, roleName(role!))}`;
        cell.setAttribute('aria-label', `${label}. ${text}.${ranking}`);
        cell.title = `${title}\n${text}`;
        cell.dataset.role = role ?? strongestRole(scores).role;
        if (position === undefined) delete cell.dataset.rank;
        else cell.dataset.rank = String(position);
        if (role && position === undefined) cell.dataset.dim = 'true';
        else delete cell.dataset.dim;
      }
    }
    this.roleSelect.disabled = !roles;
    this.roleStatus.textContent =
      roles === undefined ? t('Scoring the heads on this text…') : roles === null ? t('No head roles for this group: they read self-attention over at least two tokens.') : role ? t('The {0} heads with the highest {1} are highlighted.', ranked.length, roleName(role)) : '';
    this.topList.hidden = ranked.length === 0;
    this.topList.replaceChildren(
      ...ranked.map((index) => {
        const scores = roles![index];
        return el('li', undefined, undefined, el('button', 'model-role-head', { type: 'button', 'data-layer': scores.layer, 'data-head': scores.head }, t('Layer {0} · head {1}: {2}', scores.layer, scores.head, formatScore(scores[role!]))));
      }),
    );
  }

  /** Paints every thumbnail into the atlas again (new data, theme or colour scale), a batch per frame. */
  private repaint(): void {
    const thumbs = this.thumbs;
    if (!thumbs) return;
    this.atlas = document.createElement('canvas');
    this.atlas.width = this.heads * thumbs.columns;
    this.atlas.height = this.layers * thumbs.rows;
    this.paintedMaps = 0;
    this.paintFrames = 0;
    delete this.canvas.dataset.painted;
    this.compose();
    this.schedulePaint();
  }

  private schedulePaint(): void {
    if (this.paintFrame) return;
    this.paintFrame = requestAnimationFrame(() => {
      this.paintFrame = 0;
      this.paintBatch();
    });
  }

  private paintBatch(): void {
    const thumbs = this.thumbs;
    const atlas = this.atlas;
    const context = this.context;
    if (!thumbs || !atlas || !context) return;
    const total = this.layers * this.heads;
    const start = performance.now();
    const first = this.paintedMaps;
    const { rows, columns, data } = thumbs;
    const image = new ImageData(columns, rows);
    const pixels = new Uint32Array(image.data.buffer);
    const ramp = this.theme.ramp;
    const mask = packRgb(this.theme.maskBase);
    const scale = context.colorScale;
    const draw = atlas.getContext('2d');
    if (!draw) return;
    while (this.paintedMaps < total) {
      const map = this.paintedMaps;
      const offset = map * rows * columns;
      let max = 0;
      for (let i = 0; i < rows * columns; i++) if (data[offset + i] > max) max = data[offset + i];
      for (let i = 0; i < rows * columns; i++) {
        const value = data[offset + i];
        pixels[i] = Number.isNaN(value) ? mask : ramp[rampIndex(max > 0 ? value / max : 0, scale)];
      }
      draw.putImageData(image, (map % this.heads) * columns, Math.floor(map / this.heads) * rows);
      this.paintedMaps++;
      if (performance.now() - start > FRAME_BUDGET_MS) break;
    }
    this.paintFrames++;
    this.compose(first);
    if (this.paintedMaps < total) this.schedulePaint();
    else {
      this.canvas.dataset.painted = thumbs.key;
      this.canvas.dataset.frames = String(this.paintFrames);
    }
  }

  /** Draws the painted thumbnails onto the canvas (from map `from` on; 0: clear and draw all), then the query rows. */
  private compose(from = 0): void {
    const draw = this.canvas.getContext('2d');
    if (!draw) return;
    const dpr = window.devicePixelRatio || 1;
    if (from === 0) {
      draw.clearRect(0, 0, this.canvas.width, this.canvas.height);
      draw.fillStyle = cssRgb(this.theme.maskBase, 0.35);
      for (let layer = 0; layer < this.layers; layer++) for (let head = 0; head < this.heads; head++) this.fillCell(draw, layer, head, dpr);
    }
    const thumbs = this.thumbs;
    const atlas = this.atlas;
    if (!thumbs || !atlas) return;
    draw.imageSmoothingEnabled = false;
    const band = this.queryToken === null || this.queryToken >= thumbs.tq ? null : thumbnailBin(this.queryToken, thumbs.tq, thumbs.rows);
    for (let map = from; map < this.paintedMaps; map++) {
      const layer = Math.floor(map / this.heads);
      const head = map % this.heads;
      const { x, y, size } = this.cellRect(layer, head, dpr);
      draw.drawImage(atlas, head * thumbs.columns, layer * thumbs.rows, thumbs.columns, thumbs.rows, x, y, size, size);
      if (band !== null) {
        const top = y + Math.floor((band * size) / thumbs.rows);
        const height = Math.max(Math.round(2 * dpr), Math.round(size / thumbs.rows));
        draw.strokeStyle = cssRgb(this.theme.focus);
        draw.lineWidth = Math.max(1, Math.round(dpr));
        draw.strokeRect(x + 0.5, top + 0.5, size - 1, height - 1);
      }
    }
  }

  private fillCell(draw: CanvasRenderingContext2D, layer: number, head: number, dpr: number): void {
    const { x, y, size } = this.cellRect(layer, head, dpr);
    draw.fillRect(x, y, size, size);
  }

  /** A thumbnail's square on the canvas, in device pixels (the same place as its grid cell). */
  private cellRect(layer: number, head: number, dpr: number): { x: number; y: number; size: number } {
    const step = this.thumbPx + GAP;
    return { x: Math.round((LABEL_WIDTH + GAP + head * step) * dpr), y: Math.round((HEADER_HEIGHT + GAP + layer * step) * dpr), size: Math.round(this.thumbPx * dpr) };
  }

  // ---------------------------------------------------------------- layout

  private scheduleMeasure(): void {
    if (this.measureFrame) return;
    this.measureFrame = requestAnimationFrame(() => {
      this.measureFrame = 0;
      this.measure();
    });
  }

  /** Fits the thumbnails to the available width; the canvas and the grid get the same geometry. */
  private measure(): void {
    if (this.heads === 0) return;
    const available = this.element.clientWidth || 600;
    const thumb = Math.max(MIN_THUMB, Math.min(MAX_THUMB, Math.floor((available - LABEL_WIDTH) / this.heads) - GAP));
    const width = LABEL_WIDTH + this.heads * (thumb + GAP);
    const height = HEADER_HEIGHT + this.layers * (thumb + GAP);
    const dpr = window.devicePixelRatio || 1;
    const deviceWidth = Math.round(width * dpr);
    const deviceHeight = Math.round(height * dpr);
    if (thumb === this.thumbPx && this.canvas.width === deviceWidth && this.canvas.height === deviceHeight) return;
    this.thumbPx = thumb;
    this.canvas.width = deviceWidth;
    this.canvas.height = deviceHeight;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.grid.style.setProperty('--thumb', `${thumb}px`);
    this.grid.style.setProperty('--heads', String(this.heads));
    this.stage.style.width = `${width}px`;
    this.stage.style.height = `${height}px`;
    this.compose();
  }

  // ---------------------------------------------------------------- the grid of cells

  private buildGrid(layers: number, heads: number): void {
    const hadFocus = this.grid.contains(document.activeElement);
    this.layers = layers;
    this.heads = heads;
    this.cells = [];
    const header = el('div', 'model-row model-header', { role: 'row', 'aria-hidden': 'true' }, el('span', 'model-corner'));
    for (let head = 0; head < heads; head++) header.append(el('span', 'model-head-label', undefined, `H${head}`));
    const rows: HTMLElement[] = [header];
    for (let layer = 0; layer < layers; layer++) {
      const row = el('div', 'model-row', { role: 'row' }, el('span', 'model-layer-label', { role: 'rowheader', 'aria-label': t('Layer {0}', layer) }, `L${layer}`));
      const cells: HTMLElement[] = [];
      for (let head = 0; head < heads; head++) {
        const cell = el('div', 'model-cell', { role: 'gridcell', tabindex: -1, 'data-layer': layer, 'data-head': head, 'aria-selected': 'false', 'aria-label': t('Layer {0}, head {1}', layer, head), title: t('Layer {0} · head {1}', layer, head) });
        cells.push(cell);
        row.append(cell);
      }
      this.cells.push(cells);
      rows.push(row);
    }
    this.grid.replaceChildren(...rows);
    this.grid.setAttribute('aria-rowcount', String(layers + 1));
    this.grid.setAttribute('aria-colcount', String(heads + 1));
    this.focusCell = { layer: Math.min(this.focusCell.layer, layers - 1), head: Math.min(this.focusCell.head, heads - 1) };
    this.selected = { layer: -1, head: -1 };
    this.cell(this.focusCell.layer, this.focusCell.head)?.setAttribute('tabindex', '0');
    // Only while the panel has the keyboard: thumbnails arriving must not pull focus from the workbench.
    if (hadFocus && document.hasFocus()) this.cell(this.focusCell.layer, this.focusCell.head)?.focus();
  }

  private cell(layer: number, head: number): HTMLElement | undefined {
    return this.cells[layer]?.[head];
  }

  /** Outlines the shown head (none for the mean of a layer's heads); the Tab stop follows it. */
  private setSelected(layer: number, head: number): void {
    const previous = this.cell(this.selected.layer, this.selected.head);
    previous?.setAttribute('aria-selected', 'false');
    this.selected = { layer, head };
    if (head === MEAN_HEAD) return;
    const current = this.cell(layer, head);
    if (!current) return;
    current.setAttribute('aria-selected', 'true');
    this.moveFocus(layer, head, this.grid.contains(document.activeElement));
  }

  /** Roving tabindex: (layer, head) becomes the grid's one Tab stop, focused when asked. */
  private moveFocus(layer: number, head: number, focus: boolean): void {
    const next = this.cell(layer, head);
    if (!next) return;
    this.cell(this.focusCell.layer, this.focusCell.head)?.setAttribute('tabindex', '-1');
    this.focusCell = { layer, head };
    next.setAttribute('tabindex', '0');
    if (focus) next.focus();
  }

  private pick(layer: number, head: number): void {
    this.moveFocus(layer, head, true);
    this.actions.selectHead(layer, head);
  }

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const at = cellOf(event.target);
    if (!at) return;
    let { layer, head } = at;
    switch (event.key) {
      case 'ArrowLeft':
        head = Math.max(0, head - 1);
        break;
      case 'ArrowRight':
        head = Math.min(this.heads - 1, head + 1);
        break;
      case 'ArrowUp':
        layer = Math.max(0, layer - 1);
        break;
      case 'ArrowDown':
        layer = Math.min(this.layers - 1, layer + 1);
        break;
      case 'Home':
        head = 0;
        break;
      case 'End':
        head = this.heads - 1;
        break;
      case 'PageUp':
        layer = 0;
        break;
      case 'PageDown':
        layer = this.layers - 1;
        break;
      case 'Enter':
      case ' ':
        event.preventDefault();
        event.stopPropagation();
        this.pick(layer, head);
        return;
      default:
        return;
    }
    // Handled here: the panel-wide ←/→ (move the focused token) must not see these keys.
    event.preventDefault();
    event.stopPropagation();
    this.moveFocus(layer, head, true);
  }
}

function cellOf(target: EventTarget | null): { layer: number; head: number } | undefined {
  const layer = closestIndex(target, '.model-cell', 'layer');
  const head = closestIndex(target, '.model-cell', 'head');
  return layer === undefined || head === undefined ? undefined : { layer, head };
}
