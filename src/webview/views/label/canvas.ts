// The open image, large: the image, the predicted mask and the user's shapes composed on one canvas
// through the view transform (wheel zooms at the pointer, Space+drag or the middle button pans,
// fit-to-view), with the tool previews on top. Drawing is local and immediate: a stroke's segments go
// onto the annotation layer as the pointer moves; the host is only told when the stroke ends.
import { h } from '../../dom';
import type { LabelShape } from '../../../shared/webviewLabelProtocol';
import { AnnotationLayer } from './annotationLayer';
import type { LabelColors } from './labelColors';
import { PredictionLayer } from './predictionLayer';
import { ToolController, type ToolHost } from './tools';
import { ViewTransform, type TransformState } from './transform';

export interface CanvasEvents {
  commit(shape: LabelShape): void;
  fill(x: number, y: number): void;
  /** the current shape list (to redraw the annotation layer) */
  shapes(): readonly LabelShape[];
  transformChanged(t: TransformState): void;
}

export class LabelCanvas {
  readonly el = h('div', { class: 'label-canvas-host' });
  readonly canvas = h('canvas', {
    class: 'label-canvas', tabindex: 0, role: 'application',
    'aria-roledescription': 'image labeling canvas',
    'aria-label': 'Open image. Arrow keys move the cursor, Enter paints or places a point, Escape cancels; press ? for all keys.',
  });
  private readonly message = h('div', { class: 'canvas-message', role: 'status' });
  readonly transform = new ViewTransform();
  readonly ann: AnnotationLayer;
  readonly pred: PredictionLayer;
  readonly tools: ToolController;
  private image: ImageBitmap | null = null;
  width = 1;
  height = 1;
  /** prediction opacity; the user's shapes are drawn a little stronger so they stay distinct */
  opacity = 0.5;
  private frame = 0;
  private spaceDown = false;
  private panFrom: [number, number] | null = null;
  private drawingPointer = -1;
  private cssW = 1;
  private cssH = 1;
  private fitted = false;
  private accent = '#0078d4';
  private contrast = '#000000';

  constructor(colors: LabelColors, private readonly on: CanvasEvents) {
    this.ann = new AnnotationLayer(colors);
    this.pred = new PredictionLayer(colors);
    const host: ToolHost = {
      size: () => [this.width, this.height],
      transform: this.transform,
      segment: (label, r, x0, y0, x1, y1) => {
        this.ann.segment(label, r, x0, y0, x1, y1);
        this.requestDraw();
      },
      commit: (s) => this.on.commit(s),
      fill: (x, y) => this.on.fill(x, y),
      discard: () => {
        this.ann.render(this.on.shapes());
        this.requestDraw();
      },
      redraw: () => this.requestDraw(),
    };
    this.tools = new ToolController(host);
    this.el.append(this.canvas, this.message);
    this.bindPointer();
    this.bindKeys();
    new ResizeObserver(() => this.resize()).observe(this.el);
    this.readTheme();
  }

  get hasImage(): boolean {
    return this.image !== null;
  }

  readTheme(): void {
    const cs = getComputedStyle(document.documentElement);
    this.accent = cs.getPropertyValue('--vscode-focusBorder').trim() || '#0078d4';
    this.contrast = cs.getPropertyValue('--vscode-editor-background').trim() || '#000000';
    this.requestDraw();
  }

  setColors(colors: LabelColors): void {
    this.ann.setColors(colors);
    this.pred.setColors(colors);
    this.ann.render(this.on.shapes());
    this.readTheme();
    this.draw();
  }

  showMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  /** A new open image (transform: restore a saved view, else fit). */
  setImage(image: ImageBitmap | null, width: number, height: number, transform?: TransformState): void {
    this.image?.close();
    this.image = image;
    this.width = width;
    this.height = height;
    this.tools.cancel();
    this.tools.cursor = null;
    this.ann.resize(width, height);
    this.ann.render(this.on.shapes());
    this.fitted = false;
    if (transform) {
      this.transform.set(transform);
      this.fitted = true;
    } else this.fit();
    this.draw();
  }

  fit(): void {
    if (this.cssW < 2 || this.cssH < 2) return; // not laid out yet: resize() fits later
    this.transform.fit(this.width, this.height, this.cssW, this.cssH);
    this.fitted = true;
    this.on.transformChanged(this.transform.state);
    this.requestDraw();
  }

  zoom(factor: number, at?: [number, number]): void {
    const [sx, sy] = at ?? (this.tools.cursor && this.tools.keyboardCursor ? this.transform.toScreen(...this.tools.cursor) : [this.cssW / 2, this.cssH / 2]);
    this.transform.zoomAt(factor, sx, sy);
    this.on.transformChanged(this.transform.state);
    this.requestDraw();
  }

  /** Redraw every shape (after undo / redo / a restore). */
  renderShapes(): void {
    this.ann.render(this.on.shapes());
    this.requestDraw();
  }

  private resize(): void {
    const r = this.el.getBoundingClientRect();
    this.cssW = Math.max(1, Math.floor(r.width));
    this.cssH = Math.max(1, Math.floor(r.height));
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.cssW * dpr);
    this.canvas.height = Math.round(this.cssH * dpr);
    this.canvas.style.width = `${this.cssW}px`;
    this.canvas.style.height = `${this.cssH}px`;
    if (!this.fitted && this.image) this.fit();
    this.draw();
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Compose now (synchronously: a new prediction is on the canvas when this returns). */
  draw(): void {
    const c = this.canvas.getContext('2d');
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.globalAlpha = 1;
    c.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.image) return;
    const t = this.transform;
    c.setTransform(dpr * t.scale, 0, 0, dpr * t.scale, dpr * t.x, dpr * t.y);
    c.imageSmoothingEnabled = t.scale < 2;
    c.drawImage(this.image, 0, 0, this.width, this.height);
    c.imageSmoothingEnabled = false;
    if (this.pred.mask) {
      c.globalAlpha = this.opacity;
      c.drawImage(this.pred.canvas, 0, 0, this.width, this.height);
    }
    c.globalAlpha = Math.min(1, this.opacity + 0.3);
    c.drawImage(this.ann.canvas, 0, 0, this.width, this.height);
    c.globalAlpha = 1;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.tools.drawPreview(c, this.accent, this.contrast);
  }

  /** Keep the pointer's events while it drags (a pointer the browser no longer knows is fine too). */
  private capture(id: number): void {
    try {
      this.canvas.setPointerCapture(id);
    } catch {
      // synthetic or already released pointer: drawing works without capture
    }
  }

  private point(e: PointerEvent | MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private bindPointer(): void {
    const cv = this.canvas;
    cv.addEventListener('pointerdown', (e) => {
      if (!this.image) return;
      cv.focus({ preventScroll: true });
      const [sx, sy] = this.point(e);
      if (e.button === 1 || (e.button === 0 && this.spaceDown)) {
        this.panFrom = [sx, sy];
        this.capture(e.pointerId);
        cv.classList.add('panning');
        e.preventDefault();
        return;
      }
      if (e.button !== 0 || this.drawingPointer >= 0) return;
      this.drawingPointer = e.pointerId;
      this.capture(e.pointerId);
      this.tools.pointerDown(...this.transform.toImage(sx, sy));
      e.preventDefault();
    });
    cv.addEventListener('pointermove', (e) => {
      const [sx, sy] = this.point(e);
      if (this.panFrom) {
        this.transform.pan(sx - this.panFrom[0], sy - this.panFrom[1]);
        this.panFrom = [sx, sy];
        this.requestDraw();
        return;
      }
      if (!this.image) return;
      const drawing = e.pointerId === this.drawingPointer;
      // every pointer sample of the frame, not just the last one: fast strokes stay smooth
      const events = drawing && typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      for (const ce of events.length ? events : [e]) {
        const [cx, cy] = this.point(ce);
        this.tools.pointerMove(...this.transform.toImage(cx, cy), drawing);
      }
    });
    const up = (e: PointerEvent): void => {
      if (this.panFrom) {
        this.panFrom = null;
        cv.classList.remove('panning');
        this.on.transformChanged(this.transform.state);
        return;
      }
      if (e.pointerId !== this.drawingPointer) return;
      this.drawingPointer = -1;
      this.tools.pointerUp(...this.transform.toImage(...this.point(e)));
    };
    cv.addEventListener('pointerup', up);
    cv.addEventListener('pointercancel', up);
    cv.addEventListener('pointerleave', () => {
      if (this.drawingPointer < 0) this.tools.pointerLeave();
    });
    cv.addEventListener('dblclick', () => this.tools.doubleClick());
    cv.addEventListener('wheel', (e) => {
      if (!this.image) return;
      e.preventDefault();
      const k = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
      this.zoom(Math.exp(-e.deltaY * k), this.point(e));
    }, { passive: false });
    cv.addEventListener('auxclick', (e) => e.preventDefault());
  }

  private bindKeys(): void {
    // Space pans while held (anywhere but a text field); tracked on the window so the key-up is never missed
    window.addEventListener('keydown', (e) => {
      if (e.key === ' ' && (e.target === this.canvas || e.target === document.body)) {
        this.spaceDown = true;
        this.canvas.classList.add('pan-ready');
        e.preventDefault();
      }
    });
    window.addEventListener('keyup', (e) => {
      if (e.key === ' ') {
        this.spaceDown = false;
        this.canvas.classList.remove('pan-ready');
      }
    });
    window.addEventListener('blur', () => {
      this.spaceDown = false;
      this.canvas.classList.remove('pan-ready');
    });
    this.canvas.addEventListener('keydown', (e) => {
      if (!this.image || e.ctrlKey || e.metaKey) return;
      const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      const dir = arrows[e.key];
      let handled = true;
      if (dir && e.altKey) {
        this.transform.pan(-dir[0] * 40, -dir[1] * 40);
        this.on.transformChanged(this.transform.state);
        this.requestDraw();
      } else if (dir) {
        // one step: half the brush, never less than one screen pixel's worth
        const step = Math.max(1 / this.transform.scale, this.tools.radius / 2, 1) * (e.shiftKey ? 4 : 1);
        this.tools.moveCursor(dir[0] * step, dir[1] * step);
        this.keepCursorVisible();
      } else if (e.key === 'Enter' && !e.altKey) {
        this.tools.enter(e.shiftKey);
      } else if (e.key === 'Backspace' && !e.altKey) {
        handled = this.tools.backspace();
      } else if (e.key === 'Escape') {
        handled = this.tools.cancel();
      } else handled = false;
      if (handled) {
        e.preventDefault();
        e.stopPropagation();
      }
    });
    this.canvas.addEventListener('blur', () => {
      // a keyboard stroke ends when focus leaves (never left half-sent)
      if (this.tools.penDown) this.tools.finish();
    });
  }

  private keepCursorVisible(): void {
    const c = this.tools.cursor;
    if (!c) return;
    const [sx, sy] = this.transform.toScreen(...c), m = 24;
    const dx = sx < m ? m - sx : sx > this.cssW - m ? this.cssW - m - sx : 0;
    const dy = sy < m ? m - sy : sy > this.cssH - m ? this.cssH - m - sy : 0;
    if (dx || dy) {
      this.transform.pan(dx, dy);
      this.on.transformChanged(this.transform.state);
      this.requestDraw();
    }
  }

  /** Image point → client (page) coordinates: for tests and benches through the debug hook. */
  toClient(x: number, y: number): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const [sx, sy] = this.transform.toScreen(x, y);
    return [r.left + sx, r.top + sy];
  }
}
