// The labeling predictor that aims at masks a user accepts (issue 8, "Masks worth accepting"), behind
// the Predictor seam of predictor.ts. Defaults in quality/config.ts; each part can be switched off, and
// scripts/eval-photos.ts measures them (README, "Segmenting your own photos"):
//   1. evidence: per-level L2-normalised MobileNetV2 features (strides 16 + 32 by default), scored on
//      the finest level's grid (quality/levels.ts);
//   2. a classifier fitted on the labelled cells: PANet's mean prototypes (kept as running sums), k-means
//      prototypes, or a closed-form ridge classifier, MetaSegNet's base learner ('auto': prototypes for
//      an unmarked image, ridge for an image with strokes) (quality/prototypes.ts, quality/ridge.ts);
//   3. the image's own strokes: samples with a higher weight, and fixed to their label through the
//      refinement (quality/ownStrokes.ts);
//   4. self-support: the image's confidently refined pixels join the samples for one more pass
//      (quality/selfSupport.ts);
//   5. image-aware refinement straight from the feature-grid logits: a bilateral-grid dense CRF
//      (default) or a guided filter (quality/crf.ts, quality/guidedFilter.ts);
//   6. a confidence per image (quality/confidence.ts, with how well it tracks IoU).
import type { FeatureEntry } from '../eval/featureCache';
import type { LabelImage, LabelSupport, FittedModel, Prediction, Predictor } from './predictor';
import { UNLABELED } from './predictor';
import { classLogits, type LinearClassifier } from './quality/classifier';
import { QUALITY_DEFAULTS, type QualityConfig } from './quality/config';
import { imageConfidence } from './quality/confidence';
import { colourTerm } from './quality/colourModel';
import { crfRefine, crfSubset } from './quality/crf';
import { colourGuide, guidedFromLogits } from './quality/guidedFilter';
import { imageLevels, type Level } from './quality/levels';
import { clampOwn, hasLabels } from './quality/ownStrokes';
import { argmaxRows, upsampleSoftmax } from './quality/probabilities';
import { MeanPrototypes, prototypeClassifier } from './quality/prototypes';
import { RidgeFitter, type RidgeOptions } from './quality/ridge';
import { collectSamples, concatSamples, type AnnotatedLevels, type SampleSet } from './quality/samples';
import { confidentCells, confidentRaster } from './quality/selfSupport';

/**
 * The output stride of a feature map `side` cells across at working size S: S / side snapped to the
 * nearest power of two in log scale (at small or odd sizes padding makes S / side inexact, e.g. 65² at
 * stride 32 gives 2 cells: 32.5).
 */
export function strideOf(size: number, side: number): number {
  return 2 ** Math.round(Math.log2(size / side));
}

/** The feature maps of `features` at the given output strides (strideOf), finest first. */
export function pickLevels(features: FeatureEntry[], size: number, strides: number[], weights?: number[]): Level[] {
  const chosen = strides.map((s) => {
    const e = features.find((f) => strideOf(size, f.shape[0]) === s);
    if (!e) {
      const have = features.map((f) => strideOf(size, f.shape[0])).join(', ');
      throw new RangeError(`the image's features have no level at stride ${s} (strides present: ${have || 'none'})`);
    }
    return e;
  });
  return imageLevels(chosen, weights);
}

export class QualityPredictor implements Predictor {
  readonly id: string;
  readonly config: QualityConfig;

  constructor(config: Partial<QualityConfig> = {}, id = 'quality') {
    this.config = { ...QUALITY_DEFAULTS, ...config };
    this.id = id;
  }

  describe(): Record<string, unknown> {
    return { id: this.id, ...this.config };
  }

  fit(supports: LabelSupport[], classes: number): FittedModel {
    if (!Number.isInteger(classes) || classes < 1 || classes > 253) throw new RangeError(`classes must be 1..253, got ${classes}`);
    if (!supports.length) throw new RangeError('fit: no support image');
    const size = supports[0].image.rgb.width;
    const annotated: AnnotatedLevels[] = supports.map((s) => {
      if (s.image.rgb.width !== size || s.image.rgb.height !== size) throw new RangeError(`support ${s.image.id} is not ${size}×${size}`);
      return { levels: pickLevels(s.image.features, size, this.config.levels, this.config.levelWeights), labels: s.labels };
    });
    const samples = collectSamples(annotated, size, classes);
    if (samples.n === 0) throw new RangeError('fit: no support labels any pixel');
    return new QualityModel(this.config, samples, size, classes, new Map(supports.map((s) => [s.image.id, s.labels])));
  }
}

class QualityModel implements FittedModel {
  private readonly clf: LinearClassifier;
  /** mean prototypes (PANet's classifier): the supports' class sums, kept so a predict adds only its own */
  private readonly means?: MeanPrototypes;

  /** the supports' ridge fit, for predicting a support image itself (made on first use) */
  private supportRidge?: LinearClassifier;
  /** ridge fits on the supports plus a few samples more: what depends on the supports alone is kept */
  private ridgeFitter?: RidgeFitter;

  /**
   * `supportLabels`: each support's annotation by image id. A support predicted itself (the image being
   * drawn on, when its strokes teach the rest) treats its annotation as its own strokes — clamped, the
   * colour model, the ridge fit of 'auto' — without counting its cells twice as samples.
   */
  constructor(private readonly cfg: QualityConfig, private readonly samples: SampleSet, private readonly size: number, private readonly classes: number,
    private readonly supportLabels: Map<string, Uint8Array> = new Map()) {
    if (usesMeans(cfg)) {
      this.means = MeanPrototypes.of(samples);
      this.clf = this.means.classifier(cfg.alpha);
    } else this.clf = cfg.classifier === 'ridge' ? this.ridge() : prototypeClassifier(samples, prototypeOptions(cfg));
  }

  /** A ridge fit on the supports and `extra` (strokes, confident pixels). */
  private ridge(extra?: SampleSet): LinearClassifier {
    this.ridgeFitter ??= new RidgeFitter(this.samples, ridgeOptions(this.cfg));
    return this.ridgeFitter.fit(extra);
  }

  /** The classifier for the supports plus extra samples (strokes, confident pixels). */
  private refit(extra: SampleSet[]): LinearClassifier {
    const add = extra.filter((e) => e.n > 0);
    if (!add.length) return this.clf;
    if (this.means) return add.reduce((m, e) => m.plus(e), this.means).classifier(this.cfg.alpha);
    if (this.cfg.classifier === 'ridge') return this.ridge(add.reduce((a, e) => concatSamples(a, e)));
    return prototypeClassifier(add.reduce((a, e) => concatSamples(a, e), this.samples), prototypeOptions(this.cfg));
  }

  predict(image: LabelImage, ownLabels?: Uint8Array): Prediction {
    const { cfg, size, classes } = this;
    const k1 = classes + 1;
    if (image.rgb.width !== size || image.rgb.height !== size) throw new RangeError(`image ${image.id} is not ${size}×${size}`);
    if (ownLabels && ownLabels.length !== size * size) throw new RangeError(`ownLabels of ${image.id} has ${ownLabels.length} pixels, expected ${size * size}`);
    const levels = pickLevels(image.features, size, cfg.levels, cfg.levelWeights);
    const asSupport = !ownLabels && cfg.ownWeight > 0 ? this.supportLabels.get(image.id) : undefined;
    const ownRaster = ownLabels ?? asSupport;
    const own = ownRaster && hasLabels(ownRaster) ? ownRaster : undefined;
    const extra: SampleSet[] = ownLabels && own && cfg.ownWeight > 0 ? [collectSamples([{ levels, labels: own, weight: cfg.ownWeight }], size, classes)] : [];
    if (cfg.classifier === 'auto' && ((extra.length && extra[0].n > 0) || (asSupport && own))) {
      // strokes of its own: a ridge fit on supports + strokes, no self-support (a support's strokes are
      // among the samples already)
      const clf = extra.length && extra[0].n > 0 ? this.ridge(extra[0]) : (this.supportRidge ??= this.ridge());
      const logits = classLogits(levels, clf);
      const seg = this.segment(image, levels, clf, own, logits);
      return prediction(size, classes, seg, imageConfidence(logits, levels[0].h, levels[0].w, seg.labels, k1));
    }
    let clf = this.refit(extra);
    // the classifier's own first answer (supports + strokes): the confidence compares the final masks with it
    const firstLogits = classLogits(levels, clf);
    const ss = cfg.selfSupport;
    let seg: Segmentation | undefined;
    for (let r = 0; r < ss.rounds; r++) {
      let self: SampleSet;
      if (ss.onGrid) {
        // confident cells straight from the classifier's probabilities on the feature grid
        self = confidentCells(levels, r === 0 ? firstLogits : classLogits(levels, clf), k1, ss);
      } else if (cfg.refine === 'crf') {
        // the refined marginals on the CRF's sub set of pixels: the last, full-resolution pass is not needed
        const lg = r === 0 ? firstLogits : classLogits(levels, clf), { h, w } = levels[0];
        const { pixels, q, step } = crfSubset(image.rgb, lg, h, w, k1, cfg.crf, cfg.ownClamp ? own : undefined, colourTerm(image.rgb, lg, h, w, k1, cfg.colour, own));
        const raster = new Uint8Array(size * size).fill(UNLABELED);
        const conf = confidentRaster(q, k1, ss);
        pixels.forEach((px, i) => { raster[px] = conf[i]; });
        self = collectSamples([{ levels, labels: raster, weight: ss.weight * step * step }], size, classes);
      } else {
        seg = this.segment(image, levels, clf, own);
        self = collectSamples([{ levels, labels: confidentRaster(seg.probs(), k1, ss, own), weight: ss.weight }], size, classes);
      }
      if (self.n === 0) break;
      clf = this.refit([...extra, self]);
      seg = undefined;
    }
    seg ??= this.segment(image, levels, clf, own, cfg.selfSupport.rounds === 0 ? firstLogits : undefined);
    return prediction(size, classes, seg, imageConfidence(firstLogits, levels[0].h, levels[0].w, seg.labels, k1));
  }

  /**
   * Labels [S·S] and class probabilities [S·S, k1] of one image under one classifier: the logits on the
   * feature grid, then refinement straight from them to full resolution (or a plain upsampling), strokes
   * kept. The CRF's probabilities are only computed when read (crfRefine).
   */
  private segment(image: LabelImage, levels: Level[], clf: LinearClassifier, own?: Uint8Array, known?: Float32Array): Segmentation {
    const { cfg, size } = this, k1 = this.classes + 1, { h, w } = levels[0];
    const logits = known ?? classLogits(levels, clf), fixed = cfg.ownClamp ? own : undefined;
    // (the CRF gives a stroke's pixels their label itself)
    if (cfg.refine === 'crf') return crfRefine(image.rgb, logits, h, w, k1, cfg.crf, fixed, colourTerm(image.rgb, logits, h, w, k1, cfg.colour, own));
    const probs = cfg.refine === 'guided' ? guidedFromLogits(colourGuide(image.rgb, cfg.guided), logits, h, w, k1, fixed) : upsampleSoftmax(logits, h, w, k1, size);
    if (fixed) clampOwn(probs, fixed, k1);
    return { labels: argmaxRows(probs, k1), probs: () => probs };
  }

  dispose(): void {
    // plain arrays only: nothing to free
  }
}

/** An image's labels, and its probabilities when asked for. */
interface Segmentation { labels: Uint8Array; probs: () => Float32Array }

/** A Prediction whose `probs` are computed on first read (a stroke shows the labels only). */
function prediction(size: number, classes: number, seg: Segmentation, confidence: number): Prediction {
  return { size, classes, labels: seg.labels, get probs() { return seg.probs(); }, confidence };
}

/** PANet's classifier (one mean prototype per class) is kept as running sums. */
function usesMeans(cfg: QualityConfig): boolean {
  return cfg.classifier !== 'ridge' && cfg.prototypes[0] === 1 && cfg.prototypes[1] === 1;
}

function ridgeOptions(cfg: QualityConfig): RidgeOptions {
  return { lambda: cfg.ridgeLambda, scale: cfg.ridgeScale, balanced: cfg.ridgeBalanced, maxCells: cfg.maxCells };
}

function prototypeOptions(cfg: QualityConfig) {
  return { alpha: cfg.alpha, maxPrototypes: cfg.prototypes, maxCells: cfg.maxCells };
}
