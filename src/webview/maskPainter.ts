// The one painter of index masks: every coloured layer the webview draws from a mask (truth,
// prediction, pseudo mask, support annotation and error map in the episode viewer; the labeling
// canvas's prediction and mask shapes; the grid's thumbnails) goes through paintIndexMask with a
// MaskColours rule saying which label gets which colour and which stays clear. One 32-bit write per
// pixel through a label → RGBA table (filled for the labels that occur, kept while the rule lives:
// a prediction repainted on every stroke does not look its colours up again).
//
// Which labels stay clear is the rule's business, and the masks differ:
//   - the engine's class masks (labelPrediction, labelThumbs: 0 background, 1..253 a class, 255 the
//     image's own unsure marks painted over the prediction; 254 never sent) show only the classes:
//     background would wash the photo out, and unsure is the annotation layer's to draw (in stripes,
//     over the prediction) — classColours();
//   - a mask shape the user drew is marks: 0 (background) and 255 (unsure) are painted in their
//     colours, 254 leaves the pixel (AnnotationLayer);
//   - dataset ordinals (overlay.ts): 0 and 255 (ignore) clear, or ignore light in the truth layer.
import type { IndexMask } from './masks';
import { UNLABELED } from '../shared/labelVocabulary';

/** r, g, b (a 4th value is ignored: a painted pixel is opaque; the layer's alpha is the caller's) */
export type Colour = readonly number[];

/** A label → colour rule, as a table filled on demand. */
export class MaskColours {
  /** RGBA per label in ImageData's byte order, 0 = transparent */
  readonly table = new Uint32Array(256);
  readonly known = new Uint8Array(256);
  private readonly bytes = new Uint8Array(this.table.buffer);

  /** `colourOf(label)`: its colour, or null to leave the pixel clear. */
  constructor(private readonly colourOf: (label: number) => Colour | null) {}

  /** Fill the table entry of `label`. */
  learn(label: number): number {
    const c = this.colourOf(label);
    if (c) this.bytes.set([c[0], c[1], c[2], 255], 4 * label);
    this.known[label] = 1;
    return this.table[label];
  }
}

/** The engine's class masks: classes in colour; background, unlabeled and unsure clear. */
export const classColours = (of: (label: number) => Colour): MaskColours => new MaskColours((v) => (v === 0 || v >= UNLABELED ? null : of(v)));

/** Mask → RGBA pixels (into `img` when given: it must be the mask's size). */
export function paintIndexMask(mask: IndexMask, colours: MaskColours, img: ImageData = new ImageData(mask.width, mask.height)): ImageData {
  const px = new Uint32Array(img.data.buffer, img.data.byteOffset, img.data.length >> 2);
  const { table, known } = colours;
  const d = mask.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    px[i] = known[v] ? table[v] : colours.learn(v);
  }
  return img;
}

/** The same on a canvas of the mask's size (resized only when the size changes), for drawImage to stretch over its image. */
export function maskCanvas(mask: IndexMask, colours: MaskColours, canvas: HTMLCanvasElement = document.createElement('canvas')): HTMLCanvasElement {
  // resizing a canvas reallocates it: only when the mask size changes (not per stroke)
  if (canvas.width !== mask.width) canvas.width = mask.width;
  if (canvas.height !== mask.height) canvas.height = mask.height;
  const c = canvas.getContext('2d');
  if (!c) return canvas;
  c.putImageData(paintIndexMask(mask, colours, c.createImageData(mask.width, mask.height)), 0, 0);
  return canvas;
}
