// Prototype classifiers. PANet's (eq. 1–3): one prototype per class, the weighted mean of its support
// features, and logit = α·cos(feature, prototype), α = 20. Multi-prototype: a class whose supports show
// several looks (a person's face and coat; the floor and the wall behind them — background above all)
// gets one prototype per look, found by spherical k-means on its support features, and a pixel's class
// logit is its best match among that class's prototypes (as in PPNet, Liu et al. ECCV 2020, and
// ASGNet, Li et al. CVPR 2021). Query features are unit-norm (levels.ts), so α·cos = x·(α p/‖p‖).
import { PANET_ALPHA } from '../../fewshot/cosine';
import type { LinearClassifier } from './classifier';
import * as tf from '@tensorflow/tfjs-core';
import { transpose } from './linalg';
import { classMass, sampleFeatures, subsample, weightedSums, type SampleSet } from './samples';

/**
 * Running class sums Σ_i w_i t_ic x_i and masses Σ_i w_i t_ic: a mean prototype is their ratio, and
 * adding samples (the predicted image's strokes, its confident pixels) only needs THEIR sums, so the
 * supports' are taken once per fit, not once per predict.
 */
export class MeanPrototypes {
  private constructor(readonly k1: number, readonly d: number, readonly sums: Float32Array, readonly mass: Float64Array) {}

  static of(s: SampleSet): MeanPrototypes {
    const a = new Float64Array(s.n * s.k1);
    for (let i = 0; i < s.n; i++) for (let k = 0; k < s.k1; k++) a[i * s.k1 + k] = s.w[i] * s.t[i * s.k1 + k];
    return new MeanPrototypes(s.k1, s.d, weightedSums(s, a, s.k1), classMass(s));
  }

  /** These sums plus another set's (a new object). */
  plus(s: SampleSet): MeanPrototypes {
    if (s.n === 0) return this;
    return this.add(MeanPrototypes.of(s));
  }

  /** These sums plus other sums (a new object). */
  add(o: MeanPrototypes): MeanPrototypes {
    if (o.k1 !== this.k1 || o.d !== this.d) throw new RangeError('MeanPrototypes.add: sums of different shapes');
    return new MeanPrototypes(this.k1, this.d, this.sums.map((v, i) => v + o.sums[i]), this.mass.map((v, k) => v + o.mass[k]));
  }

  /** [k1, d]: the weighted mean feature of each class; a class without mass gets a zero row. */
  means(): Float32Array {
    const out = this.sums.slice();
    for (let k = 0; k < this.k1; k++) if (this.mass[k] > 0) for (let j = 0; j < this.d; j++) out[k * this.d + j] /= this.mass[k];
    return out;
  }

  /** PANet's classifier: one column α·p_c/‖p_c‖ per class with mass. */
  classifier(alpha = PANET_ALPHA): LinearClassifier {
    const m = this.means();
    return columnsClassifier(this.k1, this.d, [...this.mass.keys()].filter((c) => this.mass[c] > 0).map((c) => ({ cls: c, v: m.subarray(c * this.d, (c + 1) * this.d) })), alpha);
  }
}

/** Weighted mean feature of each class: [k1, d]; a class without mass gets a zero row. */
export function meanPrototypes(s: SampleSet): Float32Array {
  return MeanPrototypes.of(s).means();
}

/** Columns α·p/‖p‖, one per prototype, with its class. */
function columnsClassifier(k1: number, d: number, protos: Array<{ cls: number; v: Float32Array }>, alpha: number): LinearClassifier {
  const p = protos.length, weights = new Float32Array(d * p);
  protos.forEach(({ v }, j) => {
    let nn = 0;
    for (const a of v) nn += a * a;
    const f = nn > 0 ? alpha / Math.sqrt(nn) : 0;
    for (let i = 0; i < d; i++) weights[i * p + j] = v[i] * f;
  });
  return { k1, p, weights, bias: new Float32Array(p), columnClass: Int32Array.from(protos, (x) => x.cls) };
}

/**
 * Spherical k-means (cosine similarity) of the weighted rows x [n, d], at most k clusters. Deterministic:
 * the first centre is the weighted mean direction, each next one the sample least similar to the centres
 * so far (farthest-point initialisation), then `iters` Lloyd steps. Clusters holding less than
 * `minShare` of the mass are dropped. Returns centres [k', d] (unnormalised weighted means).
 */
export function sphericalKMeans(x: Float32Array, n: number, d: number, w: ArrayLike<number>, k: number, iters = 6, minShare = 0.05): Float32Array {
  if (n === 0) return new Float32Array(0);
  const xt = tf.tensor2d(x.subarray(0, n * d), [n, d]);
  try {
    const sims = (centres: Float32Array[]) => {
      // centres as a [d, k] matrix: tfjs-wasm multiplies by a transposed operand far slower (linalg.ts)
      const c = tf.tensor2d(transpose(flatten(centres, d), centres.length, d), [d, centres.length]);
      let y: tf.Tensor | undefined;
      try {
        y = tf.matMul(xt, c); // not in tf.tidy: slower there on wasm (linalg.ts)
        return y.dataSync() as Float32Array;
      } finally {
        tf.dispose([c, ...(y ? [y] : [])]);
      }
    };
    let total = 0;
    for (let i = 0; i < n; i++) total += w[i];
    const mean = new Float32Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += w[i] * x[i * d + j];
    let centres: Float32Array[] = [unit(mean)];
    const best = new Float32Array(n).fill(-Infinity);
    while (centres.length < Math.min(k, n)) {
      const sim = sims([centres[centres.length - 1]]);
      let arg = -1, low = Infinity;
      for (let i = 0; i < n; i++) {
        best[i] = Math.max(best[i], sim[i]);
        if (w[i] > 0 && best[i] < low) { low = best[i]; arg = i; }
      }
      if (arg < 0 || low > 0.999) break; // every sample already sits on a centre
      centres.push(unit(x.slice(arg * d, (arg + 1) * d)));
    }
    for (let it = 0; ; it++) {
      const c = centres.length, sim = sims(centres);
      const sums = Array.from({ length: c }, () => new Float32Array(d)), mass = new Float64Array(c);
      for (let i = 0; i < n; i++) {
        let a = 0;
        for (let j = 1; j < c; j++) if (sim[i * c + j] > sim[i * c + a]) a = j;
        mass[a] += w[i];
        for (let j = 0; j < d; j++) sums[a][j] += w[i] * x[i * d + j];
      }
      const kept: Float32Array[] = [];
      sums.forEach((v, j) => { if (mass[j] > 0 && mass[j] >= minShare * total) kept.push(v.map((q) => q / mass[j])); });
      if (it === iters || kept.length === 0) return flatten(kept, d);
      centres = kept.map(unit);
    }
  } finally {
    xt.dispose();
  }
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const a of v) s += a * a;
  const f = s > 0 ? 1 / Math.sqrt(s) : 0;
  return v.map((a) => a * f);
}

function flatten(vs: Float32Array[], d: number): Float32Array {
  const out = new Float32Array(vs.length * d);
  vs.forEach((v, j) => out.set(v, j * d));
  return out;
}

export interface PrototypeOptions {
  /** logit scale α (PANet: 20) */
  alpha?: number;
  /** prototypes per class at most: [background, foreground classes]; 1 = PANet's mean prototype */
  maxPrototypes?: [number, number];
  /** a class gets one prototype per this much labelled area (cells, weighted), up to maxPrototypes */
  cellsPerPrototype?: number;
  /** k-means sees at most this many cells per class */
  maxCells?: number;
}

/** Prototypes as a LinearClassifier: column = α·p/‖p‖ (cosine logit for unit-norm queries). */
export function prototypeClassifier(s: SampleSet, opts: PrototypeOptions = {}): LinearClassifier {
  const alpha = opts.alpha ?? PANET_ALPHA;
  const [kBg, kFg] = opts.maxPrototypes ?? [1, 1];
  const per = opts.cellsPerPrototype ?? 24;
  const mass = classMass(s);
  const cols: Array<{ cls: number; v: Float32Array }> = [];
  const means = meanPrototypes(s);
  for (let c = 0; c < s.k1; c++) {
    if (!(mass[c] > 0)) continue;
    const kMax = c === 0 ? kBg : kFg;
    let protos = [means.slice(c * s.d, (c + 1) * s.d)];
    if (kMax > 1 && mass[c] / per >= 2) {
      // the class's own cells (majority label c), at most maxCells of them, as vectors
      const sub = subsample(s, opts.maxCells ?? 300);
      const x = sampleFeatures(sub), rows: number[] = [];
      for (let i = 0; i < sub.n; i++) if (sub.t[i * s.k1 + c] >= 0.5) rows.push(i);
      const xc = new Float32Array(rows.length * s.d), wc = new Float32Array(rows.length);
      rows.forEach((i, r) => {
        xc.set(x.subarray(i * s.d, (i + 1) * s.d), r * s.d);
        wc[r] = sub.w[i] * sub.t[i * s.k1 + c];
      });
      const k = Math.max(1, Math.min(kMax, Math.floor(mass[c] / per)));
      const centres = sphericalKMeans(xc, rows.length, s.d, wc, k);
      if (centres.length) protos = Array.from({ length: centres.length / s.d }, (_, j) => centres.slice(j * s.d, (j + 1) * s.d));
    }
    for (const v of protos) cols.push({ cls: c, v });
  }
  return columnsClassifier(s.k1, s.d, cols, alpha);
}
