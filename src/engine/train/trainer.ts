// The episodic trainer (PANet §4 "Implementation details"; official train.py), for any TrainableMethod:
//  - episodes: N-way K-shot from the fold's BASE classes (every class not in the fold) on the training
//    list. Novel-class pixels in training images become background, as in PANet: episode labels map every
//    class that is not an episode class to 0 (toEpisodeLabels, denseAnnotation), and novel classes are
//    never episode classes here.
//  - step s uses episode s of the seeded sampler (random access) and its own RNG stream for the flips
//    and the method, and lr(s) from the schedule: a step depends on nothing but (s, parameters, momentum),
//    so a run resumed from a checkpoint continues the same loss curve.
//  - random horizontal flip of every image with its mask (official RandomMirror, per image);
//  - SGD momentum 0.9, weight decay 5e-4, lr 1e-3 × 0.1 at the milestones (optimizer.ts, schedule.ts);
//  - end-to-end: image → backbone → method loss inside one gradient tape, the backbone's and the method's
//    parameters updated; frozen backbone: features from the feature cache are constants, only the
//    method's own parameters train (PANet has none, so there is nothing to train: refused).
//  - checkpoints every N steps, at the end and on cancel (checkpoint.ts, runDir.ts); metrics JSONL;
//    validation mIoU on the NOVEL classes (the fold's own) through evaluate().
//  - weak supervision (supervision 'image-labels', Pixel-Level Meta-Learner): masks serve only as each
//    image's label set (which classes it holds). Each support's annotation is the pseudo mask of its
//    class; each query's labels come from the pseudo masks of the episode classes it is labelled with
//    (pseudoLabels.ts). Both are made from the image as the network sees it (resized, flipped).
//    Validation is weakly supervised as well.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetKind, ListName, SegDataset } from '../data/dataset';
import { EpisodeSampler, type Episode } from '../data/episodes';
import { baseClasses, type SplitConvention } from '../data/splits';
import { DataError, TrainingDivergedError, UsageError } from '../errors';
import { isStorageError } from '../storageError';
import { evaluate, type EvalSettings } from '../eval/evaluate';
import { FeatureCache, featureKey, fileContentHash, type FeatureEntry } from '../features/featureCache';
import { denseAnnotation, type SupportAnnotation } from '../fewshot/annotations';
import { pseudoEpisodeLabels } from '../fewshot/weak/pseudoLabels';
import { createPseudoMaskSource, pseudoImageKey, WEAK_DEFAULTS, type PseudoMaskSource, type WeakConfig } from '../fewshot/weak/pseudoSource';
import { toEpisodeLabels } from '../fewshot/panet';
import { createMethod, isMethodId, METHODS, storedMethodConfig, type MethodId } from '../fewshot/registry';
import type { TrainableMethod, TrainEpisode } from '../fewshot/trainable';
import { ensureGradients } from '../gradients';
import { resizeMaskNearest, resizeRgb } from '../image/resize';
import { createBackbone, type Backbone, type BackboneId } from '../nets/backbone';
import { BACKBONE_PREFIX } from '../nets/weights';
import { Rng } from '../prng';
import type { IndexMask } from '../types';
import {
  HEAD_PREFIX, OPTIM_PREFIX, readTrainMeta, restoreVariables, tensorNames, TRAIN_CHECKPOINT_VERSION, writeTrainCheckpoint,
  type DataFingerprint, type TrainCheckpointMeta,
} from './checkpoint';
import { DivergenceGuard } from './divergence';
import { MetricsLog, type TrainRow, type ValRow } from './log';
import { checkpointPath, CONFIG_FILE, isRunDir, LATEST_FILE, latestCheckpoint, listCheckpoints, LOCK_FILE, METRICS_FILE, readJson, removeTempFiles, writeJson, writeLatest } from './runDir';
import { acquireLock, type FileLock } from '../lock';
import { lrAt } from './schedule';
import { SgdMomentum } from './optimizer';
import { LruMap } from '../features/lruMap';

export interface TrainConfig {
  method: MethodId;
  /** The method's own settings (PANet: { par: λ }); completed by the method's defaults at start. */
  methodConfig: Record<string, unknown>;
  dataset: DatasetKind;
  split: SplitConvention;
  fold: number;
  ways: number;
  shots: number;
  queriesPerClass: number;
  /** Training list (VOC: trainaug when present, else train; COCO: train). */
  list: ListName;
  minPixels: number;
  steps: number;
  /** Seed of the episode stream, the flips and the method's per-step randomness. */
  seed: number;
  size: number;
  lr: number;
  /** Steps at which the rate is multiplied by lrGamma (PANet: 10000, 20000). */
  lrSteps: number[];
  lrGamma: number;
  momentum: number;
  weightDecay: number;
  flip: boolean;
  /** Train only the method's own parameters on cached features. Default: what the method's paper does. */
  freezeBackbone: boolean;
  backbone: BackboneId;
  /** Backbone weights file (torchvision/timm/PANet VGG-16, or a ProtoLab checkpoint's backbone). */
  weights?: string;
  /** A ProtoLab training checkpoint to start from (backbone + head when the method matches). */
  init?: string;
  /** Seed of random initialisation (backbone without weights; the method's own parameters). */
  initSeed: number;
  /** 'image-labels': weak supervision from pseudo masks (see the header); 'masks': dense masks. */
  supervision: 'masks' | 'image-labels';
  /** The pseudo-mask pipeline (supervision 'image-labels'). */
  weak?: WeakConfig;
  /**
   * Stop when a loss exceeds this many times its level (divergence.ts); a non-finite loss always stops.
   * 0 = only non-finite losses stop. Runs from before this setting existed get the default on resume.
   */
  divergeFactor: number;
  /** 0 = only at the end (and on cancel). */
  checkpointEvery: number;
  /** 0 = no periodic validation. */
  valEvery: number;
  valEpisodes: number;
  valList: ListName;
  valSeed: number;
}

/** PANet's published settings; everything else a caller must say (fold, ways, shots, …). */
export const TRAIN_DEFAULTS = {
  method: 'panet',
  methodConfig: {},
  split: 'panet',
  queriesPerClass: 1,
  minPixels: 1,
  steps: 30000,
  seed: 1234,
  size: 417,
  lr: 1e-3,
  lrSteps: [10000, 20000],
  lrGamma: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  flip: true,
  backbone: 'vgg16',
  initSeed: 1,
  supervision: 'masks',
  divergeFactor: 10,
  checkpointEvery: 1000,
  valEvery: 1000,
  valEpisodes: 100,
  valList: 'val',
  valSeed: 1234,
} as const satisfies Partial<TrainConfig>;

export type TrainConfigInput = Partial<TrainConfig> & Pick<TrainConfig, 'dataset' | 'fold' | 'ways' | 'shots'>;

/** Fill defaults; the list defaults to trainaug where the dataset has it (VOC), else train. */
export function resolveTrainConfig(input: TrainConfigInput, ds: SegDataset): TrainConfig {
  const lists = ds.lists();
  const list: ListName = input.list ?? (lists.includes('trainaug') ? 'trainaug' : 'train');
  const method = input.method ?? TRAIN_DEFAULTS.method;
  const cfg: TrainConfig = {
    ...TRAIN_DEFAULTS,
    lrSteps: [...TRAIN_DEFAULTS.lrSteps],
    methodConfig: {},
    // each method's paper says whether the backbone trains (the pixel-level meta-learner: frozen)
    freezeBackbone: isMethodId(method) ? METHODS[method].frozenBackbone : false,
    ...stripUndefined(input),
    list,
  } as TrainConfig;
  if (!lists.includes(cfg.list)) throw new UsageError(`the dataset has no '${cfg.list}' list (it has ${lists.join(', ')})`);
  if (!(cfg.steps >= 1)) throw new UsageError('--steps must be at least 1');
  if (!(cfg.lr > 0)) throw new UsageError('--lr must be > 0');
  if (!(cfg.divergeFactor >= 0)) throw new UsageError('--diverge-factor must be ≥ 0 (0: stop only on a non-finite loss)');
  if (cfg.weights && cfg.init) throw new UsageError('give --init CKPT or --weights FILE, not both');
  if (cfg.supervision === 'image-labels') cfg.weak = { ...WEAK_DEFAULTS, ...(cfg.weak ?? {}) };
  else if (cfg.weak) throw new UsageError('weak-supervision settings given, but supervision is by masks');
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface StepRecord extends TrainRow {}
export interface ValRecord extends ValRow {}

export interface TrainerOptions {
  /** Where config, metrics and checkpoints go; undefined: nothing is written (tests, benchmarks). */
  runDir?: string;
  backendName: string;
  /** Build the backbone (default: createBackbone from the config). The trainer owns what it returns. */
  makeBackbone?: (cfg: TrainConfig) => Promise<Backbone>;
  /** Weak supervision: the pseudo-mask source (default: built from config.weak). The trainer does not dispose a given one. */
  pseudo?: PseudoMaskSource;
  /** Feature-cache budget for the frozen mode and validation (bytes). */
  featureBytes?: number;
  log?: (line: string) => void;
}

export interface TrainHooks {
  signal?: AbortSignal;
  onStep?: (r: StepRecord) => void;
  onValidation?: (r: ValRecord) => void;
  onCheckpoint?: (file: string, step: number) => void;
}

export interface TrainOutcome {
  step: number;
  cancelled: boolean;
  checkpoint?: string;
}

interface StepImage {
  id: string;
  flip: boolean;
  /** size×size×3, 0..255, flipped when `flip` */
  px: Float32Array;
  mask: IndexMask;
}

/** Bytes of resized training images (and masks) kept in memory between steps. */
const IMAGE_BYTES = 512 * 1024 * 1024;

export class Trainer {
  private stepsDone = 0;
  private lastCheckpointStep = -1;
  private readonly sampler: EpisodeSampler;
  private readonly optimizer: SgdMomentum;
  /** Trained parameters by checkpoint key ('backbone.x' / 'head.x'). */
  private readonly trained: Record<string, tf.Variable>;
  private readonly images = new LruMap<string, { px: Float32Array; mask: IndexMask }>({ maxBytes: IMAGE_BYTES });
  private readonly features: FeatureCache;
  private readonly metrics?: MetricsLog;
  private readonly guard: DivergenceGuard;
  /** The run folder's lock (lock.ts), held from create/resume to dispose. */
  private lock?: FileLock;

  private constructor(
    readonly ds: SegDataset,
    readonly config: TrainConfig,
    readonly backbone: Backbone,
    readonly method: TrainableMethod,
    readonly data: DataFingerprint,
    index: Awaited<ReturnType<SegDataset['index']>>,
    private readonly opts: TrainerOptions,
    /** Weak supervision: where pseudo masks come from (undefined: supervision by masks). */
    private readonly pseudo?: PseudoMaskSource,
    /** The pseudo-mask source this trainer made itself, and so frees. */
    private readonly ownPseudo?: { dispose(): void },
  ) {
    this.sampler = new EpisodeSampler(
      {
        fold: config.fold, classes: data.classes, ways: config.ways, shots: config.shots, queriesPerClass: config.queriesPerClass,
        seed: config.seed, list: config.list, minPixels: config.minPixels,
      },
      index,
      ds.indexProblems?.(config.list),
    );
    // What the reader left out, and classes too rare for a way, are said once (they never silently shrink the task).
    for (const p of ds.indexProblems?.(config.list) ?? []) opts.log?.(`input problem, left out: ${p.file}: ${p.problem}`);
    if (this.sampler.leftOut.length) {
      opts.log?.(`class(es) with too few ${config.list} images for ${config.shots}-shot episodes, never drawn: ` +
        this.sampler.leftOut.map((c) => `${c.cls} ${ds.classNames[c.cls] ?? ''} (${c.images} of ${c.needed})`).join(', '));
    }
    this.trained = {};
    if (!config.freezeBackbone) for (const [n, v] of Object.entries(backbone.params ?? {})) this.trained[BACKBONE_PREFIX + n] = v;
    for (const [n, v] of Object.entries(method.params)) this.trained[HEAD_PREFIX + n] = v;
    this.optimizer = new SgdMomentum(this.trained, { momentum: config.momentum, weightDecay: config.weightDecay });
    this.features = new FeatureCache(opts.featureBytes ?? 1024 ** 3);
    if (opts.runDir) this.metrics = new MetricsLog(path.join(opts.runDir, METRICS_FILE));
    this.guard = new DivergenceGuard(config.divergeFactor ?? TRAIN_DEFAULTS.divergeFactor);
  }

  /** Steps done so far (the next step's index). */
  get step(): number {
    return this.stepsDone;
  }

  /** A fresh run. With a runDir, it must not hold a run already (use resume). */
  static async create(ds: SegDataset, cfg: TrainConfig, opts: TrainerOptions): Promise<Trainer> {
    // The run folder is locked first (two windows starting the same --out), then checked for a run.
    const lock = opts.runDir ? acquireLock(path.join(opts.runDir, LOCK_FILE), 'training', opts.runDir) : undefined;
    let t: Trainer;
    try {
      if (opts.runDir && isRunDir(opts.runDir)) {
        throw new UsageError(`${opts.runDir} already holds a training run; continue it with --resume ${opts.runDir} or choose another --out`);
      }
      t = await Trainer.build(ds, cfg, opts);
    } catch (e) {
      lock?.release();
      throw e;
    }
    t.lock = lock;
    try {
      if (cfg.init) t.loadInit(cfg.init);
      if (opts.runDir) {
        fs.mkdirSync(opts.runDir, { recursive: true });
        writeJson(path.join(opts.runDir, CONFIG_FILE), t.runConfigJson());
      }
      return t;
    } catch (e) {
      t.dispose();
      throw e;
    }
  }

  /**
   * Continue a run from its latest checkpoint: same config (steps may be raised), parameters and momentum
   * restored exactly, metrics rows after the checkpoint dropped (they are produced again).
   */
  static async resume(ds: SegDataset, runDir: string, opts: Omit<TrainerOptions, 'runDir'> & { steps?: number }): Promise<Trainer> {
    if (!isRunDir(runDir)) throw new DataError(runDir, `not a training run (no ${CONFIG_FILE})`);
    const saved = readJson<{ config: TrainConfig; data: DataFingerprint }>(path.join(runDir, CONFIG_FILE));
    const cfg: TrainConfig = {
      ...saved.config,
      methodConfig: storedMethodConfig(saved.config.method, saved.config.methodConfig ?? {}),
      steps: opts.steps ?? saved.config.steps,
    };
    if (saved.data.fingerprint !== ds.fingerprint) {
      throw new DataError(ds.root, `the dataset changed since the run started (fingerprint ${ds.fingerprint}, the run recorded ${saved.data.fingerprint}); an exact resume needs the same data`);
    }
    const lock = acquireLock(path.join(runDir, LOCK_FILE), 'training', runDir);
    let t: Trainer;
    try {
      t = await Trainer.build(ds, cfg, { ...opts, runDir });
    } catch (e) {
      lock.release();
      throw e;
    }
    t.lock = lock;
    try {
      // With the lock held, a temp file in the run is what a killed writer left: never a checkpoint.
      const stale = removeTempFiles(runDir);
      if (stale.length) t.opts.log?.(`removed ${stale.length} unfinished file(s) a stopped run left behind: ${stale.map((f) => path.relative(runDir, f)).join(', ')}`);
      const latest = latestCheckpoint(runDir);
      if (latest) t.loadState(latest.file);
      else if (cfg.init) t.loadInit(cfg.init); // cancelled before its first checkpoint: start over
      t.metrics?.truncateAfter(t.stepsDone);
      // The guard judges the next losses exactly as it would have without the interruption.
      for (const r of t.metrics?.read() ?? []) if (r.kind === 'train') t.guard.accept(r.loss);
      if (cfg.steps !== saved.config.steps) writeJson(path.join(runDir, CONFIG_FILE), t.runConfigJson());
      return t;
    } catch (e) {
      t.dispose();
      throw e;
    }
  }

  private static async build(ds: SegDataset, cfg: TrainConfig, opts: TrainerOptions): Promise<Trainer> {
    ensureGradients();
    if (ds.kind !== cfg.dataset) throw new UsageError(`the run is for a ${cfg.dataset} dataset, the data given is ${ds.kind}`);
    if (cfg.freezeBackbone && METHODS[cfg.method].backboneOnly) {
      throw new UsageError(
        `${cfg.method} has no parameters of its own: with --freeze-backbone there is nothing to train. ` +
          'Train it end to end (drop --freeze-backbone), or choose a method with a trainable head: --method metasegnet or --method pixelmeta',
      );
    }
    const backbone = await (opts.makeBackbone ?? defaultBackbone)(cfg);
    let method: TrainableMethod | undefined;
    let own: (PseudoMaskSource & { dispose(): void }) | undefined;
    try {
      if (!cfg.freezeBackbone && !backbone.params) {
        throw new UsageError(`the ${backbone.id} backbone has no trainable parameters here; train with --freeze-backbone (and a method with its own parameters) or use --backbone vgg16`);
      }
      method = createMethod(cfg.method, cfg.methodConfig, backbone.channels, cfg.initSeed);
      const resolved: TrainConfig = { ...cfg, methodConfig: method.config() };
      const numClasses = ds.classNames.length - 1;
      const classes = baseClasses(ds.kind, numClasses, cfg.fold, cfg.split);
      const data: DataFingerprint = { kind: ds.kind, root: ds.root, fingerprint: ds.fingerprint, fold: cfg.fold, split: cfg.split, list: cfg.list, classes };
      const index = await ds.index(cfg.list);
      const weak = cfg.supervision === 'image-labels';
      if (weak && !opts.pseudo) own = await createPseudoMaskSource(cfg.weak ?? WEAK_DEFAULTS, ds.classNames);
      return new Trainer(ds, resolved, backbone, method, data, index, opts, weak ? opts.pseudo ?? own : undefined, own);
    } catch (e) {
      own?.dispose();
      method?.dispose();
      backbone.dispose();
      throw e;
    }
  }

  private runConfigJson(): Record<string, unknown> {
    return {
      tool: 'protolab',
      kind: 'train-run',
      config: this.config,
      data: this.data,
      backbone: { id: this.backbone.id, weightsHash: this.backbone.weightsHash, weightsSource: this.backbone.weightsSource },
      backend: this.opts.backendName,
    };
  }

  /** --init: the backbone came from the file already (createBackbone); the head too when the method matches. */
  private loadInit(file: string): void {
    const meta = readTrainMeta(file);
    const head = Object.keys(this.method.params);
    // A head learnt on another backbone's features means nothing on these, even when the channels agree.
    if (meta.method === this.config.method && head.length && meta.backbone !== this.backbone.id) {
      throw new DataError(file, `a ${meta.method} checkpoint of backbone '${meta.backbone}'; this run trains on '${this.backbone.id}', whose features its head never saw`);
    }
    if (meta.method === this.config.method && head.length) restoreVariables(file, HEAD_PREFIX, this.method.params);
    else if (head.length) this.opts.log?.(`--init ${file}: a ${meta.method} checkpoint; the ${this.config.method} head starts from its own initialisation`);
  }

  private loadState(file: string): void {
    const meta = readTrainMeta(file);
    if (meta.method !== this.config.method) throw new DataError(file, `checkpoint of method '${meta.method}', the run trains '${this.config.method}'`);
    if (this.backbone.params && tensorNames(file, BACKBONE_PREFIX).length) restoreVariables(file, BACKBONE_PREFIX, this.backbone.params);
    restoreVariables(file, HEAD_PREFIX, this.method.params);
    restoreVariables(file, OPTIM_PREFIX, this.optimizer.buffers);
    this.stepsDone = meta.step;
    this.lastCheckpointStep = meta.step;
  }

  // -------------------------------------------------------------------------------------------
  // one step

  /** The images of step s's episode at the input size, flipped per the step's RNG. */
  private async stepInputs(s: number): Promise<{ ep: Episode; images: StepImage[]; rng: Rng }> {
    const ep = this.sampler.episode(0, s);
    const rng = new Rng(this.config.seed).fork(`train-step:${s}`);
    const flipRng = rng.fork('flip');
    const ids = [...ep.supports.flat(), ...ep.queries];
    const flips = ids.map(() => this.config.flip && flipRng.next() < 0.5);
    const images = await Promise.all(ids.map(async (id, i) => {
      const im = await this.resized(id);
      return flips[i] ? { id, flip: true, ...flipImage(im.px, im.mask, this.config.size) } : { id, flip: false, ...im };
    }));
    return { ep, images, rng: rng.fork('method') };
  }

  private async resized(id: string): Promise<{ px: Float32Array; mask: IndexMask }> {
    const hit = this.images.get(id);
    if (hit) return hit;
    const n = this.config.size;
    const [img, mask] = await Promise.all([this.ds.loadImage(id), this.ds.loadMask(id)]);
    const entry = { px: await resizeRgb(img, n, n), mask: resizeMaskNearest(mask, n, n) };
    this.images.set(id, entry, entry.px.byteLength + entry.mask.data.byteLength);
    return entry;
  }

  /** Frozen-backbone features of one (possibly flipped) image, through the feature cache. */
  private async frozenFeatures(im: StepImage): Promise<FeatureEntry> {
    const key = featureKey({
      imageHash: await fileContentHash(this.ds.imagePath(im.id)).catch(() => `id:${im.id}`),
      size: this.config.size,
      backbone: this.backbone.id,
      weightsHash: this.backbone.weightsHash,
      variant: im.flip ? 'hflip' : '',
    });
    return this.features.get(key, async () => {
      const out = tf.tidy(() => this.backbone.features(tf.tensor4d(im.px, [1, this.config.size, this.config.size, 3])));
      try {
        return { shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array };
      } finally {
        out.dispose();
      }
    });
  }

  /** One SGD update on episode `step`. Leaves no tensor behind. */
  async trainStep(): Promise<StepRecord> {
    const s = this.stepsDone;
    const t0 = performance.now();
    const { ep, images, rng } = await this.stepInputs(s).catch((e: unknown) => {
      throw e instanceof DataError && !isStorageError(e) ? new SkippedStep(s + 1, e) : e;
    });
    const n = this.config.size;
    const classes = ep.classes;
    const nSupport = ep.supports.flat().length;
    const { annotations, labels } = this.pseudo
      ? await this.weakTargets(ep, images, this.pseudo)
      : {
        annotations: ep.supports.map((way, j) => way.map((_, k) => denseAnnotation(images[this.supportIndex(ep, j, k)].mask, classes[j], classes))),
        labels: ep.queries.map((_, q) => toEpisodeLabels(images[nSupport + q].mask, classes)),
      };
    const lr = lrAt(s, { lr: this.config.lr, milestones: this.config.lrSteps, gamma: this.config.lrGamma });

    const constants: tf.Tensor[] = [];
    const kept: Record<string, tf.Scalar> = {};
    let value: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap = {};
    try {
      let frozen: tf.Tensor4D[] | undefined;
      if (this.config.freezeBackbone) {
        const entries = await Promise.all(images.map((im) => this.frozenFeatures(im)));
        frozen = entries.map((e) => tf.tensor4d(e.data, [1, ...e.shape]));
        constants.push(...frozen);
      }
      const vars = Object.values(this.trained);
      ({ value, grads } = tf.variableGrads(() => {
        // End to end: all images of the episode through the backbone as one batch, inside the tape.
        const feats = frozen ?? this.encode(images);
        const episode: TrainEpisode = {
          classes,
          support: ep.supports.map((way, j) => way.map((_, k) => ({ feat: feats[this.supportIndex(ep, j, k)], annotation: annotations[j][k] }))),
          query: labels.map((l, q) => ({ feat: feats[nSupport + q], labels: l })),
          outSize: [n, n],
          rng,
        };
        const out = this.method.loss(episode);
        for (const [k, v] of Object.entries(out.parts)) kept[k] = tf.keep(v);
        return out.total;
      }, vars));
      const loss = (await value.data())[0];
      // Gradients by checkpoint key (variableGrads keys them by tfjs variable name).
      const byKey: Record<string, tf.Tensor> = {};
      for (const [key, v] of Object.entries(this.trained)) if (grads[v.name]) byKey[key] = grads[v.name];
      const gradNorm = await globalNorm(Object.values(byKey));
      // Judge the loss (and the gradient) BEFORE the update: a diverged step changes nothing.
      const reason = this.guard.check(loss) ?? (Number.isFinite(gradNorm) ? undefined : `the gradient norm is ${gradNorm}`);
      if (reason) throw this.diverged(s + 1, ep.id, loss, reason);
      this.guard.accept(loss);
      const parts: Record<string, number> = {};
      for (const [k, v] of Object.entries(kept)) parts[k] = (await v.data())[0];
      this.optimizer.step(byKey, lr);
      this.stepsDone = s + 1;
      const row: StepRecord = { kind: 'train', step: s + 1, loss, parts, lr, ms: Math.round(performance.now() - t0), episode: ep.id, gradNorm };
      this.metrics?.append(row);
      return row;
    } finally {
      tf.dispose(constants);
      tf.dispose(Object.values(kept));
      value?.dispose();
      tf.dispose(Object.values(grads));
    }
  }

  /**
   * Step `step`'s loss diverged. Its parameters (after step − 1 updates) are suspect, so a checkpoint of
   * exactly them, written at the end of the previous step, is removed and latest.json falls back to the
   * checkpoint before it: the run never names a diverged model as its latest. The metrics log gets a
   * 'diverged' row (the Runs view and chart show it).
   */
  private diverged(step: number, episode: string, loss: number, reason: string): TrainingDivergedError {
    let lastGood: { step: number; file: string } | undefined;
    const dir = this.opts.runDir;
    if (dir) {
      const all = listCheckpoints(dir);
      for (const c of all.filter((c) => c.step >= step - 1)) fs.rmSync(c.file, { force: true });
      const good = all.filter((c) => c.step < step - 1).pop();
      if (good) {
        writeLatest(dir, good.step, good.file);
        lastGood = good;
      } else {
        fs.rmSync(path.join(dir, LATEST_FILE), { force: true });
      }
      this.lastCheckpointStep = lastGood?.step ?? -1;
      this.metrics?.append({
        kind: 'diverged', step, loss: Number.isFinite(loss) ? loss : null, reason: `${reason} (episode ${episode})`,
        ...(lastGood ? { checkpoint: path.relative(dir, lastGood.file), checkpointStep: lastGood.step } : {}),
      });
    }
    return new TrainingDivergedError(step, loss, `${reason} (episode ${episode})`, lastGood);
  }

  /**
   * Weak supervision: support annotations and query labels from pseudo masks of the images as the network
   * sees them. The image-level labels of a query are the episode classes present in it (its label set).
   */
  private async weakTargets(ep: Episode, images: StepImage[], src: PseudoMaskSource): Promise<{ annotations: SupportAnnotation[][]; labels: Uint8Array[] }> {
    const n = this.config.size;
    const pm = (im: StepImage, cls: number) => src.mask(
      pseudoImageKey(this.ds.imagePath(im.id), n, im.flip),
      async () => ({ width: n, height: n, data: Uint8Array.from(im.px) }),
      this.ds.classNames[cls],
    );
    const annotations: SupportAnnotation[][] = [];
    for (let j = 0; j < ep.supports.length; j++) {
      const way: SupportAnnotation[] = [];
      for (let k = 0; k < ep.supports[j].length; k++) way.push((await pm(images[this.supportIndex(ep, j, k)], ep.classes[j])).annotation);
      annotations.push(way);
    }
    const nSupport = ep.supports.flat().length, threshold = src.describe().threshold;
    const labels: Uint8Array[] = [];
    for (let q = 0; q < ep.queries.length; q++) {
      const im = images[nSupport + q];
      const present = new Set(im.mask.data);
      const masks = await Promise.all(ep.classes.map((c) => (present.has(c) ? pm(im, c) : Promise.resolve(null))));
      labels.push(pseudoEpisodeLabels(masks, n * n, threshold));
    }
    return { annotations, labels };
  }

  private supportIndex(ep: Episode, way: number, shot: number): number {
    let i = 0;
    for (let j = 0; j < way; j++) i += ep.supports[j].length;
    return i + shot;
  }

  /** Backbone features of every image, [1, h, w, C] each, differentiable in the backbone's parameters. */
  private encode(images: StepImage[]): tf.Tensor4D[] {
    const n = this.config.size;
    const px = new Float32Array(images.length * n * n * 3);
    images.forEach((im, i) => px.set(im.px, i * n * n * 3));
    const f = this.backbone.features(tf.tensor4d(px, [images.length, n, n, 3]));
    return images.map((_, i) => tf.slice(f, [i, 0, 0, 0], [1, -1, -1, -1]));
  }

  // -------------------------------------------------------------------------------------------
  // validation, checkpoints, the loop

  /** mIoU on the fold's NOVEL classes over valEpisodes episodes (one run) of the validation list. */
  async validate(signal?: AbortSignal): Promise<ValRecord | undefined> {
    const t0 = performance.now();
    const c = this.config;
    const settings: EvalSettings = {
      method: this.method.id, dataset: c.dataset, split: c.split, fold: c.fold, ways: c.ways, shots: c.shots,
      episodes: c.valEpisodes, runs: 1, seed: c.valSeed, size: c.size, list: c.valList, annotation: this.pseudo ? 'pseudo' : 'dense',
      minPixels: c.minPixels, queriesPerClass: 1,
    };
    // A frozen backbone's features never change: validations share the trainer's cache. End to end, the
    // backbone changes every step, so each validation encodes afresh (evaluate's own cache).
    const r = await evaluate(this.ds, this.backbone, this.method, settings, this.opts.backendName, {
      signal,
      featureCache: c.freezeBackbone ? this.features : undefined,
      featureBytes: this.opts.featureBytes ?? 1024 ** 3,
      pseudo: this.pseudo,
    });
    if (!r.complete) return undefined; // cancelled midway: no half-measured row
    const row: ValRecord = { kind: 'val', step: this.stepsDone, miou: r.miou, fbiou: r.fbiou, episodes: r.episodesScored, ms: Math.round(performance.now() - t0) };
    this.metrics?.append(row);
    return row;
  }

  /** Everything a checkpoint holds, as of now. */
  checkpointMeta(): TrainCheckpointMeta {
    return {
      backbone: this.backbone.id,
      method: this.method.id,
      methodConfig: this.config.methodConfig,
      step: this.stepsDone,
      trainVersion: TRAIN_CHECKPOINT_VERSION,
      config: this.config as unknown as Record<string, unknown>,
      data: this.data,
      backboneInit: { weightsHash: this.backbone.weightsHash, weightsSource: this.backbone.weightsSource },
      optimizer: { kind: 'sgd', momentum: this.config.momentum, weightDecay: this.config.weightDecay },
    };
  }

  /** Write a checkpoint to `file` (default: the run dir's step file, then latest.json). */
  async saveCheckpoint(file?: string): Promise<string> {
    const target = file ?? (this.opts.runDir ? checkpointPath(this.opts.runDir, this.stepsDone) : undefined);
    if (!target) throw new UsageError('saveCheckpoint: no file given and the trainer has no run dir');
    await writeTrainCheckpoint(target, {
      backbone: { ...(this.backbone.params ?? {}) },
      head: { ...this.method.params },
      optim: { ...this.optimizer.buffers },
    }, this.checkpointMeta());
    if (!file && this.opts.runDir) writeLatest(this.opts.runDir, this.stepsDone, target);
    this.lastCheckpointStep = this.stepsDone;
    return target;
  }

  /**
   * Train until config.steps or until the signal fires; a cancel stops at a step boundary (the step in
   * flight finishes) and writes a checkpoint, so the run can be resumed or evaluated.
   */
  async run(hooks: TrainHooks = {}): Promise<TrainOutcome> {
    const c = this.config;
    let checkpoint: string | undefined;
    const save = async () => {
      if (!this.opts.runDir) return;
      checkpoint = await this.saveCheckpoint();
      hooks.onCheckpoint?.(checkpoint, this.stepsDone);
    };
    while (this.stepsDone < c.steps && !hooks.signal?.aborted) {
      const row = await this.trainStep().catch((e: unknown) => this.skip(e));
      if (row) hooks.onStep?.(row);
      const s = this.stepsDone;
      if ((c.checkpointEvery > 0 && s % c.checkpointEvery === 0) || s === c.steps) await save();
      if (c.valEvery > 0 && s % c.valEvery === 0 && !hooks.signal?.aborted) {
        const v = await this.validate(hooks.signal);
        if (v) hooks.onValidation?.(v);
      }
    }
    if (this.lastCheckpointStep !== this.stepsDone) await save();
    return { step: this.stepsDone, cancelled: this.stepsDone < c.steps, checkpoint };
  }

  /** A step whose images could not be read is skipped, said and logged (a 'skip' row), and the run goes
   *  on: step s always draws the same episode, so a resumed run skips the very same step. */
  private skip(e: unknown): undefined {
    if (!(e instanceof SkippedStep)) throw e;
    this.stepsDone = e.step;
    this.metrics?.append({ kind: 'skip', step: e.step, file: e.cause.file, problem: e.cause.problem });
    this.opts.log?.(`step ${e.step} skipped (bad input): ${e.cause.message}`);
    return undefined;
  }

  dispose(): void {
    this.lock?.release();
    this.lock = undefined;
    this.optimizer.dispose();
    this.method.dispose();
    this.backbone.dispose();
    this.features.clear();
    this.images.clear();
    this.ownPseudo?.dispose();
  }
}

function defaultBackbone(cfg: TrainConfig): Promise<Backbone> {
  // --init's backbone.* only exist for vgg16 (mobilenetv2 always loads nsfwjs's weights, frozen).
  const weights = cfg.backbone === 'vgg16' ? (cfg.init ?? cfg.weights) : cfg.weights;
  return createBackbone({ id: cfg.backbone, weights, seed: cfg.initSeed });
}

/** Thrown by trainStep when the episode's inputs cannot be read; run() skips the step. */
class SkippedStep extends Error {
  constructor(readonly step: number, override readonly cause: DataError) {
    super(`step ${step}: ${cause.message}`);
  }
}

/** √(Σ‖g‖²) over all gradients: one number that says whether the update is finite. */
async function globalNorm(grads: tf.Tensor[]): Promise<number> {
  if (!grads.length) return 0;
  const t = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** Mirror an image (HWC) and its mask left–right. */
export function flipImage(px: Float32Array, mask: IndexMask, size: number): { px: Float32Array; mask: IndexMask } {
  const out = new Float32Array(px.length);
  const m = new Uint8Array(mask.data.length);
  const w = mask.width, h = mask.height;
  if (w !== size || h !== size) throw new Error(`flipImage: mask is ${w}×${h}, expected ${size}×${size}`);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = y * w + x, dst = y * w + (w - 1 - x);
      m[dst] = mask.data[src];
      out[3 * dst] = px[3 * src];
      out[3 * dst + 1] = px[3 * src + 1];
      out[3 * dst + 2] = px[3 * src + 2];
    }
  }
  return { px: out, mask: { width: w, height: h, data: m } };
}
