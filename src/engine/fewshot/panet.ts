// PANet inference (Wang et al., ICCV 2019), non-parametric: prototypes from the support set
// (eq. 1–2, prototypes.ts), query logits α·cos(F_q, p_j) (eq. 3, cosine.ts), softmax over j (eq. 3–4),
// bilinear upsampling of the logits to the output size (official code: F.interpolate, half-pixel),
// prediction = argmax.
//
// Labels are EPISODE-LOCAL: 0 = background, j = the j-th way's class (support[j − 1]), exactly as the
// official code's query labels. toEpisodeLabels / toOrdinals convert from / to dataset ordinals.
import * as tf from '@tensorflow/tfjs-core';
import { IGNORE, IndexMask } from '../types';
import { resizeBilinearHalfPixel } from './bilinear';
import { cosineLogits, PANET_ALPHA } from './cosine';
import { prototypes, SupportShot } from './prototypes';

export { PANET_ALPHA } from './cosine';

/**
 * Query logits [H, W, 1 + N]: α·cos(F_q(x,y), p_j) at feature resolution, upsampled bilinearly
 * (half-pixel centres) to outSize = [H, W]. Softmax over the last axis gives eq. 3's probabilities;
 * the cross-entropy loss takes these logits. Differentiable; call inside tf.tidy.
 */
export function panetLogits(queryFeat: tf.Tensor4D, protos: tf.Tensor2D, outSize: [number, number], alpha = PANET_ALPHA): tf.Tensor3D {
  return resizeBilinearHalfPixel(cosineLogits(queryFeat, protos, alpha), outSize);
}

/** Eq. 3: per-pixel class probabilities [H, W, 1 + N] (softmax over the episode's classes). Call inside tf.tidy. */
export function panetProbabilities(queryFeat: tf.Tensor4D, protos: tf.Tensor2D, outSize: [number, number]): tf.Tensor3D {
  return tf.softmax(panetLogits(queryFeat, protos, outSize)) as tf.Tensor3D;
}

/** Episode-local label map (row-major H×W): argmax_j of the upsampled logits. Leaves no tensor behind. */
export async function panetPredict(queryFeat: tf.Tensor4D, protos: tf.Tensor2D, outSize: [number, number]): Promise<Uint8Array> {
  const labels = tf.tidy(() => tf.argMax(panetLogits(queryFeat, protos, outSize), -1));
  try {
    return Uint8Array.from(await labels.data());
  } finally {
    labels.dispose();
  }
}

/** One whole episode: support[way][shot] → episode-local labels of the query. Leaves no tensor behind. */
export async function panetEpisode(support: SupportShot[][], queryFeat: tf.Tensor4D, outSize: [number, number]): Promise<Uint8Array> {
  const protos = prototypes(support);
  try {
    return await panetPredict(queryFeat, protos, outSize);
  } finally {
    protos.dispose();
  }
}

/** Dataset mask → episode-local labels (as the official fewShot()): classes[j] → j + 1, 255 kept, all else 0. */
export function toEpisodeLabels(mask: IndexMask, classes: readonly number[]): Uint8Array {
  const lut = new Uint8Array(256);
  classes.forEach((c, j) => { lut[c] = j + 1; });
  lut[IGNORE] = IGNORE;
  return mask.data.map((v) => lut[v]);
}

/** Episode-local labels → dataset ordinals: j → classes[j − 1], 0 → 0, 255 kept. */
export function toOrdinals(labels: Uint8Array, classes: readonly number[]): Uint8Array {
  return labels.map((v) => (v === 0 || v === IGNORE ? v : classes[v - 1]));
}
