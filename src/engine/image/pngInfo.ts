// The structure of a PNG file read without decoding it (the PNG specification, §5: an 8-byte signature,
// then chunks of [u32 length][4-byte type][data][u32 CRC], IHDR first, IEND last). It lets a mask reader
// refuse a decompression bomb from IHDR alone and say precisely what is wrong with a damaged file ("ends
// inside its IDAT chunk") where the decoder would only report a bounds error.

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colorType: number;
  hasPalette: boolean;
}

/** Header facts of a PNG, or the problem with its structure (a string). */
export function inspectPng(bytes: Uint8Array): PngInfo | string {
  if (bytes.length === 0) return 'empty file (0 bytes)';
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return 'not a PNG file (its first bytes are not the PNG signature)';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let info: PngInfo | undefined;
  let hasPalette = false;
  let sawIdat = false;
  while (p < bytes.length) {
    if (p + 8 > bytes.length) return `truncated: the file ends at byte ${bytes.length} inside a chunk header`;
    const len = dv.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) return `corrupt: byte ${p + 4} should start a chunk type, found bytes that are not one`;
    if (p + 12 + len > bytes.length) return `truncated: the file ends at byte ${bytes.length} inside its ${type} chunk (which needs ${p + 12 + len})`;
    if (info === undefined) {
      if (type !== 'IHDR' || len !== 13) return 'corrupt: the first chunk is not a 13-byte IHDR';
      info = { width: dv.getUint32(p + 8), height: dv.getUint32(p + 12), bitDepth: bytes[p + 16], colorType: bytes[p + 17], hasPalette: false };
      if (info.width === 0 || info.height === 0) return `corrupt: IHDR declares a ${info.width}×${info.height} image`;
    }
    if (type === 'PLTE') hasPalette = true;
    if (type === 'IDAT') sawIdat = true;
    if (type === 'IEND') return sawIdat ? { ...info, hasPalette } : 'corrupt: no IDAT (image data) chunk before IEND';
    p += 12 + len;
  }
  return `truncated: the file ends at byte ${bytes.length} without an IEND chunk`;
}
