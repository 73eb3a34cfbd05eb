// The few dense linear-algebra kernels the labeling classifiers need. Products go through tfjs (on wasm
// its XNNPACK GEMM is ≈25× faster than plain JS loops here, and native/GPU backends are faster still),
// always as a plain A·B: tfjs-wasm 4.22 computes a product with a transposed operand ≈17× slower
// (measured: 200×2048 · its transpose, 243 ms with transposeB vs 14 ms with B transposed in JS first),
// so transposes are done here, in JS, in O(n·d);
// the small symmetric solve of the ridge dual stays in JS float64, where Cholesky is exact enough and
// needs no tfjs op that lacks a kernel. Every tfjs call is tidied: nothing escapes as a tensor.
import * as tf from '@tensorflow/tfjs-core';

/**
 * a [n, d] · b [d, p] → [n, p], row-major. The three tensors are disposed by hand, not by tf.tidy: on
 * tfjs-wasm 4.22 the same product read back inside a tidy scope measured 3–10× slower.
 */
export function matMul(a: Float32Array, n: number, d: number, b: Float32Array, p: number): Float32Array {
  if (a.length < n * d || b.length < d * p) throw new RangeError(`matMul: [${n}, ${d}] · [${d}, ${p}] with ${a.length} and ${b.length} values`);
  if (n === 0 || p === 0 || d === 0) return new Float32Array(n * p);
  const ta = tf.tensor2d(a.subarray(0, n * d), [n, d]), tb = tf.tensor2d(b.subarray(0, d * p), [d, p]);
  let tc: tf.Tensor | undefined;
  try {
    tc = tf.matMul(ta, tb);
    return tc.dataSync() as Float32Array;
  } finally {
    tf.dispose([ta, tb, ...(tc ? [tc] : [])]);
  }
}

/** The transpose [c, r] of a row-major [r, c] matrix (into `into` when given: r·c values). */
export function transpose(a: Float32Array, r: number, c: number, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/**
 * Solve A X = B for a symmetric positive-definite A [n, n] and B [n, p] by Cholesky (A = L Lᵀ), in
 * float64. Throws if A is not numerically positive definite.
 */
export function solveSpd(a: Float64Array, n: number, b: ArrayLike<number>, p: number, work?: Float64Array): Float64Array {
  // L's lower triangle (only it is read, each entry after it is written): `work` may be reused scratch
  const l = work && work.length >= n * n ? work : new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      let s = a[li + j];
      for (let k = 0; k < j; k++) s -= l[li + k] * l[lj + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`solveSpd: matrix is not positive definite (pivot ${i} = ${s})`);
        l[li + i] = Math.sqrt(s);
      } else l[li + j] = s / l[lj + j];
    }
  }
  // L Y = B, then Lᵀ X = Y, all p columns at once (row-major B: each step reads a row of k values)
  const x = Float64Array.from({ length: n * p }, (_, i) => b[i]);
  for (let i = 0; i < n; i++) {
    const li = i * n, xi = i * p;
    for (let k = 0; k < i; k++) {
      const f = l[li + k], xk = k * p;
      if (f !== 0) for (let c = 0; c < p; c++) x[xi + c] -= f * x[xk + c];
    }
    for (let c = 0; c < p; c++) x[xi + c] /= l[li + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * p;
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i], xk = k * p;
      if (f !== 0) for (let c = 0; c < p; c++) x[xi + c] -= f * x[xk + c];
    }
    for (let c = 0; c < p; c++) x[xi + c] /= l[i * n + i];
  }
  return x;
}
