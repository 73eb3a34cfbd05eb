// Few-shot methods by id: what `protolab train --method` and `protolab eval --checkpoint` build. A
// checkpoint stores (method id, method config); the registry turns them back into the same method, whose
// `head.*` parameters the checkpoint then fills.
import { UsageError } from '../errors';
import { createMetaSegNet, METASEGNET_BEFORE_SETTINGS, type MetaSegNetConfig } from './metasegnet';
import { createPanetTrainable, type PanetTrainConfig } from './panetTrain';
import { createPixelMeta, PIXELMETA_BEFORE_SETTINGS, type PixelMetaConfig } from './pixelmeta';
import type { TrainableMethod } from './trainable';

export const METHOD_IDS = ['panet', 'metasegnet', 'pixelmeta'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export interface MethodInfo {
  id: MethodId;
  paper: string;
  /** True when the method has no parameters of its own: training it means training the backbone. */
  backboneOnly: boolean;
  /** True when the paper trains on a frozen feature extractor: the trainer's default for the method. */
  frozenBackbone: boolean;
}

export const METHODS: Record<MethodId, MethodInfo> = {
  panet: { id: 'panet', paper: 'PANet (Wang et al., ICCV 2019)', backboneOnly: true, frozenBackbone: false },
  // MetaSegNet trains end to end ("from scratch by episodic training")
  metasegnet: { id: 'metasegnet', paper: 'MetaSegNet (Tian et al., AAAI 2020)', backboneOnly: false, frozenBackbone: false },
  // the pixel-level meta-learner learns its encoder E on a frozen DeepLabv3+ (papers.md)
  pixelmeta: { id: 'pixelmeta', paper: 'Pixel-Level Meta-Learner (Lee et al., WACV 2022)', backboneOnly: false, frozenBackbone: true },
};

export function isMethodId(id: string): id is MethodId {
  return (METHOD_IDS as readonly string[]).includes(id);
}

type Factory = (config: Record<string, unknown> | undefined, channels: number, seed: number) => TrainableMethod;

const FACTORIES: Record<MethodId, Factory> = {
  panet: (config) => createPanetTrainable(config as Partial<PanetTrainConfig> | undefined),
  metasegnet: (config, channels, seed) => createMetaSegNet(config as Partial<MetaSegNetConfig> | undefined, channels, seed),
  pixelmeta: (config, channels, seed) => createPixelMeta(config as Partial<PixelMetaConfig> | undefined, channels, seed),
};

/** Per method: the values a setting had before it existed (what a stored config without it meant). */
const BEFORE_SETTINGS: Record<MethodId, Record<string, unknown>> = {
  panet: {},
  metasegnet: METASEGNET_BEFORE_SETTINGS,
  pixelmeta: PIXELMETA_BEFORE_SETTINGS,
};

/**
 * A method config as a checkpoint or run stored it (the full config() of its time) → the config that
 * rebuilds the same method today: settings added since keep the value they had before they existed,
 * not today's default. (A user's partial config goes to createMethod directly: defaults fill it.)
 */
export function storedMethodConfig(id: string, stored: Record<string, unknown>): Record<string, unknown> {
  return isMethodId(id) ? { ...BEFORE_SETTINGS[id], ...stored } : stored;
}

/**
 * Build a trainable method. config: the method's own settings (as its config() returned them, or
 * partial: defaults fill the rest); channels: the backbone's feature channels; seed: initialisation of
 * the method's own parameters.
 */
export function createMethod(id: string, config: Record<string, unknown> | undefined, channels: number, seed: number): TrainableMethod {
  if (!isMethodId(id)) throw new UsageError(`unknown method '${id}' (choose ${METHOD_IDS.join(', ')})`);
  return FACTORIES[id](config, channels, seed);
}
