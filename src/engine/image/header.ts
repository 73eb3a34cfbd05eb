// An image's size from its header alone (sharp reads the first bytes): to check that a mask fits its
// image without decoding the image.
import sharp from 'sharp';

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
