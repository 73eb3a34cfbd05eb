// What the episodic trainer (train/) asks of a method that learns: its parameters, a differentiable
// loss on one episode, and a config to store in checkpoints. Inference goes through FewShotMethod.
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../prng';
import type { SupportAnnotation } from './annotations';
import type { FewShotMethod } from './method';

/** One training episode at network-input resolution. Feature tensors may be inside a gradient tape
 *  (end-to-end training) or constants (frozen backbone); the method must not dispose them. */
export interface TrainEpisode {
  /** Episode classes (dataset ordinals); way j ⇔ episode label j + 1. */
  classes: number[];
  /** support[way][shot] */
  support: Array<Array<{ feat: tf.Tensor4D; annotation: SupportAnnotation }>>;
  /** Query features with episode-local labels (0 bg, j + 1 = way j, 255 ignore) at outSize, row-major. */
  query: Array<{ feat: tf.Tensor4D; labels: Uint8Array }>;
  outSize: [number, number];
  /** For any randomness inside the loss (e.g. pixel sampling); seeded per step by the trainer. */
  rng: Rng;
}

export interface EpisodeLoss {
  /** What the optimiser minimises. */
  total: tf.Scalar;
  /** Named parts for the metrics log (e.g. seg, par). Scalars inside the same tidy scope as total. */
  parts: Record<string, tf.Scalar>;
}

export interface TrainableMethod extends FewShotMethod {
  /** The method's own trainable parameters by stable name (empty for PANet: all its weights are the
   *  backbone's). Names are used as checkpoint keys under the prefix `head.`. */
  readonly params: Record<string, tf.Variable>;
  /** Differentiable loss of one episode; called inside optimizer.minimize (a tidy scope). */
  loss(ep: TrainEpisode): EpisodeLoss;
  /** Settings that rebuild this method (stored in checkpoints; JSON-serialisable). */
  config(): Record<string, unknown>;
  dispose(): void;
}
