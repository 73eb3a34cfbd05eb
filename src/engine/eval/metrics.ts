// Segmentation metrics.
//
// Few-shot protocol (papers.md "Metric"; PANet's util/metric.py, HSNet and PFENet alike): per class,
// TP/FP/FN are SUMMED over all episodes of a run, and IoU = TP / (TP + FP + FN) is taken from the sums
// (not averaged per episode); pixels whose ground truth is 255 are ignored. mIoU = mean over the
// fold's classes. FB-IoU = mean over {bg, fg} of the binary IoU, summed the same way. Over runs:
// mean ± POPULATION std (ddof = 0): PANet's metric.py reports numpy's default np.std, which is the
// population std; we match it so numbers compare.
//
// `protolab score` uses the ordinary semantic-segmentation scoring (ConfusionMatrix): one confusion
// matrix summed over all images, per-class IoU, mIoU over every class present (background included,
// as VOC's own evaluation), FB-IoU.
import { DataError } from '../errors';
import { IGNORE } from '../types';

export interface Counts { tp: number; fp: number; fn: number }

/** TP / (TP + FP + FN), or null when the class never occurs in truth nor prediction (IoU undefined). */
export function iou(c: Counts): number | null {
  const union = c.tp + c.fp + c.fn;
  return union > 0 ? c.tp / union : null;
}

function meanOf(values: ReadonlyArray<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export interface MeanStd { mean: number; std: number; n: number }

/** Mean and population standard deviation (divide by n; see the file comment for why). */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (!n) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / n), n };
}

/** One episode's prediction, ready to score. */
export interface EpisodeResult {
  id: string;
  /** The episode's classes as dataset ordinals, in way order: episode label j ⇔ classes[j − 1]. */
  classes: readonly number[];
  /** Query ground truth in DATASET ordinals (0 = bg, 255 = ignore), row-major. */
  gt: Uint8Array;
  /** Prediction in EPISODE-LOCAL labels (0 = bg, j = classes[j − 1]), same length as gt. */
  pred: Uint8Array;
}

export interface Confusion { trueClass: number; predClass: number; pixels: number }

/** What the failure browser shows for one episode. */
export interface EpisodeRecord {
  id: string;
  classes: number[];
  /** IoU of each episode class in this episode alone (null: absent from truth and prediction). */
  classIoU: Array<number | null>;
  /** Binary IoU of foreground (all episode classes merged) in this episode. */
  fgIoU: number | null;
  /**
   * Wrong pixels (episode truth ≠ prediction) by (true ordinal → predicted ordinal). The true class is
   * the DATASET ordinal, so a non-episode class (bg for this episode) predicted as an episode class
   * shows as e.g. chair → diningtable; predicted ordinal 0 = background.
   */
  confusions: Confusion[];
  /** Pixels scored (truth ≠ 255). */
  pixels: number;
}

/** The sums one run's numbers come from (FewShotRunMetric.sums / addSums). */
export interface RunSums {
  episodes: number;
  /** Per dataset ordinal 0..numClasses. */
  counts: Counts[];
  binary: { bg: Counts; fg: Counts };
}

export interface RunMetricOptions {
  /**
   * 'count' (default): a class's FP counts in every episode. 'skip': as PANet's official
   * metric.record, a class's TP/FP/FN enter the sums only in episodes whose query truth contains it
   * (FPs on a query without the class are dropped). The two differ only for N-way, N > 1.
   */
  absentClasses?: 'count' | 'skip';
  /** Keep per-episode records (default true). */
  keepRecords?: boolean;
}

/** Accumulates one run (e.g. 1000 episodes) of few-shot evaluation. */
export class FewShotRunMetric {
  /** Per ordinal 0..numClasses (0 = bg), summed over episodes. */
  readonly counts: Counts[];
  /** Binary {bg, fg} counts with all foreground classes merged. */
  readonly binary: { bg: Counts; fg: Counts } = { bg: { tp: 0, fp: 0, fn: 0 }, fg: { tp: 0, fp: 0, fn: 0 } };
  /** (numClasses + 1)² pixel counts, row = true dataset ordinal, column = predicted ordinal. */
  readonly confusion: Float64Array;
  readonly records: EpisodeRecord[] = [];
  episodes = 0;

  constructor(readonly foldClasses: readonly number[], readonly numClasses: number, readonly options: RunMetricOptions = {}) {
    this.counts = Array.from({ length: numClasses + 1 }, () => ({ tp: 0, fp: 0, fn: 0 }));
    this.confusion = new Float64Array((numClasses + 1) * (numClasses + 1));
  }

  addEpisode(e: EpisodeResult): EpisodeRecord {
    const { gt, pred, classes } = e, K = this.numClasses + 1;
    if (gt.length !== pred.length) throw new DataError(`episode ${e.id}`, `prediction has ${pred.length} pixels, truth ${gt.length}`);
    const local = new Uint8Array(256); // dataset ordinal → episode label
    classes.forEach((c, j) => { local[c] = j + 1; });
    const ordinal = [0, ...classes]; // episode label → dataset ordinal
    const ep = ordinal.map(() => ({ tp: 0, fp: 0, fn: 0 }));
    const bin = { bg: { tp: 0, fp: 0, fn: 0 }, fg: { tp: 0, fp: 0, fn: 0 } };
    const present = new Uint8Array(ordinal.length);
    const wrong = new Map<number, number>();
    let pixels = 0;
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i];
      if (g === IGNORE) continue;
      if (g > this.numClasses) throw new DataError(`episode ${e.id}`, `truth label ${g} exceeds ${this.numClasses} classes`);
      const t = local[g], p = pred[i];
      if (p >= ordinal.length) throw new DataError(`episode ${e.id}`, `predicted label ${p} but the episode has ${classes.length} classes`);
      pixels++;
      present[t] = 1;
      this.confusion[g * K + ordinal[p]]++;
      if (t === p) ep[t].tp++;
      else {
        ep[p].fp++; ep[t].fn++;
        const key = g * K + ordinal[p];
        wrong.set(key, (wrong.get(key) ?? 0) + 1);
      }
      const tf = t !== 0, pf = p !== 0;
      if (tf && pf) bin.fg.tp++;
      else if (!tf && !pf) bin.bg.tp++;
      else if (pf) { bin.fg.fp++; bin.bg.fn++; }
      else { bin.fg.fn++; bin.bg.fp++; }
    }
    const skip = this.options.absentClasses === 'skip';
    ep.forEach((c, j) => {
      if (skip && !present[j]) return;
      const acc = this.counts[ordinal[j]];
      acc.tp += c.tp; acc.fp += c.fp; acc.fn += c.fn;
    });
    for (const k of ['bg', 'fg'] as const) {
      this.binary[k].tp += bin[k].tp; this.binary[k].fp += bin[k].fp; this.binary[k].fn += bin[k].fn;
    }
    this.episodes++;
    const record: EpisodeRecord = {
      id: e.id,
      classes: [...classes],
      classIoU: ep.slice(1).map(iou),
      fgIoU: iou(bin.fg),
      confusions: [...wrong].sort((a, b) => a[0] - b[0]).map(([key, n]) => ({ trueClass: Math.floor(key / K), predClass: key % K, pixels: n })),
      pixels,
    };
    if (this.options.keepRecords ?? true) this.records.push(record);
    return record;
  }

  /** What every number of a run is computed from: its episode count and summed counts (a shard of an
   *  evaluation carries these, see shard.ts). */
  sums(): RunSums {
    const copy = (c: Counts): Counts => ({ tp: c.tp, fp: c.fp, fn: c.fn });
    return { episodes: this.episodes, counts: this.counts.map(copy), binary: { bg: copy(this.binary.bg), fg: copy(this.binary.fg) } };
  }

  /**
   * Add the sums of another part of the same run (another shard's episodes). The sums are integer pixel
   * counts, exact in a double up to 2^53, so the order parts are added in never changes a result.
   * `where` names the file the sums came from, for the error when they do not fit this run.
   */
  addSums(s: RunSums, where: string): void {
    const ok = (c: Counts | undefined) => !!c && [c.tp, c.fp, c.fn].every((x) => Number.isSafeInteger(x) && x >= 0);
    if (!Number.isSafeInteger(s?.episodes) || s.episodes < 0) throw new DataError(where, `episode count ${String(s?.episodes)} is not a count`);
    if (!Array.isArray(s.counts) || s.counts.length !== this.counts.length) {
      throw new DataError(where, `${Array.isArray(s.counts) ? s.counts.length : 'no'} class counts, expected ${this.counts.length} (background + ${this.numClasses} classes)`);
    }
    if (!s.counts.every(ok) || !ok(s.binary?.bg) || !ok(s.binary?.fg)) throw new DataError(where, 'TP/FP/FN counts must be non-negative integers');
    s.counts.forEach((c, k) => { this.counts[k].tp += c.tp; this.counts[k].fp += c.fp; this.counts[k].fn += c.fn; });
    for (const k of ['bg', 'fg'] as const) {
      this.binary[k].tp += s.binary[k].tp; this.binary[k].fp += s.binary[k].fp; this.binary[k].fn += s.binary[k].fn;
    }
    this.episodes += s.episodes;
  }

  /** IoU per fold class, from the run's summed counts (null: the class never occurred). */
  classIoU(): Array<{ cls: number; iou: number | null }> {
    return this.foldClasses.map((cls) => ({ cls, iou: iou(this.counts[cls]) }));
  }

  /** Mean IoU over the fold's classes (classes with undefined IoU are left out; classIoU() shows them). */
  mIoU(): number | null {
    return meanOf(this.classIoU().map((c) => c.iou));
  }

  /** FB-IoU with all foreground classes merged into one (a pixel of class a predicted as b is fg TP). */
  fbIoU(): number | null {
    return meanOf([iou(this.binary.bg), iou(this.binary.fg)]);
  }

  /**
   * FB-IoU exactly as PANet's get_mIoU_binary: fg counts = SUM of the per-class counts, so a pixel of
   * class a predicted as b is an FN and an FP of fg. Equal to fbIoU() for 1-way.
   */
  fbIoUPanet(): number | null {
    const fg = { tp: 0, fp: 0, fn: 0 };
    for (let c = 1; c < this.counts.length; c++) { fg.tp += this.counts[c].tp; fg.fp += this.counts[c].fp; fg.fn += this.counts[c].fn; }
    return meanOf([iou(this.counts[0]), iou(fg)]);
  }
}

export interface RunsSummary {
  mIoU: MeanStd;
  fbIoU: MeanStd;
  classIoU: Array<{ cls: number } & MeanStd>;
}

/** Mean ± population std over runs (PANet: 5 runs). Runs with an undefined value are left out of that statistic. */
export function summariseRuns(runs: readonly FewShotRunMetric[]): RunsSummary {
  const defined = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null);
  const classes = runs.length ? runs[0].foldClasses : [];
  return {
    mIoU: meanStd(defined(runs.map((r) => r.mIoU()))),
    fbIoU: meanStd(defined(runs.map((r) => r.fbIoU()))),
    classIoU: classes.map((cls) => ({ cls, ...meanStd(defined(runs.map((r) => iou(r.counts[cls])))) })),
  };
}

/** Standard semantic-segmentation scoring over a set of images (`protolab score`). */
export class ConfusionMatrix {
  /** numClasses² pixel counts, row = truth, column = prediction. */
  readonly matrix: Float64Array;

  /** numClasses includes background (VOC: 21). */
  constructor(readonly numClasses: number) {
    this.matrix = new Float64Array(numClasses * numClasses);
  }

  /** Add one image: truth and prediction as class indices; truth 255 is ignored. */
  add(gt: Uint8Array, pred: Uint8Array, name = 'image'): void {
    const n = this.numClasses;
    if (gt.length !== pred.length) throw new DataError(name, `prediction has ${pred.length} pixels, truth ${gt.length}`);
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i];
      if (g === IGNORE) continue;
      const p = pred[i];
      if (g >= n || p >= n) throw new DataError(name, `label ${g >= n ? g : p} outside 0..${n - 1} at pixel ${i}`);
      this.matrix[g * n + p]++;
    }
  }

  counts(c: number): Counts {
    const n = this.numClasses;
    let row = 0, col = 0;
    for (let k = 0; k < n; k++) { row += this.matrix[c * n + k]; col += this.matrix[k * n + c]; }
    const tp = this.matrix[c * n + c];
    return { tp, fp: col - tp, fn: row - tp };
  }

  /** IoU per class; null for a class absent from both truth and prediction. */
  classIoU(): Array<number | null> {
    return Array.from({ length: this.numClasses }, (_, c) => iou(this.counts(c)));
  }

  /** Mean over every class present in truth or prediction, background included (VOC's evaluation). */
  mIoU(): number | null {
    return meanOf(this.classIoU());
  }

  /** Mean of the background IoU and the IoU of all non-background classes merged. */
  fbIoU(): number | null {
    const bg = this.counts(0);
    let total = 0;
    for (const v of this.matrix) total += v;
    // merged fg: TP = truth ≠ 0 and prediction ≠ 0; FP = truth 0, prediction ≠ 0 (= bg FN); FN = bg FP
    const fg = { tp: total - bg.tp - bg.fn - bg.fp, fp: bg.fn, fn: bg.fp };
    return meanOf([iou(bg), iou(fg)]);
  }

  /** Fraction of scored pixels predicted correctly. */
  pixelAccuracy(): number | null {
    const n = this.numClasses;
    let total = 0, right = 0;
    for (let c = 0; c < n; c++) right += this.matrix[c * n + c];
    for (const v of this.matrix) total += v;
    return total ? right / total : null;
  }
}
