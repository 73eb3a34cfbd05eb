// Guided filter with a colour guide (He, Sun, Tang, "Guided Image Filtering", ECCV 2010 / TPAMI 2013,
// eq. 5–8 and §4 colour case), run on the class probabilities with the photo as the guide: inside each
// window the output is an affine function of the image's colour, q = aᵀI + b, fitted to the input
// probabilities by ridge regression (ε the ridge penalty). So a blurry probability edge that lies within
// r pixels of a colour edge is pulled onto it, and flat colour regions take one value.
//
//   a_k = (Σ_k + εU)⁻¹ (1/|ω| Σ_{i∈ω_k} I_i p_i − μ_k p̄_k),   b_k = p̄_k − a_kᵀ μ_k          (eq. 14–15)
//   q_i = ā_iᵀ I_i + b̄_i   (ā, b̄: a and b averaged over the windows holding i)               (eq. 16)
//
// Fast variant (He & Sun, "Fast Guided Filter", arXiv 1505.00996): a and b are computed on a copy
// subsampled by s (area average), upsampled bilinearly, and applied to the full-resolution guide; the
// cost per probability channel drops by ≈ s² with the edges still placed at full resolution.
//
// The filter is linear in p, and filtering a constant gives that constant (a = 0, b = c), so filtering
// K of the K+1 class maps and taking the last as 1 − Σ keeps rows summing to 1 exactly; the output may
// leave [0, 1] slightly and is clipped and renormalised by the caller.
import type { RawImage } from '../../types';
import { boxMean } from './boxFilter';
import { linearTaps } from './levels';
import { renormaliseRows, softmaxRows } from './probabilities';

export interface GuidedFilterOptions {
  /** window radius in full-resolution pixels */
  radius: number;
  /** ridge penalty ε on the guide's colour (guide in [0, 1]) */
  eps: number;
  /** subsampling factor of the fast guided filter (1 = the exact filter) */
  subsample?: number;
}

/** What depends on the image alone: computed once per image and settings. */
export interface ColourGuide {
  size: number;
  /** subsampling factor */
  s: number;
  /** subsampled side */
  hs: number;
  ws: number;
  r: number;
  /** full-resolution guide planes, [3][S·S], 0..1 */
  full: Float32Array[];
  /** subsampled guide planes and their window means, [3][hs·ws] */
  sub: Float32Array[];
  mean: Float32Array[];
  /** (Σ + εU)⁻¹ per subsampled pixel, symmetric: [00, 01, 02, 11, 12, 22][hs·ws] */
  inv: Float32Array[];
}

/** Area average of an h×w plane over s×s blocks (the last block may be partial). */
export function downsampleArea(src: Float32Array, h: number, w: number, s: number): { data: Float32Array; h: number; w: number } {
  if (s === 1) return { data: src, h, w };
  const hs = Math.ceil(h / s), ws = Math.ceil(w / s), sum = new Float32Array(hs * ws), cnt = new Float32Array(hs * ws);
  for (let y = 0; y < h; y++) {
    const r = Math.floor(y / s) * ws;
    for (let x = 0; x < w; x++) {
      const i = r + Math.floor(x / s);
      sum[i] += src[y * w + x];
      cnt[i]++;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= cnt[i];
  return { data: sum, h: hs, w: ws };
}

const guides = new WeakMap<Uint8Array, Map<string, ColourGuide>>();

export function colourGuide(img: RawImage, opts: GuidedFilterOptions): ColourGuide {
  if (img.width !== img.height) throw new RangeError('colourGuide: the working image is square');
  const s = Math.max(1, Math.round(opts.subsample ?? 1));
  const key = `${opts.radius}|${opts.eps}|${s}`;
  const hit = guides.get(img.data)?.get(key);
  if (hit) return hit;
  const size = img.width, n = size * size;
  const full = [0, 1, 2].map((c) => {
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = img.data[i * 3 + c] / 255;
    return p;
  });
  const subs = full.map((p) => downsampleArea(p, size, size, s));
  const { h: hs, w: ws } = subs[0];
  const sub = subs.map((x) => x.data);
  const r = Math.max(1, Math.round(opts.radius / s));
  const mean = sub.map((p) => boxMean(p, hs, ws, r));
  const m = hs * ws;
  const prod = (a: Float32Array, b: Float32Array) => {
    const o = new Float32Array(m);
    for (let i = 0; i < m; i++) o[i] = a[i] * b[i];
    return boxMean(o, hs, ws, r);
  };
  const pairs: Array<[number, number]> = [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]];
  const cov = pairs.map(([a, b]) => {
    const e = prod(sub[a], sub[b]);
    for (let i = 0; i < m; i++) e[i] -= mean[a][i] * mean[b][i];
    return e;
  });
  const inv = pairs.map(() => new Float32Array(m));
  for (let i = 0; i < m; i++) {
    // inverse of the symmetric 3×3 (Σ + εU) by cofactors
    const a = cov[0][i] + opts.eps, b = cov[1][i], c = cov[2][i], d = cov[3][i] + opts.eps, e = cov[4][i], f = cov[5][i] + opts.eps;
    const A = d * f - e * e, B = c * e - b * f, C = b * e - c * d;
    const det = a * A + b * B + c * C;
    inv[0][i] = A / det; inv[1][i] = B / det; inv[2][i] = C / det;
    inv[3][i] = (a * f - c * c) / det; inv[4][i] = (b * c - a * e) / det; inv[5][i] = (a * d - b * b) / det;
  }
  const g: ColourGuide = { size, s, hs, ws, r, full, sub, mean, inv };
  let byKey = guides.get(img.data);
  if (!byKey) guides.set(img.data, (byKey = new Map()));
  byKey.set(key, g);
  return g;
}

/** The window-averaged coefficients ā (3 planes) and b̄ of eq. 16 for an input plane at the guide's sub resolution. */
function coefficients(g: ColourGuide, ps: Float32Array): { ma: Float32Array[]; mb: Float32Array } {
  const { hs, ws, r } = g, m = hs * ws;
  const meanP = boxMean(ps, hs, ws, r);
  const covIp = g.sub.map((ic, c) => {
    const o = new Float32Array(m);
    for (let i = 0; i < m; i++) o[i] = ic[i] * ps[i];
    const e = boxMean(o, hs, ws, r);
    for (let i = 0; i < m; i++) e[i] -= g.mean[c][i] * meanP[i];
    return e;
  });
  const a = [new Float32Array(m), new Float32Array(m), new Float32Array(m)], b = new Float32Array(m);
  const [i00, i01, i02, i11, i12, i22] = g.inv;
  for (let i = 0; i < m; i++) {
    const c0 = covIp[0][i], c1 = covIp[1][i], c2 = covIp[2][i];
    const a0 = i00[i] * c0 + i01[i] * c1 + i02[i] * c2;
    const a1 = i01[i] * c0 + i11[i] * c1 + i12[i] * c2;
    const a2 = i02[i] * c0 + i12[i] * c1 + i22[i] * c2;
    a[0][i] = a0; a[1][i] = a1; a[2][i] = a2;
    b[i] = meanP[i] - a0 * g.mean[0][i] - a1 * g.mean[1][i] - a2 * g.mean[2][i];
  }
  return { ma: a.map((x) => boxMean(x, hs, ws, r)), mb: boxMean(b, hs, ws, r) };
}

/** q = āᵀI + b̄ at every full-resolution pixel, ā and b̄ read bilinearly from the sub resolution. */
function apply(g: ColourGuide, ma: Float32Array[], mb: Float32Array, out: Float32Array, stride = 1, offset = 0): void {
  const { size, hs, ws } = g, [f0, f1, f2] = g.full;
  if (hs === size) {
    for (let i = 0; i < size * size; i++) out[i * stride + offset] = ma[0][i] * f0[i] + ma[1][i] * f1[i] + ma[2][i] * f2[i] + mb[i];
    return;
  }
  const ty = linearTaps(size, hs), tx = linearTaps(size, ws), [A0, A1, A2] = ma;
  for (let y = 0; y < size; y++) {
    const r0 = ty.i0[y] * ws, r1 = ty.i1[y] * ws, fy = ty.f[y];
    for (let x = 0; x < size; x++) {
      const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x], i = y * size + x;
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const p00 = r0 + a, p01 = r0 + b, p10 = r1 + a, p11 = r1 + b;
      const a0 = w00 * A0[p00] + w01 * A0[p01] + w10 * A0[p10] + w11 * A0[p11];
      const a1 = w00 * A1[p00] + w01 * A1[p01] + w10 * A1[p10] + w11 * A1[p11];
      const a2 = w00 * A2[p00] + w01 * A2[p01] + w10 * A2[p10] + w11 * A2[p11];
      const bb = w00 * mb[p00] + w01 * mb[p01] + w10 * mb[p10] + w11 * mb[p11];
      out[i * stride + offset] = a0 * f0[i] + a1 * f1[i] + a2 * f2[i] + bb;
    }
  }
}

/** Filter one full-resolution plane p (S·S) with the guide. */
export function guidedFilterPlane(g: ColourGuide, p: Float32Array): Float32Array {
  const { ma, mb } = coefficients(g, downsampleArea(p, g.size, g.size, g.s).data);
  const q = new Float32Array(g.size * g.size);
  apply(g, ma, mb, q);
  return q;
}

/**
 * Refine probabilities [S·S, k1] in place: channels 1..K filtered, channel 0 = 1 − Σ (then the caller
 * clips and renormalises, probabilities.ts renormaliseRows).
 */
export function guidedFilterProbs(g: ColourGuide, probs: Float32Array, k1: number): void {
  const n = g.size * g.size;
  const filtered = new Float32Array(n * k1);
  for (let k = 1; k < k1; k++) {
    const plane = new Float32Array(n);
    for (let i = 0; i < n; i++) plane[i] = probs[i * k1 + k];
    const { ma, mb } = coefficients(g, downsampleArea(plane, g.size, g.size, g.s).data);
    apply(g, ma, mb, filtered, k1, k);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 1; k < k1; k++) s += probs[i * k1 + k] = filtered[i * k1 + k];
    probs[i * k1] = 1 - s;
  }
}

/**
 * From the classifier's logits on its feature grid (h×w×k1) straight to refined probabilities [S·S, k1]:
 * the input probabilities are formed at the guide's sub resolution only (bilinear logits at each block's
 * centre, softmax), so the only full-resolution pass is the final q = āᵀI + b̄. Rows are clipped and
 * renormalised; `own` strokes (S·S raster) are fixed to their labels.
 */
export function guidedFromLogits(g: ColourGuide, logits: Float32Array, h: number, w: number, k1: number, own?: Uint8Array): Float32Array {
  const { size, hs, ws, s } = g, m = hs * ws, n = size * size;
  // block centres in working pixels, read on the feature grid with half-pixel centres
  const src = (i: number, grid: number) => Math.min(Math.max(((i * s + Math.min(s, size - i * s) / 2) * grid) / size - 0.5, 0), grid - 1);
  const p = new Float32Array(m * k1);
  for (let y = 0; y < hs; y++) {
    const sy = src(y, h), y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let x = 0; x < ws; x++) {
      const sx = src(x, w), x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0, o = (y * ws + x) * k1;
      for (let l = 0; l < k1; l++) {
        p[o + l] = (1 - fy) * ((1 - fx) * logits[(y0 * w + x0) * k1 + l] + fx * logits[(y0 * w + x1) * k1 + l]) + fy * ((1 - fx) * logits[(y1 * w + x0) * k1 + l] + fx * logits[(y1 * w + x1) * k1 + l]);
      }
    }
  }
  softmaxRows(p, k1);
  const out = new Float32Array(n * k1);
  for (let k = 1; k < k1; k++) {
    const { ma, mb } = coefficients(g, Float32Array.from({ length: m }, (_, i) => p[i * k1 + k]));
    apply(g, ma, mb, out, k1, k);
  }
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let k = 1; k < k1; k++) t += out[i * k1 + k];
    out[i * k1] = 1 - t;
  }
  renormaliseRows(out, k1);
  if (own) {
    for (let i = 0; i < n; i++) {
      const v = own[i];
      if (v >= k1) continue;
      out.fill(0, i * k1, (i + 1) * k1);
      out[i * k1 + v] = 1;
    }
  }
  return out;
}
