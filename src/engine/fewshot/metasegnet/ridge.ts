// MetaSegNet's base learner: a linear classifier fitted per episode in closed form, differentiable
// w.r.t. the embeddings so that the embedding module learns THROUGH the solve (MetaSegNet §"base
// learner"; the closed-form ridge variant of MetaOptNet, Lee et al. CVPR 2019, and of R2-D2,
// Bertinetto et al. ICLR 2019).
//
// Weighted ridge regression to (soft) one-hot targets with an unpenalised intercept:
//
//   min_{W,b}  Σ_i ω̂_i ‖t_i − x_i W − b‖² + λ_eff ‖W‖²_F,       ω̂ = ω / Σω            (R1)
//
// Centering with the weighted means x̄ = Σ ω̂_i x_i, t̄ = Σ ω̂_i t_i removes b (b = t̄ − x̄W, the textbook
// treatment of an unpenalised intercept, ESL §3.4.1). With X̃ = X − x̄, T̃ = T − t̄ and Ω̂ = diag(ω̂):
//
//   primal:  W = (X̃ᵀΩ̂X̃ + λI_D)⁻¹ X̃ᵀΩ̂T̃                                                    (R2)
//   dual:    W = Zᵀ(ZZᵀ + λI_n)⁻¹ V,   Z = Ω̂^½X̃, V = Ω̂^½T̃   (push-through identity)          (R3)
//
// The dual solves an n×n system (n = pixels with ω > 0) instead of D×D: MetaOptNet's trick for when the
// support has fewer samples than dimensions. 'auto' picks the smaller system.
//
// λ_eff: with `relative` (this function's default) λ_eff = λ · tr(X̃ᵀΩ̂X̃)/D, i.e. λ is measured in
// units of the mean per-dimension variance of the support embeddings: the fitted classifier is invariant
// to rescaling raw embeddings whose scale drifts, and the primal system's condition number is ≤ 1 + D/λ.
// MetaSegNet itself now passes relative: false with unit-length embeddings (metasegnet.ts explains why:
// a relative λ small enough to fit well leaves the fit nearly unregularised, and its gradients exploded).
//
// tfjs has no linear solve/inverse with gradients, so solveSpd() is Gauss–Jordan elimination written
// with tf ops, wrapped in tf.customGrad with the analytic adjoint of a solve (Giles 2008, "Collected
// matrix derivative results"): for X = A⁻¹B and upstream gradient G,  ∂B = A⁻ᵀG,  ∂A = −A⁻ᵀG Xᵀ.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Gauss–Jordan elimination on [A | B] without pivoting. Safe for the symmetric positive-definite
 * systems (R2)/(R3): every leading principal minor of an SPD matrix is positive, so no pivot vanishes
 * (elimination on an SPD matrix is the LDLᵀ factorisation in disguise). Returns A⁻¹B.
 * Not differentiated through (solveSpd supplies the gradient); intermediates are freed per step.
 */
function gaussJordan(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const n = a.shape[0], k = b.shape[1];
  const eye = tf.eye(n);
  let m = tf.concat([a, b], 1) as tf.Tensor2D; // [n, n + k]
  for (let p = 0; p < n; p++) {
    const next = tf.tidy(() => {
      // row_p ← row_p / m_pp; every other row i ← row_i − m_ip · row_p. Both in one rank-1 update:
      // M ← M − (M[:,p] − e_p) ⊗ (M[p,:] / m_pp)   (row p becomes M[p,:]/m_pp, the others are eliminated)
      const col = tf.slice(m, [0, p], [n, 1]);
      const pivotRow = tf.div(tf.slice(m, [p, 0], [1, n + k]), tf.slice(m, [p, p], [1, 1]));
      return tf.sub(m, tf.matMul(tf.sub(col, tf.slice(eye, [0, p], [n, 1])), pivotRow)) as tf.Tensor2D;
    });
    m.dispose();
    m = next;
  }
  const x = tf.slice(m, [0, n], [n, k]);
  m.dispose();
  eye.dispose();
  return x;
}

const solveOp = tf.customGrad((a, b, save) => {
  const A = a as tf.Tensor2D, B = b as tf.Tensor2D;
  const x = gaussJordan(A, B);
  (save as tf.GradSaveFunc)([A, x]);
  return {
    value: x,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [As, xs] = saved as [tf.Tensor2D, tf.Tensor2D];
      // ∂B = A⁻ᵀ G (A is symmetric here, but transposing keeps the adjoint exact for any A we are given)
      const dB = gaussJordan(tf.transpose(As), dy as tf.Tensor2D);
      const dA = tf.neg(tf.matMul(dB, xs, false, true));
      return [dA, dB];
    },
  };
});

/**
 * X = A⁻¹B for a symmetric positive-definite A [n, n] and B [n, k]; differentiable in A and B with the
 * exact adjoint (one more solve on the backward pass). Call inside tf.tidy.
 */
export function solveSpd(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[0] !== a.shape[1] || b.shape[0] !== a.shape[0]) {
    throw new RangeError(`solveSpd: A ${a.shape} and B ${b.shape} do not form a square system`);
  }
  return solveOp(a, b) as tf.Tensor2D;
}

export type RidgeForm = 'auto' | 'primal' | 'dual';

export interface RidgeOptions {
  /** Ridge penalty λ of (R1); relative to the mean support variance when `relative` (default). */
  lambda: number;
  relative?: boolean;
  /** Which closed form to solve; 'auto' (default) takes the dual when active samples < dims. */
  form?: RidgeForm;
}

export interface RidgeFit {
  /** [D, K] */
  w: tf.Tensor2D;
  /** [1, K] */
  b: tf.Tensor2D;
  form: 'primal' | 'dual';
}

/** Floor of the mean variance, so an all-constant support (tr = 0) still gives a regular system. */
const MIN_VARIANCE = 1e-8;

/**
 * Fit (R1): x [n, D] (differentiable), t [n, K] targets, ω [n] non-negative sample weights (constants).
 * Samples with ω = 0 do not take part. Call inside tf.tidy.
 */
export function ridgeRegression(x: tf.Tensor2D, t: tf.Tensor2D, omega: ArrayLike<number>, opts: RidgeOptions): RidgeFit {
  const [n, d] = x.shape;
  if (t.shape[0] !== n || omega.length !== n) {
    throw new RangeError(`ridgeRegression: ${n} samples in x, ${t.shape[0]} in t, ${omega.length} weights`);
  }
  let total = 0;
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!(omega[i] >= 0)) throw new RangeError(`ridgeRegression: weight ${i} is ${omega[i]}`);
    if (omega[i] > 0) { total += omega[i]; active.push(i); }
  }
  if (!active.length) throw new RangeError('ridgeRegression: no sample has a positive weight');
  const wHat = Float32Array.from({ length: n }, (_, i) => omega[i] / total);
  const form: 'primal' | 'dual' = opts.form === 'primal' || opts.form === 'dual' ? opts.form : active.length < d ? 'dual' : 'primal';

  const wRow = tf.tensor2d(wHat, [1, n]);
  const xBar = tf.matMul(wRow, x); // [1, D]
  const tBar = tf.matMul(wRow, t); // [1, K]
  const xc = tf.sub(x, xBar), tc = tf.sub(t, tBar);
  const wCol = tf.tensor2d(wHat, [n, 1]);
  const lambda = opts.relative === false
    ? tf.scalar(opts.lambda)
    // tr(X̃ᵀΩ̂X̃) = Σ_i ω̂_i ‖x̃_i‖²
    : tf.mul(opts.lambda, tf.maximum(tf.div(tf.sum(tf.mul(wCol, tf.square(xc))), d), MIN_VARIANCE));

  let w: tf.Tensor2D;
  if (form === 'primal') {
    const xw = tf.mul(xc, wCol); // Ω̂X̃
    const a = tf.add(tf.matMul(xw, xc, true, false), tf.mul(lambda, tf.eye(d))) as tf.Tensor2D; // (R2)
    w = solveSpd(a, tf.matMul(xw, tc, true, false) as tf.Tensor2D);
  } else {
    // Keep only the active rows: a one-hot selection product (differentiable on every backend; tf.gather's
    // gradient needs UnsortedSegmentSum, which the wasm backend lacks).
    const m = active.length;
    const sel = new Float32Array(m * n), sqrtW = new Float32Array(m);
    active.forEach((i, r) => { sel[r * n + i] = 1; sqrtW[r] = Math.sqrt(wHat[i]); });
    const s = tf.tensor2d(sel, [m, n]), sw = tf.tensor2d(sqrtW, [m, 1]);
    const z = tf.mul(sw, tf.matMul(s, xc)); // Ω̂^½X̃ [m, D]
    const v = tf.mul(sw, tf.matMul(s, tc)) as tf.Tensor2D; // Ω̂^½T̃ [m, K]
    const gram = tf.add(tf.matMul(z, z, false, true), tf.mul(lambda, tf.eye(m))) as tf.Tensor2D; // (R3)
    w = tf.matMul(z, solveSpd(gram, v), true, false);
  }
  const b = tf.sub(tBar, tf.matMul(xBar, w)) as tf.Tensor2D;
  return { w, b, form };
}
