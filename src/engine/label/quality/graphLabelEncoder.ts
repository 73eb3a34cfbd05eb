// The labeling encoder over a graph-model backbone (nets/graphModels.ts: NanoDet, CenterNet) tapped at
// one or more output strides in one forward pass: the LabelEncoder the quality predictor reads, in
// process or on a pool of worker threads that each load the same network (same features, same key).
//
// Two engines run it (graphLabelEncoder chooses, as eval's frozenEncoder.ts does for its backbones):
//   - onnxruntime: NanoDet translated to native ONNX ops (nets/onnx/nanodetGraph.ts), sessions in worker
//     threads (EncoderPool.onnx; run() is synchronous, and the main thread answers strokes). Its features
//     equal tfjs's to ≈ 2e-6 of their scale (test/unit/nanodetOnnx.test.ts), far inside the 1e-3 the
//     feature cache tolerates, so both engines share one cache key and cached features stay valid.
//   - tfjs: the graph model itself, in process or on wasm/cpu worker threads.
// 'auto' takes onnxruntime for NanoDet when it loads and tfjs runs on wasm or cpu (where onnxruntime's
// CPU convolutions measured several times faster: scripts/time-backbones.ts), else tfjs, and says why.
// PROTOLAB_LABEL_INFERENCE=tfjs|onnx|auto (else the engine's PROTOLAB_INFERENCE) forces one.
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { engineCacheDir } from '../../data/cachedir';
import { UsageError } from '../../errors';
import { EncoderPool } from '../../features/encoderPool';
import type { FeatureEntry } from '../../features/featureCache';
import { INFERENCE_CHOICES, type EncoderReport, type InferencePreference } from '../../features/frozenEncoder';
import { unpackLevels } from '../../features/levels';
import type { GraphBackbone, GraphBackboneId } from '../../nets/graphBackbone';
import { loadGraphBackbone, type GraphLoadOptions } from '../../nets/graphModels';
import { NANODET_SOURCE } from '../../nets/nanodet';
import { cachedOnnxModel } from '../../nets/onnx/modelCache';
import { nanodetOnnxSource, nanodetOutput } from '../../nets/onnx/nanodetGraph';
import { loadOrt } from '../../nets/onnx/runtime';
import type { RawImage } from '../../types';
import type { LabelEncoder } from '../predictor';

/** The feature-cache key of a graph encoder: the same whichever engine computes the features. */
export function graphEncoderKey(id: GraphBackboneId, weightsHash: string, levels: readonly number[], size: number): string {
  return `${id}|${weightsHash}|L${levels.join(',')}|S${size}`;
}

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
    this.key = graphEncoderKey(id, net.weightsHash, levels, size);
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
    checkSize(rgb, this.size);
    const outs = tf.tidy(() => this.net.featuresAll(tf.tensor4d(new Float32Array(rgb.data), [1, this.size, this.size, 3])));
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
    const inner = pooledEncoder(pool, this.key, this.size);
    return { ...inner, dispose: () => (inner.dispose(), this.dispose()) };
  }

  dispose(): void {
    this.net.dispose();
  }
}

function checkSize(rgb: RawImage, size: number): void {
  if (rgb.width !== size || rgb.height !== size) throw new RangeError(`label encoder works at ${size}², got a ${rgb.width}×${rgb.height} image`);
}

/** A LabelEncoder whose forward passes run on `pool` (packed levels); closing it closes the pool.
 *  `bytes`: the pool's model takes uint8 pixels (a copy of the image, not a float conversion). */
function pooledEncoder(pool: EncoderPool, key: string, size: number, bytes = false): LabelEncoder {
  return {
    key,
    size,
    encode: async (rgb: RawImage): Promise<FeatureEntry[]> => {
      checkSize(rgb, size);
      return unpackLevels(await pool.encode(bytes ? rgb.data.slice() : new Float32Array(rgb.data), size));
    },
    dispose: () => void pool.close(),
  };
}

export interface GraphEncoderOptions {
  /** Worker threads: tfjs wasm/cpu workers (≤ 1: in process), or onnxruntime sessions (default 1). */
  workers?: number;
  /** onnxruntime intra-op threads per session (default: cores ÷ workers). */
  threads?: number;
  /** Which engine; default PROTOLAB_LABEL_INFERENCE, else PROTOLAB_INFERENCE, else 'auto'. */
  inference?: InferencePreference;
  /** Where built ONNX models are kept (default: the engine cache, data/cachedir.ts engineCacheDir, with
   *  PROTOLAB_CACHE_DIR as the user's folder when set). */
  cacheDir?: string;
  load?: GraphLoadOptions;
}

export interface GraphEncoderChoice {
  encoder: LabelEncoder;
  /** How many encodes may usefully run at once (LabelModel.encodeConcurrency). */
  concurrency: number;
  weightsHash: string;
  weightsSource: string;
  trainedOn: string;
  /** Which engine encodes, on what, and why (the model info and the export's manifest carry it). */
  report: EncoderReport;
}

/** The engine asked for: the option, else the environment, else 'auto'. A bad PROTOLAB_LABEL_INFERENCE is an error. */
export function labelInferencePreference(given?: InferencePreference): InferencePreference {
  if (given) return given;
  const own = process.env.PROTOLAB_LABEL_INFERENCE;
  if (own) {
    const c = INFERENCE_CHOICES.find((x) => x === own);
    if (!c) throw new UsageError(`PROTOLAB_LABEL_INFERENCE=${own}: choose ${INFERENCE_CHOICES.join(', ')}`);
    return c;
  }
  return INFERENCE_CHOICES.find((x) => x === process.env.PROTOLAB_INFERENCE) ?? 'auto';
}

/** The labeling encoder of graph backbone `id` at `levels`, on the engine that `opts.inference` and this platform allow. */
export async function graphLabelEncoder(id: GraphBackboneId, size: number, levels: number[], opts: GraphEncoderOptions = {}): Promise<GraphEncoderChoice> {
  const pref = labelInferencePreference(opts.inference);
  const backend = tf.getBackend();
  const reason: string[] = [];
  if (pref === 'tfjs') reason.push('tfjs: asked for');
  else if (id !== 'nanodet') reason.push(`onnx: no ONNX translation of ${id} (NanoDet only)`);
  else if (pref === 'auto' && backend !== 'wasm' && backend !== 'cpu') reason.push(`onnx: passed over: tfjs runs on ${backend}, not measured against onnxruntime`);
  else {
    try {
      const c = await onnxGraphEncoder(size, levels, opts);
      c.report.reason.unshift(`onnx: chosen${pref === 'onnx' ? ' (asked for)' : ' (fastest that loads)'}`);
      return c;
    } catch (e) {
      const why = (e as Error).message;
      if (pref === 'onnx') throw new UsageError(`onnx inference for the ${id} labeling encoder: ${why}`);
      reason.push(`onnx: could not be used (${why}); falling back to tfjs`);
    }
  }
  const c = await tfjsGraphEncoder(id, size, levels, opts);
  c.report.reason.unshift(...reason);
  return c;
}

async function onnxGraphEncoder(size: number, levels: number[], opts: GraphEncoderOptions): Promise<GraphEncoderChoice> {
  const o = loadOrt();
  if (!o.ok) throw new Error(o.reason);
  const source = nanodetOnnxSource(levels, opts.load?.nanodetDir);
  const workers = Math.max(1, opts.workers ?? 1);
  const threads = Math.max(1, opts.threads ?? Math.floor(os.availableParallelism() / workers));
  const cacheDir = opts.cacheDir ?? engineCacheDir(process.env.PROTOLAB_CACHE_DIR || undefined);
  const outputs = levels.map(nanodetOutput);
  let m = await cachedOnnxModel(cacheDir, source);
  let pool: EncoderPool;
  try {
    pool = await EncoderPool.onnx(workers, { modelFile: m.file, threads, outputs });
  } catch (e) {
    if (m.built) throw e;
    // a cached file that onnxruntime refuses (foreign or damaged): build it again once
    m = await cachedOnnxModel(cacheDir, source, true);
    pool = await EncoderPool.onnx(workers, { modelFile: m.file, threads, outputs });
  }
  return {
    encoder: pooledEncoder(pool, graphEncoderKey('nanodet', source.weightsHash, levels, size), size, true),
    concurrency: pool.size,
    weightsHash: source.weightsHash,
    weightsSource: NANODET_SOURCE,
    trainedOn: 'COCO detection',
    report: {
      engine: 'onnx',
      detail: `onnxruntime-node ${o.version} (CPU), ${workers} worker${workers > 1 ? 's' : ''} × ${threads} thread${threads > 1 ? 's' : ''}`,
      reason: [`onnx model ${m.built ? 'built' : 'reused'} (graph v${source.onnx!.graphVersion}, strides ${levels.join('+')})`],
      model: m.file,
    },
  };
}

async function tfjsGraphEncoder(id: GraphBackboneId, size: number, levels: number[], opts: GraphEncoderOptions): Promise<GraphEncoderChoice> {
  const enc = await GraphLabelEncoder.create(id, size, levels, opts.load);
  const backend = tf.getBackend();
  // tfjs-wasm and cpu are single-threaded in a process: a pool uses every core and keeps the main thread free
  const on = (opts.workers ?? 1) > 1 && (backend === 'wasm' || backend === 'cpu') ? backend : undefined;
  const pool = on ? await enc.startPool(opts.workers!, on).catch((e) => (enc.dispose(), Promise.reject(e))) : undefined;
  return {
    encoder: pool ? enc.pooled(pool) : enc,
    concurrency: pool?.size ?? 1,
    weightsHash: enc.weightsHash,
    weightsSource: enc.weightsSource,
    trainedOn: enc.trainedOn,
    report: { engine: 'tfjs', detail: pool ? `tfjs ${backend}, ${pool.size} worker threads` : `tfjs ${backend}, in-process`, reason: [] },
  };
}
