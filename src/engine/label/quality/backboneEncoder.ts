// A LabelEncoder over any Backbone (one feature level at the backbone's stride): what the quality
// predictor runs on when the backbone is not the multi-level MobileNetV2 encoder (e.g. PANet's VGG-16
// with the user's weights).
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureEntry } from '../../eval/featureCache';
import type { Backbone } from '../../nets/backbone';
import type { RawImage } from '../../types';
import type { LabelEncoder } from '../predictor';

export class BackboneLabelEncoder implements LabelEncoder {
  readonly key: string;

  /** The backbone stays owned by the caller (dispose() does not free it). */
  constructor(private readonly backbone: Backbone, readonly size: number) {
    this.key = `${backbone.id}|${backbone.weightsHash}|L${backbone.stride}|S${size}`;
  }

  async encode(rgb: RawImage): Promise<FeatureEntry[]> {
    if (rgb.width !== this.size || rgb.height !== this.size) throw new RangeError(`label encoder works at ${this.size}², got a ${rgb.width}×${rgb.height} image`);
    const out = tf.tidy(() => this.backbone.features(tf.tensor4d(Float32Array.from(rgb.data), [1, this.size, this.size, 3])));
    try {
      return [{ shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array }];
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    // the backbone belongs to the caller
  }
}
