// Bilinear upsampling with half-pixel centres (torch `F.interpolate(mode='bilinear', align_corners=False)`,
// the convention of PANet's official code) and its exact adjoint, both written as products with small
// interpolation matrices.
//
// WHY not tf.image.resizeBilinear + tf.grad: tfjs 4.22's ResizeBilinearGrad kernel ignores
// `halfPixelCenters` (it is the adjoint of the legacy asymmetric mode; see
// tfjs-backend-cpu/dist/kernels/ResizeBilinearGrad.js) and returns a [B, W, H, C] shape, so for the
// half-pixel convention both the prototype adjoint and any training gradient through the logit
// upsample would be wrong. Bilinear resizing is separable, Up(x) = R_h · x · R_wᵀ per channel, so
// the forward pass is two matMuls and the adjoint is Upᵀ(m) = R_hᵀ · m · R_w: exact, differentiable
// by tfjs's own matMul gradients, identical on every backend. The forward pass is tested against
// tf.image.resizeBilinear(x, size, false, true).
import * as tf from '@tensorflow/tfjs-core';

/**
 * R[o, i]: weight of input sample i in output sample o when resizing a line of `inSize` samples to
 * `outSize`, half-pixel centres: src = (o + 0.5)·in/out − 0.5, clamped to [0, in − 1] (torch's
 * area_pixel_compute_source_index with align_corners=False clamps negatives to 0; past the end the
 * upper neighbour is clamped to in − 1, as tfjs does).
 */
export function interpMatrix(outSize: number, inSize: number): Float32Array {
  const r = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const lambda = src - i0;
    r[o * inSize + i0] += 1 - lambda;
    r[o * inSize + i1] += lambda;
  }
  return r;
}

function matrix(outSize: number, inSize: number): tf.Tensor2D {
  return tf.tensor2d(interpMatrix(outSize, inSize), [outSize, inSize]);
}

/**
 * Upsample (or downsample) x [h, w, C] to [H, W, C] bilinearly, half-pixel centres.
 * Differentiable in x. Call inside tf.tidy (intermediates are not disposed here).
 */
export function resizeBilinearHalfPixel(x: tf.Tensor3D, size: [number, number]): tf.Tensor3D {
  const [h, w, c] = x.shape;
  const [H, W] = size;
  if (H === h && W === w) return x.clone();
  const rh = matrix(H, h), rw = matrix(W, w);
  // rows: [H, h] · [h, w·C] → [H, w·C]
  const rows = tf.reshape(tf.matMul(rh, tf.reshape(x, [h, w * c])), [H, w, c]);
  // columns: for each output row, [W, w] · [w, C]; batch over H by moving w to the front
  const cols = tf.matMul(rw, tf.reshape(tf.transpose(rows, [1, 0, 2]), [w, H * c])); // [W, H·C]
  return tf.transpose(tf.reshape(cols, [W, H, c]), [1, 0, 2]);
}

/**
 * The adjoint of resizeBilinearHalfPixel from [h, w] to [H, W], applied to P maps m [P, H, W]:
 * returns Upᵀ m [P, h, w], so that Σ_HW Up(f)·m = Σ_hw f·(Upᵀ m) for every f.
 * Call inside tf.tidy.
 */
export function resizeBilinearAdjoint(m: tf.Tensor3D, featSize: [number, number]): tf.Tensor3D {
  const [p, H, W] = m.shape;
  const [h, w] = featSize;
  if (H === h && W === w) return m.clone();
  const rw = matrix(W, w);
  // R_hᵀ built transposed on the host: a matMul with transposeA leaves XNNPACK for a slow generic loop on
  // tfjs-backend-wasm (see nets/conv.ts).
  const rhT = tf.transpose(matrix(H, h)); // [h, H]
  // m · R_w : [P·H, W] · [W, w] → [P, H, w]
  const right = tf.reshape(tf.matMul(tf.reshape(m, [p * H, W]), rw), [p, H, w]);
  // R_hᵀ · (m R_w): bring H to the front, [h, H] · [H, P·w] → [h, P, w] → [P, h, w]
  const left = tf.matMul(rhT, tf.reshape(tf.transpose(right, [1, 0, 2]), [H, p * w]));
  return tf.transpose(tf.reshape(left, [h, p, w]), [1, 0, 2]);
}
