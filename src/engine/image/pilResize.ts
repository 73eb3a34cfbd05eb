// Bilinear resize exactly as Pillow computes it (Image.resize(size, Image.BILINEAR), libImaging/Resample.c),
// because PANet's test transform resizes images with PIL: matching it to the byte makes ProtoLab's
// network input the official code's own (sharp/libvips's 'linear' kernel differs by ~2 grey levels on
// average, enough to flip 1–2 % of pixels of a prediction between near-tied prototypes; measured with
// `npm run bench:compare`).
//
// Pillow's algorithm, separable, horizontal pass first into an 8-bit intermediate, then vertical:
//   scale = in / out; filterscale = max(scale, 1); support = 1 · filterscale (triangle filter)
//   output sample o: centre = (o + 0.5) · scale; taps x ∈ [trunc(centre − support + 0.5), trunc(centre + support + 0.5))
//   clamped to the image; weight(x) = tri((x − centre + 0.5) / filterscale), normalised to sum 1,
//   then fixed point: trunc(w · 2^22 ± 0.5); out = clamp((2^21 + Σ v·w) >> 22, 0, 255).
// Only rows the vertical pass reads are resampled horizontally (as Pillow does).
import type { RawImage } from '../types';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  /** first input index per output sample */
  start: Int32Array;
  /** number of taps per output sample */
  count: Int32Array;
  /** fixed-point weights, `ksize` per output sample */
  k: Int32Array;
  ksize: number;
}

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

function coeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // the triangle's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize), k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(centre - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(centre + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) sum += (w[x] = triangle((x + xmin - centre + 0.5) / filterscale));
    for (let x = 0; x < xmax; x++) {
      const v = sum !== 0 ? w[x] / sum : w[x];
      k[o * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * ONE : 0.5 + v * ONE);
    }
    start[o] = xmin;
    count[o] = xmax;
  }
  return { start, count, k, ksize };
}

const clip8 = (acc: number) => {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** RGB bytes (HWC) resized to w×h with Pillow's BILINEAR; returns bytes. */
export function resizeBilinearPil(img: RawImage, w: number, h: number): Uint8Array {
  const { width: W, height: H, data } = img;
  if (W === w && H === h) return data.slice();
  const cx = coeffs(W, w), cy = coeffs(H, h);
  // rows of the input the vertical pass needs
  const y0 = cy.start[0], y1 = cy.start[h - 1] + cy.count[h - 1];
  // horizontal pass (skipped when the width does not change, as Pillow does)
  let tmp: Uint8Array;
  if (W !== w) {
    tmp = new Uint8Array((y1 - y0) * w * 3);
    for (let y = y0; y < y1; y++) {
      const row = y * W * 3, outRow = (y - y0) * w * 3;
      for (let o = 0; o < w; o++) {
        const s = cx.start[o], n = cx.count[o], kb = o * cx.ksize;
        let r = HALF, g = HALF, b = HALF;
        for (let t = 0; t < n; t++) {
          const kk = cx.k[kb + t], p = row + (s + t) * 3;
          r += data[p] * kk;
          g += data[p + 1] * kk;
          b += data[p + 2] * kk;
        }
        const q = outRow + o * 3;
        tmp[q] = clip8(r);
        tmp[q + 1] = clip8(g);
        tmp[q + 2] = clip8(b);
      }
    }
  } else {
    tmp = data.subarray(y0 * W * 3, y1 * W * 3);
  }
  if (H === h) return tmp.slice();
  // vertical pass over the intermediate (rows y0…y1 of the input)
  const out = new Uint8Array(w * h * 3);
  const stride = w * 3;
  for (let o = 0; o < h; o++) {
    const s = cy.start[o] - y0, n = cy.count[o], kb = o * cy.ksize;
    for (let x = 0; x < stride; x++) {
      let acc = HALF;
      for (let t = 0; t < n; t++) acc += tmp[(s + t) * stride + x] * cy.k[kb + t];
      out[o * stride + x] = clip8(acc);
    }
  }
  return out;
}
