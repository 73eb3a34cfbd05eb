// The drawing toolbar above the open image: the tools (toggle buttons), brush size, mask opacity,
// undo / redo, zoom and fit, help. Every tooltip names its shortcut (from keyboard.ts).
import { h } from '../../dom';
import { tooltip, type Command } from './keyboard';
import { MAX_RADIUS, MIN_RADIUS, TOOLS, type ToolId } from './tools';

export interface ToolbarEvents {
  tool(t: ToolId): void;
  radius(r: number): void;
  opacity(o: number): void;
  command(c: Command): void;
}

export class Toolbar {
  readonly el = h('div', { class: 'label-toolbar', role: 'toolbar', 'aria-label': 'Drawing tools' });
  private readonly toolButtons = new Map<ToolId, HTMLButtonElement>();
  private readonly size: HTMLInputElement;
  private readonly sizeText = h('span', { class: 'size-text' });
  private readonly opacitySlider: HTMLInputElement;
  private readonly undoB: HTMLButtonElement;
  private readonly redoB: HTMLButtonElement;

  constructor(private readonly on: ToolbarEvents) {
    const tools = h('div', { class: 'tool-group', role: 'group', 'aria-label': 'Tool' });
    for (const t of TOOLS) {
      const b = h('button', { type: 'button', class: `tool tool-${t.id}`, 'data-tool': t.id, 'aria-pressed': 'false', title: tooltip(t.command, t.label), 'aria-label': t.label },
        h('span', { class: 'tool-glyph', 'aria-hidden': 'true' }, t.glyph), h('span', { class: 'tool-label' }, t.label.split(' ')[0]));
      b.addEventListener('click', () => this.on.tool(t.id));
      this.toolButtons.set(t.id, b);
      tools.appendChild(b);
    }
    this.size = h('input', { type: 'range', min: 1, max: 100, step: 1, class: 'brush-size', 'aria-label': 'Brush radius in image pixels', title: `Brush radius: ${tooltip('size-down', 'smaller')}, ${tooltip('size-up', 'larger')}` });
    this.size.addEventListener('input', () => this.on.radius(sliderToRadius(Number(this.size.value))));
    this.opacitySlider = h('input', { type: 'range', min: 0, max: 100, step: 1, class: 'mask-opacity', 'aria-label': 'Mask opacity', title: `Mask opacity: ${tooltip('opacity-down', 'less')}, ${tooltip('opacity-up', 'more')}` });
    this.opacitySlider.addEventListener('input', () => this.on.opacity(Number(this.opacitySlider.value) / 100));
    const button = (c: Command, text: string, label: string, cls: string): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: `tb ${cls}`, title: tooltip(c, label), 'aria-label': label }, text);
      b.addEventListener('click', () => this.on.command(c));
      return b;
    };
    this.undoB = button('undo', '↶', 'Undo', 'undo');
    this.redoB = button('redo', '↷', 'Redo', 'redo');
    this.el.append(
      tools,
      h('label', { class: 'tb-setting' }, h('span', { class: 'setting-label' }, 'Size'), this.size, this.sizeText),
      h('label', { class: 'tb-setting' }, h('span', { class: 'setting-label' }, 'Opacity'), this.opacitySlider),
      h('div', { class: 'tool-group', role: 'group', 'aria-label': 'History' }, this.undoB, this.redoB),
      h('div', { class: 'tool-group', role: 'group', 'aria-label': 'View' },
        button('zoom-out', '−', 'Zoom out', 'zoom-out'), button('zoom-in', '+', 'Zoom in', 'zoom-in'), button('fit', '⤢', 'Fit to view', 'fit')),
      button('help', '?', 'Keyboard shortcuts', 'help-button'),
    );
  }

  setTool(t: ToolId): void {
    for (const [id, b] of this.toolButtons) {
      b.setAttribute('aria-pressed', String(id === t));
      b.classList.toggle('active', id === t);
    }
  }

  setRadius(r: number): void {
    this.size.value = String(radiusToSlider(r));
    this.sizeText.textContent = `${r} px`;
  }

  setOpacity(o: number): void {
    this.opacitySlider.value = String(Math.round(o * 100));
  }

  setHistory(canUndo: boolean, canRedo: boolean): void {
    this.undoB.disabled = !canUndo;
    this.redoB.disabled = !canRedo;
  }
}

// the slider is logarithmic: fine steps for small brushes, still reaching large ones
export const sliderToRadius = (v: number): number => Math.round(Math.min(MAX_RADIUS, Math.max(MIN_RADIUS, Math.exp((v / 100) * Math.log(MAX_RADIUS / MIN_RADIUS)) * MIN_RADIUS)) * 2) / 2;
export const radiusToSlider = (r: number): number => Math.round((100 * Math.log(Math.max(MIN_RADIUS, r) / MIN_RADIUS)) / Math.log(MAX_RADIUS / MIN_RADIUS));
