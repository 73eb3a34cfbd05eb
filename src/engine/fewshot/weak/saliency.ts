// The built-in class-agnostic saliency for gating CAM pseudo masks (the Pixel-Level Meta-Learner gates
// T̄ with an off-the-shelf saliency detector; FACTS.md: the only one reachable offline, ISNet, is ONNX
// inside AGPL code and ≈ 9 s/image on CPU, so it cannot be the default).
//
// 'feature-contrast': the boundary prior of background-based saliency (Wei et al., "Geodesic Saliency
// Using Background Priors", ECCV 2012: the image border is mostly background) measured in a backbone's
// feature space: S(x) = ‖F(x) − μ_border‖₂, μ_border = the mean feature over the outermost ring of
// feature cells, then normalised to [0, 1] as (S − min) / (P95 − min), clipped: the 95th percentile,
// not the maximum, so that a few outlier cells (a conv net's zero-padded corners respond strongly)
// do not compress everything else (a constant map gives all zeros).
// Cheap (one backbone forward) and honest about what it is: a contrast-to-border cue, not a trained
// salient-object detector.
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../../types';
import type { SaliencyMap, SaliencySource } from './types';

/** Plain-JS core (testable): saliency of features [h, w, C] (row-major HWC) against their border ring. */
export function borderContrast(feat: Float32Array, h: number, w: number, c: number): Float32Array {
  const mu = new Float64Array(c);
  let n = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (y !== 0 && x !== 0 && y !== h - 1 && x !== w - 1) continue;
    for (let k = 0; k < c; k++) mu[k] += feat[(y * w + x) * c + k];
    n++;
  }
  for (let k = 0; k < c; k++) mu[k] /= n;
  const s = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let d = 0;
    for (let k = 0; k < c; k++) d += (feat[i * c + k] - mu[k]) ** 2;
    s[i] = Math.sqrt(d);
  }
  const sorted = Float32Array.from(s).sort();
  const lo = sorted[0], hi = sorted[Math.min(sorted.length - 1, Math.floor(0.95 * (sorted.length - 1)))];
  for (let i = 0; i < s.length; i++) s[i] = hi > lo ? Math.min(1, Math.max(0, (s[i] - lo) / (hi - lo))) : 0;
  return s;
}

export interface FeatureContrastOptions {
  /** Short name of the feature extractor, recorded in the id: 'feature-contrast(<name>)'. */
  name: string;
  /** [1, H, W, 3] RGB 0..255 → [1, h, w, C] (a Backbone's `features`). Not disposed here. */
  features(x: tf.Tensor4D): tf.Tensor4D;
  /** Square side the image is resized to first. Default 320. */
  inputSize?: number;
}

export function featureContrastSaliency(opts: FeatureContrastOptions): SaliencySource {
  return {
    id: `feature-contrast(${opts.name})`,
    async saliency(image: RawImage): Promise<SaliencyMap> {
      const size = opts.inputSize ?? 320;
      const f = tf.tidy(() => {
        const img = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
        return opts.features(tf.image.resizeBilinear(img, [size, size], false, true) as tf.Tensor4D);
      });
      try {
        const [, h, w, c] = f.shape;
        return { map: borderContrast((await f.data()) as Float32Array, h, w, c), h, w };
      } finally {
        f.dispose();
      }
    },
  };
}
