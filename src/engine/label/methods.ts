// Labeling methods by id: what `protolab label --method`, the label service and `npm run bench:label`
// build. A method is an encoder (features, cached per image) and a predictor (fitted to the supports
// after every stroke), behind the seam of predictor.ts. `variants` lists the settings an ablation runs
// (bench:label runs every variant of every method unless told otherwise); a method with quality parts
// lists one variant per part switched off.
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { EncoderPool } from '../features/encoderPool';
import { createBackbone, type Backbone, type BackboneId } from '../nets/backbone';
import { baselinePredictor, type BaselineOptions } from './baselinePredictor';
import { backboneEncoder, pooledBackboneEncoder } from './tfjsLabelEncoder';
import type { LabelEncoder, Predictor } from './predictor';
import { QUALITY_DEFAULTS, type QualityConfig } from './quality/config';
import { MobileNetLabelEncoder } from './quality/mobileNetLabelEncoder';
import { graphLabelEncoder } from './quality/graphLabelEncoder';
import type { EncoderReport, InferencePreference } from '../features/frozenEncoder';
import { isGraphBackboneId } from '../nets/graphModels';
import { variantByName } from './quality/variants';
import { QualityPredictor } from './qualityPredictor';

export interface LabelModelSpec {
  method: string;
  backbone: BackboneId;
  /** .safetensors weights (vgg16 only). */
  weights?: string;
  /** Working size S (images are resized to S×S). */
  size: number;
  /** Seed of a random-init backbone (vgg16 without weights). */
  initSeed?: number;
  /** The method's own settings (a variant's options). */
  options?: Record<string, unknown>;
  /** Encoder threads (wasm/cpu backends): > 1 encodes on a worker pool. Default 1 (in process). */
  workers?: number;
  /** Encoder engine of graph backbones (default: PROTOLAB_LABEL_INFERENCE, else PROTOLAB_INFERENCE, else 'auto'). */
  inference?: InferencePreference;
}

/** What a manifest or report records about the model that made the masks. */
export interface LabelModelInfo {
  method: string;
  backbone: string;
  weightsHash: string;
  weightsSource: string;
  size: number;
  encoderKey: string;
  settings: Record<string, unknown>;
  /** Which engine computed the features (onnx | tfjs), on what, and why. */
  encoder?: Pick<EncoderReport, 'engine' | 'detail' | 'reason'>;
}

export interface LabelModel {
  encoder: LabelEncoder;
  predictor: Predictor;
  info: LabelModelInfo;
  /** How many encodes may usefully run at once (a grid pass encodes that far ahead). Default 1. */
  encodeConcurrency?: number;
  dispose(): void;
}

export interface LabelMethod {
  id: string;
  summary: string;
  create(spec: LabelModelSpec): Promise<LabelModel>;
  /** Named settings for ablations; the first is the default. */
  variants: Array<{ name: string; options: Record<string, unknown> }>;
}

/** The default encoder worker count: one per core (at most 4) on wasm/cpu, where tfjs is single-threaded
 *  in a process; 1 (in process) on native or GPU backends. `protolab label` and the engine's label
 *  requests both start from it. */
export function defaultLabelWorkers(): number {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu' ? Math.min(4, os.availableParallelism()) : 1;
}

/** The backend worker-thread encoders run on for `spec.workers` > 1, or undefined (encode in process):
 *  tfjs-wasm and cpu are single-threaded in a process, so a pool is how encoding uses every core and
 *  stays off the thread that answers strokes. */
function poolBackend(spec: LabelModelSpec): 'wasm' | 'cpu' | undefined {
  const backend = tf.getBackend();
  return (spec.workers ?? 1) > 1 && (backend === 'wasm' || backend === 'cpu') ? backend : undefined;
}

/** One feature level, the backbone's own output (MobileNetV2 stride 16, VGG-16 stride 8), pooled when
 *  poolBackend says so. */
async function backboneLabelEncoder(spec: LabelModelSpec): Promise<{ encoder: LabelEncoder; backbone: Backbone; concurrency: number }> {
  const opts = { id: spec.backbone, weights: spec.weights, seed: spec.initSeed };
  const backbone = await createBackbone(opts);
  const on = poolBackend(spec);
  const pool = on ? await EncoderPool.create(spec.workers!, opts, on) : undefined;
  return { encoder: pool ? pooledBackboneEncoder(pool, backbone, spec.size) : backboneEncoder(backbone, spec.size), backbone, concurrency: pool?.size ?? 1 };
}

const baseline: LabelMethod = {
  id: 'baseline',
  summary: 'PANet prototypes over all support pixels, cosine × 20, softmax, bilinear upsampling (no refinement)',
  variants: [{ name: 'baseline', options: {} }],
  async create(spec) {
    const { encoder, backbone, concurrency } = await backboneLabelEncoder(spec);
    const predictor = baselinePredictor((spec.options ?? {}) as BaselineOptions);
    return {
      encoder,
      predictor,
      encodeConcurrency: concurrency,
      info: {
        method: 'baseline', backbone: backbone.id, weightsHash: backbone.weightsHash, weightsSource: backbone.weightsSource,
        size: spec.size, encoderKey: encoder.key, settings: predictor.describe(),
      },
      dispose: () => encoder.dispose(),
    };
  },
};

// The quality predictor (qualityPredictor.ts): the default, chosen on real photos (README, "Segmenting
// your own photos"). Its variants are the default and the default with one part taken away, so
// bench:label's photo_miou shows what each part is worth through the same service a labeler uses.
const QUALITY_ABLATION = ['quality', 'quality-ridge', 'quality-neighbours', 'quality-local', 'quality-levels', 'quality-refine', 'quality-selfsupport', 'quality-own', 'quality-colour', 'quality/guided'];

const quality: LabelMethod = {
  id: 'quality',
  summary: 'MobileNetV2 strides 16+32, prototypes (a ridge fit on an image with its own strokes), self-support, bilateral-grid CRF',
  variants: QUALITY_ABLATION.map((name) => ({ name, options: name === 'quality' ? {} : (variantByName(name).config as unknown as Record<string, unknown>) })),
  async create(spec) {
    let config: QualityConfig = { ...QUALITY_DEFAULTS, ...(spec.options as Partial<QualityConfig>) };
    let encoder: LabelEncoder;
    let weightsHash: string, weightsSource: string;
    let concurrency: number;
    let report: LabelModelInfo['encoder'];
    if (spec.backbone === 'mobilenetv2') {
      // several taps of one forward pass, in worker threads where poolBackend says so
      const enc = await MobileNetLabelEncoder.create(spec.size, config.levels);
      const on = poolBackend(spec);
      const pool = on
        ? await EncoderPool.create(spec.workers!, { id: 'mobilenetv2' }, on, enc.taps).catch((e) => {
          enc.dispose();
          throw e;
        })
        : undefined;
      encoder = pool ? enc.pooled(pool) : enc;
      concurrency = pool?.size ?? 1;
      weightsHash = enc.weightsHash;
      weightsSource = 'nsfwjs MobileNetV2 (embedded)';
    } else if (isGraphBackboneId(spec.backbone)) {
      // a detector backbone tapped at config.levels (strides): onnxruntime or tfjs (graphLabelEncoder.ts says which and why)
      const c = await graphLabelEncoder(spec.backbone, spec.size, config.levels, { workers: spec.workers, inference: spec.inference });
      ({ encoder, concurrency, weightsHash, weightsSource } = c);
      report = { engine: c.report.engine, detail: c.report.detail, reason: c.report.reason };
    } else {
      // one level, the backbone's own stride (VGG-16: 8), encoded as the baseline encodes it
      const one = await backboneLabelEncoder(spec);
      config = { ...config, levels: [one.backbone.stride], levelWeights: undefined };
      ({ encoder, concurrency } = one);
      weightsHash = one.backbone.weightsHash;
      weightsSource = one.backbone.weightsSource;
    }
    const predictor = new QualityPredictor(config);
    return {
      encoder,
      predictor,
      encodeConcurrency: concurrency,
      info: {
        method: 'quality', backbone: spec.backbone, weightsHash, weightsSource, size: spec.size, encoderKey: encoder.key, settings: predictor.describe(),
        encoder: report ?? { engine: 'tfjs', detail: `tfjs ${tf.getBackend()}, ${concurrency > 1 ? `${concurrency} worker threads` : 'in-process'}`, reason: [] },
      },
      dispose: () => encoder.dispose(),
    };
  },
};

/** Registered methods; the first is the default of `protolab label` and of the workbench. */
export const LABEL_METHODS: LabelMethod[] = [quality, baseline];

export function labelMethod(id: string): LabelMethod {
  const m = LABEL_METHODS.find((x) => x.id === id);
  if (!m) throw new UsageError(`unknown labeling method '${id}' (choose ${LABEL_METHODS.map((x) => x.id).join(', ')})`);
  return m;
}

export function createLabelModel(spec: LabelModelSpec): Promise<LabelModel> {
  return labelMethod(spec.method).create(spec);
}
