// Few-shot methods by id: what `protolab train --method` and `protolab eval --checkpoint` build. A
// checkpoint stores (method id, method config); the registry turns them back into the same method, whose
// `head.*` parameters the checkpoint then fills.
import { UsageError } from '../errors';
import { createMetaSegNet, type MetaSegNetConfig } from './metasegnet';
import { createPanetTrainable, type PanetTrainConfig } from './panetTrain';
import { createPixelMeta, type PixelMetaConfig } from './pixelmeta';
import type { TrainableMethod } from './trainable';

export const METHOD_IDS = ['panet', 'metasegnet', 'pixelmeta'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export interface MethodInfo {
  id: MethodId;
  paper: string;
  /** True when the method has no parameters of its own: training it means training the backbone. */
  backboneOnly: boolean;
}

export const METHODS: Record<MethodId, MethodInfo> = {
  panet: { id: 'panet', paper: 'PANet (Wang et al., ICCV 2019)', backboneOnly: true },
  metasegnet: { id: 'metasegnet', paper: 'MetaSegNet (Tian et al., AAAI 2020)', backboneOnly: false },
  pixelmeta: { id: 'pixelmeta', paper: 'Pixel-Level Meta-Learner (Lee et al., WACV 2022)', backboneOnly: false },
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

/**
 * Build a trainable method. config: the method's own settings (as its config() returned them, or
 * partial: defaults fill the rest); channels: the backbone's feature channels; seed: initialisation of
 * the method's own parameters.
 */
export function createMethod(id: string, config: Record<string, unknown> | undefined, channels: number, seed: number): TrainableMethod {
  if (!isMethodId(id)) throw new UsageError(`unknown method '${id}' (choose ${METHOD_IDS.join(', ')})`);
  return FACTORIES[id](config, channels, seed);
}
