// PANet as a trainable method (Wang et al., ICCV 2019, §3.3–3.4): L = L_seg + λ·L_par.
//
// Followed line by line from the official code (kaixin96/PANet, models/fewshot.py FewShotSeg.forward and
// alignLoss; train.py):
//  - L_seg: cross-entropy (ignore 255, mean over the labelled pixels of all queries together, as
//    nn.CrossEntropyLoss on the stacked query outputs) of the query logits α·cos(F_q, p_j), upsampled
//    bilinearly (half-pixel) to the label size.
//  - PAR (alignLoss): the query's prediction is the argmax of the logits at FEATURE resolution (`pred`
//    before F.interpolate), used as a hard mask: argmax has no gradient, so the mask is detached, while
//    the query features keep theirs. Query prototypes = masked average of the query features under each
//    predicted class at feature resolution (+1e-5 on the count), pooled over all queries. For each way
//    whose predicted foreground is not empty: prototypes (bg, fg_way) segment each of the way's support
//    images; L_par += CE(support logits upsampled, support label: 1 fg, 0 bg, 255 elsewhere) / shots / ways.
//  - total = L_seg + λ·L_par (train.py: align_loss_scaler, default 1); λ = 0 is PANet "w/o PAR".
// One deviation, for tfjs only: a prototype that is exactly zero (a class with no pixel at this size)
// gives logit 0 as torch's cosine_similarity does, but without taking tf.norm's gradient at 0 (NaN in
// tfjs, 0 in torch) — see guardedCosineLogits.
import * as tf from '@tensorflow/tfjs-core';
import { IGNORE } from '../types';
import { ANN_BG, ANN_FG, annotationWeights, isSoft, type SupportAnnotation } from './annotations';
import { resizeBilinearHalfPixel } from './bilinear';
import { cosineLogits, PANET_ALPHA } from './cosine';
import { panetMethod } from './method';
import { annotationTensor, episodePrototypes } from './prototypes';
import type { EpisodeLoss, TrainableMethod, TrainEpisode } from './trainable';

/** The official code adds 1e-5 to the predicted-mask pixel count (alignLoss). */
const QUERY_MASK_EPS = 1e-5;

/**
 * Σ over labelled pixels of −log softmax(logits)[label], and how many pixels were labelled.
 * logits [H, W, C], labels row-major H·W with values in 0..C−1 or IGNORE. Call inside tf.tidy.
 * The caller divides by the count (so several images can share one mean, as torch's CE over a batch).
 */
export function crossEntropySum(logits: tf.Tensor3D, labels: Uint8Array): { sum: tf.Scalar; count: number } {
  const [h, w, c] = logits.shape;
  if (labels.length !== h * w) throw new RangeError(`crossEntropySum: ${labels.length} labels for ${h}×${w} logits`);
  const idx = new Int32Array(h * w), valid = new Float32Array(h * w);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === IGNORE) continue;
    if (l >= c) throw new RangeError(`crossEntropySum: label ${l} at pixel ${i} but only ${c} classes`);
    idx[i] = l;
    valid[i] = 1;
    count++;
  }
  const logp = tf.logSoftmax(tf.reshape(logits, [h * w, c]));
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(idx, 'int32'), c)), 1); // log p[label] per pixel
  return { sum: tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(valid)))) as tf.Scalar, count };
}

/** Mean CE over the labelled pixels of several (logits, labels) pairs; 0 when none is labelled (torch: NaN). */
export function crossEntropyMean(pairs: Array<{ logits: tf.Tensor3D; labels: Uint8Array }>): tf.Scalar {
  const parts = pairs.map((p) => crossEntropySum(p.logits, p.labels));
  const count = parts.reduce((s, p) => s + p.count, 0);
  if (count === 0) return tf.scalar(0);
  return tf.div(tf.addN(parts.map((p) => p.sum)), count) as tf.Scalar;
}

/**
 * fn(x) with no gradient to x (torch: fn(x.detach())). tfjs has no stopGradient op, and its
 * non-differentiable kernels (Greater, ArgMax's consumers…) throw during backprop when they sit on a path
 * from a taped input. Ops run inside a custom-gradient op's forward are not recorded on the tape, so the
 * whole computation happens there and the op reports a zero gradient.
 */
export function noGradient<T extends tf.Tensor>(fn: (x: tf.Tensor) => T, x: tf.Tensor): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return { value: fn(input), gradFunc: () => tf.zerosLike(input) };
  });
  return op(x) as T;
}

/**
 * α·cos(F, p_j) [h, w, P] where an all-zero prototype gives logit 0 — torch's value (its cosine divides
 * by max(‖F‖‖p‖, eps)) — and gradient 0. tfjs's norm gradient at the zero vector is 0/0 = NaN, which the
 * zero upstream gradient would not cancel; so a zero prototype is swapped for a harmless one before the
 * cosine and its logits are multiplied by 0 after. Values and gradients of non-zero prototypes are
 * untouched (p·1 + 0). Call inside tf.tidy.
 */
export function guardedCosineLogits(feat: tf.Tensor4D, protos: tf.Tensor2D, alpha = PANET_ALPHA): tf.Tensor3D {
  const p = protos.shape[0];
  const live = noGradient((p) => tf.cast(tf.greater(tf.sum(tf.abs(p), 1), 0), 'float32'), protos); // [P] 1 = non-zero prototype
  const safe = tf.add(tf.mul(protos, tf.reshape(live, [p, 1])), tf.reshape(tf.sub(1, live), [p, 1])) as tf.Tensor2D;
  return tf.mul(cosineLogits(feat, safe, alpha), tf.reshape(live, [1, 1, p])) as tf.Tensor3D;
}

/** A support annotation as CE labels for PAR: 1 = fg, 0 = bg, 255 = neither (official: supp_label). */
export function supportLabels(a: SupportAnnotation): Uint8Array {
  const out = new Uint8Array(a.width * a.height).fill(IGNORE);
  if (isSoft(a)) {
    const { fg, bg } = annotationWeights(a);
    for (let i = 0; i < out.length; i++) out[i] = fg[i] >= 0.5 ? 1 : bg[i] >= 0.5 ? 0 : IGNORE;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = a.data[i] === ANN_FG ? 1 : a.data[i] === ANN_BG ? 0 : IGNORE;
  }
  return out;
}

/**
 * PAR (official alignLoss): query features [1, h, w, C] per query, their feature-resolution logits
 * [h, w, 1 + N]; returns L_par. Call inside tf.tidy.
 */
export function alignmentLoss(ep: TrainEpisode, queryLogits: tf.Tensor3D[]): tf.Scalar {
  const ways = ep.support.length;
  const classes = 1 + ways;
  // Hard predicted masks [h·w, 1 + N] per query, from the detached logits (official: pred.argmax).
  let sums: tf.Tensor2D | undefined, counts: tf.Tensor1D | undefined;
  ep.query.forEach((q, i) => {
    const [, h, w, c] = q.feat.shape;
    const mask = noGradient((l) => tf.cast(tf.oneHot(tf.reshape(tf.argMax(l, -1), [h * w]), classes), 'float32'), queryLogits[i]) as tf.Tensor2D;
    const s = tf.matMul(mask, tf.reshape(q.feat, [h * w, c]), true, false) as tf.Tensor2D; // Σ_xy F·1[pred = j]  [1+N, C]
    const n = tf.sum(mask, 0) as tf.Tensor1D;
    sums = sums ? (tf.add(sums, s) as tf.Tensor2D) : s;
    counts = counts ? (tf.add(counts, n) as tf.Tensor1D) : n;
  });
  const qProtos = tf.div(sums!, tf.reshape(tf.add(counts!, QUERY_MASK_EPS), [classes, 1])) as tf.Tensor2D;
  // A way the query prediction never chose is skipped (official skip_ways); the mean still divides by N.
  const present = noGradient((n) => tf.cast(tf.greater(n, 0), 'float32'), counts!);
  let loss: tf.Scalar = tf.scalar(0);
  for (let j = 0; j < ways; j++) {
    // (slice + concat, not gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks)
    const protos = tf.concat([tf.slice(qProtos, [0, 0], [1, -1]), tf.slice(qProtos, [j + 1, 0], [1, -1])]) as tf.Tensor2D;
    const shots = ep.support[j];
    for (const s of shots) {
      const logits = resizeBilinearHalfPixel(guardedCosineLogits(s.feat, protos), ep.outSize);
      const ce = crossEntropyMean([{ logits, labels: supportLabels(s.annotation) }]);
      const weight = tf.div(tf.slice(present, [j + 1], [1]), shots.length * ways);
      loss = tf.add(loss, tf.sum(tf.mul(ce, weight))) as tf.Scalar;
    }
  }
  return loss;
}

/** The full PANet episode loss L_seg + λ·L_par with its parts (seg, par). Call inside tf.tidy. */
export function panetLoss(ep: TrainEpisode, lambda: number): EpisodeLoss {
  const protos = episodePrototypes(ep.support.map((way) => way.map((s) => ({ feat: s.feat, weights: annotationTensor(s.annotation) }))));
  const featLogits = ep.query.map((q) => guardedCosineLogits(q.feat, protos));
  const seg = crossEntropyMean(ep.query.map((q, i) => ({ logits: resizeBilinearHalfPixel(featLogits[i], ep.outSize), labels: q.labels })));
  if (lambda === 0) return { total: seg, parts: { seg } };
  const par = alignmentLoss(ep, featLogits);
  return { total: tf.add(seg, tf.mul(par, lambda)) as tf.Scalar, parts: { seg, par } };
}

export interface PanetTrainConfig {
  /** λ, the weight of L_par (official align_loss_scaler). 0 = w/o PAR. Default 1. */
  par: number;
}

/** PANet for the episodic trainer: no parameters of its own (all are the backbone's). */
export function createPanetTrainable(config: Partial<PanetTrainConfig> = {}): TrainableMethod {
  const lambda = config.par ?? 1;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new RangeError(`PANet: the PAR weight λ must be ≥ 0 (got ${lambda})`);
  return {
    id: 'panet',
    params: {},
    predict: panetMethod.predict,
    loss: (ep) => panetLoss(ep, lambda),
    config: () => ({ par: lambda }),
    dispose: () => undefined,
  };
}
