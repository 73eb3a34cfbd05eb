// The labeling encoder over one of the engine's tfjs backbones: S×S RGB → one feature level (the backbone's
// output: MobileNetV2 block_13_expand_relu, stride 16; VGG-16 conv5_3, stride 8). Multi-level encoders
// implement the same LabelEncoder interface (predictor.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderPool } from '../features/encoderPool';
import type { FeatureEntry } from '../features/featureCache';
import type { Backbone } from '../nets/backbone';
import type { RawImage } from '../types';
import type { LabelEncoder } from './predictor';

export function backboneEncoder(backbone: Backbone, size: number): LabelEncoder {
  return {
    // backbone + weights + levels + working size: what makes two feature maps interchangeable
    key: `${backbone.id}:${backbone.weightsHash}:levels=out/${backbone.stride}:${size}`,
    size,
    async encode(rgb: RawImage): Promise<FeatureEntry[]> {
      if (rgb.width !== size || rgb.height !== size) throw new RangeError(`encoder expects ${size}×${size} RGB, got ${rgb.width}×${rgb.height}`);
      const out = tf.tidy(() => backbone.features(tf.tensor4d(Float32Array.from(rgb.data), [1, size, size, 3])));
      try {
        return [{ shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array }];
      } finally {
        out.dispose();
      }
    },
    dispose: () => backbone.dispose(),
  };
}

/**
 * The same encoder on a pool of worker threads (features/encoderPool.ts: one tfjs + backbone per thread),
 * so a grid pass encodes on every core while the main thread predicts and answers strokes. The
 * features are the backbone's, so the cache key is the in-process encoder's.
 */
export function pooledBackboneEncoder(pool: EncoderPool, backbone: Backbone, size: number): LabelEncoder {
  const inProcess = backboneEncoder(backbone, size);
  return {
    key: inProcess.key,
    size,
    async encode(rgb: RawImage): Promise<FeatureEntry[]> {
      if (rgb.width !== size || rgb.height !== size) throw new RangeError(`encoder expects ${size}×${size} RGB, got ${rgb.width}×${rgb.height}`);
      return [await pool.encode(Float32Array.from(rgb.data), size)];
    },
    dispose: () => {
      void pool.close();
      backbone.dispose();
    },
  };
}
