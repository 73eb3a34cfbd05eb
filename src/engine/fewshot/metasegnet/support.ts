// The base learner's training set: support pixels with K-way labels (MetaSegNet treats segmentation as
// pixel classification). Way j's foreground pixels are class j + 1; background pixels of every support
// image are class 0; unlabelled pixels take no part.
//
// Sampling: at most `maxPerClass` pixels per class, drawn without replacement with the episode's Rng,
// keeps the solve small and the classes balanced (a support image is mostly background). Pixels are
// drawn at ANNOTATION resolution and pushed to the embedding grid through the exact adjoint of the
// half-pixel bilinear upsampling that later maps query logits back to image size (the same adjoint
// PANet's prototypes use, bilinear.ts): a sampled pixel p of class k adds S[p,q] to class k's mass at
// grid cell q, where S[p,·] are p's bilinear weights. Minimising Σ_q Σ_k M_k(q)‖e_k − f(x_q)‖² is then the
// ridge loss (ridge.ts, R1) with weight ω_q = Σ_k M_k(q) and soft target t_q = M(q)/ω_q per grid cell.
// With all pixels of a class and no cap, M_k = Upᵀ(mask_k): masked average pooling's weights.
import { annotationWeights, SupportAnnotation } from '../annotations';
import { interpMatrix } from '../bilinear';
import type { Rng } from '../../prng';

export interface SupportShotInfo {
  annotation: SupportAnnotation;
  /** Embedding grid [h, w] of this shot's features. */
  featSize: [number, number];
}

export interface SupportTargets {
  /** Per shot (way-major, as support[way][shot] flattened): weight ω_q per grid cell, [h·w]. */
  omega: Float32Array[];
  /** Per shot: soft targets t_q [h·w, classes] (rows with ω_q = 0 are zero). */
  targets: Float32Array[];
  /** Number of classes (1 + ways). */
  classes: number;
  /** Sampled pixels per class (for logs and tests). */
  sampled: number[];
}

/** Non-zero taps of one line of the half-pixel bilinear upsampling [out ← in], per output sample. */
function taps(outSize: number, inSize: number): Array<Array<[number, number]>> {
  const r = interpMatrix(outSize, inSize);
  return Array.from({ length: outSize }, (_, o) => {
    const row: Array<[number, number]> = [];
    for (let i = 0; i < inSize; i++) if (r[o * inSize + i] !== 0) row.push([i, r[o * inSize + i]]);
    return row;
  });
}

/** k of the n indices 0..n−1 without replacement, in draw order (partial Fisher–Yates). */
function drawIndices(n: number, k: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const tmp = a[i]; a[i] = a[j]; a[j] = tmp;
  }
  return a.subarray(0, k);
}

/**
 * Sample ≤ maxPerClass labelled pixels per class over the whole support set and map them to per-cell
 * ridge weights and soft targets. Soft annotations weigh each pixel by its fg/bg weight.
 */
export function supportTargets(support: SupportShotInfo[][], maxPerClass: number, rng: Rng, balance = false): SupportTargets {
  const ways = support.length, classes = ways + 1;
  const shots = support.flatMap((way, j) => way.map((s) => ({ ...s, way: j, w: annotationWeights(s.annotation) })));
  // candidates[k]: (shot, pixel, weight) of every pixel labelled k, in a fixed order (shot, row-major)
  const cand: Array<{ shot: number[]; pixel: number[]; weight: number[] }> =
    Array.from({ length: classes }, () => ({ shot: [], pixel: [], weight: [] }));
  shots.forEach((s, si) => {
    const fgClass = s.way + 1;
    for (let p = 0; p < s.w.fg.length; p++) {
      if (s.w.fg[p] > 0) { cand[fgClass].shot.push(si); cand[fgClass].pixel.push(p); cand[fgClass].weight.push(s.w.fg[p]); }
      if (s.w.bg[p] > 0) { cand[0].shot.push(si); cand[0].pixel.push(p); cand[0].weight.push(s.w.bg[p]); }
    }
  });
  const mass = shots.map((s) => new Float32Array(s.featSize[0] * s.featSize[1] * classes));
  const tapCache = new Map<string, Array<Array<[number, number]>>>();
  const tapsFor = (out: number, inn: number) => {
    const key = `${out}:${inn}`;
    let t = tapCache.get(key);
    if (!t) { t = taps(out, inn); tapCache.set(key, t); }
    return t;
  };
  const sampled: number[] = [];
  const picks: Int32Array[] = [];
  for (let k = 0; k < classes; k++) {
    const n = cand[k].pixel.length;
    picks.push(n <= maxPerClass ? Int32Array.from({ length: n }, (_, i) => i) : drawIndices(n, maxPerClass, rng));
  }
  // balance: every class present gets the same total weight (the mean class mass), so a class with few
  // pixels is not outvoted by the background in the least-squares fit.
  const massOf = picks.map((chosen, k) => chosen.reduce((s, idx) => s + cand[k].weight[idx], 0));
  const present = massOf.filter((m) => m > 0);
  const meanMass = present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
  for (let k = 0; k < classes; k++) {
    const c = cand[k], chosen = picks[k];
    const scale = balance && massOf[k] > 0 ? meanMass / massOf[k] : 1;
    sampled.push(chosen.length);
    for (const idx of chosen) {
      const s = shots[c.shot[idx]], a = s.annotation, [h, w] = s.featSize;
      const y = Math.floor(c.pixel[idx] / a.width), x = c.pixel[idx] - y * a.width;
      const ty = tapsFor(a.height, h)[y], tx = tapsFor(a.width, w)[x];
      const m = mass[c.shot[idx]];
      for (const [i, wy] of ty) for (const [j, wx] of tx) m[(i * w + j) * classes + k] += scale * c.weight[idx] * wy * wx;
    }
  }
  const omega: Float32Array[] = [], targets: Float32Array[] = [];
  for (const m of mass) {
    const cells = m.length / classes, om = new Float32Array(cells), t = new Float32Array(m.length);
    for (let q = 0; q < cells; q++) {
      let s = 0;
      for (let k = 0; k < classes; k++) s += m[q * classes + k];
      om[q] = s;
      if (s > 0) for (let k = 0; k < classes; k++) t[q * classes + k] = m[q * classes + k] / s;
    }
    omega.push(om);
    targets.push(t);
  }
  return { omega, targets, classes, sampled };
}
