// COCO run-length encoding (the format of pycocotools' maskApi), written from the algorithm's
// description: a binary mask is read in COLUMN-major order and stored as alternating run lengths,
// the first run counting zeros (so a mask starting with 1 has counts[0] = 0).
// The compact string form ("compressed RLE") is maskApi's rleToString / rleFrString codec: each count
// (after the third, as a difference to the count two places back) is written as 5-bit groups, low
// group first, 0x20 = "more groups follow", 0x10 of the last group = sign, each group + 48 as an ASCII char.

export interface UncompressedRle {
  counts: number[];
  /** [height, width], as COCO writes it */
  size: [number, number];
}

/** Decode counts (column-major runs, zeros first) into a row-major 0/1 mask of h×w.
 *  Throws RangeError when the runs do not add up to h*w (the caller names the file). */
export function rleDecode(rle: { counts: number[] | string; size?: [number, number] }, h: number, w: number): Uint8Array {
  const counts = typeof rle.counts === 'string' ? rleFromString(rle.counts) : rle.counts;
  const n = h * w;
  const out = new Uint8Array(n);
  let pos = 0; // column-major position
  let v = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`RLE count ${c} is not a non-negative integer`);
    if (pos + c > n) throw new RangeError(`RLE runs sum past ${h}x${w}=${n}`);
    if (v === 1) {
      for (let k = pos; k < pos + c; k++) {
        // column-major index k -> (row k % h, column floor(k / h))
        const col = Math.floor(k / h);
        out[(k - col * h) * w + col] = 1;
      }
    }
    pos += c;
    v ^= 1;
  }
  if (pos !== n) throw new RangeError(`RLE runs sum to ${pos}, expected ${h}x${w}=${n}`);
  return out;
}

/** Encode a row-major mask (any non-zero = 1) of h×w as uncompressed COCO RLE. */
export function rleEncode(mask: Uint8Array, h: number, w: number): UncompressedRle {
  if (mask.length !== h * w) throw new RangeError(`mask length ${mask.length} != ${h}x${w}`);
  const counts: number[] = [];
  let cur = 0; // value of the current run; runs start with zeros
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x] ? 1 : 0;
      if (v !== cur) {
        counts.push(run);
        run = 0;
        cur = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { counts, size: [h, w] };
}

/** maskApi's rleToString: counts -> compact ASCII string. */
export function rleToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    // maskApi deltas from the 4th count on (i > 2, not i >= 2): kept for byte compatibility.
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0);
    let more = true;
    while (more) {
      // arithmetic (not bitwise) so counts beyond 2^31 stay exact
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** maskApi's rleFrString: compact ASCII string -> counts. Throws RangeError on a malformed string. */
export function rleFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new RangeError('compressed RLE string ends inside a number');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RangeError(`compressed RLE has an invalid character at ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      // sign-extend: the value is two's complement over 5k bits
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2];
    if (x < 0) throw new RangeError(`compressed RLE decodes to a negative count at ${m}`);
    counts.push(x);
  }
  return counts;
}

/** Number of 1-pixels of an RLE (sum of the odd runs), what pycocotools calls area. */
export function rleArea(counts: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i];
  return a;
}
