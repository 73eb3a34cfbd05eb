// A colour model of the image being segmented (the idea of GrabCut, Rother et al. 2004, without its
// iterations or graph cut): the pixels the classifier is already sure of, and the image's own strokes,
// give each class a colour histogram of THIS image; log P(colour | class) then joins the CRF's unary,
//
//   u_i(l) = logit_i(l) + β · log P(c_i | l),   P(c | l) = (n_l(c) + α) / (N_l + α · B³)
//
// with c the pixel's RGB quantised to B levels per channel and α a Dirichlet prior. Why: the CRF's
// kernel sees luma only (crf.ts), and the features see 16-pixel cells, so a mask can leak into a region
// of another colour but the same brightness, or stop short of an object's part that the support never
// showed; the image's own colours tell those apart. A class with fewer than `minPixels` sure pixels
// gets no colour term (a flat row: it changes nothing after the softmax).
import type { RawImage } from '../../types';
import { linearTaps } from './levels';

export interface ColourModelOptions {
  /** β: weight of log P(colour | class) in the unary; 0 = off */
  weight: number;
  /** quantisation levels per channel (a power of two ≤ 64) */
  levels: number;
  /** a pixel counts as sure of its class above this probability under the classifier alone */
  sure: number;
  /** the image's own stroke pixels count this many times */
  strokeWeight: number;
  /** Dirichlet prior α per colour bin */
  prior: number;
  /** fewer sure pixels than this: no colour term for the class */
  minPixels: number;
  /** read every step-th pixel in x and y */
  step: number;
  /** only for an image with strokes of its own (without them the model only echoes the classifier) */
  strokesOnly?: boolean;
}

/** A per-bin table of added logits [bins³, k1], and how to find a pixel's bin. */
export interface ColourTerm {
  shift: number;
  levels: number;
  table: Float32Array;
}

/** The bin of an RGB triple (bytes) under a term's quantisation. */
export function colourBin(t: Pick<ColourTerm, 'shift' | 'levels'>, r: number, g: number, b: number): number {
  const L = t.levels, s = t.shift;
  return ((r >> s) * L + (g >> s)) * L + (b >> s);
}

/**
 * The colour term of one image from the classifier's logits on its feature grid (h×w×k1) and its own
 * strokes (S·S raster, label < k1 where marked), or undefined when it is off or no class has enough
 * sure pixels.
 */
export function colourTerm(img: RawImage, logits: Float32Array, h: number, w: number, k1: number, o: ColourModelOptions, own?: Uint8Array): ColourTerm | undefined {
  if (!(o.weight > 0)) return undefined;
  if (o.strokesOnly && !own) return undefined;
  const L = o.levels, shift = 8 - Math.round(Math.log2(L)), nb = L * L * L, S = img.width, data = img.data;
  if (2 ** (8 - shift) !== L || L < 2 || L > 64) throw new RangeError(`colour levels must be a power of two in 2..64, got ${L}`);
  const quant = { shift, levels: L }, counts = new Float64Array(nb * k1), mass = new Float64Array(k1);
  const ty = linearTaps(img.height, h), tx = linearTaps(S, w), p = new Float64Array(k1), step = Math.max(1, o.step);
  // the sureness bound on Σ_{l≠best} exp(p_l − max), its log, and the log of its share per class
  const rest = 1 / o.sure - 1, logRest = Math.log(rest), logEach = Math.log(rest / Math.max(1, k1 - 1));
  for (let y = 0; y < img.height; y += step) {
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.f[y];
    for (let x = 0; x < S; x += step) {
      const i = y * S + x;
      let label = -1, wt = 1;
      const mine = own ? own[i] : 255;
      if (mine < k1) {
        label = mine;
        wt = o.strokeWeight;
      } else {
        const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
        const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
        const p00 = (r0 + a) * k1, p01 = (r0 + b) * k1, p10 = (r1 + a) * k1, p11 = (r1 + b) * k1;
        let mx = -Infinity;
        for (let l = 0; l < k1; l++) {
          p[l] = w00 * logits[p00 + l] + w01 * logits[p01 + l] + w10 * logits[p10 + l] + w11 * logits[p11 + l];
          if (p[l] > mx) mx = p[l];
        }
        // sure when softmax(p)_best = 1 / (1 + Σ_{l≠best} exp(p_l − max)) > sure, i.e. the sum < 1/sure − 1:
        // decided without exp when one term alone breaks the bound, or all of them are far under it
        let best = -1, exact = false, sure = true;
        for (let l = 0; l < k1; l++) {
          if (best < 0 && p[l] === mx) { best = l; continue; }
          const g = p[l] - mx;
          if (g >= logRest) { sure = false; break; }
          if (g >= logEach) exact = true;
        }
        if (sure && exact) {
          let s = 0;
          for (let l = 0; l < k1; l++) if (l !== best) s += Math.exp(p[l] - mx);
          sure = s < rest;
        }
        if (sure) label = best;
      }
      if (label < 0) continue;
      const bin = colourBin(quant, data[i * 3], data[i * 3 + 1], data[i * 3 + 2]);
      counts[bin * k1 + label] += wt;
      mass[label] += wt;
    }
  }
  const table = new Float32Array(nb * k1);
  let any = false;
  for (let l = 0; l < k1; l++) {
    if (mass[l] < o.minPixels) continue; // table column stays 0: no colour evidence for this class
    any = true;
    const denom = mass[l] + o.prior * nb;
    for (let c = 0; c < nb; c++) table[c * k1 + l] = o.weight * Math.log((counts[c * k1 + l] + o.prior) / denom);
  }
  if (!any) return undefined;
  // A class without a histogram must not win or lose by the others' log-probabilities: give it the
  // mean of theirs in each bin (a neutral value on the same scale).
  const have = Array.from(mass, (m) => m >= o.minPixels);
  if (have.some((x) => !x)) {
    for (let c = 0; c < nb; c++) {
      let s = 0, n = 0;
      for (let l = 0; l < k1; l++) if (have[l]) { s += table[c * k1 + l]; n++; }
      for (let l = 0; l < k1; l++) if (!have[l]) table[c * k1 + l] = s / n;
    }
  }
  return { shift, levels: L, table };
}
