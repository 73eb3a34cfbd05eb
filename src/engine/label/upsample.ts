// Half-pixel bilinear resampling (torch align_corners=False, the engine's convention: fewshot/bilinear.ts)
// on plain Float32Arrays, channel last, for the labeling path: the predictor's upsampling of logits to
// S×S, the adjoint that pools annotation rasters onto the feature grid (PANet eq. 1 at feature
// resolution), and the row-by-row upsampling of S×S probabilities to a full-size photo.
//
// Every weight comes from fewshot/bilinear.ts's interpMatrix (each output sample has at most two
// non-zero taps), so these loops compute exactly what the tensor versions compute, without tensors:
// the labeling predictor is synchronous and runs after every stroke.
import { interpMatrix } from '../fewshot/bilinear';

/** Output sample o = (1 − w[o])·in[i0[o]] + w[o]·in[i1[o]]. */
export interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}

const tapsMemo = new Map<string, Taps>();

/** The two taps of each row of interpMatrix(outSize, inSize). */
export function taps(outSize: number, inSize: number): Taps {
  const key = `${outSize}:${inSize}`;
  const hit = tapsMemo.get(key);
  if (hit) return hit;
  const r = interpMatrix(outSize, inSize);
  const t: Taps = { i0: new Int32Array(outSize), i1: new Int32Array(outSize), w: new Float32Array(outSize) };
  for (let o = 0; o < outSize; o++) {
    let first = -1, last = -1;
    for (let i = 0; i < inSize; i++) {
      if (r[o * inSize + i] !== 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) first = last = 0; // cannot happen (each row sums to 1); keep the arrays total
    t.i0[o] = first;
    t.i1[o] = last;
    t.w[o] = last === first ? 0 : r[o * inSize + last];
  }
  if (tapsMemo.size > 64) tapsMemo.clear();
  tapsMemo.set(key, t);
  return t;
}

/** Resize x [h, w, c] to [H, W, c] bilinearly (half-pixel centres). */
export function resizeChannels(x: Float32Array, h: number, w: number, c: number, H: number, W: number): Float32Array {
  const ty = taps(H, h), tx = taps(W, w);
  // columns first: [h, W, c]
  const mid = new Float32Array(h * W * c);
  for (let y = 0; y < h; y++) {
    for (let X = 0; X < W; X++) {
      const a = (y * w + tx.i0[X]) * c, b = (y * w + tx.i1[X]) * c, o = (y * W + X) * c, wb = tx.w[X], wa = 1 - wb;
      for (let k = 0; k < c; k++) mid[o + k] = wa * x[a + k] + wb * x[b + k];
    }
  }
  const out = new Float32Array(H * W * c);
  const row = W * c;
  for (let Y = 0; Y < H; Y++) {
    const a = ty.i0[Y] * row, b = ty.i1[Y] * row, o = Y * row, wb = ty.w[Y], wa = 1 - wb;
    for (let k = 0; k < row; k++) out[o + k] = wa * mid[a + k] + wb * mid[b + k];
  }
  return out;
}

/**
 * The adjoint of upsampling [h, w] → [H, W] applied to one-hot planes of a label raster (H×W):
 * pooled[k·h·w + i·w + j] = Σ_{Y,X: raster = k} R_h[Y, i]·R_w[X, j] for k < planes, and the plane
 * areas Σ_{Y,X} 1[raster = k]. Values ≥ planes (unlabeled 254, unsure 255) contribute nothing.
 * (Upᵀ m of fewshot/prototypes.ts, for the P = planes masks of one raster at once.)
 */
export function adjointPool(raster: Uint8Array, H: number, W: number, h: number, w: number, planes: number): { pooled: Float32Array; areas: Float64Array } {
  const ty = taps(H, h), tx = taps(W, w);
  const pooled = new Float32Array(planes * h * w);
  const areas = new Float64Array(planes);
  for (let Y = 0; Y < H; Y++) {
    const r0 = ty.i0[Y] * w, r1 = ty.i1[Y] * w, wy1 = ty.w[Y], wy0 = 1 - wy1;
    for (let X = 0; X < W; X++) {
      const k = raster[Y * W + X];
      if (k >= planes) continue;
      areas[k]++;
      const base = k * h * w, c0 = tx.i0[X], c1 = tx.i1[X], wx1 = tx.w[X], wx0 = 1 - wx1;
      pooled[base + r0 + c0] += wy0 * wx0;
      pooled[base + r0 + c1] += wy0 * wx1;
      pooled[base + r1 + c0] += wy1 * wx0;
      pooled[base + r1 + c1] += wy1 * wx1;
    }
  }
  return { pooled, areas };
}

/**
 * argmax over channels of probabilities [h, w, c] upsampled bilinearly to [H, W], computed one output
 * row at a time: only two horizontally resized source rows (W·c floats each) are held, never H×W×c
 * floats, so a 24 MP photo's mask costs its H×W bytes. Ties go to the lower channel.
 */
export function upsampleArgmax(probs: Float32Array, h: number, w: number, c: number, H: number, W: number): Uint8Array {
  if (c > 256) throw new RangeError(`upsampleArgmax: ${c} channels do not fit 8-bit labels`);
  const ty = taps(H, h), tx = taps(W, w);
  const out = new Uint8Array(H * W);
  // two row slots: the horizontally resized source rows currently needed
  const slotRow = [-1, -1];
  const slot = [new Float32Array(W * c), new Float32Array(W * c)];
  const fill = (s: number, y: number) => {
    const dst = slot[s];
    for (let X = 0; X < W; X++) {
      const a = (y * w + tx.i0[X]) * c, b = (y * w + tx.i1[X]) * c, o = X * c, wb = tx.w[X], wa = 1 - wb;
      for (let k = 0; k < c; k++) dst[o + k] = wa * probs[a + k] + wb * probs[b + k];
    }
    slotRow[s] = y;
  };
  const get = (y: number, avoid: number): Float32Array => {
    if (slotRow[0] === y) return slot[0];
    if (slotRow[1] === y) return slot[1];
    const s = avoid === 0 ? 1 : 0;
    fill(s, y);
    return slot[s];
  };
  for (let Y = 0; Y < H; Y++) {
    const y0 = ty.i0[Y], y1 = ty.i1[Y], wb = ty.w[Y], wa = 1 - wb;
    const a = get(y0, -1);
    const b = y1 === y0 ? a : get(y1, a === slot[0] ? 0 : 1);
    const o = Y * W;
    for (let X = 0; X < W; X++) {
      let best = 0, bestV = -Infinity;
      for (let k = 0; k < c; k++) {
        const v = wa * a[X * c + k] + wb * b[X * c + k];
        if (v > bestV) {
          bestV = v;
          best = k;
        }
      }
      out[o + X] = best;
    }
  }
  return out;
}

/** argmax over the last axis of x [n, c] (ties to the lower channel). */
export function argmaxChannels(x: Float32Array, n: number, c: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0, bestV = x[i * c];
    for (let k = 1; k < c; k++) {
      if (x[i * c + k] > bestV) {
        bestV = x[i * c + k];
        best = k;
      }
    }
    out[i] = best;
  }
  return out;
}
