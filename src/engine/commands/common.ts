// Flags shared by commands that run a model: dataset opening, backbone and backend selection.
import * as path from 'path';
import { int, oneOf, required, type Options } from '../cli/args';
import type { SegDataset } from '../data/dataset';
import { openDataset } from '../data/open';
import { selectBackend, type BackendChoice } from '../backend';
import { createBackbone, type Backbone, type CreateBackboneOptions } from '../nets/backbone';

export const datasetOptions: Options = {
  data: { type: 'string' },
  dataset: { type: 'string' },
  images: { type: 'string' },
  crowd: { type: 'string' },
  'cache-dir': { type: 'string' },
};

export const modelOptions: Options = {
  backbone: { type: 'string' },
  weights: { type: 'string' },
  'init-seed': { type: 'string' },
  backend: { type: 'string' },
  'tfjs-node-path': { type: 'string' },
  'wasm-threads': { type: 'boolean' },
};

type Values = Record<string, unknown>;

export async function openDatasetFromFlags(v: Values, command: string): Promise<SegDataset> {
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

export function backboneOptionsFromFlags(v: Values, dflt: 'vgg16' | 'mobilenetv2'): CreateBackboneOptions {
  return {
    id: oneOf(v, 'backbone', ['vgg16', 'mobilenetv2'] as const, dflt),
    weights: v.weights === undefined ? undefined : path.resolve(v.weights as string),
    seed: int(v, 'init-seed', 1),
  };
}

export function backboneFromFlags(v: Values, dflt: 'vgg16' | 'mobilenetv2'): Promise<Backbone> {
  return createBackbone(backboneOptionsFromFlags(v, dflt));
}
