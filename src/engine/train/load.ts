// A trained model back from its checkpoint: the backbone (vgg16 weights from the file's backbone.*,
// mobilenetv2 from nsfwjs) and the method rebuilt from (method id, method config) with its head.*
// parameters. Used by `protolab eval --checkpoint`, the benchmark and the engine process.
import { DataError } from '../errors';
import { createMethod, storedMethodConfig } from '../fewshot/registry';
import type { TrainableMethod } from '../fewshot/trainable';
import { BACKBONE_IDS, createBackbone, type Backbone, type BackboneId, type CreateBackboneOptions } from '../nets/backbone';
import { HEAD_PREFIX, readTrainMeta, restoreVariables, type TrainCheckpointMeta } from './checkpoint';
import { resolveCheckpoint } from './runDir';

/** Backbone options that rebuild a checkpoint's backbone (also for encoder worker pools). */
export function checkpointBackboneOptions(file: string, meta: TrainCheckpointMeta): CreateBackboneOptions {
  if (!(BACKBONE_IDS as readonly string[]).includes(meta.backbone)) {
    throw new DataError(file, `checkpoint of backbone '${meta.backbone}', which this ProtoLab does not know (${BACKBONE_IDS.join(', ')})`);
  }
  const id = meta.backbone as BackboneId;
  return { id, weights: id === 'vgg16' ? file : undefined };
}

/** The checkpoint's method with its trained parameters; the caller disposes it. */
export function methodFromCheckpoint(file: string, meta: TrainCheckpointMeta, channels: number): TrainableMethod {
  const seed = typeof meta.config.initSeed === 'number' ? meta.config.initSeed : 1;
  let m: TrainableMethod;
  try {
    m = createMethod(meta.method, storedMethodConfig(meta.method, meta.methodConfig), channels, seed);
  } catch (e) {
    // The method config came from the file: whatever it makes the method refuse is the file's problem.
    throw new DataError(file, `its ${meta.method} settings cannot be used (${(e as Error).message})`);
  }
  try {
    restoreVariables(file, HEAD_PREFIX, m.params);
    return m;
  } catch (e) {
    m.dispose();
    throw e;
  }
}

export interface TrainedModel {
  file: string;
  meta: TrainCheckpointMeta;
  backbone: Backbone;
  method: TrainableMethod;
  dispose(): void;
}

/** A checkpoint file or run dir (its latest checkpoint) → backbone + method, ready to evaluate. */
export async function loadTrainedModel(p: string): Promise<TrainedModel> {
  const file = resolveCheckpoint(p);
  const meta = readTrainMeta(file);
  const backbone = await createBackbone(checkpointBackboneOptions(file, meta));
  try {
    const method = methodFromCheckpoint(file, meta, backbone.channels);
    return { file, meta, backbone, method, dispose: () => { method.dispose(); backbone.dispose(); } };
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}
