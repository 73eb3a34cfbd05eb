// A classifier fitted per fit() on the support cells: weighted ridge regression to the (soft) one-hot
// class targets, with an unpenalised intercept — MetaSegNet's base learner (and R2-D2 / MetaOptNet's),
// here for inference only, so it is solved once in closed form without tfjs gradients (the training
// version is src/engine/fewshot/metasegnet/ridge.ts; equations R1–R3 there):
//
//   min_{W,b} Σ_i ω̂_i ‖t_i − x_i W − b‖² + λ‖W‖²,   ω̂ = ω / Σω                                  (R1)
//   W = Zᵀ (Z Zᵀ + λ I_n)⁻¹ V,  Z = Ω̂^½ (X − x̄),  V = Ω̂^½ (T − t̄),  b = t̄ − x̄ W                    (R3)
//
// The dual (R3) solves an n×n system, n = labelled cells kept (≤ a few hundred), instead of the
// D×D primal (D = 768 for stride 8 + 16). Features are per-level L2-normalised (levels.ts), which is
// what made the trial work (λ ≈ 0.01 there).
//
// Class balance: with `balanced`, each class present gets the same total weight, so a small object is
// not out-voted by the background around it (the fitted targets are then centred on the classes' mean,
// not on the background).
import type { LinearClassifier } from './classifier';
import { matMul, solveSpd } from './linalg';
import { classMass, sampleFeatures, subsample, type SampleSet } from './samples';

export interface RidgeOptions {
  /** λ of (R1), absolute, on weights normalised to sum 1 */
  lambda?: number;
  /** logit = scale · (xW + b): ridge outputs live on the 0..1 target scale */
  scale?: number;
  balanced?: boolean;
  /** at most this many cells per class enter the n×n dual system */
  maxCells?: number;
}

// Scratch rasters reused from one fit to the next (a stroke refits every time): allocating the n×d
// feature, Z and Zᵀ arrays afresh measured as 10–15 ms spikes every few strokes (fresh pages).
let scratch = new Float32Array(0);
function scratchOf(len: number): Float32Array {
  if (scratch.length < len) scratch = new Float32Array(Math.ceil(len * 1.25));
  return scratch;
}

export function ridgeClassifier(all: SampleSet, opts: RidgeOptions = {}): LinearClassifier {
  const lambda = opts.lambda ?? 0.01, scale = opts.scale ?? 10;
  const s = subsample(all, opts.maxCells ?? 150);
  const { n, d, k1 } = s;
  if (n === 0) throw new RangeError('ridgeClassifier: no labelled sample');
  const buf = scratchOf(3 * n * d);
  const x = sampleFeatures(s, buf.subarray(0, n * d));
  const mass = classMass(s);
  // per-sample weight ω_i, optionally rebalanced so every class present has equal total weight
  const om = new Float64Array(n);
  const present = Array.from(mass, (m) => m > 0).filter(Boolean).length;
  for (let i = 0; i < n; i++) {
    if (!opts.balanced) om[i] = s.w[i];
    else for (let k = 0; k < k1; k++) if (mass[k] > 0) om[i] += (s.w[i] * s.t[i * k1 + k]) / (mass[k] * present);
  }
  const tot = om.reduce((a, b) => a + b, 0);
  const xBar = new Float64Array(d), tBar = new Float64Array(k1);
  for (let i = 0; i < n; i++) {
    const a = om[i] / tot;
    for (let j = 0; j < d; j++) xBar[j] += a * x[i * d + j];
    for (let k = 0; k < k1; k++) tBar[k] += a * s.t[i * k1 + k];
  }
  // Z and Zᵀ written together: the products below are plain A·B (see linalg.ts on transposed operands)
  const z = buf.subarray(n * d, 2 * n * d), zT = buf.subarray(2 * n * d, 3 * n * d), v = new Float32Array(n * k1);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(om[i] / tot);
    for (let j = 0; j < d; j++) zT[j * n + i] = z[i * d + j] = r * (x[i * d + j] - xBar[j]);
    for (let k = 0; k < k1; k++) v[i * k1 + k] = r * (s.t[i * k1 + k] - tBar[k]);
  }
  const g = Float64Array.from(matMul(z, n, d, zT, n)); // Z Zᵀ
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  const a = solveSpd(g, n, v, k1);
  const w = matMul(zT, d, n, Float32Array.from(a), k1); // Zᵀ a  [d, k1]
  const bias = new Float32Array(k1);
  for (let k = 0; k < k1; k++) {
    let xw = 0;
    for (let j = 0; j < d; j++) xw += xBar[j] * w[j * k1 + k];
    bias[k] = scale * (tBar[k] - xw);
  }
  for (let i = 0; i < w.length; i++) w[i] *= scale;
  // A class no sample labels keeps its column (its target is 0 everywhere), but must never win.
  for (let k = 0; k < k1; k++) if (!(mass[k] > 0)) bias[k] = -1e4;
  return { k1, p: k1, weights: w, bias, columnClass: Int32Array.from({ length: k1 }, (_, k) => k) };
}
