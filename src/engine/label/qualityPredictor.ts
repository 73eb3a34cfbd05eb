// The labeling predictor that aims at masks a user accepts ("masks worth accepting"), behind
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
import type { FeatureEntry } from '../features/featureCache';
import type { LabelImage, LabelSupport, FittedModel, Prediction, Predictor } from './predictor';
import { UNLABELED } from './predictor';
import { classLogits, type LinearClassifier } from './quality/classifier';
import { QUALITY_DEFAULTS, type QualityConfig } from './quality/config';
import { imageConfidence } from './quality/confidence';
import { colourTerm } from './quality/colourModel';
import { crfRefine, crfSubset } from './quality/crf';
import { colourGuide, guidedFromLogits } from './quality/guidedFilter';
import { imageLevels, type Level } from './quality/levels';
import { addEvidence, localEvidence } from './quality/localEvidence';
import { neighbourColumns, neighbourVote } from './quality/neighbours';
import { clampOwn, hasLabels } from './quality/ownStrokes';
import { argmaxRows, upsampleSoftmax } from './quality/probabilities';
import { MeanPrototypes, prototypeClassifier } from './quality/prototypes';
import { RidgeFitter, type RidgeOptions } from './quality/ridge';
import { collectSamples, concatSamples, subsample, type SampleSet } from './quality/samples';
import { confidentCells, confidentRaster } from './quality/selfSupport';

/**
 * The output stride of a feature map `side` cells across at working size S: the power of two s whose
 * map would be ⌈S / s⌉ (SAME padding: NanoDet, CenterNet, VGG-16) or ⌊S / s⌋ (MobileNetV2) cells wide;
 * failing both, S / side snapped to the nearest power of two in log scale. At small sizes the log rule
 * alone confuses levels: 65² at stride 32 is 3 cells with SAME padding (65 / 3 = 21.7, nearer 16) and 2
 * without (32.5).
 */
export function strideOf(size: number, side: number): number {
  for (let s = 2; s <= 64; s *= 2) if (side === Math.ceil(size / s) || side === Math.floor(size / s)) return s;
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

/**
 * One support as fits see it: its labelled cells, and (when asked) their class sums. Kept across fits
 * for as long as the support's annotation raster and features are the same objects: a stroke on one
 * support refits the model, and the others' samples, sums and ridge rows need not be made again.
 */
interface SupportPart {
  uid: number;
  id: string;
  labels: Uint8Array;
  samples: SampleSet;
  means?: MeanPrototypes;
}

let partUid = 0;

export class QualityPredictor implements Predictor {
  readonly id: string;
  readonly config: QualityConfig;
  /** support parts by annotation raster, then by the support's finest feature level */
  private readonly parts = new WeakMap<Uint8Array, Map<Float32Array, SupportPart>>();
  /** ridge fitters by the supports they are fitted on (RidgeFitter keeps what depends on those alone) */
  private readonly fitters: Array<{ key: string; fitter: RidgeFitter }> = [];

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
    const parts = supports.map((s) => {
      if (s.image.rgb.width !== size || s.image.rgb.height !== size) throw new RangeError(`support ${s.image.id} is not ${size}×${size}`);
      return this.part(s, size, classes);
    });
    if (parts.every((p) => p.samples.n === 0)) throw new RangeError('fit: no support labels any pixel');
    return new QualityModel(this.config, parts, size, classes, (list) => this.fitter(list, parts[0].samples));
  }

  private part(s: LabelSupport, size: number, classes: number): SupportPart {
    const levels = pickLevels(s.image.features, size, this.config.levels, this.config.levelWeights);
    let byLevel = this.parts.get(s.labels);
    if (!byLevel) this.parts.set(s.labels, (byLevel = new Map()));
    const hit = byLevel.get(levels[0].data);
    if (hit && hit.id === s.image.id && hit.samples.k1 === classes + 1) return hit;
    const part = { uid: ++partUid, id: s.image.id, labels: s.labels, samples: collectSamples([{ levels, labels: s.labels }], size, classes) };
    byLevel.set(levels[0].data, part);
    return part;
  }

  /** The ridge fitter on these supports' samples (the last few are kept). */
  private fitter(list: SupportPart[], like: SampleSet): RidgeFitter {
    // the supports AND the class count: an empty support list (a support predicting itself) is the
    // same list for every K, and a fitter of another K cannot take these samples
    const key = `${list.map((p) => p.uid).join(',')}|k1=${like.k1}`;
    const at = this.fitters.findIndex((f) => f.key === key);
    if (at >= 0) {
      const [hit] = this.fitters.splice(at, 1);
      this.fitters.push(hit);
      return hit.fitter;
    }
    const fitter = new RidgeFitter(joinSamples(list, like), ridgeOptions(this.config));
    this.fitters.push({ key, fitter });
    while (this.fitters.length > KEEP_FITTERS) this.fitters.shift();
    return fitter;
  }
}

/** Ridge fitters kept per predictor: the current supports, and the supports but the one being drawn on. */
const KEEP_FITTERS = 4;

/** The union of the supports' samples (an empty set of shape `like`'s when there are none). */
function joinSamples(list: SupportPart[], like: SampleSet): SampleSet {
  const empty: SampleSet = { n: 0, d: like.d, k1: like.k1, t: new Float32Array(0), w: new Float32Array(0), parts: [] };
  return list.reduce((a, p) => (a.n ? concatSamples(a, p.samples) : p.samples), empty);
}

class QualityModel implements FittedModel {
  private clfMemo?: LinearClassifier;
  /** mean prototypes (PANet's classifier): the supports' class sums, kept so a predict adds only its own */
  private meansMemo?: MeanPrototypes;
  private samplesMemo?: SampleSet;
  /** the supports' cells the neighbour vote reads (thinned), as columns */
  private nbMemo?: { set: SampleSet; cols: Float32Array };
  /** the neighbour vote per image (by its finest level): the same for every stroke on it */
  private readonly votes = new WeakMap<Float32Array, Float32Array>();
  /** each support's own ridge fit, for predicting a support image itself (made on first use) */
  private readonly supportRidge = new Map<string, LinearClassifier>();

  /**
   * `parts`: the supports. A support predicted itself (the image being drawn on, when its strokes teach
   * the rest) treats its annotation as its own strokes — clamped, the colour model, the ridge fit of
   * 'auto' — without counting its cells twice as samples. `fitter`: the predictor's ridge fitters.
   */
  constructor(private readonly cfg: QualityConfig, private readonly parts: SupportPart[], private readonly size: number, private readonly classes: number,
    private readonly fitter: (base: SupportPart[]) => RidgeFitter) {}

  /** All supports' samples. */
  private get samples(): SampleSet {
    return (this.samplesMemo ??= joinSamples(this.parts, this.parts[0].samples));
  }

  /** The supports' mean prototypes (sums per support, kept on the support). */
  private get means(): MeanPrototypes | undefined {
    if (!usesMeans(this.cfg)) return undefined;
    return (this.meansMemo ??= this.parts.map((p) => (p.means ??= MeanPrototypes.of(p.samples))).reduce((a, b) => a.add(b)));
  }

  /** The supports' nearest-neighbour vote on an image's grid. */
  private vote(levels: Level[]): Float32Array {
    let v = this.votes.get(levels[0].data);
    if (!v) {
      if (!this.nbMemo) {
        const set = subsample(this.samples, this.cfg.neighbours.maxCells);
        this.nbMemo = { set, cols: neighbourColumns(set) };
      }
      v = neighbourVote(levels, this.nbMemo.set, this.nbMemo.cols, this.cfg.neighbours);
      this.votes.set(levels[0].data, v);
    }
    return v;
  }

  /** The supports' classifier (made on first use: a support predicted itself does not need it). */
  private get clf(): LinearClassifier {
    const { cfg } = this;
    return (this.clfMemo ??= this.means ? this.means.classifier(cfg.alpha) : cfg.classifier === 'ridge' ? this.ridge() : prototypeClassifier(this.samples, prototypeOptions(cfg)));
  }

  /** A ridge fit on the supports and `extra` (strokes, confident pixels). */
  private ridge(extra?: SampleSet): LinearClassifier {
    return this.fitter(this.parts).fit(extra);
  }

  /** A support's fit predicting itself: the other supports as the base, its own cells as the extra. */
  private ridgeOfSupport(id: string): LinearClassifier {
    let clf = this.supportRidge.get(id);
    if (!clf) {
      const mine = this.parts.filter((p) => p.id === id), others = this.parts.filter((p) => p.id !== id);
      clf = this.fitter(others).fit(joinSamples(mine, this.parts[0].samples));
      this.supportRidge.set(id, clf);
    }
    return clf;
  }

  /** The classifier for the supports plus extra samples (strokes, confident pixels). */
  private refit(extra: SampleSet[]): LinearClassifier {
    const add = extra.filter((e) => e.n > 0);
    if (!add.length) return this.clf;
    const means = this.means;
    if (means) return add.reduce((m, e) => m.plus(e), means).classifier(this.cfg.alpha);
    if (this.cfg.classifier === 'ridge') return this.ridge(add.reduce((a, e) => concatSamples(a, e)));
    return prototypeClassifier(add.reduce((a, e) => concatSamples(a, e), this.samples), prototypeOptions(this.cfg));
  }

  predict(image: LabelImage, ownLabels?: Uint8Array): Prediction {
    const { cfg, size, classes } = this;
    const k1 = classes + 1;
    if (image.rgb.width !== size || image.rgb.height !== size) throw new RangeError(`image ${image.id} is not ${size}×${size}`);
    if (ownLabels && ownLabels.length !== size * size) throw new RangeError(`ownLabels of ${image.id} has ${ownLabels.length} pixels, expected ${size * size}`);
    const levels = pickLevels(image.features, size, cfg.levels, cfg.levelWeights);
    const asSupport = !ownLabels && cfg.ownWeight > 0 ? this.parts.find((p) => p.id === image.id)?.labels : undefined;
    const ownRaster = ownLabels ?? asSupport;
    const own = ownRaster && hasLabels(ownRaster) ? ownRaster : undefined;
    // evidence added to every logit map of this image beside the classifier's: the supports' nearest
    // neighbours' vote (quality/neighbours.ts) and the own strokes' local evidence (quality/localEvidence.ts)
    const local = sumOf(cfg.neighbours.weight > 0 ? this.vote(levels) : undefined, own ? localEvidence(levels, own, size, k1, cfg.local) : undefined);
    // a classifier's logits on this image's grid, with that evidence
    const logitsOf = (c: LinearClassifier) => addEvidence(classLogits(levels, c), local);
    const extra: SampleSet[] = ownLabels && own && cfg.ownWeight > 0 ? [collectSamples([{ levels, labels: own, weight: cfg.ownWeight }], size, classes)] : [];
    if (cfg.classifier === 'auto' && ((extra.length && extra[0].n > 0) || (asSupport && own))) {
      // strokes of its own: a ridge fit on supports + strokes, no self-support (a support's strokes are
      // among the samples already)
      const clf = extra.length && extra[0].n > 0 ? this.ridge(extra[0]) : this.ridgeOfSupport(image.id);
      const logits = logitsOf(clf);
      const seg = this.segment(image, levels, logits, own);
      return prediction(size, classes, seg, imageConfidence(logits, levels[0].h, levels[0].w, seg.labels, k1));
    }
    let clf = this.refit(extra);
    // the classifier's own first answer (supports + strokes): the confidence compares the final masks with it
    const firstLogits = logitsOf(clf);
    const ss = cfg.selfSupport;
    let seg: Segmentation | undefined;
    // an image with strokes of its own has better evidence than its confident guesses (and a stroke
    // must answer fast): self-support only for an image nobody marked
    const rounds = own ? 0 : ss.rounds;
    for (let r = 0; r < rounds; r++) {
      let self: SampleSet;
      if (ss.onGrid) {
        // confident cells straight from the classifier's probabilities on the feature grid
        self = confidentCells(levels, r === 0 ? firstLogits : logitsOf(clf), k1, ss);
      } else if (cfg.refine === 'crf') {
        // the refined marginals on the CRF's sub set of pixels: the last, full-resolution pass is not needed
        const lg = r === 0 ? firstLogits : logitsOf(clf), { h, w } = levels[0];
        const { pixels, q, step } = crfSubset(image.rgb, lg, h, w, k1, cfg.crf, cfg.ownClamp ? own : undefined, colourTerm(image.rgb, lg, h, w, k1, cfg.colour, own));
        const raster = new Uint8Array(size * size).fill(UNLABELED);
        const conf = confidentRaster(q, k1, ss);
        pixels.forEach((px, i) => { raster[px] = conf[i]; });
        self = collectSamples([{ levels, labels: raster, weight: ss.weight * step * step }], size, classes);
      } else {
        seg = this.segment(image, levels, logitsOf(clf), own);
        self = collectSamples([{ levels, labels: confidentRaster(seg.probs(), k1, ss, own), weight: ss.weight }], size, classes);
      }
      if (self.n === 0) break;
      clf = this.refit([...extra, self]);
      seg = undefined;
    }
    seg ??= this.segment(image, levels, rounds === 0 ? firstLogits : logitsOf(clf), own);
    return prediction(size, classes, seg, imageConfidence(firstLogits, levels[0].h, levels[0].w, seg.labels, k1));
  }



  /**
   * Labels [S·S] and class probabilities [S·S, k1] of one image from its logits on the feature grid:
   * refinement straight from them to full resolution (or a plain upsampling), strokes kept. The CRF's
   * probabilities are only computed when read (crfRefine).
   */
  private segment(image: LabelImage, levels: Level[], logits: Float32Array, own?: Uint8Array): Segmentation {
    const { cfg, size } = this, k1 = this.classes + 1, { h, w } = levels[0];
    const fixed = cfg.ownClamp ? own : undefined;
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

/** a + b (either may be absent). */
function sumOf(a: Float32Array | undefined, b: Float32Array | undefined): Float32Array | undefined {
  if (!a || !b) return a ?? b;
  const out = a.slice(); // a may be kept (the neighbour vote is)
  for (let i = 0; i < out.length; i++) out[i] += b[i];
  return out;
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
