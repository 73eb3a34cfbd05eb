// Settings of the quality predictor (qualityPredictor.ts). Every part can be switched off, so the
// baseline (PANet: one mean prototype per class, stride 16, no refinement) is a configuration too and
// eval-photos.ts can measure each part by ablation.
import type { ColourModelOptions } from './colourModel';
import type { CrfOptions } from './crf';
import type { GuidedFilterOptions } from './guidedFilter';
import type { LocalEvidenceOptions } from './localEvidence';
import type { NeighbourOptions } from './neighbours';

/**
 * prototype: mean (or k-means) prototypes, PANet's; ridge: a ridge classifier fitted on the labelled
 * cells; auto: prototypes for an image with no strokes of its own, ridge (and no self-support) for an
 * image the user has marked — its own cells are then the best evidence there is, and a discriminative fit
 * uses them far better than a mean does (eval-photos: photos+strokes 0.548 → 0.581, sample+strokes 0.439 → 0.578).
 */
export type ClassifierKind = 'prototype' | 'ridge' | 'auto';
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
  /**
   * k-means and ridge see at most this many labelled cells per class of each part (evenly spaced; weights
   * keep class totals). The ridge's cost grows as n²·d + n³: 64 → 32 took a stroke's re-segmentation
   * from 65 to 39 ms p50 (bench:label) with photos+strokes 0.559 → 0.587, sample+strokes 0.553 → 0.547;
   * 32 → 24 loses photos+strokes 0.673 → 0.641.
   */
  maxCells: number;
  refine: RefineKind;
  guided: GuidedFilterOptions;
  crf: CrfOptions;
  /** with the CRF: the image's own colour model in its unary (colourModel.ts); weight 0 = off */
  colour: ColourModelOptions;
  /** the predicted image's own strokes: their weight as samples (0 = not used as samples) */
  ownWeight: number;
  /** own strokes: fix their pixels to their label before refinement (so they spread along edges) and after */
  ownClamp: boolean;
  /**
   * Self-support (after SSP, Fan et al. ECCV 2022): the query's own confidently predicted pixels (refined
   * probability of the background above bgThreshold, of a class above fgThreshold) join the samples
   * with `weight`, and the image is segmented again, `rounds` times. Query-specific prototypes match the
   * query's own background and look, which the support's may not. rounds 0 = off. onGrid: the confident
   * cells are read from the classifier's probabilities on the feature grid (as SSP does; no refinement
   * before the last round), else from the refined probabilities (with the CRF: its marginals on the
   * pixels it iterates on, without the last full-resolution pass). Measured (eval-photos, 12 photo
   * pairs): refined beats on-grid, 0.516 vs 0.478 (prototypes 16+32) and 0.537 vs 0.516 (ridge 8+16+32).
   */
  selfSupport: { rounds: number; fgThreshold: number; bgThreshold: number; weight: number; onGrid?: boolean };
  /** the image's own strokes and clicks as local evidence around them (localEvidence.ts); weight 0 = off */
  local: LocalEvidenceOptions;
  /** the supports' nearest neighbours' vote beside the classifier (neighbours.ts); weight 0 = off */
  neighbours: NeighbourOptions;
}

/**
 * The defaults, chosen on scripts/eval-photos.ts (12 real photo pairs, 32–40 sample episodes; see the
 * README): strides 16 + 32 with the stride-32 level at half weight (stride 32 carries the semantics
 * that generalise from one photo to another, stride 8 the texture the synthetic sample rewards),
 * mean prototypes and one self-support round for an image without strokes, a ridge fit when it has
 * strokes, the bilateral-grid CRF.
 */
export const QUALITY_DEFAULTS: QualityConfig = {
  levels: [16, 32],
  levelWeights: [1, 0.5],
  classifier: 'ridge',
  prototypes: [1, 1],
  alpha: 20,
  ridgeLambda: 0.01,
  ridgeScale: 10,
  ridgeBalanced: true,
  maxCells: 32,
  refine: 'crf',
  guided: { radius: 12, eps: 0.01, subsample: 4 },
  // subsample 3 → 4 → 6: the same IoU to the third decimal on photos and sample (eval-photos: photos
  // 0.491 / +strokes 0.673 → 0.491 / 0.674, sample 0.394 / 0.634 → 0.395 / 0.633), fit + predict warm
  // p50 17.0 → 14.1 ms; iterations 5 → 4 or 3 lose 0.006 / 0.011 on photos, so they stay 5. settled
  // 0.995 → 0.95 → 0.5 (the last iteration at full resolution only where the sub pixels around are not
  // unanimous): on the photos with strokes 62 % of the pixels got it at 0.995; the same IoU at every step
  // (photos 0.491, +strokes 0.674 → 0.675 → 0.677, sample 0.395 / 0.634), warm p50 11.4 → 9.3 → 8.4 ms
  crf: { sigmaXY: 24, sigmaLuma: 16, weight: 4, iterations: 5, subsample: 6, settled: 0.5 },
  // eval-photos (README): photos+strokes 0.587 → 0.673, sample+strokes 0.547 → 0.634; for every image,
  // strokes or not, photos 0.491 → 0.500 at β = 0.5 and 0.470 at β = 1 (it echoes the classifier's errors)
  // (step 2 → 3 loses photos+strokes 0.675 → 0.658)
  colour: { weight: 2, levels: 16, sure: 0.8, strokeWeight: 16, prior: 1, minPixels: 50, step: 2, strokesOnly: true },
  ownWeight: 4,
  ownClamp: true,
  selfSupport: { rounds: 1, fgThreshold: 0.7, bgThreshold: 0.6, weight: 1, onGrid: false },
  local: { weight: 15, sigma: 0.15, floor: 0.3, maxSeeds: 48 },
  neighbours: { weight: 20, k: 5, temperature: 0.05, floor: 0.6 },
};

/** PANet as `protolab segment` runs it today: one mean prototype per class, stride 16, no refinement. */
export const PANET_BASELINE: QualityConfig = {
  ...QUALITY_DEFAULTS,
  neighbours: { ...QUALITY_DEFAULTS.neighbours, weight: 0 },
  local: { ...QUALITY_DEFAULTS.local, weight: 0 },
  levels: [16],
  levelWeights: undefined,
  classifier: 'prototype',
  prototypes: [1, 1],
  refine: 'none',
  ownWeight: 0,
  ownClamp: false,
  colour: { ...QUALITY_DEFAULTS.colour, weight: 0 },
  selfSupport: { ...QUALITY_DEFAULTS.selfSupport, rounds: 0 },
};
