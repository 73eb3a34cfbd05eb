// Decoding the binary payloads in the browser. Index masks are 8-bit palette PNGs whose *indices* are
// the labels: a canvas would decode them to palette colours, so we read the indices with fast-png
// (pure JS) and fall back to inverting the VOC colormap for RGB exports of the same masks.
import { decode } from 'fast-png';
import { unzlibSync } from 'fflate';
import { vocIndexOf } from '../shared/palette';
import type { Bytes } from '../shared/webviewProtocol';

export const IGNORE = 255;

export interface IndexMask { width: number; height: number; data: Uint8Array }

export const asU8 = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

export function decodeIndexMask(bytes: Bytes): IndexMask {
  const plain = decodePlainIndexPng(asU8(bytes));
  if (plain) return plain;
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

const MAX_PLAIN_PIXELS = 1 << 26;

/**
 * The index PNGs the engine sends (8-bit grey or palette, not interlaced, every row unfiltered: what
 * encodeIndexPng writes, and fast-png's encoder too), read directly: the IDAT stream is inflated once
 * into a buffer of the known size. In chromium that is ≈ 1 ms for a 417² mask where fast-png's
 * streaming decoder takes ≈ 5 (it runs on every stroke). Anything else (other layouts, filtered rows,
 * a stream of the wrong length): undefined, and fast-png decodes it.
 */
export function decodePlainIndexPng(u: Uint8Array): IndexMask | undefined {
  const SIG = [137, 80, 78, 71, 13, 10, 26, 10];
  if (u.length < 45 || SIG.some((b, i) => u[i] !== b)) return undefined;
  const dv = new DataView(u.buffer, u.byteOffset, u.byteLength);
  const type = (o: number) => String.fromCharCode(u[o + 4], u[o + 5], u[o + 6], u[o + 7]);
  if (dv.getUint32(8) !== 13 || type(8) !== 'IHDR') return undefined;
  const width = dv.getUint32(16), height = dv.getUint32(20);
  const [depth, colour, compression, filter, interlace] = [u[24], u[25], u[26], u[27], u[28]];
  if (depth !== 8 || (colour !== 0 && colour !== 3) || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
  if (width === 0 || height === 0 || width * height > MAX_PLAIN_PIXELS) return undefined;
  const parts: Uint8Array[] = [];
  let o = 33, size = 0;
  for (;;) {
    if (o + 12 > u.length) return undefined; // no IEND: damaged
    const n = dv.getUint32(o), t = type(o);
    if (o + 12 + n > u.length) return undefined;
    if (t === 'IDAT') {
      parts.push(u.subarray(o + 8, o + 8 + n));
      size += n;
    }
    if (t === 'IEND') break;
    o += 12 + n;
  }
  if (!parts.length) return undefined;
  let z = parts[0];
  if (parts.length > 1) {
    z = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      z.set(p, at);
      at += p.length;
    }
  }
  const row = width + 1;
  const raw = new Uint8Array(height * row + 1); // one spare byte: a stream longer than the image shows
  let got: Uint8Array;
  try {
    got = unzlibSync(z, { out: raw });
  } catch {
    return undefined;
  }
  if (got.length !== height * row) return undefined;
  for (let y = 0; y < height; y++) if (raw[y * row] !== 0) return undefined;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.set(raw.subarray(y * row + 1, (y + 1) * row), y * width);
  return { width, height, data };
}
