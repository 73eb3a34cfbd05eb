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
  const dots = tf.matMul(f, protos, false, true); // [hw, P]
  const fNorm = tf.norm(f, 'euclidean', 1, true); // [hw, 1]
  const pNorm = tf.reshape(tf.norm(protos, 'euclidean', 1), [1, p]); // [1, P]
  const cos = tf.div(dots, tf.maximum(tf.mul(fNorm, pNorm), COS_EPS));
  return tf.reshape(tf.mul(cos, alpha), [h, w, p]);
}
