// Settings of the quality predictor (qualityPredictor.ts). Every part can be switched off, so the
// baseline (PANet: one mean prototype per class, stride 16, no refinement) is a configuration too and
// eval-photos.ts can measure each part by ablation.
import type { CrfOptions } from './crf';
import type { GuidedFilterOptions } from './guidedFilter';

export type ClassifierKind = 'prototype' | 'ridge';
export type RefineKind = 'none' | 'guided' | 'crf';

export interface QualityConfig {
  /** output strides of the feature levels to use (the image's features must include them) */
  levels: number[];
  /** relative weight of each level (same order as levels; default equal) */
  levelWeights?: number[];
  classifier: ClassifierKind;
  /** prototype: at most this many prototypes for [background, each class]; [1, 1] = PANet */
  prototypes: [number, number];
  /** prototype logit scale α (PANet: 20) */
  alpha: number;
  /** ridge: λ, logit scale, class balance */
  ridgeLambda: number;
  ridgeScale: number;
  ridgeBalanced: boolean;
  /** k-means and ridge see at most this many labelled cells per class (evenly spaced; weights keep class totals) */
  maxCells: number;
  refine: RefineKind;
  guided: GuidedFilterOptions;
  crf: CrfOptions;
  /** the predicted image's own strokes: their weight as samples (0 = not used as samples) */
  ownWeight: number;
  /** own strokes: fix their pixels to their label before refinement (so they spread along edges) and after */
  ownClamp: boolean;
  /**
   * Self-support (after SSP, Fan et al. ECCV 2022): the query's own confidently predicted pixels (refined
   * probability of the background above bgThreshold, of a class above fgThreshold) join the samples
   * with `weight`, and the image is segmented again, `rounds` times. Query-specific prototypes match the
   * query's own background and look, which the support's may not. rounds 0 = off. onGrid: the confident
   * cells are read from the classifier's probabilities on the feature grid (as SSP does; no upsampling
   * or refinement before the last round), else from the refined full-size probabilities.
   */
  selfSupport: { rounds: number; fgThreshold: number; bgThreshold: number; weight: number; onGrid?: boolean };
}

export const QUALITY_DEFAULTS: QualityConfig = {
  levels: [16, 32],
  classifier: 'prototype',
  prototypes: [1, 1],
  alpha: 20,
  ridgeLambda: 0.01,
  ridgeScale: 10,
  ridgeBalanced: true,
  maxCells: 200,
  refine: 'crf',
  guided: { radius: 12, eps: 0.01, subsample: 4 },
  crf: { sigmaXY: 24, sigmaLuma: 16, weight: 4, iterations: 5, subsample: 2 },
  ownWeight: 4,
  ownClamp: true,
  selfSupport: { rounds: 1, fgThreshold: 0.7, bgThreshold: 0.6, weight: 1, onGrid: true },
};

/** PANet as `protolab segment` runs it today: one mean prototype per class, stride 16, no refinement. */
export const PANET_BASELINE: QualityConfig = {
  ...QUALITY_DEFAULTS,
  levels: [16],
  classifier: 'prototype',
  prototypes: [1, 1],
  refine: 'none',
  ownWeight: 0,
  ownClamp: false,
  selfSupport: { ...QUALITY_DEFAULTS.selfSupport, rounds: 0 },
};
