// Flags shared by commands that run a model: dataset opening, backbone and backend selection.
import * as fs from 'fs';
import * as path from 'path';
import { int, num, oneOf, required, type Options } from '../cli/args';
import { DataError, UsageError } from '../errors';
import { WEAK_DEFAULTS, type WeakConfig } from '../fewshot/weak/pseudoSource';
import type { SegDataset } from '../data/dataset';
import { openDataset } from '../data/open';
import { selectBackend, type BackendChoice } from '../backend';
import { BACKBONE_IDS, createBackbone, type Backbone, type BackboneId, type CreateBackboneOptions } from '../nets/backbone';
import { createEncoder, INFERENCE_CHOICES, type Encoder } from '../features/frozenEncoder';
import { engineCacheDir } from '../data/cachedir';
import { DEFAULT_MAX_PIXELS, parsePixelCount, setMaxImagePixels } from '../image/limits';

/** --max-pixels: the largest image (width × height) decoded; larger ones are refused from their header. */
export const limitOptions: Options = { 'max-pixels': { type: 'string' } };
export const limitHelp = `  --max-pixels N: refuse images larger than N pixels (width × height, e.g. 100M) from their header,
    before decoding (a decompression bomb); default ${DEFAULT_MAX_PIXELS} (${(DEFAULT_MAX_PIXELS / 1e6).toFixed(0)} MP).`;

/** Set the image size limit from --max-pixels (the default when absent: one command, one limit). */
export function applyLimitFlags(v: Values): void {
  setMaxImagePixels(typeof v['max-pixels'] === 'string' ? parsePixelCount(v['max-pixels']) : DEFAULT_MAX_PIXELS);
}

export const datasetOptions: Options = {
  data: { type: 'string' },
  dataset: { type: 'string' },
  images: { type: 'string' },
  crowd: { type: 'string' },
  'cache-dir': { type: 'string' },
  ...limitOptions,
};

export const modelOptions: Options = {
  backbone: { type: 'string' },
  weights: { type: 'string' },
  'init-seed': { type: 'string' },
  backend: { type: 'string' },
  'tfjs-node-path': { type: 'string' },
  'wasm-threads': { type: 'boolean' },
  inference: { type: 'string' },
  threads: { type: 'string' },
};

/** Help text for the inference flags (eval, segment). */
export const inferenceHelp = `  --inference auto|onnx|tfjs: the engine that computes (frozen) backbone features. auto (default): onnx
    (onnxruntime, the same network and weights as an ONNX graph, built once and cached under the cache
    folder) unless tfjs runs on a GPU; falls back to tfjs, saying why, when onnxruntime cannot load.
    --threads N: onnxruntime threads per encoder worker (default: all cores ÷ workers); --workers N:
    encoder worker threads (onnx default 1, tfjs-wasm default one per core). Training always runs on tfjs.`;

type Values = Record<string, unknown>;

export async function openDatasetFromFlags(v: Values, command: string): Promise<SegDataset> {
  applyLimitFlags(v);
  return openDataset({
    data: required(v, 'data', command),
    dataset: oneOf(v, 'dataset', ['voc', 'coco'] as const, 'voc'),
    images: v.images as string | undefined,
    cacheDir: v['cache-dir'] as string | undefined,
    crowd: oneOf(v, 'crowd', ['ignore', 'class'] as const, 'ignore'),
    onProgress: (file, done, total) => {
      if (done === 0 || done === total) process.stderr.write(`indexing ${file}: ${done}/${total}\n`);
    },
  });
}

export async function backendFromFlags(v: Values): Promise<BackendChoice> {
  return selectBackend({
    prefer: v.backend ? oneOf(v, 'backend', ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const, 'wasm') : undefined,
    tfjsNodePath: v['tfjs-node-path'] as string | undefined,
    wasmThreads: v['wasm-threads'] === true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

export function backboneOptionsFromFlags(v: Values, dflt: BackboneId): CreateBackboneOptions {
  return {
    id: oneOf(v, 'backbone', BACKBONE_IDS, dflt),
    weights: v.weights === undefined ? undefined : path.resolve(v.weights as string),
    seed: int(v, 'init-seed', 1),
  };
}

export function backboneFromFlags(v: Values, dflt: BackboneId): Promise<Backbone> {
  return createBackbone(backboneOptionsFromFlags(v, dflt));
}

/** The feature encoder the flags ask for (--inference, --threads, --workers), logged to stderr. */
export function encoderFromFlags(v: Values, backbone: Backbone, backboneOptions: CreateBackboneOptions, backend: BackendChoice, workers?: number): Promise<Encoder> {
  return createEncoder(backbone, {
    inference: oneOf(v, 'inference', INFERENCE_CHOICES, 'auto'),
    tfjs: backend,
    backboneOptions,
    workers,
    onnxWorkers: workers,
    threads: v.threads === undefined ? undefined : int(v, 'threads', 1, 1, 256),
    cacheDir: engineCacheDir(v['cache-dir'] as string | undefined),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

/** The episode-set flags every command that samples episodes takes. */
export const episodeOptions: Options = {
  split: { type: 'string' }, fold: { type: 'string' }, ways: { type: 'string' }, shots: { type: 'string' },
};

/** Weak supervision (image-level labels → pseudo masks): the pluggable parts of weak.ts, from flags. */
export const weakOptions: Options = {
  supervision: { type: 'string' },
  vectors: { type: 'string' },
  classifier: { type: 'string' },
  'classifier-classes': { type: 'string' },
  'no-saliency': { type: 'boolean' },
  'pseudo-threshold': { type: 'string' },
};

export const weakHelp = `  --supervision masks|image-labels: image-labels = weak supervision: each support (and, in training,
    each query) is known only by its class name; its mask is a pseudo mask made from Grad-CAM of a
    classifier (built-in: nsfwjs MobileNetV2; --classifier MODEL.json --classifier-classes NAMES.txt,
    one name per line in output order), weighted per CAM class by word similarity to the label
    (built-in: WordNet Wu-Palmer; --vectors FILE: GloVe/word2vec/fastText text), gated by a saliency
    map (built-in: feature contrast to the image border; --no-saliency: none) and thresholded
    (--pseudo-threshold 0.25).`;

/** The weak-supervision config the flags ask for, or undefined when supervision is by masks. */
export function weakConfigFromFlags(v: Values): WeakConfig | undefined {
  if (oneOf(v, 'supervision', ['masks', 'image-labels'] as const, 'masks') !== 'image-labels') {
    const given = Object.keys(weakOptions).filter((k) => k !== 'supervision' && v[k] !== undefined);
    if (given.length) throw new UsageError(`${given.map((k) => `--${k}`).join(' ')} only apply with --supervision image-labels`);
    return undefined;
  }
  const threshold = num(v, 'pseudo-threshold', WEAK_DEFAULTS.threshold);
  if (!(threshold > 0 && threshold <= 1)) throw new UsageError(`--pseudo-threshold must be in (0, 1] (got ${threshold})`);
  let classifier: WeakConfig['classifier'];
  if (v.classifier !== undefined || v['classifier-classes'] !== undefined) {
    const modelJson = required(v, 'classifier', 'weak supervision');
    const namesFile = path.resolve(required(v, 'classifier-classes', 'weak supervision (--classifier needs its class names)'));
    let text: string;
    try {
      text = fs.readFileSync(namesFile, 'utf8');
    } catch (e) {
      throw new DataError(namesFile, `cannot read the classifier's class names: ${(e as Error).message}`);
    }
    const names = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    if (!names.length) throw new DataError(namesFile, 'no class names in it (one per line expected)');
    classifier = { modelJson: path.resolve(modelJson), classNames: names };
  }
  return {
    ...(typeof v.vectors === 'string' ? { vectors: path.resolve(v.vectors) } : {}),
    ...(classifier ? { classifier } : {}),
    saliency: v['no-saliency'] !== true,
    threshold,
  };
}
