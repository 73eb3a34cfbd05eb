// The fill tool: a click inside the predicted mask turns that connected region (4-connected, same
// predicted label) into a human `mask` shape: an index PNG at the image's full size holding the label
// inside the region and 254 ("leave it") everywhere else, as the labeling contract defines it.
import { encode } from 'fast-png';
import type { IndexMask } from '../../masks';
import { UNLABELED } from '../../../shared/webviewLabelProtocol';
import { toMask } from './predictionLayer';

/** The region of `m` connected to mask pixel (sx, sy) with its label: 1 inside, 0 outside. */
export function floodRegion(m: IndexMask, sx: number, sy: number): { label: number; region: Uint8Array; pixels: number } {
  const { width: w, height: h, data } = m;
  const label = data[sy * w + sx];
  const region = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  let top = 0, pixels = 0;
  stack[top++] = sy * w + sx;
  region[sy * w + sx] = 1;
  while (top > 0) {
    const i = stack[--top];
    pixels++;
    const x = i % w, y = (i - x) / w;
    if (x > 0 && !region[i - 1] && data[i - 1] === label) { region[i - 1] = 1; stack[top++] = i - 1; }
    if (x < w - 1 && !region[i + 1] && data[i + 1] === label) { region[i + 1] = 1; stack[top++] = i + 1; }
    if (y > 0 && !region[i - w] && data[i - w] === label) { region[i - w] = 1; stack[top++] = i - w; }
    if (y < h - 1 && !region[i + w] && data[i + w] === label) { region[i + w] = 1; stack[top++] = i + w; }
  }
  return { label, region, pixels };
}

export function bytesToBase64(u8: Uint8Array): string {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

export interface FillRegion {
  label: number;
  /** the region at the mask's resolution (label inside, 254 outside), for drawing without a decode */
  preview: IndexMask;
  /** region size in mask pixels */
  pixels: number;
}

/** Region of prediction `m` under image point (x, y) of a width × height image (cheap: mask resolution). */
export function regionAt(m: IndexMask, x: number, y: number, width: number, height: number): FillRegion {
  const [sx, sy] = toMask(m, x, y, width, height);
  const { label, region, pixels } = floodRegion(m, sx, sy);
  const preview = new Uint8Array(m.width * m.height).fill(UNLABELED);
  for (let i = 0; i < region.length; i++) if (region[i]) preview[i] = label;
  return { label, preview: { width: m.width, height: m.height, data: preview }, pixels };
}

/**
 * The region as a `mask` shape's PNG: full size, each image pixel taking the mask pixel the display
 * stretches over it (the costly part on a large photo: ≈ 0.1 s for 12 MP, so it runs after the preview).
 */
export function encodeRegion(preview: IndexMask, width: number, height: number): { png: string; area: number } {
  const m = preview;
  const colOf = new Int32Array(width);
  for (let ix = 0; ix < width; ix++) colOf[ix] = Math.min(m.width - 1, Math.floor(((ix + 0.5) * m.width) / width));
  const out = new Uint8Array(width * height);
  let area = 0;
  for (let iy = 0; iy < height; iy++) {
    const row = Math.min(m.height - 1, Math.floor(((iy + 0.5) * m.height) / height)) * m.width;
    const o = iy * width;
    for (let ix = 0; ix < width; ix++) {
      const v = m.data[row + colOf[ix]];
      out[o + ix] = v;
      if (v !== UNLABELED) area++;
    }
  }
  return { png: bytesToBase64(encode({ width, height, data: out, depth: 8, channels: 1 })), area };
}

export interface FillResult extends FillRegion {
  /** base64 index PNG at width × height */
  png: string;
  /** region size in image pixels */
  area: number;
}

/** Region of prediction `m` under image point (x, y) of a width × height image, as a mask shape. */
export function fillRegion(m: IndexMask, x: number, y: number, width: number, height: number): FillResult {
  const r = regionAt(m, x, y, width, height);
  return { ...r, ...encodeRegion(r.preview, width, height) };
}
