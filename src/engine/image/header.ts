// An image's size from its header alone (sharp reads the first bytes): to check that a mask fits its
// image without decoding the image.
import * as fs from 'fs';
import sharp from 'sharp';
import { DataError } from '../errors';
import { describeFsError } from '../fsProblem';

/** Width and height as the header states them, and whether an EXIF orientation swaps them on display
 *  (orientations 5–8); undefined when the header cannot be read (the decoder reports that). */
export async function imageHeaderSize(file: string): Promise<{ width: number; height: number; swapped: boolean } | undefined> {
  try {
    const m = await sharp(file, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return undefined;
    return { width: m.width, height: m.height, swapped: (m.orientation ?? 1) >= 5 };
  } catch {
    return undefined;
  }
}

/** Does a w×h mask fit an image of this header size (either orientation when EXIF may rotate it)? */
export function fitsImage(mask: { width: number; height: number }, img: { width: number; height: number; swapped: boolean }): boolean {
  if (mask.width === img.width && mask.height === img.height) return true;
  return img.swapped && mask.width === img.height && mask.height === img.width;
}

/** The header size of an image file, or a DataError saying why it cannot be read (missing, empty, a
 *  folder, not an image) — for readers that check images without decoding them (protolab masks). */
export async function readImageHeader(file: string): Promise<{ width: number; height: number; swapped: boolean }> {
  const st = await fs.promises.stat(file).catch((e: unknown) => {
    throw new DataError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'image file not found' : `image file not readable: ${describeFsError(e)}`);
  });
  if (st.isDirectory()) throw new DataError(file, 'not a readable image: is a folder, not an image file');
  if (st.size === 0) throw new DataError(file, 'not a readable image: empty file (0 bytes)');
  try {
    const m = await sharp(file, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) throw new Error('no size in its header');
    return { width: m.width, height: m.height, swapped: (m.orientation ?? 1) >= 5 };
  } catch (e) {
    throw new DataError(file, `not a readable image (${(e as Error).message})`);
  }
}
