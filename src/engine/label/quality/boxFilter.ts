// Mean over a (2r+1)×(2r+1) window clipped to the image (the window shrinks at the borders and the mean
// divides by the pixels it really covers, as He et al.'s reference guided filter does with N =
// box(ones)). Separable running sums: O(1) per pixel whatever r.

/** Mean filter of a single-channel h×w map. */
export function boxMean(src: Float32Array, h: number, w: number, r: number): Float32Array {
  const tmp = new Float32Array(h * w), out = new Float32Array(h * w);
  // horizontal pass
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) s += src[row + x];
    for (let x = 0; x < w; x++) {
      const lo = Math.max(0, x - r), hi = Math.min(w - 1, x + r);
      tmp[row + x] = s / (hi - lo + 1);
      if (x + r + 1 < w) s += src[row + x + r + 1];
      if (x - r >= 0) s -= src[row + x - r];
    }
  }
  // vertical pass
  const acc = new Float64Array(w);
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let x = 0; x < w; x++) acc[x] += tmp[y * w + x];
  for (let y = 0; y < h; y++) {
    const lo = Math.max(0, y - r), hi = Math.min(h - 1, y + r), cnt = hi - lo + 1;
    for (let x = 0; x < w; x++) out[y * w + x] = acc[x] / cnt;
    if (y + r + 1 < h) for (let x = 0; x < w; x++) acc[x] += tmp[(y + r + 1) * w + x];
    if (y - r >= 0) for (let x = 0; x < w; x++) acc[x] -= tmp[(y - r) * w + x];
  }
  return out;
}
