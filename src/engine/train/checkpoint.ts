// Training checkpoints in ProtoLab's format (nets/weights.ts saveCheckpoint: safetensors + JSON config in
// __metadata__, written atomically):
//   backbone.<name>        backbone parameters (absent for a backbone without parameters, mobilenetv2)
//   head.<name>            the method's own parameters
//   optim.<param key>      SGD momentum buffer of each trained parameter (param key = backbone.x / head.x)
// and in the config: backbone id, method id + config, step, the full TrainConfig, the dataset/fold
// fingerprint and the initial backbone's hash. Everything needed to evaluate it (eval --checkpoint) or to
// continue it exactly (--resume).
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../errors';
import { isMethodId, METHOD_IDS } from '../fewshot/registry';
import { SafetensorsFile } from '../nets/safetensors';
import { readCheckpointMeta, saveCheckpoint, type CheckpointMeta } from '../nets/weights';

export const HEAD_PREFIX = 'head.';
export const OPTIM_PREFIX = 'optim.';
export const TRAIN_CHECKPOINT_VERSION = 1;

export interface DataFingerprint {
  kind: string;
  root: string;
  fingerprint: string;
  fold: number;
  split: string;
  list: string;
  /** The base (training) classes of the fold. */
  classes: number[];
}

export interface TrainCheckpointMeta extends CheckpointMeta {
  method: string;
  methodConfig: Record<string, unknown>;
  step: number;
  trainVersion: number;
  /** The full TrainConfig (train/trainer.ts). */
  config: Record<string, unknown>;
  data: DataFingerprint;
  /** The backbone the run started from. */
  backboneInit: { weightsHash: string; weightsSource: string };
  optimizer: { kind: 'sgd'; momentum: number; weightDecay: number } | null;
}

export interface CheckpointContents {
  backbone: Record<string, tf.Tensor>;
  head: Record<string, tf.Tensor>;
  /** Momentum buffers by parameter key ('backbone.x', 'head.x'). */
  optim: Record<string, tf.Tensor>;
}

export async function writeTrainCheckpoint(file: string, c: CheckpointContents, meta: TrainCheckpointMeta): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [n, t] of Object.entries(c.backbone)) tensors[`backbone.${n}`] = t;
  for (const [n, t] of Object.entries(c.head)) tensors[HEAD_PREFIX + n] = t;
  for (const [n, t] of Object.entries(c.optim)) tensors[OPTIM_PREFIX + n] = t;
  await saveCheckpoint(file, { tensors, meta });
}

/** The config of a training checkpoint (no tensors read). Throws DataError for other files. */
export function readTrainMeta(file: string): TrainCheckpointMeta {
  const meta = readCheckpointMeta(SafetensorsFile.open(file));
  if (!meta) throw new DataError(file, 'not a ProtoLab checkpoint');
  if (typeof meta.method !== 'string') throw new DataError(file, 'ProtoLab checkpoint has no method (it holds backbone weights only; use --weights)');
  // The config is data from a file: a field of the wrong kind is the file's fault, said as such.
  if (!isMethodId(meta.method)) throw new DataError(file, `checkpoint of method '${meta.method}', which this ProtoLab does not know (${METHOD_IDS.join(', ')})`);
  const m = meta as Partial<TrainCheckpointMeta>;
  if (!Number.isInteger(m.step) || (m.step as number) < 0) throw new DataError(file, 'ProtoLab checkpoint config: "step" is not a step number');
  if (!m.config || typeof m.config !== 'object') throw new DataError(file, 'ProtoLab checkpoint config: "config" (the training settings) is missing');
  if (m.methodConfig !== undefined && (typeof m.methodConfig !== 'object' || m.methodConfig === null)) throw new DataError(file, 'ProtoLab checkpoint config: "methodConfig" is not an object');
  return meta as TrainCheckpointMeta;
}

/**
 * Assign the checkpoint's `prefix + name` tensors to the given variables (by name). Every variable must
 * be found with its exact shape: a checkpoint that does not fit fails loudly, never half-loads.
 */
export function restoreVariables(file: string, prefix: string, vars: Record<string, tf.Variable>): void {
  const st = SafetensorsFile.open(file);
  for (const [name, v] of Object.entries(vars)) {
    const key = prefix + name;
    if (!st.has(key)) throw new DataError(file, `checkpoint has no tensor '${key}'`);
    const t = st.read(key);
    if (t.shape.join(',') !== v.shape.join(',')) throw new DataError(file, `tensor '${key}' has shape [${t.shape}], expected [${v.shape}]`);
    if (t.dtype !== v.dtype) throw new DataError(file, `tensor '${key}' is ${t.dtype}, expected ${v.dtype}`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, t.dtype)));
  }
}

/** Names (without prefix) of the checkpoint's tensors under a prefix. */
export function tensorNames(file: string, prefix: string): string[] {
  return [...SafetensorsFile.open(file).entries.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}
