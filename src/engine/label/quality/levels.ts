// Feature levels as the labeling classifiers use them: each level (e.g. MobileNetV2 at stride 8 and at
// stride 16) is L2-normalised per position and scaled by a level weight w_l with Σ w_l² = 1, so the
// concatenation [w_8·f̂_8, w_16·f̂_16] of one position has unit norm and a dot product of two positions
// is a weighted mean of per-level cosines. Normalising each level separately keeps the 576-channel
// stride-16 map from drowning the 192-channel stride-8 one (and is what made the ridge trial work:
// raw ReLU6 activations have norms that vary with contrast, not with class).
//
// All scoring happens on the FINEST level's grid: a coarser level is read there by bilinear
// interpolation (half-pixel centres, as PANet's upsampling), so stride-8 detail is never blurred to
// stride 16.
import type { FeatureEntry } from '../../features/featureCache';
import { matMul } from './linalg';

export interface Level {
  h: number;
  w: number;
  c: number;
  /** [h·w, c], each row of norm w_l (0 where the raw features are all zero) */
  data: Float32Array;
}

const memo = new WeakMap<Float32Array, Map<number, Level>>();

/** L2-normalise one level's rows and scale them by `weight`. Memoised per feature array. */
export function normalisedLevel(e: FeatureEntry, weight: number): Level {
  let byWeight = memo.get(e.data);
  const hit = byWeight?.get(weight);
  if (hit) return hit;
  const [h, w, c] = e.shape;
  const src = e.data, data = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += src[p * c + k] * src[p * c + k];
    const f = s > 0 ? weight / Math.sqrt(s) : 0;
    for (let k = 0; k < c; k++) data[p * c + k] = src[p * c + k] * f;
  }
  const level = { h, w, c, data };
  if (!byWeight) memo.set(e.data, (byWeight = new Map()));
  byWeight.set(weight, level);
  return level;
}

/**
 * The levels of one image, finest first, with relative weights (default equal) scaled so Σ w_l² = 1
 * (w_l = 1/√L when equal). `weights[i]` belongs to `features[i]`.
 */
export function imageLevels(features: FeatureEntry[], weights?: number[]): Level[] {
  if (!features.length) throw new RangeError('an image without feature maps');
  const w = weights ?? features.map(() => 1);
  if (w.length !== features.length || w.some((x) => !(x > 0))) throw new RangeError(`level weights ${w.join(',')} do not fit ${features.length} levels`);
  const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
  const order = features.map((_, i) => i).sort((a, b) => features[b].shape[0] * features[b].shape[1] - features[a].shape[0] * features[a].shape[1]);
  return order.map((i) => normalisedLevel(features[i], w[i] / norm));
}

/** Half-pixel bilinear taps for resampling a line of `inSize` samples at `outSize` positions. */
export interface Taps { i0: Int32Array; i1: Int32Array; f: Float32Array }

export function linearTaps(outSize: number, inSize: number): Taps {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), f = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const a = Math.min(Math.floor(src), inSize - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    f[o] = src - a;
  }
  return { i0, i1, f };
}

/**
 * Resample a [h, w, c] map to [H, W, c] bilinearly (half-pixel centres; torch align_corners=False,
 * tfjs resizeBilinear(x, size, false, true)).
 */
export function resizeBilinear(src: Float32Array, h: number, w: number, c: number, H: number, W: number): Float32Array {
  if (h === H && w === W) return src.slice();
  const ty = linearTaps(H, h), tx = linearTaps(W, w);
  const out = new Float32Array(H * W * c);
  for (let y = 0; y < H; y++) {
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.f[y];
    for (let x = 0; x < W; x++) {
      const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const p00 = (r0 + a) * c, p01 = (r0 + b) * c, p10 = (r1 + a) * c, p11 = (r1 + b) * c, o = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = w00 * src[p00 + k] + w01 * src[p01 + k] + w10 * src[p10 + k] + w11 * src[p11 + k];
    }
  }
  return out;
}

/**
 * Feature vectors of the given cells of the finest grid (levels[0]), every level read there bilinearly
 * and concatenated: [n, Σ c_l].
 */
export function cellFeatures(levels: Level[], cells: ArrayLike<number>): Float32Array {
  const { h: H, w: W } = levels[0];
  const d = levels.reduce((s, l) => s + l.c, 0), n = cells.length;
  const out = new Float32Array(n * d);
  let off = 0;
  for (const l of levels) {
    const ty = linearTaps(H, l.h), tx = linearTaps(W, l.w), c = l.c;
    for (let s = 0; s < n; s++) {
      const y = Math.floor(cells[s] / W), x = cells[s] % W;
      const fy = ty.f[y], fx = tx.f[x];
      const p00 = (ty.i0[y] * l.w + tx.i0[x]) * c, p01 = (ty.i0[y] * l.w + tx.i1[x]) * c;
      const p10 = (ty.i1[y] * l.w + tx.i0[x]) * c, p11 = (ty.i1[y] * l.w + tx.i1[x]) * c;
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const o = s * d + off, v = l.data;
      for (let k = 0; k < c; k++) out[o + k] = w00 * v[p00 + k] + w01 * v[p01 + k] + w10 * v[p10 + k] + w11 * v[p11 + k];
    }
    off += c;
  }
  return out;
}

/**
 * Linear scores on the finest grid: for every position, Σ_l (level-l features · weights[l-th block])
 * with `weights` [Σ c_l, P] (the concatenated feature's weight matrix), each level's scores computed at
 * its own resolution and read on the finest grid bilinearly (linear, so equal to scoring the
 * interpolated features). Returns [H·W, P].
 */
export function linearScores(levels: Level[], weights: Float32Array, p: number): Float32Array {
  const { h: H, w: W } = levels[0];
  const out = new Float32Array(H * W * p);
  let off = 0;
  for (const l of levels) {
    const s = matMul(l.data, l.h * l.w, l.c, weights.subarray(off * p, (off + l.c) * p), p);
    const up = l.h === H && l.w === W ? s : resizeBilinear(s, l.h, l.w, p, H, W);
    for (let i = 0; i < out.length; i++) out[i] += up[i];
    off += l.c;
  }
  return out;
}
