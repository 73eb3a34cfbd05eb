// Index masks as PNG files. VOC's SegmentationClass masks are 8-bit paletted PNGs whose *indices* are the
// labels (the palette only colours them); SegmentationClassAug masks are 8-bit grayscale. We read indices
// directly (fast-png keeps them) instead of decoding to colours and inverting, and fall back to inverting
// the VOC colormap for RGB(A) exports of the same masks.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { decode } from 'fast-png';
import { DataError } from '../errors';
import { describeFsError } from '../fsProblem';
import { writeFileAtomic, writeFileAtomicAsync } from '../fsutil';
import type { IndexMask } from '../types';
import { maxImagePixels, pixelLimitProblem } from './limits';
import { VOC_COLORMAP, vocIndexOf } from '../../shared/palette';
import { inspectPng } from './pngInfo';

function unpackBits(packed: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const perByte = 8 / depth;
  const maskBits = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * rowBytes + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & maskBits;
    }
  }
  return out;
}

/** Decode PNG bytes to an index mask. `file` only names the source in errors. The structure and the
 *  declared size are checked before decoding: a damaged file is named with what is wrong with it, and a
 *  decompression bomb is refused from its header (limits.ts). */
export function decodeIndexPng(bytes: Uint8Array, file: string, maxPixels = maxImagePixels()): IndexMask {
  const info = inspectPng(bytes);
  if (typeof info === 'string') throw new DataError(file, `not a readable PNG: ${info}`);
  const tooBig = pixelLimitProblem(info.width, info.height, maxPixels);
  if (tooBig) throw new DataError(file, tooBig);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (e) {
    // The chunk structure was sound (inspectPng): what fails now is the compressed image data itself.
    throw new DataError(file, `not a readable PNG: its image data is corrupt (${(e as Error).message})`);
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  if (channels === 1 || (channels === 2 && !png.palette)) {
    if (depth === 16) return from16Bit(png.data as Uint16Array, width, height, channels, file);
    let idx: Uint8Array;
    if (depth === 8) {
      if (channels === 1) idx = new Uint8Array(png.data.buffer, png.data.byteOffset, n).slice();
      else {
        idx = new Uint8Array(n); // gray+alpha: take gray
        for (let i = 0; i < n; i++) idx[i] = png.data[2 * i];
      }
    } else {
      idx = unpackBits(png.data, width, height, depth);
    }
    return { width, height, data: idx };
  }
  if (channels === 3 || channels === 4) {
    if (depth !== 8) throw new DataError(file, `${depth}-bit colour mask PNGs are not supported`);
    const idx = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * channels;
      const k = vocIndexOf(png.data[o], png.data[o + 1], png.data[o + 2]);
      if (k < 0) {
        throw new DataError(file, `colour mask has colour rgb(${png.data[o]},${png.data[o + 1]},${png.data[o + 2]}) at (${i % width},${Math.floor(i / width)}) which is not in the VOC palette`);
      }
      idx[i] = k;
    }
    return { width, height, data: idx };
  }
  throw new DataError(file, `unsupported PNG layout (${channels} channels, depth ${depth})`);
}

/** 16-bit gray (+alpha) masks, as some tools write label maps: fine while every value is a class byte. */
function from16Bit(data: Uint16Array, width: number, height: number, channels: number, file: string): IndexMask {
  const n = width * height;
  const idx = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i * channels];
    if (v > 255) {
      throw new DataError(file, `16-bit mask has value ${v} at (${i % width},${Math.floor(i / width)}); class indices must fit 0..255 (255 = ignore)`);
    }
    idx[i] = v;
  }
  return { width, height, data: idx };
}

export async function readIndexPng(file: string): Promise<IndexMask> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'ENOENT' ? 'mask file not found' : `cannot read mask: ${describeFsError(e)}`);
  }
  return decodeIndexPng(bytes, file);
}

/**
 * Encode an index mask as an 8-bit paletted PNG with the VOC palette (what VOC's own masks are), deflated
 * by node's native zlib: level 6 for files, `fast` (masks in transit, one per stroke) level 1 with the
 * RLE strategy. fast-png's JS deflate took 6–9 ms for a 417² mask on the engine's thread, where
 * autosaves land between strokes.
 */
export function encodeIndexPng(mask: IndexMask, opts: { fast?: boolean } = {}): Uint8Array {
  if (mask.data.length !== mask.width * mask.height) throw new Error('encodeIndexPng: data length does not match width*height');
  return encodePalettePng(mask, opts.fast ? { level: 1, strategy: zlib.constants.Z_RLE } : { level: 6 });
}

let vocPlte: Uint8Array | undefined;
/** The VOC palette as a PLTE chunk's bytes (r, g, b per index). */
const VOC_PLTE = () => (vocPlte ??= Uint8Array.from(VOC_COLORMAP.flatMap((c) => [c[0], c[1], c[2]])));

/** 8-bit paletted PNG, VOC palette, every row with filter 0 (label maps are runs: filters do not help). */
function encodePalettePng(mask: IndexMask, z: zlib.ZlibOptions): Uint8Array {
  const { width: w, height: h, data } = mask;
  const raw = new Uint8Array(h * (w + 1)); // each row: filter byte 0, then the indices
  for (let y = 0; y < h; y++) raw.set(data.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const idat = zlib.deflateSync(raw, z);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: palette indices
  const chunks: Array<[string, Uint8Array]> = [['IHDR', ihdr], ['PLTE', VOC_PLTE()], ['IDAT', idat], ['IEND', new Uint8Array(0)]];
  const out = new Uint8Array(8 + chunks.reduce((n, [, d]) => n + 12 + d.length, 0));
  out.set([137, 80, 78, 71, 13, 10, 26, 10]);
  const ov = new DataView(out.buffer);
  let o = 8;
  for (const [type, d] of chunks) {
    ov.setUint32(o, d.length);
    for (let i = 0; i < 4; i++) out[o + 4 + i] = type.charCodeAt(i);
    out.set(d, o + 8);
    // a chunk's CRC covers its type and data (the PNG CRC is zlib's CRC-32)
    ov.setUint32(o + 8 + d.length, zlib.crc32(out.subarray(o + 4, o + 8 + d.length)));
    o += 12 + d.length;
  }
  return out;
}

export function writeIndexPng(file: string, mask: IndexMask): void {
  writeFileAtomic(file, encodeIndexPng(mask));
}

export function writeIndexPngAsync(file: string, mask: IndexMask): Promise<void> {
  return writeFileAtomicAsync(file, encodeIndexPng(mask));
}
