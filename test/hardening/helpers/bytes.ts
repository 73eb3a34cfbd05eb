// Bad files written byte by byte, so the corpus never needs a committed binary: PNG chunks (with their
// CRCs, so a file is damaged exactly where a case says), a JPEG whose header lies about its size, and
// safetensors headers edited in place.
import * as zlib from 'zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), Buffer.from(data)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export interface PngSpec {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colorType: number;
  /** unfiltered rows (filter byte 0 is added per row); default: zeros */
  pixels?: Uint8Array;
  /** raw IDAT payload instead of compressing `pixels` (for a header that lies) */
  idat?: Uint8Array;
  palette?: Array<[number, number, number]>;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** A PNG assembled chunk by chunk: IHDR, PLTE (when a palette is given), IDAT, IEND. */
export function pngFile(s: PngSpec): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s.width, 0);
  ihdr.writeUInt32BE(s.height, 4);
  ihdr[8] = s.bitDepth;
  ihdr[9] = s.colorType;
  let idat = s.idat;
  if (!idat) {
    const rowBytes = Math.ceil((s.width * CHANNELS[s.colorType] * s.bitDepth) / 8);
    const raw = Buffer.alloc((rowBytes + 1) * s.height);
    for (let y = 0; y < s.height; y++) {
      if (s.pixels) Buffer.from(s.pixels.buffer, s.pixels.byteOffset + y * rowBytes, rowBytes).copy(raw, y * (rowBytes + 1) + 1);
    }
    idat = zlib.deflateSync(raw);
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    ...(s.palette ? [pngChunk('PLTE', Buffer.from(s.palette.flat()))] : []),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** A decompression bomb: a PNG header declaring w×h over a few bytes of image data. */
export function pngBomb(width: number, height: number): Buffer {
  return pngFile({ width, height, bitDepth: 1, colorType: 0, idat: zlib.deflateSync(Buffer.alloc(4096)) });
}

/** The same JPEG with its frame header (SOF0/SOF2) claiming w×h: a JPEG bomb from a real small JPEG. */
export function jpegClaiming(jpeg: Uint8Array, width: number, height: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let p = 2; p + 9 < b.length;) {
    if (b[p] !== 0xff) throw new Error('jpegClaiming: lost the marker chain');
    const marker = b[p + 1];
    const len = b.readUInt16BE(p + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      b.writeUInt16BE(height, p + 5);
      b.writeUInt16BE(width, p + 7);
      return b;
    }
    p += 2 + len;
  }
  throw new Error('jpegClaiming: no SOF0/SOF2 frame header');
}

/** Split a safetensors file into its JSON header and data section. */
export function readSafetensors(bytes: Uint8Array): { header: Record<string, any>; data: Buffer } {
  const b = Buffer.from(bytes);
  const n = Number(b.readBigUInt64LE(0));
  return { header: JSON.parse(b.subarray(8, 8 + n).toString('utf8')), data: b.subarray(8 + n) };
}

/** Assemble a safetensors file from a (possibly lying) header and data bytes. */
export function writeSafetensorsBytes(header: unknown, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}
