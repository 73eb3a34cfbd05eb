// Dense CRF over the pixels (Krähenbühl & Koltun, NIPS 2011), mean-field inference with the Potts model:
//
//   Q_i(l) ∝ exp( log P_i(l) + w · Σ_j k̃(i, j) Q_j(l) ),
//   k(i, j) = exp(−‖p_i − p_j‖² / 2σ_xy² − (L_i − L_j)² / 2σ_L²)                        (appearance kernel)
//
// (the Potts penalty on l ≠ l' is, up to a per-pixel constant, this reward for agreeing with similar
// pixels). The paper filters with a permutohedral lattice in 5-D (x, y, r, g, b). HERE IS AN
// APPROXIMATION, said plainly:
//  - the kernel is evaluated on a BILATERAL GRID (Paris & Durand 2006; Chen, Paris & Durand 2007) in 3-D
//    (x, y, luma): trilinear splat, a [1 2 1] blur along each axis (≈ a Gaussian of σ ≈ 0.7 cells),
//    trilinear slice. Two pixels of different colour but the same luma count as similar;
//  - the filter is normalised, k̃(i, j) = k(i, j) / Σ_j k(i, j), so the message is a weighted MEAN of Q
//    over similar pixels (bounded by 1, whatever the image) rather than a sum;
//  - the mean-field iterations run on every `subsample`-th pixel in x and y (the grid cells are σ_xy
//    pixels wide, so the message hardly changes between neighbours); the last message is sliced at every
//    pixel, where the luma coordinate places the edge at full resolution — except where the sub set is
//    settled (3×3 sub pixels all above `settled` for one class: 0.995 unless set; the labeling predictor
//    uses 0.5, i.e. the sub pixels around agree), whose pixels copy the nearest sub pixel's Q.
// The grid depends on the image alone and is built once per image.
import type { RawImage } from '../../types';
import { colourBin, type ColourTerm } from './colourModel';
import { linearTaps } from './levels';

export interface CrfOptions {
  /** spatial scale of the appearance kernel (pixels) = the grid's cell size in x and y */
  sigmaXY: number;
  /** luma scale (0..255) = the grid's cell size in luma */
  sigmaLuma: number;
  /** weight w of the pairwise term */
  weight: number;
  iterations: number;
  /** iterate on every s-th pixel in x and y (1 = every pixel) */
  subsample?: number;
  /**
   * with subsample > 1: a pixel whose nearest sub pixel and that one's 8 neighbours all give one class a
   * probability above this copies that sub pixel's Q instead of its own last iteration (default 0.995)
   */
  settled?: number;
}

/** Where a set of pixels sits in the grid: base cell and trilinear fractions, and the normaliser. */
interface Taps {
  /** full-image index of each pixel of the set */
  pixel: Int32Array;
  base: Int32Array;
  fx: Float32Array;
  fy: Float32Array;
  fz: Float32Array;
  /** the filtered splat of this set's ones, sliced back at each of its pixels */
  norm: Float32Array;
}

interface Grid {
  gx: number;
  gy: number;
  gz: number;
  full: Taps;
  sub: Taps;
}

const grids = new WeakMap<Uint8Array, Map<string, Grid>>();

function taps(img: RawImage, o: CrfOptions, step: number, g: { gx: number; gy: number; gz: number }): Taps {
  const { width: w, height: h, data } = img;
  const px: number[] = [];
  for (let y = 0; y < h; y += step) for (let x = 0; x < w; x += step) px.push(y * w + x);
  const n = px.length, pixel = Int32Array.from(px);
  const base = new Int32Array(n), fx = new Float32Array(n), fy = new Float32Array(n), fz = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const i = pixel[k], x = i % w, y = (i - x) / w;
    const luma = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
    const u = x / o.sigmaXY, v = y / o.sigmaXY, t = luma / o.sigmaLuma;
    const x0 = Math.floor(u), y0 = Math.floor(v), z0 = Math.floor(t);
    base[k] = (z0 * g.gy + y0) * g.gx + x0;
    fx[k] = u - x0; fy[k] = v - y0; fz[k] = t - z0;
  }
  return { pixel, base, fx, fy, fz, norm: new Float32Array(n) };
}

function buildGrid(img: RawImage, o: CrfOptions): Grid {
  const step = Math.max(1, Math.round(o.subsample ?? 1));
  const key = `${o.sigmaXY}|${o.sigmaLuma}|${step}`;
  const hit = grids.get(img.data)?.get(key);
  if (hit) return hit;
  const { width: w, height: h } = img;
  const dims = { gx: Math.ceil((w - 1) / o.sigmaXY) + 2, gy: Math.ceil((h - 1) / o.sigmaXY) + 2, gz: Math.ceil(255 / o.sigmaLuma) + 2 };
  const full = taps(img, o, 1, dims), sub = step === 1 ? full : taps(img, o, step, dims);
  const g: Grid = { ...dims, full, sub };
  // Both normalisers come from the SUB set's splat: that is the set the messages are splatted from.
  const grid = new Float32Array(g.gx * g.gy * g.gz), tmp = new Float32Array(grid.length);
  splat(g, sub, new Float32Array(sub.pixel.length).fill(1), grid);
  blur(grid, tmp, g);
  slice(g, sub, grid, sub.norm);
  if (sub !== full) slice(g, full, grid, full.norm);
  let byKey = grids.get(img.data);
  if (!byKey) grids.set(img.data, (byKey = new Map()));
  byKey.set(key, g);
  return g;
}

function splat(g: Grid, t: Taps, v: Float32Array, out: Float32Array): void {
  out.fill(0);
  const sy = g.gx, sz = g.gx * g.gy, { base, fx: FX, fy: FY, fz: FZ } = t;
  for (let i = 0; i < v.length; i++) {
    const b = base[i], a = v[i], fx = FX[i], fy = FY[i], fz = FZ[i];
    const z0 = a * (1 - fz), z1 = a * fz;
    const y00 = z0 * (1 - fy), y01 = z0 * fy, y10 = z1 * (1 - fy), y11 = z1 * fy;
    out[b] += y00 * (1 - fx); out[b + 1] += y00 * fx;
    out[b + sy] += y01 * (1 - fx); out[b + sy + 1] += y01 * fx;
    out[b + sz] += y10 * (1 - fx); out[b + sz + 1] += y10 * fx;
    out[b + sz + sy] += y11 * (1 - fx); out[b + sz + sy + 1] += y11 * fx;
  }
}

function slice(g: Grid, t: Taps, grid: Float32Array, out: Float32Array): void {
  const sy = g.gx, sz = g.gx * g.gy, { base, fx: FX, fy: FY, fz: FZ } = t;
  for (let i = 0; i < out.length; i++) {
    const b = base[i], fx = FX[i], fy = FY[i], fz = FZ[i];
    const c00 = grid[b] + (grid[b + 1] - grid[b]) * fx, c01 = grid[b + sy] + (grid[b + sy + 1] - grid[b + sy]) * fx;
    const c10 = grid[b + sz] + (grid[b + sz + 1] - grid[b + sz]) * fx, c11 = grid[b + sz + sy] + (grid[b + sz + sy + 1] - grid[b + sz + sy]) * fx;
    const c0 = c00 + (c01 - c00) * fy, c1 = c10 + (c11 - c10) * fy;
    out[i] = c0 + (c1 - c0) * fz;
  }
}

/** [1 2 1]/4 along x, y and z, in place (zero outside the grid; the normaliser sees the same boundary). */
function blur(v: Float32Array, tmp: Float32Array, g: Grid): void {
  const pass = (src: Float32Array, dst: Float32Array, stride: number, len: number) => {
    const block = len * stride; // index = outer·block + pos·stride + inner
    for (let o = 0; o < src.length; o += block) {
      for (let inner = 0; inner < stride; inner++) {
        let i = o + inner;
        if (len === 1) { dst[i] = 0.5 * src[i]; continue; }
        dst[i] = 0.5 * src[i] + 0.25 * src[i + stride];
        for (let pos = 1; pos < len - 1; pos++) {
          i += stride;
          dst[i] = 0.5 * src[i] + 0.25 * (src[i - stride] + src[i + stride]);
        }
        i += stride;
        dst[i] = 0.5 * src[i] + 0.25 * src[i - stride];
      }
    }
  };
  pass(v, tmp, 1, g.gx);
  pass(tmp, v, g.gx, g.gy);
  pass(v, tmp, g.gx * g.gy, g.gz);
  v.set(tmp);
}

/** Messages m[i·k1 + l] = Σ_j k̃(i, j) Q_j(l) at the pixels of `at`, from Q given on the sub set. */
function messages(g: Grid, q: Float32Array, k1: number, at: Taps, grid: Float32Array, tmp: Float32Array, out: Float32Array): void {
  const nSub = g.sub.pixel.length, n = at.pixel.length, plane = new Float32Array(nSub), sliced = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i * k1] = 1;
  // The normalised filter is linear and maps 1 to 1: the background's message is 1 − Σ of the classes'.
  for (let l = 1; l < k1; l++) {
    for (let i = 0; i < nSub; i++) plane[i] = q[i * k1 + l];
    splat(g, g.sub, plane, grid);
    blur(grid, tmp, g);
    slice(g, at, grid, sliced);
    for (let i = 0; i < n; i++) {
      const m = sliced[i] / at.norm[i];
      out[i * k1 + l] = m;
      out[i * k1] -= m;
    }
  }
}

/** q ← softmax(u + w·msg), row by row. */
function update(q: Float32Array, u: Float32Array, msg: Float32Array, w: number, k1: number): void {
  if (k1 === 2) {
    // one class and the background: a logistic, one exp per pixel
    for (let o = 0; o < q.length; o += 2) {
      const p1 = 1 / (1 + Math.exp(u[o] + w * msg[o] - u[o + 1] - w * msg[o + 1]));
      q[o] = 1 - p1;
      q[o + 1] = p1;
    }
    return;
  }
  for (let o = 0; o < q.length; o += k1) {
    let mx = -Infinity;
    for (let l = 0; l < k1; l++) {
      const v = u[o + l] + w * msg[o + l];
      q[o + l] = v;
      if (v > mx) mx = v;
    }
    let s = 0;
    for (let l = 0; l < k1; l++) s += q[o + l] = Math.exp(q[o + l] - mx);
    for (let l = 0; l < k1; l++) q[o + l] /= s;
  }
}

/** A stroke's unary: its label wins by this many logits whatever the classifier said. */
const STROKE_LOGIT = 30;

/**
 * Unary logits of the pixels of `at`: the class logits of the feature grid (h×w×k1) read bilinearly
 * (half-pixel centres, as the upsampling they replace); a pixel the image's own strokes label gets its
 * label by STROKE_LOGIT.
 */
function unaries(img: RawImage, at: Taps, logits: Float32Array, h: number, w: number, k1: number, own?: Uint8Array, colour?: ColourTerm): Float32Array {
  const size = img.width, ty = linearTaps(size, h), tx = linearTaps(size, w), n = at.pixel.length, u = new Float32Array(n * k1);
  for (let i = 0; i < n; i++) {
    const px = at.pixel[i], x = px % size, y = (px - x) / size;
    const o = own ? own[px] : 254;
    if (o < k1) {
      u[i * k1 + o] = STROKE_LOGIT;
      continue;
    }
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.f[y], a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
    const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
    const p00 = (r0 + a) * k1, p01 = (r0 + b) * k1, p10 = (r1 + a) * k1, p11 = (r1 + b) * k1;
    for (let l = 0; l < k1; l++) u[i * k1 + l] = w00 * logits[p00 + l] + w01 * logits[p01 + l] + w10 * logits[p10 + l] + w11 * logits[p11 + l];
    if (colour) addColour(u, i * k1, colour, img.data, px, k1);
  }
  return u;
}

/** u[o..o+k1) += the colour term of pixel px (colourModel.ts). */
function addColour(u: Float32Array | Float64Array, o: number, c: ColourTerm, data: Uint8Array, px: number, k1: number): void {
  const b = colourBin(c, data[px * 3], data[px * 3 + 1], data[px * 3 + 2]) * k1;
  for (let l = 0; l < k1; l++) u[o + l] += c.table[b + l];
}

/**
 * Mean-field CRF from the classifier's logits on its feature grid (h×w×k1) to refined probabilities
 * [S·S, k1] of the working image: the unary is the bilinearly upsampled logits (softmax of which is the
 * unrefined prediction), T − 1 iterations run on the sub set of pixels, and the last one at every pixel.
 * `own`: the image's own strokes (S·S raster), fixed to their labels throughout; `colour`: the image's
 * colour model, added to the unary (colourModel.ts).
 */
export function crfFromLogits(img: RawImage, logits: Float32Array, h: number, w: number, k1: number, o: CrfOptions, own?: Uint8Array, colour?: ColourTerm): Float32Array {
  const last = iterate(img, logits, h, w, k1, o, own, colour);
  return finalPass(last, new Float32Array(img.width * img.height * k1), undefined)!;
}

/**
 * The same refinement, its labels (S·S argmax) computed at once and its probabilities only when asked
 * for: after a stroke only the mask is shown, and the last pass without a softmax per pixel is the
 * cheaper half (the probabilities are for an export at full size). Both come from the same iterations.
 */
export function crfRefine(img: RawImage, logits: Float32Array, h: number, w: number, k1: number, o: CrfOptions, own?: Uint8Array, colour?: ColourTerm): { labels: Uint8Array; probs: () => Float32Array } {
  const last = iterate(img, logits, h, w, k1, o, own, colour);
  const labels = new Uint8Array(img.width * img.height);
  finalPass(last, undefined, labels);
  let probs: Float32Array | undefined;
  return { labels, probs: () => (probs ??= finalPass(last, new Float32Array(labels.length * k1), undefined)!) };
}

/** All but the last iteration (on the sub set), and the classes' filtered grids of their Q for the last. */
function iterate(img: RawImage, logits: Float32Array, h: number, w: number, k1: number, o: CrfOptions, own?: Uint8Array, colour?: ColourTerm): LastPass {
  const g = buildGrid(img, o), nSub = g.sub.pixel.length;
  const grid = new Float32Array(g.gx * g.gy * g.gz), tmp = new Float32Array(grid.length);
  const q = o.iterations > 0 ? subIterations(img, g, logits, h, w, k1, o, own, grid, tmp, colour) : undefined;
  const grids: Float32Array[] = [];
  if (q) {
    const plane = new Float32Array(nSub);
    for (let l = 1; l < k1; l++) {
      for (let i = 0; i < nSub; i++) plane[i] = q[i * k1 + l];
      const gl = new Float32Array(grid.length);
      splat(g, g.sub, plane, gl);
      blur(gl, tmp, g);
      grids.push(gl);
    }
  }
  return { img, g, logits, h, w, k1, o, own, colour, q, grids };
}

interface LastPass {
  img: RawImage; g: Grid; logits: Float32Array; h: number; w: number; k1: number; o: CrfOptions;
  own?: Uint8Array; colour?: ColourTerm; q?: Float32Array; grids: Float32Array[];
}

/**
 * The last iteration at every pixel, fused: unary (bilinear logits) + w·message (sliced from the
 * classes' filtered grids) → softmax into `out` [S·S, k1], or only its argmax into `labels`, with no
 * full-size intermediate array.
 */
function finalPass(p: LastPass, out: Float32Array | undefined, labels: Uint8Array | undefined): Float32Array | undefined {
  const { img, g, logits, h, w, k1, o, own, colour, q, grids } = p, size = img.width;
  const wt = q ? o.weight : 0;
  // Where the sub set is settled — its pixel and the 8 around it agree on a class with Q > o.settled — a
  // pixel between them takes its nearest sub pixel's Q instead of the exact last iteration: far from
  // every boundary nothing is left to decide, and most of the image is there.
  const step = Math.max(1, Math.round(o.subsample ?? 1)), ws = Math.ceil(size / step), hs = Math.ceil(size / step);
  const settled = q && step > 1 ? settledLabels(q, hs, ws, k1, o.settled ?? SETTLED) : undefined;
  const ty = linearTaps(size, h), tx = linearTaps(size, w), u = new Float64Array(k1);
  const sy = g.gx, sz = g.gx * g.gy, { base, fx: FX, fy: FY, fz: FZ, norm } = g.full;
  // the nearest sub pixel's row and column of every pixel's
  const nearY = Int32Array.from({ length: size }, (_, y) => Math.min(hs - 1, Math.round(y / step)) * ws);
  const nearX = Int32Array.from({ length: size }, (_, x) => Math.min(ws - 1, Math.round(x / step)));
  for (let y = 0; y < size; y++) {
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.f[y], jy = nearY[y];
    for (let x = 0; x < size; x++) {
      const i = y * size + x, o0 = i * k1, own0 = own ? own[i] : 254;
      if (own0 < k1) {
        if (out) out[o0 + own0] = 1;
        else labels![i] = own0;
        continue;
      }
      if (settled) {
        const j = jy + nearX[x];
        if (settled[j] !== 255) {
          if (out) for (let l = 0, qj = j * k1; l < k1; l++) out[o0 + l] = q![qj + l];
          else labels![i] = settled[j];
          continue;
        }
      }
      const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const p00 = (r0 + a) * k1, p01 = (r0 + b) * k1, p10 = (r1 + a) * k1, p11 = (r1 + b) * k1;
      for (let l = 0; l < k1; l++) u[l] = w00 * logits[p00 + l] + w01 * logits[p01 + l] + w10 * logits[p10 + l] + w11 * logits[p11 + l];
      if (colour) addColour(u, 0, colour, img.data, i, k1);
      if (wt !== 0) {
        const c = base[i], gx = FX[i], gy = FY[i], gz = FZ[i], inv = wt / norm[i];
        let rest = 0;
        for (let l = 1; l < k1; l++) {
          const G = grids[l - 1];
          const c00 = G[c] + (G[c + 1] - G[c]) * gx, c01 = G[c + sy] + (G[c + sy + 1] - G[c + sy]) * gx;
          const c10 = G[c + sz] + (G[c + sz + 1] - G[c + sz]) * gx, c11 = G[c + sz + sy] + (G[c + sz + sy + 1] - G[c + sz + sy]) * gx;
          const c0 = c00 + (c01 - c00) * gy, c1 = c10 + (c11 - c10) * gy;
          const m = (c0 + (c1 - c0) * gz) * inv; // w · message of class l
          u[l] += m;
          rest += m;
        }
        u[0] += wt - rest; // background: w · (1 − Σ messages)
      }
      if (!out) {
        // the argmax of the softmax is the argmax of u (ties: the lower class, as argmaxRows)
        let best = 0;
        for (let l = 1; l < k1; l++) if (u[l] > u[best]) best = l;
        labels![i] = best;
      } else if (k1 === 2) {
        const p1 = 1 / (1 + Math.exp(u[0] - u[1]));
        out[o0] = 1 - p1;
        out[o0 + 1] = p1;
      } else {
        let mx = -Infinity;
        for (let l = 0; l < k1; l++) if (u[l] > mx) mx = u[l];
        let t = 0;
        for (let l = 0; l < k1; l++) t += out[o0 + l] = Math.exp(u[l] - mx);
        for (let l = 0; l < k1; l++) out[o0 + l] /= t;
      }
    }
  }
  return out;
}

/** A sub-set pixel counts as settled when it and its 8 neighbours give one class more than this (default). */
const SETTLED = 0.995;

/** Per sub-set pixel (an hs×ws grid): the class all of its 3×3 neighbourhood is sure of, else 255. */
function settledLabels(q: Float32Array, hs: number, ws: number, k1: number, above: number): Uint8Array {
  const sure = new Uint8Array(hs * ws).fill(255);
  for (let j = 0; j < hs * ws; j++) for (let l = 0; l < k1; l++) if (q[j * k1 + l] > above) sure[j] = l;
  const out = new Uint8Array(hs * ws).fill(255);
  for (let y = 0; y < hs; y++) for (let x = 0; x < ws; x++) {
    const l = sure[y * ws + x];
    if (l === 255) continue;
    let ok = true;
    for (let dy = -1; dy <= 1 && ok; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = Math.min(hs - 1, Math.max(0, y + dy)), xx = Math.min(ws - 1, Math.max(0, x + dx));
      if (sure[yy * ws + xx] !== l) { ok = false; break; }
    }
    if (ok) out[y * ws + x] = l;
  }
  return out;
}

/** Q after the iterations run on the sub set (all but the last). */
function subIterations(img: RawImage, g: Grid, logits: Float32Array, h: number, w: number, k1: number, o: CrfOptions, own: Uint8Array | undefined, grid: Float32Array, tmp: Float32Array, colour?: ColourTerm): Float32Array {
  const { sub } = g, nSub = sub.pixel.length;
  const uSub = unaries(img, sub, logits, h, w, k1, own, colour), q = new Float32Array(nSub * k1), msgSub = new Float32Array(nSub * k1);
  update(q, uSub, msgSub, 0, k1); // Q⁰ = softmax(unary)
  for (let it = 1; it < o.iterations; it++) {
    messages(g, q, k1, sub, grid, tmp, msgSub);
    update(q, uSub, msgSub, o.weight, k1);
  }
  return q;
}

/**
 * The CRF's marginals on its sub set of pixels only (every `subsample`-th pixel in x and y), without the
 * last full-resolution pass: enough to tell which pixels the refined prediction is sure about.
 */
export function crfSubset(img: RawImage, logits: Float32Array, h: number, w: number, k1: number, o: CrfOptions, own?: Uint8Array, colour?: ColourTerm): { pixels: Int32Array; q: Float32Array; step: number } {
  const g = buildGrid(img, o), grid = new Float32Array(g.gx * g.gy * g.gz), tmp = new Float32Array(grid.length);
  return { pixels: g.sub.pixel, q: subIterations(img, g, logits, h, w, k1, o, own, grid, tmp, colour), step: Math.max(1, Math.round(o.subsample ?? 1)) };
}

/** Mean-field refinement of probabilities [S·S, k1] in place (their logs are the unary at full resolution). */
export function denseCrf(img: RawImage, probs: Float32Array, k1: number, o: CrfOptions): void {
  const logits = new Float32Array(probs.length);
  for (let i = 0; i < probs.length; i++) logits[i] = Math.log(probs[i] > 1e-6 ? probs[i] : 1e-6);
  probs.set(crfFromLogits(img, logits, img.height, img.width, k1, o));
}
