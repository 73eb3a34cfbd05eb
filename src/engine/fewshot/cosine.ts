// PANet eq. 3's distance: d(F_q(x,y), p_j) = −α·cos(F_q(x,y), p_j), so the logit of class j is
// α·cos (α = 20, fixed; the official calDist's `scaler`).
import * as tf from '@tensorflow/tfjs-core';

export const PANET_ALPHA = 20;

/** torch.nn.functional.cosine_similarity's eps: the product of norms is clamped below by it. */
const COS_EPS = 1e-8;

/**
 * α·cos(F(x,y), p_j) for every position and prototype: feat [1, h, w, C], protos [P, C] → [h, w, P].
 * Differentiable in both. Call inside tf.tidy.
 */
export function cosineLogits(feat: tf.Tensor4D, protos: tf.Tensor2D, alpha = PANET_ALPHA): tf.Tensor3D {
  const [, h, w, c] = feat.shape;
  const p = protos.shape[0];
  const f = tf.reshape(feat, [h * w, c]);
  // protosᵀ explicitly ([P, C] is tiny): matMul's transposeB flag takes tfjs-backend-wasm off XNNPACK
  const dots = tf.matMul(f, tf.transpose(protos)); // [hw, P]
  // ‖v‖ = sqrt(Σ v²): tf.norm computes the same through Pow, which tfjs-backend-wasm runs ~10× slower
  // than Square (it was 40 % of an episode's time at 224², profiled).
  const fNorm = tf.sqrt(tf.sum(tf.square(f), 1, true)); // [hw, 1]
  const pNorm = tf.reshape(tf.sqrt(tf.sum(tf.square(protos), 1)), [1, p]); // [1, P]
  const cos = tf.div(dots, tf.maximum(tf.mul(fNorm, pNorm), COS_EPS));
  return tf.reshape(tf.mul(cos, alpha), [h, w, p]);
}
