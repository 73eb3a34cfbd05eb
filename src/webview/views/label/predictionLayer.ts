// The host's prediction for the open image: an index PNG (any size; 0 background, k class k) decoded
// with fast-png (a canvas would give palette colours, not indices), kept as indices for the fill tool
// and painted as a coloured layer (background and unsure stay clear) the canvas stretches over the image.
import { decodeIndexMask, type IndexMask } from '../../masks';
import type { Bytes } from '../../protocol';
import { UNSURE } from '../../labelProtocol';
import type { LabelColors } from './labelColors';

export class PredictionLayer {
  readonly canvas = document.createElement('canvas');
  mask: IndexMask | null = null;
  confidence: number | undefined;

  constructor(private colors: LabelColors) {}

  /** Replace the prediction (throws if the PNG is not an index mask). */
  set(bytes: Bytes | undefined, confidence: number | undefined): void {
    this.mask = bytes ? decodeIndexMask(bytes) : null;
    this.confidence = bytes ? confidence : undefined;
    this.paint();
  }

  clear(): void {
    this.mask = null;
    this.confidence = undefined;
    this.paint();
  }

  setColors(colors: LabelColors): void {
    this.colors = colors;
    this.paint();
  }

  /** Label of the predicted pixel under image point (x, y) of a w × h image; undefined outside / none. */
  labelAt(x: number, y: number, w: number, h: number): number | undefined {
    const m = this.mask;
    if (!m || x < 0 || y < 0 || x >= w || y >= h) return undefined;
    const [mx, my] = toMask(m, x, y, w, h);
    return m.data[my * m.width + mx];
  }

  private paint(): void {
    const m = this.mask;
    if (!m) {
      this.canvas.width = 1;
      this.canvas.height = 1;
      return;
    }
    this.canvas.width = m.width;
    this.canvas.height = m.height;
    const c = this.canvas.getContext('2d');
    if (!c) return;
    const img = c.createImageData(m.width, m.height);
    const d = img.data;
    const lut = new Uint8Array(256 * 4);
    for (let v = 1; v < 256; v++) {
      if (v === UNSURE || v === 254) continue;
      const col = this.colors.of(v);
      lut.set([col[0], col[1], col[2], 255], 4 * v);
    }
    for (let i = 0; i < m.data.length; i++) {
      const o = 4 * m.data[i];
      if (lut[o + 3] === 0) continue;
      d[4 * i] = lut[o];
      d[4 * i + 1] = lut[o + 1];
      d[4 * i + 2] = lut[o + 2];
      d[4 * i + 3] = 255;
    }
    c.putImageData(img, 0, 0);
  }
}

/** The mask pixel a w × h image point falls in (the nearest-neighbour stretch the canvas draws). */
export function toMask(m: IndexMask, x: number, y: number, w: number, h: number): [number, number] {
  return [Math.min(m.width - 1, Math.max(0, Math.floor((x * m.width) / w))), Math.min(m.height - 1, Math.max(0, Math.floor((y * m.height) / h)))];
}
