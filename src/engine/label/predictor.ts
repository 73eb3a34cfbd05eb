import type { FeatureEntry } from '../features/featureCache';
import type { RawImage } from '../types';

/** Raster value for "no evidence" in annotation rasters (0 bg, 1..K classes, 255 unsure): shared/labelVocabulary.ts. */
export { UNLABELED } from '../../shared/labelVocabulary';

/** Turns an image at the working size into feature maps (one or more levels, any strides). Cached by the caller under `key`. */
export interface LabelEncoder {
  /** Part of the feature-cache key: backbone id + weights hash + levels + working size. */
  readonly key: string;
  readonly size: number;            // working size S: images are resized to S×S before encoding (as the rest of the engine)
  encode(rgb: RawImage): Promise<FeatureEntry[]>;  // rgb is S×S
  dispose(): void;
}

/** One image as the predictor sees it: RGB at S×S and its cached features. */
export interface LabelImage {
  id: string;
  rgb: RawImage;                    // S×S×3
  features: FeatureEntry[];
}

/**
 * A support: an image and its annotation raster at S×S (0 bg, 1..K, 255 unsure, 254 unlabeled). A
 * predictor may keep work per raster object across fits, so a changed annotation is a new raster, never
 * the old one written over.
 */
export interface LabelSupport { image: LabelImage; labels: Uint8Array }

export interface Prediction {
  size: number;                     // S
  classes: number;                  // K (labels are 0..K)
  labels: Uint8Array;               // S×S argmax after refinement
  probs: Float32Array;              // S×S×(K+1), row-major, channel last; rows sum to 1 (may be computed on first read)
  confidence: number;               // 0..1, how sure the predictor is about this image as a whole
}

export interface FittedModel {
  /** Predict one image. `ownLabels` = the image's own annotation raster (its marked pixels count for it at once). */
  predict(image: LabelImage, ownLabels?: Uint8Array): Prediction;
  dispose(): void;
}

export interface Predictor {
  readonly id: string;
  /** Fit to the supports (K classes). Cheap enough to call after every stroke. Throws if no support labels any pixel. */
  fit(supports: LabelSupport[], classes: number): FittedModel;
  describe(): Record<string, unknown>;   // settings, for manifests and reports
}
