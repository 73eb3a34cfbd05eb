// The simulated user of interactive-segmentation benchmarks (RITM's clicker, also how SAM's interactive
// numbers are taken): after each prediction, one click at the interior point of the largest error,
// until the mask is good enough or the clicks run out; NoC@t = clicks until IoU ≥ t.
//
// Where the next click goes, exactly as RITM's clicker does it:
//   - false negatives FN = truth ∧ ¬prediction, false positives FP = ¬truth ∧ prediction, pixels whose
//     truth is 255 (ignored) in neither;
//   - each error mask's Euclidean distance transform, the mask padded by a ring of non-error pixels so
//     the image edge counts as boundary; the "largest" error is the one with the larger maximum distance
//     (the deepest region: a thin sliver along an edge loses to a blob), FN only when strictly larger;
//   - the click goes at that maximum (the first in row-major order among equals): positive on FN (the
//     class brush), negative on FP (the background brush, or the class the truth says is there).
// NoC counts clicks from the starting mask: 0 when it already reaches t, the click cap (20) when never.
import { IGNORE } from '../../src/engine/types';

export interface Click {
  /** pixel column and row (the click's centre is at x + 0.5, y + 0.5) */
  x: number;
  y: number;
  /** true: on a false negative (paint the class); false: on a false positive */
  positive: boolean;
}

export const MAX_CLICKS = 20;

const INF = 1e20;

/** 1-D squared distance transform of f (Felzenszwalb & Huttenlocher), in place into d. */
function dt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -INF;
  z[1] = INF;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = INF;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/**
 * Euclidean distance of every pixel of `region` (1 = in) to the nearest pixel outside it, the image
 * padded by one ring of outside pixels (a region pixel on the edge is at distance 1). 0 outside.
 */
export function distanceInside(region: Uint8Array, w: number, h: number): Float64Array {
  const W = w + 2, H = h + 2, n = Math.max(W, H);
  const g = new Float64Array(W * H);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (region[y * w + x]) g[(y + 1) * W + x + 1] = INF;
  const f = new Float64Array(n), d = new Float64Array(n), v = new Int32Array(n), z = new Float64Array(n + 1);
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) f[y] = g[y * W + x];
    dt1d(f, H, d, v, z);
    for (let y = 0; y < H; y++) g[y * W + x] = d[y];
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) f[x] = g[y * W + x];
    dt1d(f, W, d, v, z);
    for (let x = 0; x < W; x++) g[y * W + x] = d[x];
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = Math.sqrt(g[(y + 1) * W + x + 1]);
  return out;
}

function argmax(a: Float64Array): { i: number; v: number } {
  let i = -1, v = 0;
  for (let k = 0; k < a.length; k++) if (a[k] > v) { v = a[k]; i = k; }
  return { i, v };
}

/**
 * The next click on a binary prediction `pred` (1 = the class) against the truth `gt` (1 = the class,
 * 0 = not, 255 = ignored), both w×h: see the header. undefined when there is no error left.
 */
export function nextClick(pred: Uint8Array, gt: Uint8Array, w: number, h: number): Click | undefined {
  if (pred.length !== w * h || gt.length !== w * h) throw new Error(`nextClick: masks of ${pred.length} and ${gt.length} pixels, expected ${w}×${h}`);
  const fn = new Uint8Array(w * h), fp = new Uint8Array(w * h);
  for (let i = 0; i < fn.length; i++) {
    if (gt[i] === IGNORE) continue;
    const p = pred[i] === 1, g = gt[i] === 1;
    if (g && !p) fn[i] = 1;
    else if (!g && p) fp[i] = 1;
  }
  const a = argmax(distanceInside(fn, w, h)), b = argmax(distanceInside(fp, w, h));
  if (a.i < 0 && b.i < 0) return undefined;
  const positive = a.v > b.v;
  const i = positive ? a.i : b.i;
  return { x: i % w, y: Math.floor(i / w), positive };
}

/** IoU of a binary prediction against a truth with 255 ignored; 1 when both are empty. */
export function binaryIoU(pred: Uint8Array, gt: Uint8Array): number {
  let inter = 0, union = 0;
  for (let i = 0; i < gt.length; i++) {
    if (gt[i] === IGNORE) continue;
    const p = pred[i] === 1, g = gt[i] === 1;
    if (p && g) inter++;
    if (p || g) union++;
  }
  return union ? inter / union : 1;
}

/** Clicks until IoU ≥ t: ious[0] is the starting mask's, ious[k] the IoU after k clicks; `max` if never. */
export function nocOf(ious: number[], t: number, max = MAX_CLICKS): number {
  const k = ious.findIndex((x) => x >= t);
  return k < 0 || k > max ? max : k;
}

export interface ClickRun {
  clicks: Click[];
  /** IoU of the starting mask, then after each click */
  ious: number[];
}

/**
 * Click until IoU reaches `stopAt` (default 0.90, the highest NoC threshold) or `max` clicks: `apply`
 * gets every click so far and returns the new binary prediction (w×h).
 */
export async function runClicks(o: {
  start: Uint8Array; gt: Uint8Array; w: number; h: number;
  apply: (clicks: Click[]) => Promise<Uint8Array>;
  max?: number; stopAt?: number;
}): Promise<ClickRun> {
  const max = o.max ?? MAX_CLICKS, stopAt = o.stopAt ?? 0.9;
  let pred = o.start;
  const clicks: Click[] = [], ious = [binaryIoU(pred, o.gt)];
  while (clicks.length < max && ious[ious.length - 1] < stopAt) {
    const c = nextClick(pred, o.gt, o.w, o.h);
    if (!c) break;
    clicks.push(c);
    pred = await o.apply(clicks.slice());
    ious.push(binaryIoU(pred, o.gt));
  }
  return { clicks, ious };
}
