// State the engine process keeps between requests: opened datasets, loaded backbones (with the encoder
// that computes their features: onnxruntime or tfjs, features/frozenEncoder.ts), samplers and feature caches, so
// browsing episodes after an evaluation reuses the features it computed.
import * as crypto from 'crypto';
import type { SegDataset } from '../data/dataset';
import { EpisodeSampler } from '../data/episodes';
import { openDataset } from '../data/open';
import { foldClasses } from '../data/splits';
import { FeatureCache } from '../features/featureCache';
import { panetMethod, type FewShotMethod } from '../fewshot/method';
import { createBackbone, type Backbone, type CreateBackboneOptions } from '../nets/backbone';
import { createEncoder, type Encoder, type InferencePreference } from '../features/frozenEncoder';
import type { BackendChoice } from '../backend';
import { engineCacheDir } from '../data/cachedir';
import type { DatasetRef, EpisodeSetRef, ModelRef } from '../../shared/engineProtocol';
import { checkpointBackboneOptions, loadTrainedModel } from '../train/load';
import { createPseudoMaskSource, WEAK_DEFAULTS, type PseudoMaskSource, type WeakConfig } from '../fewshot/weak/pseudoSource';

/** A backbone and the few-shot method on top of it: PANet for plain weights, or a checkpoint's own. */
export interface LoadedModel {
  backbone: Backbone;
  method: FewShotMethod;
  methodId: string;
  /** A checkpoint trained from image labels: the pseudo-mask parts it was trained with. */
  weak?: WeakConfig;
  /** How to rebuild the backbone elsewhere (tfjs encoder workers). */
  backboneOptions: CreateBackboneOptions;
  dispose(): void;
}

export interface SessionOptions {
  /** Dataset index caches (next to the data by default) and the engine's ONNX model cache. */
  cacheDir?: string;
  /** Frozen-feature engine (PROTOLAB_INFERENCE): auto | onnx | tfjs. */
  inference?: InferencePreference;
}

const key = (x: unknown) => crypto.createHash('sha1').update(JSON.stringify(x)).digest('hex');

/** Feature memory per (backbone, size) cache; the engine process is long-lived, so keep it modest. */
const FEATURE_BYTES = 1024 * 1024 * 1024;

export class Session {
  private readonly datasets = new Map<string, Promise<SegDataset>>();
  private readonly samplers = new Map<string, Promise<EpisodeSampler>>();
  private loaded?: { key: string; model: Promise<LoadedModel> };
  private readonly caches = new Map<string, FeatureCache>();
  private pseudoSource?: { key: string; source: Promise<PseudoMaskSource & { dispose(): void }> };
  private enc?: { model: Promise<LoadedModel>; encoder: Promise<Encoder> };

  constructor(readonly opts: SessionOptions = {}) {}

  get cacheDir(): string | undefined {
    return this.opts.cacheDir;
  }

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
          ds.indexProblems?.(set.list),
        );
      })();
      p.catch(() => this.samplers.delete(k));
      this.samplers.set(k, p);
    }
    return p;
  }

  /** One model at a time stays loaded (VGG-16 is 59 MB of weights); switching models replaces it. A
   *  checkpoint brings its own method and backbone (train/load.ts); plain weights mean PANet. */
  async model(ref: ModelRef): Promise<LoadedModel> {
    const k = key(ref.checkpoint ? { checkpoint: ref.checkpoint } : { id: ref.backbone ?? 'mobilenetv2', weights: ref.weights, seed: ref.initSeed ?? 1 });
    if (this.loaded?.key !== k) {
      const old = this.loaded?.model;
      const model: Promise<LoadedModel> = ref.checkpoint
        ? loadTrainedModel(ref.checkpoint).then((m) => ({
          backbone: m.backbone, method: m.method, methodId: m.meta.method, dispose: () => m.dispose(),
          backboneOptions: checkpointBackboneOptions(m.file, m.meta),
          weak: m.meta.config.supervision === 'image-labels' ? (m.meta.config.weak as WeakConfig | undefined) ?? WEAK_DEFAULTS : undefined,
        }))
        : (async () => {
          const backboneOptions: CreateBackboneOptions = { id: ref.backbone ?? 'mobilenetv2', weights: ref.weights, seed: ref.initSeed ?? 1 };
          const b = await createBackbone(backboneOptions);
          return { backbone: b, method: panetMethod, methodId: 'panet', backboneOptions, dispose: () => b.dispose() };
        })();
      model.catch(() => {
        if (this.loaded?.model === model) this.loaded = undefined; // retry next time
      });
      this.loaded = { key: k, model };
      const oldEncoder = this.enc?.model === old ? this.enc?.encoder : undefined;
      if (oldEncoder) this.enc = undefined;
      void (async () => {
        await oldEncoder?.then((e) => e.close()).catch(() => undefined);
        await old?.then((m) => m.dispose()).catch(() => undefined);
      })();
    }
    return this.loaded.model;
  }

  /** The encoder of the model `ref` names (the loaded one), created on first use and kept with it:
   *  onnxruntime in a worker thread when it loads, else tfjs in this process (features/frozenEncoder.ts). */
  async encoder(ref: ModelRef, tfjs: BackendChoice, log?: (line: string) => void): Promise<Encoder> {
    const model = this.model(ref);
    if (this.enc?.model !== model) {
      const encoder = model.then((m) =>
        createEncoder(m.backbone, {
          inference: this.opts.inference,
          tfjs,
          // the engine process encodes in-process on tfjs (it also serves quick requests meanwhile)
          workers: 1,
          backboneOptions: m.backboneOptions,
          cacheDir: engineCacheDir(this.opts.cacheDir),
          log,
        }),
      );
      encoder.catch(() => {
        if (this.enc?.encoder === encoder) this.enc = undefined;
      });
      this.enc = { model, encoder };
    }
    return this.enc.encoder;
  }

  /** Weak supervision (annotation 'pseudo'): the pseudo-mask pipeline `weak` describes (a weakly trained
   *  checkpoint's own parts, else the built-ins), loaded on first use and kept while the same parts are
   *  asked for, so the masks an evaluation made are the ones the episode view shows. */
  pseudo(ds: SegDataset, weak: WeakConfig = WEAK_DEFAULTS): Promise<PseudoMaskSource> {
    const k = key(weak);
    if (this.pseudoSource?.key !== k) {
      const old = this.pseudoSource?.source;
      const source = createPseudoMaskSource(weak, ds.classNames);
      source.catch(() => {
        if (this.pseudoSource?.source === source) this.pseudoSource = undefined;
      });
      this.pseudoSource = { key: k, source };
      old?.then((s) => s.dispose()).catch(() => undefined);
    }
    return this.pseudoSource.source;
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
