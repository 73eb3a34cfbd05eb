// The labeling encoder over a graph-model backbone (nets/graphModels.ts: NanoDet, CenterNet) tapped at
// one or more output strides in one forward pass: the LabelEncoder the quality predictor reads, in
// process or on a pool of worker threads that each load the same network (same features, same key).
import * as tf from '@tensorflow/tfjs-core';
import { EncoderPool } from '../../features/encoderPool';
import type { FeatureEntry } from '../../features/featureCache';
import { unpackLevels } from '../../features/levels';
import type { GraphBackbone, GraphBackboneId } from '../../nets/graphBackbone';
import { loadGraphBackbone, type GraphLoadOptions } from '../../nets/graphModels';
import type { RawImage } from '../../types';
import type { LabelEncoder } from '../predictor';

export class GraphLabelEncoder implements LabelEncoder {
  readonly key: string;

  private constructor(
    private readonly net: GraphBackbone,
    readonly id: GraphBackboneId,
    readonly size: number,
    readonly levels: number[],
    /** Origin and licence of the weights. */
    readonly weightsSource: string,
    readonly trainedOn: string,
    private readonly loadOptions: GraphLoadOptions,
  ) {
    this.key = `${id}|${net.weightsHash}|L${levels.join(',')}|S${size}`;
  }

  /** `levels`: output strides (finest first), e.g. [16, 32]. */
  static async create(id: GraphBackboneId, size: number, levels: number[], opts: GraphLoadOptions = {}): Promise<GraphLabelEncoder> {
    const { net, source, trainedOn } = await loadGraphBackbone(id, levels, opts);
    return new GraphLabelEncoder(net, id, size, [...levels], source, trainedOn, opts);
  }

  get weightsHash(): string {
    return this.net.weightsHash;
  }

  async encode(rgb: RawImage): Promise<FeatureEntry[]> {
    this.checkSize(rgb);
    const outs = tf.tidy(() => this.net.featuresAll(tf.tensor4d(Float32Array.from(rgb.data), [1, this.size, this.size, 3])));
    try {
      const datas = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>));
      return outs.map((o, i) => ({ shape: [o.shape[1], o.shape[2], o.shape[3]], data: datas[i] }));
    } finally {
      tf.dispose(outs);
    }
  }

  /** Start `workers` worker threads on `backend`, each with this network at these levels. */
  startPool(workers: number, backend: 'wasm' | 'cpu'): Promise<EncoderPool> {
    return EncoderPool.create(workers, { id: this.id, centernetDir: this.loadOptions.centernetDir }, backend, undefined, this.levels);
  }

  /**
   * The same encoder on `pool` (from startPool): a grid pass encodes on every core, and the main thread,
   * which answers strokes, never runs a forward pass. The pool is closed with the encoder.
   */
  pooled(pool: EncoderPool): LabelEncoder {
    return {
      key: this.key,
      size: this.size,
      encode: async (rgb: RawImage): Promise<FeatureEntry[]> => {
        this.checkSize(rgb);
        return unpackLevels(await pool.encode(Float32Array.from(rgb.data), this.size));
      },
      dispose: () => {
        void pool.close();
        this.dispose();
      },
    };
  }

  private checkSize(rgb: RawImage): void {
    if (rgb.width !== this.size || rgb.height !== this.size) throw new RangeError(`label encoder works at ${this.size}², got a ${rgb.width}×${rgb.height} image`);
  }

  dispose(): void {
    this.net.dispose();
  }
}
