// Image files -> RGB bytes with sharp (libvips). Guards against absurd sizes before decoding pixels.
import * as fs from 'fs';
import sharp from 'sharp';
import { DataError } from '../errors';
import { describeFsError } from '../fsProblem';
import type { RawImage } from '../types';
import { DEFAULT_MAX_PIXELS, maxImagePixels, pixelLimitProblem } from './limits';

/** The default limit (limits.ts holds the one in force: --max-pixels / the engine option). */
export const MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS;

export async function readRgb(file: string, maxPixels = maxImagePixels()): Promise<RawImage> {
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch (e) {
    throw new DataError(file, `image file not found or not readable: ${describeFsError(e)}`);
  }
  let meta: import("sharp").Metadata;
  try {
    // Header only: sharp's own pixel limit is lifted here so that ours (named, settable) decides.
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    const st = await fs.promises.stat(file).catch(() => undefined);
    const why = st?.isDirectory() ? 'is a folder, not an image file' : st?.size === 0 ? 'empty file (0 bytes)' : undefined;
    throw new DataError(file, why ? `not a readable image: ${why}` : `not a readable image (${(e as Error).message})`);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new DataError(file, 'image has no size');
  // From the header alone, before any pixel is decoded (a decompression bomb ends here).
  const tooBig = pixelLimitProblem(w, h, maxPixels);
  if (tooBig) throw new DataError(file, tooBig);
  try {
    const { data, info } = await sharp(file, { limitInputPixels: maxPixels, failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new DataError(file, `corrupt or truncated image (${(e as Error).message})`);
  }
}
