// Self-support (after SSP, Fan et al., "Self-Support Few-Shot Semantic Segmentation", ECCV 2022): the
// pixels the first prediction of an image is sure about become samples of that image for one more fit,
// so the classes' prototypes take in the image's own background and looks, which the supports may not
// show. "Sure": the argmax class's probability above a threshold (background's and the classes' own).
import { UNLABELED } from '../predictor';
import { UNSURE } from './cells';
import type { Level } from './levels';
import { softmaxRows } from './probabilities';
import { cellSamples, type SampleSet } from './samples';

export interface Thresholds { fgThreshold: number; bgThreshold: number }

function sureLabel(p: Float32Array, i: number, k1: number, t: Thresholds): number {
  let b = 0;
  for (let k = 1; k < k1; k++) if (p[i * k1 + k] > p[i * k1 + b]) b = k;
  return p[i * k1 + b] > (b === 0 ? t.bgThreshold : t.fgThreshold) ? b : UNLABELED;
}

/** Cells of the finest grid whose softmax probability (of the grid logits) passes the threshold, as samples. */
export function confidentCells(levels: Level[], logits: Float32Array, k1: number, t: Thresholds & { weight: number }): SampleSet {
  const n = logits.length / k1, cells: number[] = [], labels: number[] = [];
  const p = logits.slice();
  softmaxRows(p, k1);
  for (let i = 0; i < n; i++) {
    const l = sureLabel(p, i, k1, t);
    if (l !== UNLABELED) { cells.push(i); labels.push(l); }
  }
  return cellSamples(levels, Int32Array.from(cells), Uint8Array.from(labels), k1, t.weight);
}

/** A raster (one entry per row of `probs`) of the sure labels, UNLABELED elsewhere; own strokes win. */
export function confidentRaster(probs: Float32Array, k1: number, t: Thresholds, own?: Uint8Array): Uint8Array {
  const n = probs.length / k1, out = new Uint8Array(n).fill(UNLABELED);
  for (let i = 0; i < n; i++) out[i] = own && own[i] !== UNLABELED && own[i] !== UNSURE ? own[i] : sureLabel(probs, i, k1, t);
  return out;
}
