// The drawing tools and what a gesture becomes. Pointer and keyboard feed the same controller (the
// keyboard drives a cursor in image pixels: Enter is the pen), so everything drawable with a mouse is
// drawable from the keyboard. Shapes are in image pixels at full resolution (what the canvas shows is
// converted back through the view transform), rounded to 1/100 px to keep messages small.
import type { LabelShape } from '../../../shared/webviewLabelProtocol';
import type { Command } from './keyboard';
import type { ViewTransform } from './transform';

export type ToolId = 'brush' | 'eraser' | 'box' | 'polygon' | 'fill';
export const TOOLS: ReadonlyArray<{ id: ToolId; label: string; command: Command; glyph: string }> = [
  { id: 'brush', label: 'Brush', command: 'tool-brush', glyph: '✐' },
  { id: 'eraser', label: 'Eraser', command: 'tool-eraser', glyph: '⌫' },
  { id: 'box', label: 'Box', command: 'tool-box', glyph: '▭' },
  { id: 'polygon', label: 'Polygon', command: 'tool-polygon', glyph: '⬠' },
  { id: 'fill', label: 'Fill predicted region', command: 'tool-fill', glyph: '◉' },
];

export const MIN_RADIUS = 0.5;
export const MAX_RADIUS = 500;

/** What the controller needs from the canvas. */
export interface ToolHost {
  /** image size (full resolution) */
  size(): [number, number];
  transform: ViewTransform;
  /** draw one piece of the stroke being made onto the annotation layer at once */
  segment(label: number | null, radius: number, x0: number, y0: number, x1: number, y1: number): void;
  /** a finished shape */
  commit(shape: LabelShape): void;
  /** fill tool at image point */
  fill(x: number, y: number): void;
  /** throw away partial drawing (redraw the annotation layer from the shape list) */
  discard(): void;
  /** schedule a redraw of the view (previews) */
  redraw(): void;
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

interface Stroke { label: number | null; radius: number; points: number[] }

export class ToolController {
  tool: ToolId = 'brush';
  /** label the brush, box and polygon paint: 0 background, k class, 255 unsure */
  label = 1;
  radius = 8;
  /** where the brush outline / crosshair is shown (image px), from the pointer or the keyboard */
  cursor: [number, number] | null = null;
  /** the cursor was last moved by the keyboard (drawn more visibly) */
  keyboardCursor = false;
  private stroke: Stroke | null = null;
  private boxStart: [number, number] | null = null;
  private poly: number[] = [];

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.stroke !== null || this.boxStart !== null || this.poly.length > 0;
  }

  get penDown(): boolean {
    return this.stroke !== null;
  }

  setTool(t: ToolId): void {
    if (t === this.tool) return;
    this.finish();
    this.tool = t;
    this.host.redraw();
  }

  setLabel(label: number): void {
    this.finish();
    this.label = label;
    if (this.tool === 'eraser' || this.tool === 'fill') this.tool = 'brush';
    this.host.redraw();
  }

  setRadius(r: number): void {
    this.radius = Math.min(MAX_RADIUS, Math.max(MIN_RADIUS, Math.round(r * 2) / 2));
    this.host.redraw();
  }

  /** Commit a stroke in progress; drop an unfinished box or polygon. */
  finish(): void {
    if (this.stroke) this.endStroke();
    if (this.boxStart || this.poly.length) this.cancel();
  }

  /** Escape: drop what is being drawn. True when there was something. */
  cancel(): boolean {
    const had = this.busy;
    const hadStroke = this.stroke !== null;
    this.stroke = null;
    this.boxStart = null;
    this.poly = [];
    if (hadStroke) this.host.discard();
    this.host.redraw();
    return had;
  }

  // ---- pointer ------------------------------------------------------------------------------------

  pointerDown(x: number, y: number): void {
    this.cursor = [x, y];
    this.keyboardCursor = false;
    switch (this.tool) {
      case 'brush':
      case 'eraser':
        this.beginStroke(x, y);
        break;
      case 'box':
        this.boxStart = [x, y];
        break;
      case 'polygon':
        this.addVertex(x, y);
        break;
      case 'fill':
        this.host.fill(x, y);
        break;
    }
    this.host.redraw();
  }

  pointerMove(x: number, y: number, down: boolean): void {
    this.cursor = [x, y];
    this.keyboardCursor = false;
    if (down && this.stroke) this.extendStroke(x, y);
    this.host.redraw();
  }

  pointerUp(x: number, y: number): void {
    this.cursor = [x, y];
    if (this.stroke) {
      this.extendStroke(x, y);
      this.endStroke();
    } else if (this.boxStart && this.tool === 'box') {
      this.endBox(x, y, 3 / this.host.transform.scale);
    }
    this.host.redraw();
  }

  doubleClick(): void {
    if (this.tool === 'polygon') this.closePolygon();
  }

  pointerLeave(): void {
    if (!this.keyboardCursor) this.cursor = null;
    this.host.redraw();
  }

  // ---- keyboard (the focused canvas) --------------------------------------------------------------

  /** Move the keyboard cursor by (dx, dy) image px (it starts at the image centre). */
  moveCursor(dx: number, dy: number): void {
    const [w, h] = this.host.size();
    const [cx, cy] = this.cursor ?? [w / 2, h / 2];
    const x = Math.min(w - 0.5, Math.max(0.5, cx + dx)), y = Math.min(h - 0.5, Math.max(0.5, cy + dy));
    this.cursor = [x, y];
    this.keyboardCursor = true;
    if (this.stroke) this.extendStroke(x, y, true);
    this.host.redraw();
  }

  /** Keyboard cursor position (placing it at the image centre the first time). */
  keyCursor(): [number, number] {
    if (!this.cursor) {
      const [w, h] = this.host.size();
      this.cursor = [w / 2, h / 2];
    }
    this.keyboardCursor = true;
    return this.cursor;
  }

  /** Enter: the tool's primary action at the keyboard cursor. */
  enter(shift: boolean): void {
    const [x, y] = this.keyCursor();
    switch (this.tool) {
      case 'brush':
      case 'eraser':
        if (this.stroke) this.endStroke();
        else this.beginStroke(x, y);
        break;
      case 'box':
        if (this.boxStart) this.endBox(x, y, 0.5);
        else this.boxStart = [x, y];
        break;
      case 'polygon':
        if (shift) this.closePolygon();
        else this.addVertex(x, y, true);
        break;
      case 'fill':
        this.host.fill(x, y);
        break;
    }
    this.host.redraw();
  }

  /** Backspace: drop the last polygon corner. */
  backspace(): boolean {
    if (!this.poly.length) return false;
    this.poly.length -= 2;
    this.host.redraw();
    return true;
  }

  // ---- gestures -----------------------------------------------------------------------------------

  private beginStroke(x: number, y: number): void {
    const label = this.tool === 'eraser' ? null : this.label;
    this.stroke = { label, radius: this.radius, points: [r2(x), r2(y)] };
    this.host.segment(label, this.radius, x, y, x, y);
  }

  private extendStroke(x: number, y: number, always = false): void {
    const s = this.stroke;
    if (!s) return;
    const n = s.points.length, lx = s.points[n - 2], ly = s.points[n - 1];
    // thin the polyline: points closer than a fraction of the brush add nothing visible
    const minStep = Math.max(0.5, s.radius * 0.15);
    if (!always && Math.hypot(x - lx, y - ly) < minStep) return;
    if (x === lx && y === ly) return;
    s.points.push(r2(x), r2(y));
    this.host.segment(s.label, s.radius, lx, ly, x, y);
  }

  private endStroke(): void {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return;
    this.host.commit(s.label === null
      ? { kind: 'erase', radius: s.radius, points: s.points }
      : { kind: 'stroke', label: s.label, radius: s.radius, points: s.points });
  }

  private endBox(x: number, y: number, minSide: number): void {
    const start = this.boxStart;
    this.boxStart = null;
    if (!start) return;
    const [w, h] = this.host.size();
    const cx = (v: number): number => r2(Math.min(w, Math.max(0, v))), cy = (v: number): number => r2(Math.min(h, Math.max(0, v)));
    const x0 = cx(Math.min(start[0], x)), x1 = cx(Math.max(start[0], x)), y0 = cy(Math.min(start[1], y)), y1 = cy(Math.max(start[1], y));
    if (x1 - x0 < minSide || y1 - y0 < minSide) return; // a click, not a box
    this.host.commit({ kind: 'box', label: this.label, x0, y0, x1, y1 });
  }

  private addVertex(x: number, y: number, keyboard = false): void {
    const p = this.poly, s = this.host.transform.scale;
    if (p.length >= 2) {
      const lx = p[p.length - 2], ly = p[p.length - 1];
      // the second click of a double-click lands on the last corner: not a new corner
      if (!keyboard && Math.hypot(x - lx, y - ly) * s < 4) return;
      if (keyboard && x === lx && y === ly) return;
    }
    // clicking the first corner closes the polygon
    if (!keyboard && p.length >= 6 && Math.hypot(x - p[0], y - p[1]) * s < 8) {
      this.closePolygon();
      return;
    }
    p.push(r2(x), r2(y));
  }

  private closePolygon(): void {
    const p = this.poly;
    this.poly = [];
    if (p.length >= 6) this.host.commit({ kind: 'polygon', label: this.label, points: p });
    this.host.redraw();
  }

  // ---- previews (screen space) --------------------------------------------------------------------

  drawPreview(c: CanvasRenderingContext2D, color: string, contrast: string): void {
    const t = this.host.transform;
    c.save();
    c.lineWidth = 1.5;
    if (this.boxStart && this.cursor) {
      const [ax, ay] = t.toScreen(...this.boxStart), [bx, by] = t.toScreen(...this.cursor);
      c.setLineDash([5, 4]);
      c.strokeStyle = color;
      c.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
      c.setLineDash([]);
    }
    if (this.poly.length) {
      c.strokeStyle = color;
      c.fillStyle = color;
      c.beginPath();
      for (let i = 0; i < this.poly.length; i += 2) {
        const [sx, sy] = t.toScreen(this.poly[i], this.poly[i + 1]);
        if (i === 0) c.moveTo(sx, sy);
        else c.lineTo(sx, sy);
      }
      if (this.cursor) c.lineTo(...t.toScreen(...this.cursor));
      c.stroke();
      for (let i = 0; i < this.poly.length; i += 2) {
        const [sx, sy] = t.toScreen(this.poly[i], this.poly[i + 1]);
        c.fillRect(sx - 3, sy - 3, 6, 6);
      }
    }
    if (this.cursor) {
      const [sx, sy] = t.toScreen(...this.cursor);
      if (this.tool === 'brush' || this.tool === 'eraser') {
        const r = Math.max(2, this.radius * t.scale);
        c.beginPath();
        c.arc(sx, sy, r, 0, 2 * Math.PI);
        c.strokeStyle = contrast;
        c.lineWidth = 3;
        c.stroke();
        c.strokeStyle = this.tool === 'eraser' ? '#ffffff' : color;
        c.lineWidth = this.keyboardCursor ? 2 : 1.25;
        c.stroke();
      }
      if (this.keyboardCursor || this.tool !== 'brush') {
        // the keyboard cursor must be findable on any image: longer arms, a contrasting halo
        const big = this.keyboardCursor;
        c.strokeStyle = contrast;
        c.lineWidth = big ? 5 : 3;
        this.cross(c, sx, sy, big ? 14 : 8);
        c.strokeStyle = color;
        c.lineWidth = big ? 2 : 1.25;
        this.cross(c, sx, sy, big ? 14 : 8);
      }
    }
    c.restore();
  }

  private cross(c: CanvasRenderingContext2D, x: number, y: number, arm: number): void {
    c.beginPath();
    c.moveTo(x - arm, y);
    c.lineTo(x - 3, y);
    c.moveTo(x + 3, y);
    c.lineTo(x + arm, y);
    c.moveTo(x, y - arm);
    c.lineTo(x, y - 3);
    c.moveTo(x, y + 3);
    c.lineTo(x, y + arm);
    c.stroke();
  }
}
