// Weight files: torchvision/timm/PANet VGG-16 state dicts saved as safetensors, and ProtoLab's own
// checkpoints (safetensors with a JSON config in __metadata__ and tensors under ProtoLab's names).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../errors';
import { SafetensorsFile, writeSafetensors, type TensorData, type TensorToWrite } from './safetensors';
import { VGG16_CONVS, type Vgg16Arrays } from './vgg16';

/** sha256 of the whole file, hex. */
export async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The short form recorded with every result: first 12 hex chars of the sha256. */
export async function weightsHashOfFile(file: string): Promise<string> {
  return (await sha256File(file)).slice(0, 12);
}

export function weightsHashOfBytes(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

// ---------------------------------------------------------------------------------------------
// ProtoLab checkpoints

export const CHECKPOINT_FORMAT = 'protolab-checkpoint';
/** Backbone parameters inside a full ProtoLab checkpoint are stored as BACKBONE_PREFIX + name. */
export const BACKBONE_PREFIX = 'backbone.';

export interface CheckpointMeta {
  /** Backbone id ('vgg16' | 'mobilenetv2'). */
  backbone: string;
  method?: string;
  step?: number;
  [key: string]: unknown;
}

export async function saveCheckpoint(file: string, ck: { tensors: Record<string, tf.Tensor>; meta: CheckpointMeta }): Promise<void> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`saveCheckpoint: '${name}' has dtype ${t.dtype}; only float32/int32 are stored`);
    out[name] = { shape: t.shape, data: (await t.data()) as Float32Array | Int32Array };
  }
  writeSafetensors(file, out, { format: CHECKPOINT_FORMAT, version: '1', config: JSON.stringify(ck.meta) });
}

/** Read a ProtoLab checkpoint's config without loading tensors; undefined when the file is not one. */
export function readCheckpointMeta(st: SafetensorsFile): CheckpointMeta | undefined {
  if (st.metadata?.format !== CHECKPOINT_FORMAT) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(st.metadata.config ?? '');
  } catch {
    throw new DataError(st.file, 'ProtoLab checkpoint: __metadata__.config is not valid JSON');
  }
  if (!meta || typeof meta !== 'object' || typeof (meta as CheckpointMeta).backbone !== 'string') {
    throw new DataError(st.file, 'ProtoLab checkpoint: config has no "backbone" field');
  }
  return meta as CheckpointMeta;
}

/** Load every tensor of a ProtoLab checkpoint; the caller owns (and disposes) the tensors. */
export function loadCheckpoint(file: string): { tensors: Record<string, tf.Tensor>; meta: CheckpointMeta } {
  const st = SafetensorsFile.open(file);
  const meta = readCheckpointMeta(st);
  if (!meta) throw new DataError(file, `not a ProtoLab checkpoint (__metadata__.format is not '${CHECKPOINT_FORMAT}')`);
  const tensors: Record<string, tf.Tensor> = {};
  for (const name of st.entries.keys()) {
    const t = st.read(name);
    tensors[name] = tf.tensor(t.data, t.shape, t.dtype);
  }
  return { tensors, meta };
}

// ---------------------------------------------------------------------------------------------
// VGG-16 weights

/**
 * Where each of the 13 convs lives in a torch state dict:
 *  - torchvision `vgg16` and timm `vgg16.tv_in1k` (timm keeps torchvision's `features.N` names and only
 *    renames the classifier): flat `features.N` with N = 0,2,5,7,10,12,14,17,19,21,24,26,28;
 *  - PANet's own Encoder: nested `features.B.I` (blocks at B = 0,2,4,6,8, convs at I = 0,2,4),
 *    usually under `encoder.backbone.` or `module.encoder.backbone.`.
 * A common prefix (e.g. `module.`) is allowed in front of `features.`.
 */
const TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
function panetKey(i: number): string {
  const sizes = [2, 2, 3, 3, 3];
  let b = 0;
  let k = i;
  while (k >= sizes[b]) k -= sizes[b++];
  return `features.${2 * b}.${2 * k}`;
}

/** Torch conv weight [out, in, kh, kw] → tfjs [kh, kw, in, out]. */
export function torchConvToTf(data: Float32Array, cout: number, cin: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let k = 0; k < 9; k++) out[(k * cin + i) * cout + o] = data[(o * cin + i) * 9 + k];
    }
  }
  return out;
}

/**
 * Read VGG-16 conv parameters from a .safetensors file: a torchvision/timm/PANet state dict, or a
 * ProtoLab checkpoint whose backbone is vgg16. Unrelated keys (classifier, ...) are ignored.
 * Returns ProtoLab-named arrays in tfjs layout.
 */
export function loadVgg16Arrays(file: string): Vgg16Arrays {
  const st = SafetensorsFile.open(file);
  const meta = readCheckpointMeta(st);
  const out: Vgg16Arrays = {};
  const take = (key: string, want: number[]): TensorData => {
    if (!st.has(key)) throw new DataError(file, `missing tensor '${key}'`);
    const t = st.read(key);
    if (t.dtype !== 'float32') throw new DataError(file, `tensor '${key}' is not floating point`);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new DataError(file, `tensor '${key}' has shape [${t.shape}], expected [${want}]`);
    }
    return t;
  };
  if (meta) {
    if (meta.backbone !== 'vgg16') throw new DataError(file, `ProtoLab checkpoint is for backbone '${meta.backbone}', not vgg16`);
    const prefix = st.has(`${BACKBONE_PREFIX}conv1_1.weight`) ? BACKBONE_PREFIX : '';
    for (const c of VGG16_CONVS) {
      out[`${c.name}.weight`] = take(`${prefix}${c.name}.weight`, [3, 3, c.cin, c.cout]);
      out[`${c.name}.bias`] = take(`${prefix}${c.name}.bias`, [c.cout]);
    }
    return out;
  }
  const names = [...st.entries.keys()];
  const find = (suffix: string) => names.find((n) => n === suffix || n.endsWith(`.${suffix}`));
  const nested = find('features.0.0.weight');
  const flat = find('features.0.weight');
  const hit = nested ?? flat;
  if (!hit) {
    throw new DataError(file, "no VGG-16 weights found: expected torchvision/timm 'features.0.weight' or PANet 'features.0.0.weight' (or a ProtoLab checkpoint)");
  }
  const prefix = hit.slice(0, hit.length - (nested ? 'features.0.0.weight' : 'features.0.weight').length);
  VGG16_CONVS.forEach((c, i) => {
    const base = prefix + (nested ? panetKey(i) : `features.${TORCHVISION_INDEX[i]}`);
    const w = take(`${base}.weight`, [c.cout, c.cin, 3, 3]);
    out[`${c.name}.weight`] = { shape: [3, 3, c.cin, c.cout], dtype: 'float32', data: torchConvToTf(w.data as Float32Array, c.cout, c.cin) };
    out[`${c.name}.bias`] = take(`${base}.bias`, [c.cout]);
  });
  return out;
}
