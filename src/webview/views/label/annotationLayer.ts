// The user's shapes drawn locally, at once, onto a layer canvas in image coordinates (scaled down for
// very large photos): the same order and rules as the engine's rasteriser (later over earlier; erase
// back to nothing; mask shapes set every pixel but 254), antialiased because it is only for the eye.
// While a stroke is drawn only its new segment is added; undo, redo and restores redraw the list.
import { MaskColours, maskCanvas } from '../../maskPainter';
import { decodeIndexMask, type IndexMask } from '../../masks';
import { UNLABELED, UNSURE, type LabelShape } from '../../../shared/webviewLabelProtocol';
import type { LabelColors } from './labelColors';

/** Longest side of the layer canvas (a 6000 px photo is drawn at 2/3 scale, enough for the eye). */
export const MAX_LAYER_SIDE = 4096;

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class AnnotationLayer {
  readonly canvas = document.createElement('canvas');
  private ctx: CanvasRenderingContext2D;
  private scale = 1;
  private width = 1;
  private height = 1;
  /** decoded mask shapes, coloured (cleared when colours change) */
  private maskCache = new WeakMap<LabelShape, HTMLCanvasElement>();
  private stripes: CanvasPattern | null = null;
  /** a mask shape's pixels: every label in its colour (background and unsure are marks too), 254 clear */
  private markColours: MaskColours;

  constructor(private colors: LabelColors) {
    this.markColours = AnnotationLayer.marks(colors);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.scale = Math.min(1, MAX_LAYER_SIDE / Math.max(width, height));
    this.canvas.width = Math.max(1, Math.ceil(width * this.scale));
    this.canvas.height = Math.max(1, Math.ceil(height * this.scale));
  }

  private static marks(colors: LabelColors): MaskColours {
    return new MaskColours((v) => (v === UNLABELED ? null : colors.of(v)));
  }

  setColors(colors: LabelColors): void {
    this.colors = colors;
    this.markColours = AnnotationLayer.marks(colors);
    this.maskCache = new WeakMap();
    this.stripes = null;
  }

  /** Draw an index mask (254 = leave) over the layer now, e.g. a fill before its shape exists. */
  drawIndexMask(mask: IndexMask): HTMLCanvasElement {
    const m = this.paintMask(mask);
    const c = this.ctx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(m, 0, 0, this.width * this.scale, this.height * this.scale);
    c.imageSmoothingEnabled = true;
    return m;
  }

  /** Remember the coloured canvas of a mask shape (drawn by drawIndexMask already). */
  primeCanvas(shape: LabelShape, canvas: HTMLCanvasElement): void {
    this.maskCache.set(shape, canvas);
  }

  render(shapes: readonly LabelShape[]): void {
    const c = this.ctx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.globalCompositeOperation = 'source-over';
    c.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (const s of shapes) {
      try {
        this.draw(s);
      } catch (e) {
        console.warn(`ProtoLab: cannot draw a ${s.kind} shape: ${(e as Error).message}`);
      }
    }
  }

  private style(label: number): string | CanvasPattern {
    if (label !== UNSURE) return this.colors.css(label);
    if (!this.stripes) {
      const t = document.createElement('canvas');
      t.width = t.height = 8;
      const tc = t.getContext('2d');
      if (tc) {
        tc.fillStyle = 'rgb(112, 112, 112)';
        tc.fillRect(0, 0, 8, 8);
        tc.strokeStyle = this.colors.css(UNSURE);
        tc.lineWidth = 2.5;
        tc.beginPath();
        tc.moveTo(-2, 10);
        tc.lineTo(10, -2);
        tc.moveTo(6, 10);
        tc.lineTo(10, 6);
        tc.moveTo(-2, 2);
        tc.lineTo(2, -2);
        tc.stroke();
      }
      this.stripes = this.ctx.createPattern(t, 'repeat');
    }
    return this.stripes ?? this.colors.css(UNSURE);
  }

  private begin(label: number | null): CanvasRenderingContext2D {
    const c = this.ctx;
    c.setTransform(this.scale, 0, 0, this.scale, 0, 0);
    c.globalCompositeOperation = label === null ? 'destination-out' : 'source-over';
    const st = label === null ? '#000' : this.style(label);
    c.fillStyle = st;
    c.strokeStyle = st;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    return c;
  }

  private end(): void {
    this.ctx.globalCompositeOperation = 'source-over';
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  /** One piece of a stroke being drawn (label null: eraser). */
  segment(label: number | null, radius: number, x0: number, y0: number, x1: number, y1: number): void {
    const c = this.begin(label);
    if (x0 === x1 && y0 === y1) {
      c.beginPath();
      c.arc(x0, y0, radius, 0, 2 * Math.PI);
      c.fill();
    } else {
      c.lineWidth = 2 * radius;
      c.beginPath();
      c.moveTo(x0, y0);
      c.lineTo(x1, y1);
      c.stroke();
    }
    this.end();
  }

  draw(s: LabelShape): void {
    switch (s.kind) {
      case 'stroke':
      case 'erase': {
        const label = s.kind === 'erase' ? null : s.label;
        const p = s.points;
        if (p.length === 2) {
          this.segment(label, s.radius, p[0], p[1], p[0], p[1]);
          return;
        }
        const c = this.begin(label);
        c.lineWidth = 2 * s.radius;
        c.beginPath();
        c.moveTo(p[0], p[1]);
        for (let i = 2; i < p.length; i += 2) c.lineTo(p[i], p[i + 1]);
        c.stroke();
        this.end();
        return;
      }
      case 'box': {
        const c = this.begin(s.label);
        c.fillRect(Math.min(s.x0, s.x1), Math.min(s.y0, s.y1), Math.abs(s.x1 - s.x0), Math.abs(s.y1 - s.y0));
        this.end();
        return;
      }
      case 'polygon': {
        const c = this.begin(s.label);
        c.beginPath();
        c.moveTo(s.points[0], s.points[1]);
        for (let i = 2; i < s.points.length; i += 2) c.lineTo(s.points[i], s.points[i + 1]);
        c.closePath();
        c.fill('evenodd');
        this.end();
        return;
      }
      case 'mask': {
        let m = this.maskCache.get(s);
        if (!m) {
          m = this.paintMask(decodeIndexMask(base64ToBytes(s.png)));
          this.maskCache.set(s, m);
        }
        const c = this.ctx;
        c.setTransform(1, 0, 0, 1, 0, 0);
        c.imageSmoothingEnabled = false;
        c.drawImage(m, 0, 0, this.width * this.scale, this.height * this.scale);
        c.imageSmoothingEnabled = true;
        return;
      }
    }
  }

  /** Index mask → coloured canvas: 254 transparent, every other value its label colour. */
  private paintMask(m: IndexMask): HTMLCanvasElement {
    return maskCanvas(m, this.markColours);
  }
}
