// The overlay viewer: an episode's query (with ground truth / prediction / pseudo-mask / error-map
// toggles and an opacity slider) and its supports with the annotations the model was given. Shared by
// the episode browser and the failure browser.
import { onThemeChange, themePalette, type Palette } from './colors';
import { clear, fmtIoU, h } from './dom';
import { LAYER_ORDER, annotationLayer, classLayer, compose, errorLayer, truthLayer, type LayerKind } from './overlay';
import { decodeImage, decodeIndexMask, resizeMask, type IndexMask } from './masks';
import type { Bytes, UiEpisodeView } from '../shared/webviewProtocol';

export interface ViewerOptions { gt: boolean; pred: boolean; pseudo: boolean; error: boolean; opacity: number }
export const DEFAULT_VIEWER: ViewerOptions = { gt: false, pred: true, pseudo: false, error: false, opacity: 0.55 };

interface Decoded {
  image: ImageBitmap | null;
  width: number;
  height: number;
  gt: IndexMask;
  pseudo?: IndexMask;
  /** the prediction (queries) or the annotation (supports) */
  extra?: IndexMask;
}

const LABELS: Record<LayerKind, string> = { gt: 'Ground truth', pred: 'Prediction', pseudo: 'Pseudo-mask', error: 'Error map' };

export class OverlayViewer {
  readonly el = h('div', { class: 'viewer' });
  private view: UiEpisodeView | null = null;
  private queries: Decoded[] = [];
  private supports: Decoded[][] = [];
  private pal: Palette = themePalette();
  private readonly toolbar = h('div', { class: 'viewer-toolbar', role: 'toolbar' });
  private readonly legend = h('div', { class: 'legend', 'aria-label': 'Class legend' });
  private readonly body = h('div', { class: 'viewer-body' });
  private readonly boxes = new Map<LayerKind, HTMLElement & { checked: boolean; disabled: boolean }>();
  private readonly slider: HTMLInputElement;
  private token = 0;

  constructor(public options: ViewerOptions, private readonly onChange: (o: ViewerOptions) => void) {
    for (const k of LAYER_ORDER) {
      const box = h('vscode-checkbox', { label: LABELS[k], 'data-layer': k, class: `toggle toggle-${k}` }) as HTMLElement & { checked: boolean; disabled: boolean };
      box.checked = options[k];
      box.addEventListener('change', () => {
        this.options = { ...this.options, [k]: box.checked };
        this.onChange(this.options);
        this.redraw();
      });
      this.boxes.set(k, box);
      this.toolbar.appendChild(box);
    }
    this.slider = h('input', { type: 'range', min: 0, max: 100, step: 1, class: 'opacity', 'aria-label': 'Overlay opacity', title: 'Overlay opacity' });
    this.slider.value = String(Math.round(options.opacity * 100));
    this.slider.addEventListener('input', () => {
      this.options = { ...this.options, opacity: Number(this.slider.value) / 100 };
      this.onChange(this.options);
      this.redraw();
    });
    this.toolbar.appendChild(h('label', { class: 'opacity-label' }, 'Opacity ', this.slider));
    this.el.append(this.toolbar, this.legend, this.body);
    this.showEmpty('Select an episode to see its images and masks.');
    // the colours come from the theme: redraw (chips, legend, canvases) when it changes
    onThemeChange(() => this.retheme(), this.el);
  }

  /** Read the theme's colours again and redraw what is shown with them. */
  retheme(): void {
    this.pal = themePalette();
    if (!this.view) return;
    // recolour the class chips in place (no rebuild: the canvases and the scroll position stay)
    for (const el of this.body.querySelectorAll<HTMLElement>('.swatch[data-swatch]')) this.paintSwatch(el, el.dataset.swatch as string);
    this.redraw();
  }

  showEmpty(text: string): void {
    this.view = null;
    clear(this.body);
    clear(this.legend);
    this.body.appendChild(h('div', { class: 'empty' }, text));
  }

  showLoading(episodeId: string): void {
    clear(this.body);
    this.body.appendChild(h('div', { class: 'empty' }, h('vscode-progress-ring', {}), ` Loading ${episodeId}…`));
  }

  async show(view: UiEpisodeView): Promise<void> {
    const token = ++this.token;
    this.pal = themePalette();
    const dec = async (p: UiEpisodeView['queries'][number] | UiEpisodeView['supports'][number][number], extra?: Bytes): Promise<Decoded> => {
      const image = await decodeImage(p.image).catch((e: Error) => {
        console.warn(`ProtoLab: cannot decode image ${p.imageId}: ${e.message}`);
        return null;
      });
      // masks may come at another size than the display image: resample to the image's grid
      const fit = (b: Bytes): IndexMask => resizeMask(decodeIndexMask(b), p.width, p.height);
      return { image, width: p.width, height: p.height, gt: fit(p.gt), pseudo: p.pseudo ? fit(p.pseudo) : undefined, extra: extra ? fit(extra) : undefined };
    };
    const queries = await Promise.all(view.queries.map((q) => dec(q, q.pred)));
    const supports = await Promise.all(view.supports.map((way) => Promise.all(way.map((s) => dec(s, s.annotation)))));
    if (token !== this.token) return; // a newer episode arrived while this one decoded
    this.view = view;
    this.queries = queries;
    this.supports = supports;
    const hasPseudo = queries.some((q) => q.pseudo);
    const pseudoBox = this.boxes.get('pseudo');
    if (pseudoBox) {
      pseudoBox.disabled = !hasPseudo;
      pseudoBox.title = hasPseudo ? '' : 'No pseudo-mask: this episode used full supervision';
    }
    this.build();
    this.redraw();
  }

  private className(c: number): string {
    return this.view?.classNames[c] ?? `class ${c}`;
  }

  private build(): void {
    const v = this.view;
    if (!v) return;
    clear(this.body);
    const ep = v.episode;
    this.body.appendChild(h('div', { class: 'viewer-title' },
      h('strong', {}, ep.id), ` · ${v.model.method} · ${v.model.backbone}`,
      ...ep.classes.map((c) => h('span', { class: 'chip' }, this.swatch(c), this.className(c)))));
    const qs = h('div', { class: 'queries' });
    v.queries.forEach((q, i) => {
      const iou = q.classIoU.map((x, j) => `${this.className(ep.classes[j])} ${fmtIoU(x)}`).join(' · ');
      qs.appendChild(h('figure', { class: 'query' },
        h('canvas', { class: 'query-canvas', 'data-query': i, title: q.file }),
        h('figcaption', {}, h('span', { class: 'muted' }, `query ${q.imageId}`), h('span', { class: 'iou' }, `IoU ${iou} · FG ${fmtIoU(q.fgIoU)}`))));
    });
    this.body.appendChild(qs);
    this.body.appendChild(h('h3', { class: 'section' }, 'Support'));
    const ss = h('div', { class: 'supports' });
    v.supports.forEach((way, w) => {
      const row = h('div', { class: 'support-way' }, h('div', { class: 'way-label' }, this.swatch(ep.classes[w]), this.className(ep.classes[w])));
      way.forEach((s, k) => row.appendChild(h('figure', { class: 'support' },
        h('canvas', { class: 'support-canvas', 'data-way': w, 'data-shot': k, title: s.file }),
        h('figcaption', { class: 'muted' }, s.imageId))));
      ss.appendChild(row);
    });
    this.body.appendChild(ss);
  }

  private swatch(c: number | 'fp' | 'fn' | 'swap' | 'other' | 'ignore'): HTMLElement {
    const el = h('span', { class: 'swatch', 'data-swatch': c });
    this.paintSwatch(el, String(c));
    return el;
  }

  private paintSwatch(el: HTMLElement, key: string): void {
    const p = this.pal;
    el.style.backgroundColor = /^\d+$/.test(key) ? p.css(Number(key))
      : key === 'fp' ? p.fpCss : key === 'fn' ? p.fnCss : key === 'swap' ? p.swapCss
      : `rgb(${(key === 'other' ? p.other : p.ignore).slice(0, 3).join(',')})`;
  }

  private buildLegend(): void {
    clear(this.legend);
    const v = this.view;
    if (!v) return;
    const o = this.options;
    const item = (sw: HTMLElement, text: string, key: string): HTMLElement => h('span', { class: 'legend-item', 'data-key': key }, sw, text);
    const present = new Set<number>(v.episode.classes);
    for (const c of present) this.legend.appendChild(item(this.swatch(c), this.className(c), `c${c}`));
    if (o.gt) {
      this.legend.appendChild(item(this.swatch('other'), 'other classes (background here)', 'other'));
      this.legend.appendChild(item(this.swatch('ignore'), 'ignore (255)', 'ignore'));
    }
    if (o.error) {
      this.legend.appendChild(item(this.swatch('fp'), 'false positive', 'fp'));
      this.legend.appendChild(item(this.swatch('fn'), 'false negative', 'fn'));
      if (v.episode.classes.length > 1) this.legend.appendChild(item(this.swatch('swap'), 'wrong class', 'swap'));
    }
  }

  redraw(): void {
    const v = this.view;
    if (!v) return;
    this.buildLegend();
    const o = this.options, classes = v.episode.classes, pal = this.pal;
    this.queries.forEach((q, i) => {
      const canvas = this.body.querySelector<HTMLCanvasElement>(`canvas.query-canvas[data-query="${i}"]`);
      if (!canvas) return;
      const layers: ImageData[] = [];
      if (o.gt) layers.push(truthLayer(q.gt, classes, pal));
      if (o.pseudo && q.pseudo) layers.push(classLayer(q.pseudo, pal));
      if (o.pred && q.extra) layers.push(classLayer(q.extra, pal));
      if (o.error && q.extra) layers.push(errorLayer(q.gt, q.extra, classes, pal));
      compose(canvas, q.image, q.width, q.height, layers, o.opacity);
    });
    this.supports.forEach((way, w) => way.forEach((s, k) => {
      const canvas = this.body.querySelector<HTMLCanvasElement>(`canvas.support-canvas[data-way="${w}"][data-shot="${k}"]`);
      if (!canvas || !s.extra) return;
      const layers = [o.gt ? truthLayer(s.gt, classes, pal) : null, annotationLayer(s.extra, classes[w], pal)].filter((x): x is ImageData => x !== null);
      compose(canvas, s.image, s.width, s.height, layers, o.opacity);
    }));
  }
}
