// A LabelEncoder over the engine's frozen-feature Encoder (features/frozenEncoder.ts: tfjs or onnxruntime), one
// feature level at the backbone's stride: what the quality predictor runs on when the backbone is not
// the multi-level MobileNetV2 encoder (e.g. PANet's VGG-16 with the user's weights).
import type { FeatureEntry } from '../../features/featureCache';
import type { Encoder } from '../../features/frozenEncoder';
import type { RawImage } from '../../types';
import type { LabelEncoder } from '../predictor';

export class BackboneLabelEncoder implements LabelEncoder {
  /** `key` names backbone, weights, stride and size (the cache identity of what encode() returns). */
  constructor(private readonly encoder: Encoder, readonly size: number, readonly key: string) {}

  async encode(rgb: RawImage): Promise<FeatureEntry[]> {
    if (rgb.width !== this.size || rgb.height !== this.size) throw new RangeError(`label encoder works at ${this.size}², got a ${rgb.width}×${rgb.height} image`);
    return [await this.encoder.encode(Float32Array.from(rgb.data), this.size)];
  }

  dispose(): void {
    // the encoder (and its backbone) belong to the caller, who closes them
  }
}
