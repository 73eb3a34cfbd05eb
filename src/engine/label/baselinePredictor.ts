// The baseline labeling predictor: PANet's non-parametric segmentation (Wang et al., ICCV 2019) on
// the K classes of a labeling task, with every support pixel pooled together.
//   prototypes  p_k = Σ_s Σ_xy F_s(x,y)·1[M_s(x,y) = k] / Σ_s Σ_xy 1[M_s(x,y) = k]     (eq. 1–2, k = 0..K)
//               computed at feature resolution through the adjoint of the bilinear upsample
//               (fewshot/prototypes.ts explains why this equals averaging upsampled features);
//   logits      α·cos(F_q(x,y), p_k), α = 20                                          (eq. 3)
//   probability softmax_k of the logits upsampled half-pixel bilinearly to S×S          (eq. 3–4, official code)
// Differences from an episode of fewshot/panet.ts, each for labeling:
//   - pixels are pooled over ALL supports (eq. 1's sum), not averaged per shot: supports of a labeling
//     task differ in how much they annotate, and a scribbled image should not weigh as much as a dense one;
//   - K-way at once, background included as class 0; unsure (255) and unlabeled (254) pixels are left out;
//   - a class no support marks has no prototype: its probability is 0 everywhere;
//   - the image's own annotation (ownLabels) joins the pooled sums for that image only ("its marked
//     pixels count for it at once"); the service then paints the marked pixels themselves over the mask.
// Confidence: mean over pixels of the top probability, rescaled so that a uniform guess over the classes
// that have prototypes is 0 and certainty everywhere is 1: (mean max p − 1/P)/(1 − 1/P); 0 when P = 1
// (one class only says nothing). It is a calibration-free summary, good for ranking images, not a
// probability of being right.
// Everything runs on plain arrays (label/upsample.ts), synchronously, leaving no tensors behind.
import type { FeatureEntry } from '../features/featureCache';
import { PANET_ALPHA } from '../fewshot/cosine';
import type { FittedModel, LabelImage, LabelSupport, Prediction, Predictor } from './predictor';
import { adjointPool, taps } from './upsample';

export interface BaselineOptions {
  /** Cosine scale α (PANet: 20). */
  alpha?: number;
  /** Which feature level (index into LabelImage.features; default the last). */
  level?: number;
}

/** cosine_similarity's eps, as fewshot/cosine.ts (the product of norms is clamped below by it). */
const COS_EPS = 1e-8;
/** PANet's official code adds 1e-5 to the mask sum. */
const MASK_SUM_EPS = 1e-5;

/** Σ over one image's pixels of F·1[raster = k] at feature resolution: sums [planes, C] and areas [planes]. */
export function pooledSums(feat: FeatureEntry, raster: Uint8Array, S: number, planes: number): { sums: Float64Array; areas: Float64Array } {
  const [h, w, c] = feat.shape;
  const { pooled, areas } = adjointPool(raster, S, S, h, w, planes);
  const sums = new Float64Array(planes * c);
  const f = feat.data;
  for (let k = 0; k < planes; k++) {
    if (areas[k] === 0) continue;
    const base = k * h * w;
    for (let ij = 0; ij < h * w; ij++) {
      const a = pooled[base + ij];
      if (a === 0) continue;
      const fo = ij * c, so = k * c;
      for (let ch = 0; ch < c; ch++) sums[so + ch] += a * f[fo + ch];
    }
  }
  return { sums, areas };
}

// Pooled sums per (raster, features) pair: a refit after a stroke on one support recomputes that
// support only (the service hands the same raster array for an unchanged annotation).
const pooledMemo = new WeakMap<Uint8Array, WeakMap<Float32Array, { planes: number; S: number; sums: Float64Array; areas: Float64Array }>>();

function cachedPooledSums(feat: FeatureEntry, raster: Uint8Array, S: number, planes: number): { sums: Float64Array; areas: Float64Array } {
  let byFeat = pooledMemo.get(raster);
  if (!byFeat) pooledMemo.set(raster, (byFeat = new WeakMap()));
  const hit = byFeat.get(feat.data);
  if (hit && hit.planes === planes && hit.S === S) return hit;
  const one = pooledSums(feat, raster, S, planes);
  byFeat.set(feat.data, { planes, S, ...one });
  return one;
}

/** α·cos(F(x,y), p_j) for the present prototypes, at feature resolution: [h·w, P] channel last. */
export function cosineLogitsJs(feat: FeatureEntry, protos: Float64Array[], alpha: number): Float32Array {
  const [h, w, c] = feat.shape;
  const p = protos.length;
  const pn = protos.map((q) => Math.sqrt(q.reduce((s, v) => s + v * v, 0)));
  const out = new Float32Array(h * w * p);
  const f = feat.data;
  for (let ij = 0; ij < h * w; ij++) {
    const fo = ij * c;
    let fn = 0;
    for (let ch = 0; ch < c; ch++) fn += f[fo + ch] * f[fo + ch];
    fn = Math.sqrt(fn);
    for (let j = 0; j < p; j++) {
      const q = protos[j];
      let dot = 0;
      for (let ch = 0; ch < c; ch++) dot += f[fo + ch] * q[ch];
      out[ij * p + j] = (alpha * dot) / Math.max(fn * pn[j], COS_EPS);
    }
  }
  return out;
}

// exp(−d) for d ≥ 0 from a table with linear interpolation (steps of 1/256 up to d = 48, relative
// error < 2e-6; beyond, exp(−48) ≈ 1.4e-21 is 0 next to the top class's 1): the softmax after every
// stroke takes S² · (P − 1) exponentials, and Math.exp was most of its time.
const EXP_STEPS = 256, EXP_MAX = 48;
const EXP_TABLE = Float64Array.from({ length: EXP_MAX * EXP_STEPS + 2 }, (_, i) => Math.exp(-i / EXP_STEPS));

export function expNeg(d: number): number {
  const t = d * EXP_STEPS;
  if (!(t < EXP_MAX * EXP_STEPS)) return 0;
  const i = t | 0, f = t - i;
  return EXP_TABLE[i] + f * (EXP_TABLE[i + 1] - EXP_TABLE[i]);
}

/**
 * softmax over the present classes of the logits [h, w, P] upsampled half-pixel bilinearly to S×S,
 * written into K1 channels (absent classes stay 0), with the argmax and the mean top probability.
 * Upsampling and softmax are fused row by row: the columns are resized once ([h, S, P], small), each
 * output row blends two of them, so no S×S×P logit array is ever allocated (after every stroke, GC
 * time counts).
 */
export function softmaxUpsampled(logits: Float32Array, h: number, w: number, present: readonly number[], K1: number, S: number): { probs: Float32Array; labels: Uint8Array; meanMax: number } {
  const P = present.length;
  const ty = taps(S, h), tx = taps(S, w);
  const mid = new Float32Array(h * S * P);
  for (let y = 0; y < h; y++) {
    for (let X = 0; X < S; X++) {
      const a = (y * w + tx.i0[X]) * P, b = (y * w + tx.i1[X]) * P, o = (y * S + X) * P, wb = tx.w[X], wa = 1 - wb;
      for (let j = 0; j < P; j++) mid[o + j] = wa * logits[a + j] + wb * logits[b + j];
    }
  }
  const probs = new Float32Array(S * S * K1);
  const labels = new Uint8Array(S * S);
  const v = new Float64Array(P);
  let sumMax = 0;
  for (let Y = 0; Y < S; Y++) {
    const ra = ty.i0[Y] * S * P, rb = ty.i1[Y] * S * P, wb = ty.w[Y], wa = 1 - wb;
    for (let X = 0; X < S; X++) {
      const o = X * P;
      let mx = -Infinity, best = 0;
      for (let j = 0; j < P; j++) {
        const x = wa * mid[ra + o + j] + wb * mid[rb + o + j];
        v[j] = x;
        if (x > mx) {
          mx = x;
          best = j;
        }
      }
      let z = 0;
      for (let j = 0; j < P; j++) z += (v[j] = j === best ? 1 : expNeg(mx - v[j]));
      const i = Y * S + X, po = i * K1, inv = 1 / z;
      for (let j = 0; j < P; j++) probs[po + present[j]] = v[j] * inv;
      labels[i] = present[best];
      sumMax += inv; // the top class has exp(0) = 1
    }
  }
  return { probs, labels, meanMax: sumMax / (S * S) };
}

function featureOf(img: LabelImage, level: number | undefined): FeatureEntry {
  const l = level ?? img.features.length - 1;
  const f = img.features[l];
  if (!f) throw new RangeError(`image ${img.id} has no feature level ${l} (it has ${img.features.length})`);
  return f;
}

class BaselineModel implements FittedModel {
  constructor(
    private readonly sums: Float64Array,
    private readonly areas: Float64Array,
    private readonly classes: number,
    private readonly S: number,
    private readonly alpha: number,
    private readonly level: number | undefined,
  ) {}

  predict(image: LabelImage, ownLabels?: Uint8Array): Prediction {
    const K1 = this.classes + 1, S = this.S;
    const feat = featureOf(image, this.level);
    const c = feat.shape[2];
    let sums = this.sums, areas = this.areas;
    if (ownLabels) {
      if (ownLabels.length !== S * S) throw new RangeError(`ownLabels has ${ownLabels.length} pixels, expected ${S}×${S}`);
      const own = pooledSums(feat, ownLabels, S, K1);
      sums = sums.slice();
      areas = areas.slice();
      for (let i = 0; i < sums.length; i++) sums[i] += own.sums[i];
      for (let k = 0; k < K1; k++) areas[k] += own.areas[k];
    }
    const present: number[] = [];
    for (let k = 0; k < K1; k++) if (areas[k] > 0) present.push(k);
    const protos = present.map((k) => {
      const p = sums.slice(k * c, (k + 1) * c), a = areas[k] + MASK_SUM_EPS;
      for (let ch = 0; ch < c; ch++) p[ch] /= a;
      return p;
    });
    const [h, w] = feat.shape;
    const { probs, labels, meanMax } = softmaxUpsampled(cosineLogitsJs(feat, protos, this.alpha), h, w, present, K1, S);
    const P = present.length;
    const confidence = P > 1 ? Math.min(1, Math.max(0, (meanMax - 1 / P) / (1 - 1 / P))) : 0;
    return { size: S, classes: this.classes, labels, probs, confidence };
  }

  dispose(): void {
    // plain arrays: nothing to free
  }
}

export function baselinePredictor(opts: BaselineOptions = {}): Predictor {
  const alpha = opts.alpha ?? PANET_ALPHA;
  return {
    id: 'baseline',
    describe: () => ({
      predictor: 'baseline',
      method: 'PANet prototypes (masked average pooling over all support pixels), cosine × α, softmax, bilinear upsampling',
      alpha,
      level: opts.level ?? 'last',
      refinement: 'none',
      confidence: '(mean max p − 1/P)/(1 − 1/P), P = classes with a prototype',
    }),
    fit(supports: LabelSupport[], classes: number): FittedModel {
      if (!(Number.isInteger(classes) && classes >= 1 && classes <= 253)) throw new RangeError(`classes must be 1..253 (got ${classes})`);
      if (supports.length === 0) throw new RangeError('no support image: annotate at least one image');
      const S = supports[0].image.rgb.width;
      const K1 = classes + 1;
      let sums: Float64Array | undefined;
      const areas = new Float64Array(K1);
      for (const s of supports) {
        if (s.image.rgb.width !== S || s.image.rgb.height !== S) throw new RangeError(`support ${s.image.id} is ${s.image.rgb.width}×${s.image.rgb.height}, expected ${S}×${S}`);
        if (s.labels.length !== S * S) throw new RangeError(`support ${s.image.id}: labels have ${s.labels.length} pixels, expected ${S}×${S}`);
        const feat = featureOf(s.image, opts.level);
        const one = cachedPooledSums(feat, s.labels, S, K1);
        if (!sums) sums = new Float64Array(K1 * feat.shape[2]);
        else if (sums.length !== one.sums.length) throw new RangeError(`support ${s.image.id} has ${feat.shape[2]} feature channels, the others ${sums.length / K1}`);
        for (let i = 0; i < sums.length; i++) sums[i] += one.sums[i];
        for (let k = 0; k < K1; k++) areas[k] += one.areas[k];
      }
      if (areas.every((a) => a === 0)) throw new RangeError('no support labels any pixel (only unlabeled or unsure pixels)');
      return new BaselineModel(sums!, areas, classes, S, alpha, opts.level);
    },
  };
}
