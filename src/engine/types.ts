// Plain data shapes shared across the engine. No tensors here: these cross process and file boundaries.

/** An 8-bit RGB image, row-major HWC. */
export interface RawImage {
  width: number;
  height: number;
  /** length width*height*3 */
  data: Uint8Array;
}

/**
 * A class-index mask, row-major. 0 = background, 1..C = class ordinals, 255 = ignore
 * (VOC's object borders, COCO crowd regions when asked to ignore them).
 */
export interface IndexMask {
  width: number;
  height: number;
  /** length width*height */
  data: Uint8Array;
}

export const IGNORE = 255;
