// Decoding the binary payloads in the browser. Index masks are 8-bit palette PNGs whose *indices* are
// the labels: a canvas would decode them to palette colours, so we read the indices with fast-png
// (pure JS) and fall back to inverting the VOC colormap for RGB exports of the same masks.
import { decode } from 'fast-png';
import { vocIndexOf } from '../engine/image/palette';
import type { Bytes } from './protocol';

export const IGNORE = 255;

export interface IndexMask { width: number; height: number; data: Uint8Array }

export const asU8 = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

export function decodeIndexMask(bytes: Bytes): IndexMask {
  const png = decode(asU8(bytes));
  const { width, height, channels, depth } = png;
  const n = width * height;
  const src = png.data;
  const out = new Uint8Array(n);
  if (channels === 1 || (channels === 2 && !png.palette)) {
    if (depth === 8) {
      for (let i = 0; i < n; i++) out[i] = src[i * channels];
    } else if (depth < 8) {
      const rowBytes = Math.ceil((width * depth) / 8), per = 8 / depth, bits = (1 << depth) - 1;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) out[y * width + x] = (src[y * rowBytes + Math.floor(x / per)] >> (8 - depth * ((x % per) + 1))) & bits;
      }
    } else throw new Error(`mask PNG with ${depth}-bit samples is not an index mask`);
    return { width, height, data: out };
  }
  if ((channels === 3 || channels === 4) && depth === 8) {
    for (let i = 0; i < n; i++) {
      const k = vocIndexOf(src[i * channels], src[i * channels + 1], src[i * channels + 2]);
      if (k < 0) throw new Error(`mask colour at pixel ${i} is not in the VOC palette`);
      out[i] = k;
    }
    return { width, height, data: out };
  }
  throw new Error(`unsupported mask PNG (${channels} channels, depth ${depth})`);
}

/** PNG bytes → something drawImage accepts (no <img>, no URL: nothing for the CSP to object to). */
export function decodeImage(bytes: Bytes): Promise<ImageBitmap> {
  const u8 = asU8(bytes);
  return createImageBitmap(new Blob([u8 as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
}

/** Nearest-neighbour resample when a mask and its image differ in size. */
export function resizeMask(m: IndexMask, width: number, height: number): IndexMask {
  if (m.width === width && m.height === height) return m;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(m.height - 1, Math.floor(((y + 0.5) * m.height) / height));
    for (let x = 0; x < width; x++) data[y * width + x] = m.data[sy * m.width + Math.min(m.width - 1, Math.floor(((x + 0.5) * m.width) / width))];
  }
  return { width, height, data };
}
