// Photos as people have them, for labeling: JPEG (grayscale, CMYK, EXIF orientation), PNG (palette,
// 16-bit, alpha), WebP, TIFF, GIF, AVIF — whatever libvips (sharp) reads. Kept apart from decode.ts
// (which reads benchmark datasets exactly as their own tools do) because labeling makes different
// choices, each one deliberate:
//   - EXIF orientation is APPLIED: the pixels, the annotation coordinates, the masks and the exported
//     JPEGs are all in the orientation the user saw in a viewer (VOC/COCO tools ignore EXIF, so an
//     exported image is re-encoded upright with the tag dropped; see label/export).
//   - alpha is composited over white (what a viewer shows on a light page), then dropped;
//   - any colour space (gray, CMYK with libvips's fallback profile, 16-bit) becomes 8-bit sRGB.
//   - large photos are never needed whole for features: readPhotoAt lets libvips shrink while decoding
//     (JPEG shrink-on-load), so a 24 MP photo costs the working size, not 72 MB of RGB.
import * as fs from 'fs';
import sharp from 'sharp';
import { DataError } from '../errors';
import type { RawImage } from '../types';
import { maxImagePixels, pixelLimitProblem } from './limits';

/** File extensions the labeling engine lists as images (lower case, with the dot). */
export const PHOTO_EXTENSIONS = ['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'] as const;

export function isPhotoFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && (PHOTO_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

export interface PhotoInfo {
  /** 'jpeg' | 'png' | 'webp' | … as libvips names it. */
  format: string;
  /** Size as the user sees it (EXIF orientation applied). */
  width: number;
  height: number;
  /** EXIF orientation tag, 1 (none) … 8. */
  orientation: number;
  /** libvips colour space of the stored pixels, e.g. 'srgb', 'b-w', 'cmyk', 'rgb16'. */
  space: string;
  channels: number;
  /** 'uchar' (8-bit) or 'ushort' (16-bit) … */
  depth: string;
  hasAlpha: boolean;
  isPalette: boolean;
}

const WHITE = { r: 255, g: 255, b: 255 };

function readable(file: string): Promise<void> {
  return fs.promises.access(file, fs.constants.R_OK).catch(() => {
    throw new DataError(file, 'image file not found or not readable');
  });
}

/** Header only (no pixels): format, oriented size, orientation, colour space. DataError if unreadable or too large. */
export async function probePhoto(file: string, maxPixels = maxImagePixels()): Promise<PhotoInfo> {
  await readable(file);
  let m: sharp.Metadata;
  try {
    // header only: sharp's own (unnamed) pixel limit is lifted so that ours, named and settable, decides
    m = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new DataError(file, `not a readable image (${(e as Error).message})`);
  }
  const w = m.width ?? 0, h = m.height ?? 0;
  if (!(w > 0 && h > 0)) throw new DataError(file, 'image has no size');
  const tooBig = pixelLimitProblem(w, h, maxPixels);
  if (tooBig) throw new DataError(file, tooBig);
  const orientation = m.orientation && m.orientation >= 1 && m.orientation <= 8 ? m.orientation : 1;
  return {
    format: m.format ?? 'unknown',
    width: m.autoOrient?.width ?? (orientation >= 5 ? h : w),
    height: m.autoOrient?.height ?? (orientation >= 5 ? w : h),
    orientation,
    space: m.space ?? 'unknown',
    channels: m.channels ?? 0,
    depth: m.depth ?? 'unknown',
    hasAlpha: m.hasAlpha ?? false,
    isPalette: m.isPalette ?? false,
  };
}

/** The decoding pipeline every labeling read shares: oriented, over white, 8-bit sRGB. */
function pipeline(file: string, maxPixels: number): sharp.Sharp {
  return sharp(file, { limitInputPixels: maxPixels, failOn: 'error' }).autoOrient().flatten({ background: WHITE }).toColourspace('srgb');
}

async function toRaw(file: string, p: sharp.Sharp): Promise<RawImage> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await p.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataError(file, `corrupt or truncated image (${(e as Error).message})`);
  }
  if (out.info.channels !== 3) throw new DataError(file, `decoded to ${out.info.channels} channels, expected 3`);
  return { width: out.info.width, height: out.info.height, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length) };
}

/** The whole photo, oriented, 8-bit sRGB. */
export async function readPhoto(file: string, maxPixels = maxImagePixels()): Promise<RawImage> {
  await readable(file);
  return toRaw(file, pipeline(file, maxPixels));
}

/**
 * The photo oriented and resized to w×h (aspect not kept, bilinear, as the engine's working size):
 * libvips shrinks while decoding where it can, so the full-size pixels are never held.
 */
export async function readPhotoAt(file: string, w: number, h: number, maxPixels = maxImagePixels()): Promise<RawImage> {
  await readable(file);
  return toRaw(file, pipeline(file, maxPixels).resize(w, h, { fit: 'fill', kernel: 'linear' }));
}

/** Re-encode a photo as an upright baseline JPEG (orientation applied, tag dropped, over white, sRGB). */
export async function writeUprightJpeg(file: string, out: string, quality = 95, maxPixels = maxImagePixels()): Promise<void> {
  await readable(file);
  try {
    await pipeline(file, maxPixels).jpeg({ quality, chromaSubsampling: '4:4:4' }).toFile(out);
  } catch (e) {
    throw new DataError(file, `cannot re-encode as JPEG (${(e as Error).message})`);
  }
}

/**
 * The photo for a viewer: oriented, over white, sRGB, shrunk so its longest side is at most `maxSide`
 * (never enlarged), as JPEG bytes. The labeling workbench draws on this while annotations stay in the
 * full-resolution coordinates of probePhoto's width × height.
 */
export async function displayJpeg(file: string, maxSide: number, quality = 85, maxPixels = maxImagePixels()): Promise<Uint8Array> {
  await readable(file);
  try {
    const buf = await pipeline(file, maxPixels).resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality }).toBuffer();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (e) {
    throw new DataError(file, `corrupt or truncated image (${(e as Error).message})`);
  }
}
