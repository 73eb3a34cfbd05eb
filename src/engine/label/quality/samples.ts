// The training set of one fit: labelled cells of every support (and, at predict time, of the image's
// own strokes or its confident pixels), each with its soft class target and its weight. A cell's
// feature vector (all levels, read on its image's finest grid) is only built when a classifier needs
// the vectors themselves (k-means, ridge); weighted sums of them — all a prototype needs — are taken
// level by level on each level's own grid by pushing the weights through the adjoint of the bilinear
// read (as PANet's prototypes push the mask through the adjoint of the upsampling), which is exact and
// far cheaper than building 1856-dimensional vectors for every cell.
import { cellFractions, labelledCells } from './cells';
import { cellFeatures, linearTaps, type Level } from './levels';

export interface SamplePart {
  levels: Level[];
  /** cell index on levels[0]'s grid, per sample of this part */
  cells: Int32Array;
  /** first sample of this part in the set */
  offset: number;
}

export interface SampleSet {
  n: number;
  /** feature dimension Σ c_l */
  d: number;
  /** K + 1 */
  k1: number;
  /** [n, k1], rows sum to 1 */
  t: Float32Array;
  /** [n] sample weights > 0 */
  w: Float32Array;
  parts: SamplePart[];
}

export interface AnnotatedLevels {
  levels: Level[];
  labels: Uint8Array;
  /** multiplies every sample's weight (own strokes weigh more than other images' annotations) */
  weight?: number;
}

const dimOf = (levels: Level[]) => levels.reduce((s, l) => s + l.c, 0);

/** Every labelled cell of the annotated images. */
export function collectSamples(images: AnnotatedLevels[], size: number, classes: number): SampleSet {
  const k1 = classes + 1;
  const d = images.length ? dimOf(images[0].levels) : 0;
  const found = images.map((im, i) => {
    if (dimOf(im.levels) !== d) throw new RangeError(`annotated image ${i} has ${dimOf(im.levels)} feature channels, the first has ${d}`);
    return labelledCells(cellFractions(im.labels, size, im.levels[0].h, im.levels[0].w, classes), classes);
  });
  const n = found.reduce((a, f) => a + f.cells.length, 0);
  const t = new Float32Array(n * k1), w = new Float32Array(n), parts: SamplePart[] = [];
  let r = 0;
  found.forEach((f, i) => {
    if (!f.cells.length) return;
    parts.push({ levels: images[i].levels, cells: f.cells, offset: r });
    t.set(f.targets, r * k1);
    const m = images[i].weight ?? 1;
    for (let j = 0; j < f.cells.length; j++) w[r + j] = f.weights[j] * m;
    r += f.cells.length;
  });
  return { n, d, k1, t, w, parts };
}

/** Samples from cells of one image's finest grid with given one-hot labels and one weight. */
export function cellSamples(levels: Level[], cells: Int32Array, labels: Uint8Array, k1: number, weight: number): SampleSet {
  const n = cells.length, t = new Float32Array(n * k1);
  for (let i = 0; i < n; i++) t[i * k1 + labels[i]] = 1;
  return { n, d: dimOf(levels), k1, t, w: new Float32Array(n).fill(weight), parts: n ? [{ levels, cells, offset: 0 }] : [] };
}

/** Total weight of each class over the set (Σ_i w_i t_ic). */
export function classMass(s: SampleSet): Float64Array {
  const m = new Float64Array(s.k1);
  for (let i = 0; i < s.n; i++) for (let k = 0; k < s.k1; k++) m[k] += s.w[i] * s.t[i * s.k1 + k];
  return m;
}

/** The union of two sets (same d and k1). */
export function concatSamples(a: SampleSet, b: SampleSet): SampleSet {
  if (a.d !== b.d || a.k1 !== b.k1) throw new RangeError('concatSamples: sets of different shapes');
  const cat = (p: Float32Array, q: Float32Array) => {
    const o = new Float32Array(p.length + q.length);
    o.set(p);
    o.set(q, p.length);
    return o;
  };
  return { n: a.n + b.n, d: a.d, k1: a.k1, t: cat(a.t, b.t), w: cat(a.w, b.w), parts: [...a.parts, ...b.parts.map((p) => ({ ...p, offset: p.offset + a.n }))] };
}

/**
 * Σ_i a_ij x_i for P weight columns a [n, P]: [P, d]. Per level, each sample's weight is spread over
 * the 4 level cells its bilinear read touches (the adjoint of the read), then the level's features are
 * summed under those weights.
 */
export function weightedSums(s: SampleSet, a: Float64Array, p: number): Float32Array {
  const out = new Float32Array(p * s.d);
  for (const part of s.parts) {
    const { h: H, w: W } = part.levels[0];
    let off = 0;
    for (const l of part.levels) {
      const ty = linearTaps(H, l.h), tx = linearTaps(W, l.w);
      const acc = new Float64Array(l.h * l.w * p);
      for (let r = 0; r < part.cells.length; r++) {
        const cell = part.cells[r], y = Math.floor(cell / W), x = cell % W, i = part.offset + r;
        const fy = ty.f[y], fx = tx.f[x];
        const r0 = ty.i0[y] * l.w, r1 = ty.i1[y] * l.w;
        const j00 = (r0 + tx.i0[x]) * p, j01 = (r0 + tx.i1[x]) * p, j10 = (r1 + tx.i0[x]) * p, j11 = (r1 + tx.i1[x]) * p;
        const f00 = (1 - fy) * (1 - fx), f01 = (1 - fy) * fx, f10 = fy * (1 - fx), f11 = fy * fx;
        for (let k = 0; k < p; k++) {
          const v = a[i * p + k];
          if (v === 0) continue;
          acc[j00 + k] += f00 * v;
          acc[j01 + k] += f01 * v;
          acc[j10 + k] += f10 * v;
          acc[j11 + k] += f11 * v;
        }
      }
      const c = l.c, v = l.data;
      for (let j = 0; j < l.h * l.w; j++) {
        for (let k = 0; k < p; k++) {
          const f = acc[j * p + k];
          if (f === 0) continue;
          const o = k * s.d + off;
          for (let q = 0; q < c; q++) out[o + q] += f * v[j * c + q];
        }
      }
      off += c;
    }
  }
  return out;
}

/** The feature vectors [n, d] of every sample (bilinear reads of every level on its image's finest grid). */
export function sampleFeatures(s: SampleSet, into?: Float32Array): Float32Array {
  const x = into && into.length >= s.n * s.d ? into.subarray(0, s.n * s.d) : new Float32Array(s.n * s.d);
  for (const part of s.parts) x.set(cellFeatures(part.levels, part.cells), part.offset * s.d);
  return x;
}

/**
 * At most `maxPerClass` samples per class of EACH part (a support image, the image's own strokes, its
 * confident cells; a sample's class is its majority class), evenly spaced in raster order so they spread
 * over the image; a kept sample carries the weight of those it stands for, so class totals are
 * unchanged. Per part, so a few stroke cells are never thinned away by a large support's. For the
 * classifiers whose cost grows with n (k-means, ridge).
 */
export function subsample(s: SampleSet, maxPerClass: number): SampleSet {
  const factor = new Float64Array(s.n);
  let thinned = false;
  for (const p of s.parts) {
    const byClass: number[][] = Array.from({ length: s.k1 }, () => []);
    for (let i = p.offset; i < p.offset + p.cells.length; i++) {
      let b = 0;
      for (let k = 1; k < s.k1; k++) if (s.t[i * s.k1 + k] > s.t[i * s.k1 + b]) b = k;
      byClass[b].push(i);
    }
    for (const list of byClass) {
      const m = Math.min(list.length, maxPerClass);
      if (m < list.length) thinned = true;
      for (let j = 0; j < m; j++) factor[list[Math.floor(((j + 0.5) * list.length) / m)]] = list.length / m;
    }
  }
  if (!thinned) return s;
  const keep: number[] = [];
  for (let i = 0; i < s.n; i++) if (factor[i] > 0) keep.push(i);
  const t = new Float32Array(keep.length * s.k1), w = new Float32Array(keep.length);
  keep.forEach((i, r) => {
    t.set(s.t.subarray(i * s.k1, (i + 1) * s.k1), r * s.k1);
    w[r] = s.w[i] * factor[i];
  });
  const parts: SamplePart[] = [];
  let r = 0;
  for (const p of s.parts) {
    const mine = keep.filter((i) => i >= p.offset && i < p.offset + p.cells.length);
    if (!mine.length) continue;
    parts.push({ levels: p.levels, cells: Int32Array.from(mine, (i) => p.cells[i - p.offset]), offset: r });
    r += mine.length;
  }
  return { n: keep.length, d: s.d, k1: s.k1, t, w, parts };
}
