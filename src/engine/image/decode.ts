// Image files -> RGB bytes with sharp (libvips). Guards against absurd sizes before decoding pixels.
import * as fs from 'fs';
import sharp from 'sharp';
import { DataError } from '../errors';
import type { RawImage } from '../types';

/** Refuse images above this many pixels (≈ 64 MP): a 40k×40k PNG would need 4.8 GB as RGB. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

export async function readRgb(file: string, maxPixels = MAX_IMAGE_PIXELS): Promise<RawImage> {
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch {
    throw new DataError(file, 'image file not found or not readable');
  }
  let meta: import("sharp").Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new DataError(file, `not a readable image (${(e as Error).message})`);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new DataError(file, 'image has no size');
  if (w * h > maxPixels) throw new DataError(file, `image is ${w}×${h} = ${(w * h / 1e6).toFixed(1)} MP, over the ${(maxPixels / 1e6).toFixed(0)} MP limit`);
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
