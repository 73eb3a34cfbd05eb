// The labeling encoder: nsfwjs's MobileNetV2 tapped at one or more output strides (LabelEncoder of
// predictor.ts). Stride 16 (block_13_expand_relu, 576 ch) is what `segment` and PANet use; stride 8
// (block_6_expand_relu, 192 ch) adds finer, more local evidence: object parts and boundaries at twice
// the resolution, which the stride-16 map blurs over.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../../errors';
import type { FeatureEntry } from '../../features/featureCache';
import { MOBILENET_TAPS, MobileNetV2Features } from '../../nets/mobilenetv2';
import type { RawImage } from '../../types';
import type { EncoderPool } from '../../features/encoderPool';
import { unpackLevels } from '../../features/levels';
import type { LabelEncoder } from '../predictor';

export const LEVEL_STRIDES = [4, 8, 16, 32] as const;

/** Parse a `--levels 8,16` value: distinct strides among 4, 8, 16, finest first. */
export function parseLevels(text: string): number[] {
  const xs = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const bad = xs.filter((x) => !(LEVEL_STRIDES as readonly number[]).includes(x));
  if (!xs.length || bad.length) throw new UsageError(`--levels takes strides among ${LEVEL_STRIDES.join(', ')} separated by commas (got '${text}')`);
  return [...new Set(xs)].sort((a, b) => a - b);
}

export class MobileNetLabelEncoder implements LabelEncoder {
  readonly key: string;

  private constructor(private readonly net: MobileNetV2Features, readonly size: number, readonly levels: number[]) {
    this.key = `mobilenetv2|${net.weightsHash}|L${levels.join(',')}|S${size}`;
  }

  /** `levels`: output strides (finest first), e.g. [8, 16]. */
  static async create(size: number, levels: number[] = [16], nsfwjsDir?: string): Promise<MobileNetLabelEncoder> {
    const taps = levels.map((s) => {
      const t = MOBILENET_TAPS[s];
      if (!t) throw new UsageError(`MobileNetV2 has no feature level at stride ${s} (choose among ${LEVEL_STRIDES.join(', ')})`);
      return t.layer;
    });
    return new MobileNetLabelEncoder(await MobileNetV2Features.load(nsfwjsDir, taps), size, levels);
  }

  get weightsHash(): string {
    return this.net.weightsHash;
  }

  /** The layers this encoder outputs, for a worker pool that encodes the same (EncoderPool.create taps). */
  get taps(): string[] {
    return this.levels.map((s) => MOBILENET_TAPS[s].layer);
  }

  /**
   * The same encoder on a pool of worker threads started with `taps` (their packed levels unpacked
   * here): a grid pass encodes on every core, and the main thread, which answers strokes, never runs a
   * forward pass. Same features, so the same cache key. The pool is closed with the encoder.
   */
  pooled(pool: EncoderPool): LabelEncoder {
    const size = this.size;
    return {
      key: this.key,
      size,
      encode: async (rgb: RawImage): Promise<FeatureEntry[]> => {
        if (rgb.width !== size || rgb.height !== size) throw new RangeError(`label encoder works at ${size}², got a ${rgb.width}×${rgb.height} image`);
        return unpackLevels(await pool.encode(Float32Array.from(rgb.data), size));
      },
      dispose: () => {
        void pool.close();
        this.dispose();
      },
    };
  }

  async encode(rgb: RawImage): Promise<FeatureEntry[]> {
    if (rgb.width !== this.size || rgb.height !== this.size) {
      throw new RangeError(`label encoder works at ${this.size}², got a ${rgb.width}×${rgb.height} image`);
    }
    const outs = tf.tidy(() => this.net.featuresAll(tf.tensor4d(Float32Array.from(rgb.data), [1, this.size, this.size, 3])));
    try {
      const datas = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>));
      return outs.map((o, i) => ({ shape: [o.shape[1], o.shape[2], o.shape[3]], data: datas[i] }));
    } finally {
      tf.dispose(outs);
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}
