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
// The configuration lives in config.ts, what a step is fed (episode, images, targets, features) in
// stepInputs.ts; this file is the loop: steps, checkpoints, divergence, validation, resume.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type { SegDataset } from '../data/dataset';
import { baseClasses } from '../data/splits';
import { DataError, TrainingDivergedError, UsageError } from '../errors';
import { isStorageError } from '../storageError';
import { evaluate, type EvalSettings } from '../eval/evaluate';
import { FeatureCache } from '../features/featureCache';
import { createPseudoMaskSource, WEAK_DEFAULTS, type PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import { createMethod, METHODS, storedMethodConfig } from '../fewshot/registry';
import type { TrainableMethod } from '../fewshot/trainable';
import { ensureGradients } from '../gradients';
import { createBackbone, type Backbone } from '../nets/backbone';
import { BACKBONE_PREFIX } from '../nets/weights';
import {
  HEAD_PREFIX, OPTIM_PREFIX, readTrainMeta, restoreVariables, tensorNames, TRAIN_CHECKPOINT_VERSION, writeTrainCheckpoint,
  type DataFingerprint, type TrainCheckpointMeta,
} from './checkpoint';
import { TRAIN_DEFAULTS, type TrainConfig } from './config';
import { DivergenceGuard } from './divergence';
import { MetricsLog, type TrainRow, type ValRow } from './log';
import { checkpointPath, CONFIG_FILE, isRunDir, LATEST_FILE, latestCheckpoint, listCheckpoints, LOCK_FILE, METRICS_FILE, readJson, removeTempFiles, writeJson, writeLatest } from './runDir';
import { acquireLock, type FileLock } from '../lock';
import { lrAt } from './schedule';
import { SgdMomentum } from './optimizer';
import { StepInputs } from './stepInputs';

export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig, type TrainConfigInput } from './config';
export { flipImage } from './stepInputs';

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

export class Trainer {
  private stepsDone = 0;
  private lastCheckpointStep = -1;
  private readonly inputs: StepInputs;
  private readonly optimizer: SgdMomentum;
  /** Trained parameters by checkpoint key ('backbone.x' / 'head.x'). */
  private readonly trained: Record<string, tf.Variable>;
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
    this.features = new FeatureCache(opts.featureBytes ?? 1024 ** 3);
    this.inputs = new StepInputs(ds, config, backbone, data.classes, index, this.features, opts.log);
    this.trained = {};
    if (!config.freezeBackbone) for (const [n, v] of Object.entries(backbone.params ?? {})) this.trained[BACKBONE_PREFIX + n] = v;
    for (const [n, v] of Object.entries(method.params)) this.trained[HEAD_PREFIX + n] = v;
    this.optimizer = new SgdMomentum(this.trained, { momentum: config.momentum, weightDecay: config.weightDecay });
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

  /** One SGD update on episode `step`. Leaves no tensor behind. */
  async trainStep(): Promise<StepRecord> {
    const s = this.stepsDone;
    const t0 = performance.now();
    const step = await this.inputs.episode(s).catch((e: unknown) => {
      throw e instanceof DataError && !isStorageError(e) ? new SkippedStep(s + 1, e) : e;
    });
    const { ep, images } = step;
    const targets = await this.inputs.targets(ep, images, this.pseudo);
    const lr = lrAt(s, { lr: this.config.lr, milestones: this.config.lrSteps, gamma: this.config.lrGamma });

    const constants: tf.Tensor[] = [];
    const kept: Record<string, tf.Scalar> = {};
    let value: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap = {};
    try {
      let frozen: tf.Tensor4D[] | undefined;
      if (this.config.freezeBackbone) {
        frozen = await this.inputs.frozen(images);
        constants.push(...frozen);
      }
      const vars = Object.values(this.trained);
      ({ value, grads } = tf.variableGrads(() => {
        // End to end: all images of the episode through the backbone as one batch, inside the tape.
        const feats = frozen ?? this.inputs.encode(images);
        const out = this.method.loss(this.inputs.trainEpisode(step, feats, targets));
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
    this.inputs.clear();
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
