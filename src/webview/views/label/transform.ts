// Image pixels ↔ canvas (CSS) pixels: screen = image · scale + offset. Zoom keeps the point under the
// pointer fixed; fit centres the whole image with a small margin.

export interface TransformState { scale: number; x: number; y: number }

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 64;

export class ViewTransform {
  scale = 1;
  x = 0;
  y = 0;

  get state(): TransformState {
    return { scale: this.scale, x: this.x, y: this.y };
  }

  set(s: TransformState): void {
    if (!(s.scale > 0) || !Number.isFinite(s.x) || !Number.isFinite(s.y)) return;
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, s.scale));
    this.x = s.x;
    this.y = s.y;
  }

  toImage(sx: number, sy: number): [number, number] {
    return [(sx - this.x) / this.scale, (sy - this.y) / this.scale];
  }

  toScreen(ix: number, iy: number): [number, number] {
    return [ix * this.scale + this.x, iy * this.scale + this.y];
  }

  fit(imageW: number, imageH: number, viewW: number, viewH: number, margin = 8): void {
    const s = Math.min((viewW - 2 * margin) / imageW, (viewH - 2 * margin) / imageH);
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, s > 0 ? s : 1));
    this.x = (viewW - imageW * this.scale) / 2;
    this.y = (viewH - imageH * this.scale) / 2;
  }

  /** Multiply the scale by `factor`, keeping screen point (sx, sy) over the same image point. */
  zoomAt(factor: number, sx: number, sy: number): void {
    const [ix, iy] = this.toImage(sx, sy);
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    this.x = sx - ix * this.scale;
    this.y = sy - iy * this.scale;
  }

  pan(dx: number, dy: number): void {
    this.x += dx;
    this.y += dy;
  }
}
