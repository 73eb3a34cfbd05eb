// State the engine process keeps between requests: opened datasets, loaded backbones, samplers and
// feature caches, so browsing episodes after an evaluation reuses the features it computed.
import * as crypto from 'crypto';
import type { SegDataset } from '../data/dataset';
import { EpisodeSampler } from '../data/episodes';
import { openDataset } from '../data/open';
import { foldClasses } from '../data/splits';
import { FeatureCache } from '../eval/featureCache';
import { createBackbone, type Backbone } from '../nets/backbone';
import type { DatasetRef, EpisodeSetRef, ModelRef } from '../protocol';
import { UsageError } from '../errors';

const key = (x: unknown) => crypto.createHash('sha1').update(JSON.stringify(x)).digest('hex');

/** Feature memory per (backbone, size) cache; the engine process is long-lived, so keep it modest. */
const FEATURE_BYTES = 1024 * 1024 * 1024;

export class Session {
  private readonly datasets = new Map<string, Promise<SegDataset>>();
  private readonly samplers = new Map<string, Promise<EpisodeSampler>>();
  private backbone?: { key: string; model: Promise<Backbone> };
  private readonly caches = new Map<string, FeatureCache>();

  constructor(readonly cacheDir?: string) {}

  dataset(ref: DatasetRef): Promise<SegDataset> {
    const k = key([ref.data, ref.dataset, ref.images ?? '', ref.crowd ?? 'ignore']);
    let p = this.datasets.get(k);
    if (!p) {
      p = openDataset({ data: ref.data, dataset: ref.dataset, images: ref.images, crowd: ref.crowd, cacheDir: this.cacheDir });
      p.catch(() => this.datasets.delete(k)); // a failed open is retried next time (the user may fix the files)
      this.datasets.set(k, p);
    }
    return p;
  }

  sampler(set: EpisodeSetRef): Promise<EpisodeSampler> {
    const k = key(set);
    let p = this.samplers.get(k);
    if (!p) {
      p = (async () => {
        const ds = await this.dataset(set);
        const classes = foldClasses(ds.kind, ds.classNames.length - 1, set.fold, set.split);
        const index = await ds.index(set.list);
        return new EpisodeSampler(
          { fold: set.fold, classes, ways: set.ways, shots: set.shots, queriesPerClass: 1, seed: set.seed, list: set.list, minPixels: set.minPixels ?? 1 },
          index,
        );
      })();
      p.catch(() => this.samplers.delete(k));
      this.samplers.set(k, p);
    }
    return p;
  }

  /** One backbone at a time stays loaded (VGG-16 is 59 MB of weights); switching models replaces it. */
  async model(ref: ModelRef): Promise<Backbone> {
    if (ref.checkpoint) throw new UsageError('checkpoints are evaluated through the trainer\'s registry (not wired into the engine process yet)');
    const opts = { id: ref.backbone ?? 'mobilenetv2', weights: ref.weights, seed: ref.initSeed ?? 1 } as const;
    const k = key(opts);
    if (this.backbone?.key !== k) {
      const old = this.backbone?.model;
      this.backbone = { key: k, model: createBackbone(opts) };
      old?.then((b) => b.dispose()).catch(() => undefined);
    }
    return this.backbone.model;
  }

  featureCache(backbone: Backbone, size: number): FeatureCache {
    const k = `${backbone.id}:${backbone.weightsHash}:${size}`;
    let c = this.caches.get(k);
    if (!c) {
      // Only the current model's caches are worth their memory.
      for (const old of this.caches.keys()) if (!old.startsWith(`${backbone.id}:${backbone.weightsHash}:`)) this.caches.delete(old);
      c = new FeatureCache(FEATURE_BYTES);
      this.caches.set(k, c);
    }
    return c;
  }
}
