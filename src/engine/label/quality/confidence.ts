// How sure the predictor is about one image as a whole. It ranks images for "suggest next" and gates
// "accept above threshold", so it should track the IoU of the image's masks:
//
//   confidence = agreement × (1 − area)
//   agreement  = IoU of the final masks with the classifier's first answer (the argmax of its upsampled
//                logits from the supports and the image's strokes, before self-support and refinement),
//                counting a pixel as agreeing when both give it the same class; 1 when neither has one;
//   area       = the share of the image the final masks claim.
//
// Why: the failure few-shot labeling shows most is a mask spilling over background the supports never
// showed; a refinement or self-support that has to move the mask a lot, or a mask claiming most
// of the image, is that failure's signature. Measured with the default predictor (node
// out/scripts/eval-photos.js --sample DIR --sample-episodes 8 --json OUT, Pearson r with the IoU):
//
//                                         12 photo pairs   32 sample episodes   pooled (44)
//   agreement × (1 − area) (this)              0.62              0.49              0.39
//   mean probability inside the masks         −0.26              0.24              0.21
//   expected IoU (below)                      −0.31              0.36              0.33
//   area alone                                −0.55              0.06             −0.01
//
// (the probability-based ones fail on the photos because the CRF makes every mask sure of itself). It
// is a heuristic chosen on little data (12 pairs from 4 photos); an image with a legitimately large
// object scores lower than its IoU deserves.
import { linearTaps } from './levels';

/**
 * agreement × (1 − area) for final labels (S×S) against the first answer's logits (h×w×k1), both read
 * on every `step`-th pixel in x and y; the first answer's label at a pixel is the argmax of the
 * feature-grid logits read bilinearly (half-pixel centres, as the upsampling).
 */
export function imageConfidence(firstLogits: Float32Array, h: number, w: number, labels: Uint8Array, k1: number, step = 2): number {
  const size = Math.round(Math.sqrt(labels.length)), ty = linearTaps(size, h), tx = linearTaps(size, w);
  let inter = 0, union = 0, fg = 0, n = 0;
  for (let y = 0; y < size; y += step) {
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.f[y];
    for (let x = 0; x < size; x += step) {
      const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const p00 = (r0 + a) * k1, p01 = (r0 + b) * k1, p10 = (r1 + a) * k1, p11 = (r1 + b) * k1;
      let f = 0, best = -Infinity;
      for (let k = 0; k < k1; k++) {
        const v = w00 * firstLogits[p00 + k] + w01 * firstLogits[p01 + k] + w10 * firstLogits[p10 + k] + w11 * firstLogits[p11 + k];
        if (v > best) { best = v; f = k; }
      }
      const l = labels[y * size + x];
      n++;
      if (l > 0) fg++;
      if (l > 0 || f > 0) union++;
      if (l > 0 && l === f) inter++;
    }
  }
  return (union ? inter / union : 1) * (1 - fg / n);
}

/** The mean probability of the predicted class inside the predicted masks (kept for comparison in eval-photos). */
export function maskConfidence(probs: Float32Array, labels: Uint8Array, k1: number): number {
  let s = 0, n = 0, bg = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 0) {
      bg += probs[i * k1];
      continue;
    }
    s += probs[i * k1 + l];
    n++;
  }
  return n ? s / n : bg / labels.length;
}

/**
 * Expected IoU (kept for comparison in eval-photos): per class c, Σ_{i∈M_c} P_ic / (|M_c| + Σ_{i∉M_c} P_ic),
 * the soft Jaccard index of the hard mask against the soft one, averaged over the predicted classes
 * weighted by their soft area; 1 − (mean foreground mass) when no class is predicted.
 */
export function expectedIoU(probs: Float32Array, labels: Uint8Array, k1: number): number {
  const n = labels.length;
  const inside = new Float64Array(k1), area = new Float64Array(k1), outside = new Float64Array(k1), mass = new Float64Array(k1);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    area[l]++;
    for (let c = 0; c < k1; c++) {
      const p = probs[i * k1 + c];
      mass[c] += p;
      if (c === l) inside[c] += p;
      else outside[c] += p;
    }
  }
  let num = 0, den = 0;
  for (let c = 1; c < k1; c++) {
    if (area[c] === 0) continue;
    const e = inside[c] / (area[c] + outside[c]);
    num += mass[c] * e;
    den += mass[c];
  }
  if (den > 0) return num / den;
  let fg = 0;
  for (let c = 1; c < k1; c++) fg += mass[c];
  return 1 - fg / n;
}
