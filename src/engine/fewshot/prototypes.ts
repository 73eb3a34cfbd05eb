// Prototypes by masked average pooling (PANet §3.2, eq. 1–2), computed at FEATURE resolution.
//
// The paper (and its official getFeatures) upsamples the support features to the mask size and
// averages them under the mask: p = Σ_xy Up(F)(x,y)·m(x,y) / Σ_xy m(x,y). Because Up is linear,
// Σ_xy Up(F)·m = Σ_ij F(i,j)·(Upᵀ m)(i,j): pushing the mask through the adjoint of the upsample gives
// the same prototype exactly, without ever materialising H×W×C upsampled features (FACTS.md: ≈33×
// cheaper on wasm). Nothing here reads tensor data back, so training (PAR included) can differentiate
// through it with respect to the features.
import * as tf from '@tensorflow/tfjs-core';
import { annotationWeights, SupportAnnotation } from './annotations';
import { resizeBilinearAdjoint } from './bilinear';

/** PANet's official code adds 1e-5 to the mask sum (an all-empty mask gives a zero prototype, not NaN). */
const MASK_SUM_EPS = 1e-5;

/**
 * Eq. 1–2 for P masks of one image: feat [1, h, w, C], weights [P, H, W] at mask (image) resolution
 * (binary or soft, ≥ 0) → prototypes [P, C]. Call inside tf.tidy.
 */
export function maskedAveragePool(feat: tf.Tensor4D, weights: tf.Tensor3D): tf.Tensor2D {
  const [, h, w, c] = feat.shape;
  const p = weights.shape[0];
  const pooled = tf.reshape(resizeBilinearAdjoint(weights, [h, w]), [p, h * w]); // Upᵀ m
  const sums = tf.matMul(pooled, tf.reshape(feat, [h * w, c])); // Σ_ij F(i,j)·(Upᵀm)(i,j)   [P, C]
  const area = tf.add(tf.sum(tf.reshape(weights, [p, -1]), 1, true), MASK_SUM_EPS); // Σ_xy m(x,y)   [P, 1]
  return tf.div(sums, area) as tf.Tensor2D;
}

/** One support image of an episode: its features and its (fg, bg) weights [2, H, W] for the way's class. */
export interface ShotWeights {
  feat: tf.Tensor4D;
  /** [0] = fg weights (class of this way), [1] = bg weights, at mask resolution. */
  weights: tf.Tensor3D;
}

/**
 * Episode prototypes [1 + N, C]: row 0 = background, row j = the j-th way's class.
 * As PANet's official getPrototype: a prototype per shot (masked average over that shot alone), then
 * fg_j = mean over way j's shots; bg = mean over ways of (mean over that way's shots of the bg
 * prototype). Note this is the mean of per-shot averages, not one average over all K shots' pixels
 * (the paper's eq. 1 writes the pooled sum; the code averages per shot). Call inside tf.tidy.
 */
export function episodePrototypes(support: ShotWeights[][]): tf.Tensor2D {
  if (support.length === 0 || support.some((way) => way.length === 0)) throw new RangeError('episodePrototypes: every way needs ≥ 1 shot');
  const fg: tf.Tensor1D[] = [], bgPerWay: tf.Tensor1D[] = [];
  for (const way of support) {
    const perShot = way.map((s) => maskedAveragePool(s.feat, s.weights)); // each [2, C]
    const mean = tf.div(tf.addN(perShot), way.length) as tf.Tensor2D;
    fg.push(tf.squeeze(tf.slice(mean, [0, 0], [1, -1]), [0]) as tf.Tensor1D);
    bgPerWay.push(tf.squeeze(tf.slice(mean, [1, 0], [1, -1]), [0]) as tf.Tensor1D);
  }
  const bg = tf.div(tf.addN(bgPerWay), support.length) as tf.Tensor1D;
  return tf.stack([bg, ...fg]) as tf.Tensor2D;
}

/** A support image with its annotation for its way's class (any of dense, box, scribble, soft). */
export interface SupportShot {
  feat: tf.Tensor4D;
  annotation: SupportAnnotation;
}

/** Turn an annotation into the [2, H, W] (fg, bg) weight tensor episodePrototypes expects. */
export function annotationTensor(a: SupportAnnotation): tf.Tensor3D {
  const { fg, bg } = annotationWeights(a), n = a.width * a.height;
  const both = new Float32Array(2 * n);
  both.set(fg, 0);
  both.set(bg, n);
  return tf.tensor3d(both, [2, a.height, a.width]);
}

/**
 * Prototypes [1 + N, C] for an episode given as support[way][shot] (way j ⇔ episode class j + 1).
 * Tidy: the result is the only tensor left; the caller disposes it.
 */
export function prototypes(support: SupportShot[][]): tf.Tensor2D {
  return tf.tidy(() => episodePrototypes(support.map((way) => way.map((s) => ({ feat: s.feat, weights: annotationTensor(s.annotation) })))));
}
