// MetaSegNet's embedding module: a LOCAL feature branch and a GLOBAL feature branch on top of the
// backbone features, concatenated into one pixel embedding (the "meta-knowledge" the episodic training
// learns; papers.md, MetaSegNet). Only the paper's abstract-level description was reachable here, so
// the layers below are our reading of it, kept small enough to train on a 2-core CPU:
//
//   local(x)  = ReLU(F(x) U_l + c_l)                                   1×1 conv, C → d_local
//   global(x) = ReLU(F(x) U_p + GAP(F) U_g + c_g)                      C → d_global
//   e(x)      = [local(x) ; global(x)]                                 d_local + d_global
//
// The global branch is ParseNet's global context (Liu et al. 2015: global average pool → linear →
// broadcast to every pixel → fused with the pixel's own feature). WHY the fusion with F(x) U_p instead
// of broadcasting GAP(F) U_g alone: a branch that is constant over an image is constant over every
// 1-shot support set, so the base learner's intercept absorbs it and ridge gives it zero weight — it
// would never influence a 1-shot prediction. Added before the ReLU, the image-level context shifts
// each pixel's activation thresholds, so the same pixel feature embeds differently in different scenes.
// 1×1 convolutions are written as matMuls: their gradients exist on every backend (wasm lacks
// Conv2DBackpropFilter).
import * as tf from '@tensorflow/tfjs-core';
import { newVariable } from '../../nets/variable';
import type { Rng } from '../../prng';

export interface EmbeddingDims {
  channels: number;
  localDim: number;
  globalDim: number;
}

export type EmbeddingParams = Record<string, tf.Variable>;

/** He-normal weights (ReLU follows), zero biases; all draws from `rng` in a fixed order. */
export function initEmbedding(dims: EmbeddingDims, rng: Rng): EmbeddingParams {
  const { channels: c, localDim: dl, globalDim: dg } = dims;
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal() * std);
  return {
    'embed.local.weight': newVariable(() => tf.tensor2d(normal(c * dl, Math.sqrt(2 / c)), [c, dl])),
    'embed.local.bias': newVariable(() => tf.zeros([dl])),
    // fan-in 2C for the fused [F(x); GAP(F)] input of the global branch
    'embed.global.pixel': newVariable(() => tf.tensor2d(normal(c * dg, Math.sqrt(1 / c)), [c, dg])),
    'embed.global.context': newVariable(() => tf.tensor2d(normal(c * dg, Math.sqrt(1 / c)), [c, dg])),
    'embed.global.bias': newVariable(() => tf.zeros([dg])),
  };
}

/** Pixel embeddings e(x) of one image's features [1, h, w, C] → [h·w, d_local + d_global], row-major. Call inside tf.tidy. */
export function embed(p: EmbeddingParams, feat: tf.Tensor4D): tf.Tensor2D {
  const [, h, w, c] = feat.shape;
  const f = tf.reshape(feat, [h * w, c]) as tf.Tensor2D;
  const local = tf.relu(tf.add(tf.matMul(f, p['embed.local.weight'] as tf.Tensor2D), p['embed.local.bias']));
  const gap = tf.mean(f, 0, true) as tf.Tensor2D; // [1, C]: GAP(F)
  const context = tf.matMul(gap, p['embed.global.context'] as tf.Tensor2D); // [1, d_global], broadcast over pixels
  const global = tf.relu(tf.add(tf.add(tf.matMul(f, p['embed.global.pixel'] as tf.Tensor2D), context), p['embed.global.bias']));
  return tf.concat([local, global], 1) as tf.Tensor2D;
}
