// The host's prediction for the open image: an index PNG (any size; 0 background, k class k, 255 the
// image's own unsure marks) decoded with fast-png (a canvas would give palette colours, not indices),
// kept as indices for the fill tool and painted as a coloured layer (background and unsure stay clear:
// maskPainter.ts's classColours) the canvas stretches over the image.
import { classColours, maskCanvas, type MaskColours } from '../../maskPainter';
import { decodeIndexMask, type IndexMask } from '../../masks';
import type { Bytes } from '../../../shared/webviewProtocol';
import type { LabelColors } from './labelColors';

export class PredictionLayer {
  readonly canvas = document.createElement('canvas');
  mask: IndexMask | null = null;
  confidence: number | undefined;

  private colours: MaskColours;

  constructor(colors: LabelColors) {
    this.colours = classColours(colors.of);
  }

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
    this.colours = classColours(colors.of);
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
    maskCanvas(m, this.colours, this.canvas);
  }
}

/** The mask pixel a w × h image point falls in (the nearest-neighbour stretch the canvas draws). */
export function toMask(m: IndexMask, x: number, y: number, w: number, h: number): [number, number] {
  return [Math.min(m.width - 1, Math.max(0, Math.floor((x * m.width) / w))), Math.min(m.height - 1, Math.max(0, Math.floor((y * m.height) / h)))];
}
