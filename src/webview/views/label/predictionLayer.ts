// The host's prediction for the open image: an index PNG (any size; 0 background, k class k) decoded
// with fast-png (a canvas would give palette colours, not indices), kept as indices for the fill tool
// and painted as a coloured layer (background and unsure stay clear) the canvas stretches over the image.
import { decodeIndexMask, type IndexMask } from '../../masks';
import type { Bytes } from '../../../shared/webviewProtocol';
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
    this.lutCache = null;
    this.paint();
  }

  private lutCache: Uint32Array | null = null;

  /** Label → RGBA as one little-endian 32-bit value (ImageData's byte order), 0 = transparent. */
  private lut(): Uint32Array {
    if (this.lutCache) return this.lutCache;
    const lut = new Uint32Array(256);
    const bytes = new Uint8Array(lut.buffer);
    for (let v = 1; v < 254; v++) {
      const col = this.colors.of(v);
      bytes.set([col[0], col[1], col[2], 255], 4 * v);
    }
    this.lutCache = lut;
    return lut;
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
    // resizing a canvas reallocates it: only when the mask size changes (not per stroke)
    if (this.canvas.width !== m.width) this.canvas.width = m.width;
    if (this.canvas.height !== m.height) this.canvas.height = m.height;
    const c = this.canvas.getContext('2d');
    if (!c) return;
    const img = c.createImageData(m.width, m.height);
    // one 32-bit write per pixel through a label → RGBA table (background, unsure, unlabeled stay clear)
    const px = new Uint32Array(img.data.buffer);
    const lut = this.lut();
    for (let i = 0; i < m.data.length; i++) px[i] = lut[m.data[i]];
    c.putImageData(img, 0, 0);
  }
}

/** The mask pixel a w × h image point falls in (the nearest-neighbour stretch the canvas draws). */
export function toMask(m: IndexMask, x: number, y: number, w: number, h: number): [number, number] {
  return [Math.min(m.width - 1, Math.max(0, Math.floor((x * m.width) / w))), Math.min(m.height - 1, Math.max(0, Math.floor((y * m.height) / h)))];
}
