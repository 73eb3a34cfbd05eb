// The three pluggable parts of the weak-supervision pseudo-mask pipeline (Pixel-Level Meta-Learner,
// Lee et al., WACV 2022, §3.2): a classifier giving class activation maps, a word similarity between
// class names, and a class-agnostic saliency map. Built-ins live beside this file; a user can pass any
// object with this shape.
import type { RawImage } from '../../types';

/** Per-class activation maps of one image at the classifier's own resolution h×w (row-major). */
export interface CamMaps {
  /** maps[k] (length h·w) is class k's activation, in the order of CamSource.classNames. */
  maps: Float32Array[];
  h: number;
  w: number;
}

export interface CamSource {
  /** Recorded in results, e.g. 'nsfwjs-mobilenetv2' or 'layers-model:/abs/path/model.json'. */
  readonly id: string;
  readonly classNames: string[];
  cams(image: RawImage): Promise<CamMaps>;
  dispose?(): void;
}

export interface WordSimilarity {
  /** Recorded in results: 'wordnet-wup' or 'vectors:<file>'. */
  readonly id: string;
  /** Similarity of two class names (symmetric; 1 for identical names). */
  sim(a: string, b: string): number;
  /** Names asked about so far that the source knows nothing of (their similarity to everything is 0). */
  unknown?(): string[];
}

/** A class-agnostic saliency map in [0, 1] at h×w (row-major). */
export interface SaliencyMap {
  map: Float32Array;
  h: number;
  w: number;
}

export interface SaliencySource {
  /** Recorded in results, e.g. 'feature-contrast(mobilenetv2)'. */
  readonly id: string;
  saliency(image: RawImage): Promise<SaliencyMap>;
  dispose?(): void;
}
