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
import { resizeBilinear } from './levels';

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

/** Filter one full-resolution plane p (S·S) with the guide. */
export function guidedFilterPlane(g: ColourGuide, p: Float32Array): Float32Array {
  const { size, hs, ws, r } = g, m = hs * ws, n = size * size;
  const ps = downsampleArea(p, size, size, g.s).data;
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
  const up = (x: Float32Array) => (hs === size ? boxMean(x, hs, ws, r) : resizeBilinear(boxMean(x, hs, ws, r), hs, ws, 1, size, size));
  const ma = a.map(up), mb = up(b);
  const q = new Float32Array(n);
  const [f0, f1, f2] = g.full;
  for (let i = 0; i < n; i++) q[i] = ma[0][i] * f0[i] + ma[1][i] * f1[i] + ma[2][i] * f2[i] + mb[i];
  return q;
}

/**
 * Refine probabilities [S·S, k1] in place: channels 1..K filtered, channel 0 = 1 − Σ, then clipped and
 * renormalised (probabilities.ts renormaliseRows).
 */
export function guidedFilterProbs(g: ColourGuide, probs: Float32Array, k1: number): void {
  const n = g.size * g.size;
  const bg = new Float32Array(n).fill(1);
  for (let k = 1; k < k1; k++) {
    const plane = new Float32Array(n);
    for (let i = 0; i < n; i++) plane[i] = probs[i * k1 + k];
    const q = guidedFilterPlane(g, plane);
    for (let i = 0; i < n; i++) {
      probs[i * k1 + k] = q[i];
      bg[i] -= q[i];
    }
  }
  for (let i = 0; i < n; i++) probs[i * k1] = bg[i];
}
