// Who computes frozen backbone features for evaluation, `segment`, the episode browser (and labeling):
// tfjs (the training engine: wasm/cpu worker threads, or tfjs-node / WebGPU in-process) or onnxruntime
// (the same network and weights as an ONNX graph, nets/onnx/). Inference never needs gradients, so it
// may run on the faster engine; training always stays on tfjs.
//
// 'auto' = the fastest that loads: onnx on CPU backends (measured by `npm run bench:compare`: onnxruntime
// runs the VGG-16 encoder several times faster than tfjs-wasm), tfjs when tfjs already runs on a GPU.
// When onnxruntime cannot load (another platform's .vsix, a missing binary) or the model cannot be built,
// 'auto' falls back to tfjs and the report says why; an explicit 'onnx' is an error instead.
//
// Threads: onnxruntime-node's run() is synchronous underneath (measured: the event loop stalls for the
// whole forward pass), so sessions live in worker threads (EncoderPool.onnx) and the main thread keeps
// scoring episodes meanwhile. Default: ONE worker whose session uses every core (intraOpNumThreads =
// cores): the lowest latency per image (the episode browser asks for one or two), and the same "N
// threads" torch gets in bench:compare. `--workers W --threads T` gives W sessions of T threads: on a
// heavily loaded 2-core machine (load average ≈ 15) 2 × 1 encoded a batch of 12 VGG-16 224² images with
// 5–45 % more images/s than 1 × 2, while 1 × 2 had the lower single-image latency in 2 of 3 tries; a
// quiet machine should be re-measured before changing the default. The tfjs-wasm pool instead needs one
// single-threaded worker per core.
import * as os from 'os';
import type { BackendChoice } from '../backend';
import { UsageError } from '../errors';
import { EncoderPool } from './encoderPool';
import type { FeatureEntry } from './featureCache';
import * as tf from '@tensorflow/tfjs-core';
import type { Backbone, CreateBackboneOptions } from '../nets/backbone';
import { cachedOnnxModel } from '../nets/onnx/modelCache';
import { loadOrt } from '../nets/onnx/runtime';

export type InferenceEngine = 'onnx' | 'tfjs';
export type InferencePreference = InferenceEngine | 'auto';
export const INFERENCE_CHOICES = ['auto', 'onnx', 'tfjs'] as const;

export interface EncoderReport {
  engine: InferenceEngine;
  /** What runs it, one line: 'onnxruntime-node 1.30.0 (CPU), 1 worker × 2 threads' / 'tfjs wasm, 2 workers'. */
  detail: string;
  /** Why this engine: one line per candidate considered. */
  reason: string[];
  /** onnx: the model file the session runs. */
  model?: string;
}

export interface Encoder {
  readonly report: EncoderReport;
  /** px: [size, size, 3] RGB 0..255 (row-major HWC) → features [h, w, C]. */
  encode(px: Float32Array, size: number): Promise<FeatureEntry>;
  close(): Promise<void>;
}

export interface EncoderOptions {
  inference?: InferencePreference;
  /** The tfjs backend now active in this process. */
  tfjs: Pick<BackendChoice, 'name' | 'gpu'>;
  /** Rebuilds the backbone in tfjs worker threads (wasm/cpu); without it tfjs encodes in-process. */
  backboneOptions?: CreateBackboneOptions;
  /** tfjs wasm/cpu worker threads (default: cores, ≤ 4; ≤ 1 = in-process). */
  workers?: number;
  /** onnxruntime intra-op threads per worker (default: cores ÷ onnxWorkers). */
  threads?: number;
  /** onnxruntime worker threads, each with its own session (default 1). */
  onnxWorkers?: number;
  /** The engine cache folder (data/cachedir.ts engineCacheDir); ONNX models are kept under it. */
  cacheDir: string;
  log?: (line: string) => void;
}

const cores = (): number => Math.max(1, os.availableParallelism());

export async function createEncoder(backbone: Backbone, opts: EncoderOptions): Promise<Encoder> {
  const pref = opts.inference ?? 'auto';
  const log = opts.log ?? (() => undefined);
  const reason: string[] = [];
  const onGpu = opts.tfjs.name === 'webgpu' || (opts.tfjs.name === 'tensorflow' && opts.tfjs.gpu === true);
  if (pref === 'tfjs') reason.push('tfjs: asked for (--inference tfjs)');
  else if (pref === 'auto' && onGpu) reason.push(`onnx: passed over: tfjs runs on a GPU (${opts.tfjs.name}), faster than onnxruntime's CPU path`);
  else {
    try {
      const enc = await onnxEncoder(backbone, opts);
      enc.report.reason.unshift(...reason, `onnx: chosen${pref === 'onnx' ? ' (--inference onnx)' : ' (fastest that loads)'}`);
      log(`encoder: ${enc.report.detail}`);
      return enc;
    } catch (e) {
      const why = (e as Error).message;
      if (pref === 'onnx') throw new UsageError(`--inference onnx: ${why}`);
      reason.push(`onnx: could not be used (${why}); falling back to tfjs`);
      log(`encoder: onnxruntime could not be used (${why}); falling back to tfjs`);
    }
  }
  const enc = await tfjsEncoder(backbone, opts);
  enc.report.reason.unshift(...reason);
  log(`encoder: ${enc.report.detail}`);
  return enc;
}

async function onnxEncoder(backbone: Backbone, opts: EncoderOptions): Promise<Encoder> {
  const o = loadOrt();
  if (!o.ok) throw new Error(o.reason);
  if (!backbone.onnx) throw new Error(`backbone ${backbone.id} has no ONNX form`);
  const workers = Math.max(1, opts.onnxWorkers ?? 1);
  const threads = Math.max(1, opts.threads ?? Math.floor(cores() / workers));
  let m = await cachedOnnxModel(opts.cacheDir, backbone);
  let pool: EncoderPool;
  try {
    pool = await EncoderPool.onnx(workers, { modelFile: m.file, threads });
  } catch (e) {
    if (m.built) throw e;
    // A cached file that onnxruntime refuses (foreign or damaged): build it again once.
    m = await cachedOnnxModel(opts.cacheDir, backbone, true);
    pool = await EncoderPool.onnx(workers, { modelFile: m.file, threads });
  }
  return {
    report: {
      engine: 'onnx',
      detail: `onnxruntime-node ${o.version} (CPU), ${workers} worker${workers > 1 ? 's' : ''} × ${threads} thread${threads > 1 ? 's' : ''}`,
      reason: [`onnx model ${m.built ? 'built' : 'reused'}: ${m.file}`],
      model: m.file,
    },
    encode: (px, size) => pool.encode(px, size),
    close: () => pool.close(),
  };
}

async function tfjsEncoder(backbone: Backbone, opts: EncoderOptions): Promise<Encoder> {
  // tfjs-wasm is single-threaded in Node: one worker per core uses them all. Native and GPU backends
  // parallelise inside, so they encode in-process.
  const cpuLike = opts.tfjs.name === 'wasm' || opts.tfjs.name === 'cpu';
  const workers = opts.workers ?? Math.min(4, cores());
  if (cpuLike && workers > 1 && opts.backboneOptions) {
    const pool = await EncoderPool.create(workers, opts.backboneOptions, opts.tfjs.name as 'wasm' | 'cpu');
    return {
      report: { engine: 'tfjs', detail: `tfjs ${opts.tfjs.name}, ${workers} worker threads`, reason: [] },
      encode: (px, size) => pool.encode(px, size),
      close: () => pool.close(),
    };
  }
  return {
    report: { engine: 'tfjs', detail: `tfjs ${opts.tfjs.name}, in-process`, reason: [] },
    encode: (px, size) => tfjsFeatures(backbone, px, size),
    close: async () => undefined,
  };
}

/** The backbone in this process: [size, size, 3] → [h, w, C]. Leaves no tensor behind. */
export async function tfjsFeatures(backbone: Backbone, px: Float32Array, size: number): Promise<FeatureEntry> {
  const out = tf.tidy(() => backbone.features(tf.tensor4d(px, [1, size, size, 3])));
  try {
    return { shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array };
  } finally {
    out.dispose();
  }
}
