// The training configuration: every setting of a run (TrainConfig), PANet's published defaults
// (TRAIN_DEFAULTS) and the check that completes a caller's settings into a run's (resolveTrainConfig).
// A run's config.json holds the resolved TrainConfig (runDir.ts), so a resumed run trains exactly as
// it started (trainer.ts).
import type { DatasetKind, ListName, SegDataset } from '../data/dataset';
import type { SplitConvention } from '../data/splits';
import { UsageError } from '../errors';
import { WEAK_DEFAULTS, type WeakConfig } from '../fewshot/weak/pseudoSource';
import { isMethodId, METHODS, type MethodId } from '../fewshot/registry';
import type { BackboneId } from '../nets/backbone';

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
