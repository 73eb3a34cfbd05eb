// Resizing for the network input. PANet's test transform resizes the image (PIL bilinear) and the label
// (PIL nearest) to input_size × input_size, and scores at that size; we do the same, to the byte
// (pilResize.ts: sharp's 'linear' kernel is close but not Pillow's, and that was measurable).
import type { IndexMask, RawImage } from '../types';
import { resizeBilinearPil } from './pilResize';

/** Bilinear resize of RGB bytes to w×h (aspect not kept, as PANet's Resize), Pillow's exact arithmetic.
 *  Returns float32 HWC, 0..255. Async for callers that may move it off-thread later. */
export async function resizeRgb(img: RawImage, w: number, h: number): Promise<Float32Array> {
  return Float32Array.from(resizeBilinearPil(img, w, h));
}

/** Nearest-neighbour resize with PIL's sampling (source = floor((dst + 0.5) · src/dst)): labels stay labels. */
export function resizeMaskNearest(mask: IndexMask, w: number, h: number): IndexMask {
  if (mask.width === w && mask.height === h) return { width: w, height: h, data: mask.data.slice() };
  const out = new Uint8Array(w * h);
  const sx = mask.width / w, sy = mask.height / h;
  const xs = Int32Array.from({ length: w }, (_, x) => Math.min(mask.width - 1, Math.floor((x + 0.5) * sx)));
  for (let y = 0; y < h; y++) {
    const row = Math.min(mask.height - 1, Math.floor((y + 0.5) * sy)) * mask.width;
    for (let x = 0; x < w; x++) out[y * w + x] = mask.data[row + xs[x]];
  }
  return { width: w, height: h, data: out };
}

/**
 * Float RGB (0..255, from resizeRgb) to bytes, rounded. A plain loop: TypedArray.from with a mapping
 * function measured ≈ 40 ms for a 417² raster here, the loop < 1 ms.
 */
export function roundBytes(px: Float32Array): Uint8Array {
  const out = new Uint8Array(px.length);
  for (let i = 0; i < px.length; i++) out[i] = Math.round(px[i]);
  return out;
}
