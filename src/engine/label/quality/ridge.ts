// A classifier fitted per fit() on the support cells: weighted ridge regression to the (soft) one-hot
// class targets, with an unpenalised intercept — MetaSegNet's base learner (and R2-D2 / MetaOptNet's),
// here for inference only, so it is solved once in closed form without tfjs gradients (the training
// version is src/engine/fewshot/metasegnet/ridge.ts; equations R1–R3 there):
//
//   min_{W,b} Σ_i ω̂_i ‖t_i − x_i W − b‖² + λ‖W‖²,   ω̂ = ω / Σω                                  (R1)
//   W = Zᵀ (Z Zᵀ + λ I_n)⁻¹ V,  Z = Ω̂^½ (X − x̄),  V = Ω̂^½ (T − t̄),  b = t̄ − x̄ W                    (R3)
//
// The dual (R3) solves an n×n system, n = labelled cells kept (≤ a few hundred), instead of the
// D×D primal (D = 1856 for MobileNetV2's strides 16 + 32). Features are per-level L2-normalised
// (levels.ts), which is what made the first trial of ridge work (λ ≈ 0.01 there).
//
// Z is never formed: with R = X Xᵀ (the raw Gram), m = X x̄ and c = x̄·x̄,
//   (Z Zᵀ)_ij = r_i r_j (R_ij − m_i − m_j + c),  r = diag(Ω̂^½),   W = Xᵀ(r∘A) − x̄ (1ᵀ(r∘A)),  A = (Z Zᵀ + λI)⁻¹ V,
// so the weights ω̂ and the centre x̄ — which change whenever a sample is added — touch only n×n and
// n×d work, and R's block between the supports is computed once per fitted model. That is what a
// stroke pays for (RidgeFitter.fit with the stroke's cells as `extra`): the stroke cells' rows of R
// (against the supports: memoised per image and cell; among themselves: one product).
//
// Class balance: with `balanced`, each class present gets the same total weight, so a small object is
// not out-voted by the background around it (the fitted targets are then centred on the classes' mean,
// not on the background).
import type { LinearClassifier } from './classifier';
import { cellFeatures } from './levels';
import { matMul, solveSpd, transpose } from './linalg';
import { classMass, sampleFeatures, subsample, type SampleSet } from './samples';

export interface RidgeOptions {
  /** λ of (R1), absolute, on weights normalised to sum 1 */
  lambda?: number;
  /** logit = scale · (xW + b): ridge outputs live on the 0..1 target scale */
  scale?: number;
  balanced?: boolean;
  /** at most this many cells per class of each part enter the n×n dual system */
  maxCells?: number;
}

/** A cell of an added image: its feature row and its row of R against the base samples. */
interface CellRow { x: Float32Array; cross: Float32Array }

/**
 * Ridge fits on a fixed base set (the supports) plus, per fit, a few extra samples (an image's own
 * strokes). Everything that depends on the base alone is computed once: its subsample, its feature
 * rows X_b (and X_bᵀ), its Gram block X_b X_bᵀ; an extra cell's feature row and cross row x·X_bᵀ are
 * memoised per image (keyed by its finest level's array) and cell, so a new stroke computes only the
 * cells it newly brings in. Subsampling is per part (samples.ts), so fitting base + extra here is
 * exactly ridgeClassifier(concatSamples(base, extra)).
 */
export class RidgeFitter {
  private readonly base: SampleSet;
  private readonly xb: Float32Array;
  private readonly xbT: Float32Array;
  private rbb?: Float32Array;
  private readonly rows = new WeakMap<Float32Array, Map<number, CellRow>>();
  private readonly lambda: number;
  private readonly scale: number;
  private readonly maxCells: number;
  // Scratch arrays kept from one fit to the next (a stroke refits every time): fresh multi-megabyte
  // typed arrays per stroke made V8 run a full mark-compact every few strokes (≈ 6 ms each, seen in
  // --trace-gc), right in the stroke → mask latency.
  private readonly buf32: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
  private readonly buf64: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

  constructor(base: SampleSet, private readonly opts: RidgeOptions = {}) {
    this.lambda = opts.lambda ?? 0.01;
    this.scale = opts.scale ?? 10;
    this.maxCells = opts.maxCells ?? 150;
    this.base = subsample(base, this.maxCells);
    this.xb = sampleFeatures(this.base);
    this.xbT = transpose(this.xb, this.base.n, this.base.d);
  }

  fit(extra?: SampleSet): LinearClassifier {
    const b = this.base, e = extra && extra.n > 0 ? subsample(extra, this.maxCells) : undefined;
    if (e && (e.d !== b.d || e.k1 !== b.k1)) throw new RangeError('RidgeFitter: extra samples of another shape');
    const nb = b.n, ne = e?.n ?? 0, n = nb + ne, { d, k1 } = b;
    if (n === 0) throw new RangeError('ridgeClassifier: no labelled sample');
    const { xe, cross } = e ? this.extraRows(e) : { xe: new Float32Array(0), cross: new Float32Array(0) };
    const xeT = transpose(xe, ne, d, this.scratch(1, ne * d));
    const rbb = (this.rbb ??= matMul(this.xb, nb, d, this.xbT, nb));
    const ree = ne ? matMul(xe, ne, d, xeT, ne) : new Float32Array(0);
    const R = (i: number, j: number) => (i < nb ? (j < nb ? rbb[i * nb + j] : cross[(j - nb) * nb + i]) : j < nb ? cross[(i - nb) * nb + j] : ree[(i - nb) * ne + j - nb]);
    const t = (i: number, k: number) => (i < nb ? b.t[i * k1 + k] : e!.t[(i - nb) * k1 + k]);
    const w = (i: number) => (i < nb ? b.w[i] : e!.w[i - nb]);

    // per-sample weight ω_i, optionally rebalanced so every class present has equal total weight
    const mass = classMass(b);
    if (e) classMass(e).forEach((m, k) => { mass[k] += m; });
    const present = Array.from(mass, (m) => m > 0).filter(Boolean).length;
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (!this.opts.balanced) a[i] = w(i);
      else for (let k = 0; k < k1; k++) if (mass[k] > 0) a[i] += (w(i) * t(i, k)) / (mass[k] * present);
    }
    const tot = a.reduce((s, v) => s + v, 0);
    for (let i = 0; i < n; i++) a[i] /= tot; // ω̂
    // x̄ = Xᵀ ω̂, t̄ = Tᵀ ω̂, m = X x̄, c = x̄·x̄ (in JS: n·d work, less than moving X into tfjs and back)
    const row = (i: number) => (i < nb ? this.xb.subarray(i * d, (i + 1) * d) : xe.subarray((i - nb) * d, (i - nb + 1) * d));
    const xBar = new Float64Array(d), tBar = new Float64Array(k1), m = new Float64Array(n);
    axpy4(xBar, n, row, (i) => a[i]);
    for (let i = 0; i < n; i++) for (let k = 0; k < k1; k++) tBar[k] += a[i] * t(i, k);
    for (let i = 0; i < n; i++) {
      const x = row(i);
      let s = 0;
      for (let j = 0; j < d; j++) s += x[j] * xBar[j];
      m[i] = s;
    }
    let c = 0;
    for (let j = 0; j < d; j++) c += xBar[j] * xBar[j];
    // Z Zᵀ + λI and V
    const r = a.map(Math.sqrt), g = this.scratch64(n * n, 0), v = new Float64Array(n * k1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) g[i * n + j] = g[j * n + i] = r[i] * r[j] * (R(i, j) - m[i] - m[j] + c);
      g[i * n + i] += this.lambda;
      for (let k = 0; k < k1; k++) v[i * k1 + k] = r[i] * (t(i, k) - tBar[k]);
    }
    const A = solveSpd(g, n, v, k1, this.scratch64(n * n, 1));
    // W = Xᵀ(r∘A) − x̄ (Σ_i r_i A_i), a column at a time (contiguous loops over d)
    const W = new Float32Array(d * k1), col = new Float64Array(d);
    for (let k = 0; k < k1; k++) {
      col.fill(0);
      let rSum = 0;
      for (let i = 0; i < n; i++) rSum += r[i] * A[i * k1 + k];
      axpy4(col, n, row, (i) => r[i] * A[i * k1 + k]);
      for (let j = 0; j < d; j++) W[j * k1 + k] = col[j] - xBar[j] * rSum;
    }
    const bias = new Float32Array(k1);
    for (let k = 0; k < k1; k++) {
      let xw = 0;
      for (let j = 0; j < d; j++) xw += xBar[j] * W[j * k1 + k];
      bias[k] = this.scale * (tBar[k] - xw);
    }
    for (let i = 0; i < W.length; i++) W[i] *= this.scale;
    // A class no sample labels keeps its column (its target is 0 everywhere), but must never win.
    for (let k = 0; k < k1; k++) if (!(mass[k] > 0)) bias[k] = -1e4;
    return { k1, p: k1, weights: W, bias, columnClass: Int32Array.from({ length: k1 }, (_, k) => k) };
  }

  private scratch(slot: number, len: number): Float32Array {
    if (this.buf32[slot].length < len) this.buf32[slot] = new Float32Array(Math.ceil(len * 1.25));
    return this.buf32[slot].subarray(0, len);
  }

  private scratch64(len: number, slot: number): Float64Array {
    if (this.buf64[slot].length < len) this.buf64[slot] = new Float64Array(Math.ceil(len * 1.25));
    return this.buf64[slot].subarray(0, len);
  }

  /** The extra samples' feature rows [ne, d] and their rows of R against the base [ne, nb], memoised per cell. */
  private extraRows(e: SampleSet): { xe: Float32Array; cross: Float32Array } {
    const nb = this.base.n, d = e.d, xe = this.scratch(0, e.n * d), cross = new Float32Array(e.n * nb);
    for (const part of e.parts) {
      let byCell = this.rows.get(part.levels[0].data);
      if (!byCell) this.rows.set(part.levels[0].data, (byCell = new Map()));
      const missing = Array.from(part.cells).filter((cell) => !byCell!.has(cell)); // a part's cells are distinct
      if (missing.length) {
        const x = cellFeatures(part.levels, missing), xc = nb ? matMul(x, missing.length, d, this.xbT, nb) : new Float32Array(0);
        missing.forEach((cell, i) => byCell!.set(cell, { x: x.slice(i * d, (i + 1) * d), cross: xc.slice(i * nb, (i + 1) * nb) }));
      }
      part.cells.forEach((cell, i) => {
        const row = byCell!.get(cell)!;
        xe.set(row.x, (part.offset + i) * d);
        cross.set(row.cross, (part.offset + i) * nb);
      });
    }
    return { xe, cross };
  }
}

/**
 * acc += Σ_i f(i) · row(i) over n rows, four rows per pass over acc (a quarter of the loads and stores
 * of acc that one row at a time costs: this is most of a fit's own arithmetic).
 */
function axpy4(acc: Float64Array, n: number, row: (i: number) => Float32Array, f: (i: number) => number): void {
  const d = acc.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x0 = row(i), x1 = row(i + 1), x2 = row(i + 2), x3 = row(i + 3), f0 = f(i), f1 = f(i + 1), f2 = f(i + 2), f3 = f(i + 3);
    for (let j = 0; j < d; j++) acc[j] += f0 * x0[j] + f1 * x1[j] + f2 * x2[j] + f3 * x3[j];
  }
  for (; i < n; i++) {
    const x = row(i), fi = f(i);
    for (let j = 0; j < d; j++) acc[j] += fi * x[j];
  }
}

export function ridgeClassifier(all: SampleSet, opts: RidgeOptions = {}): LinearClassifier {
  return new RidgeFitter(all, opts).fit();
}
