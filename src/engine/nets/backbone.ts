// Backbone registry: one interface over PANet's VGG-16 (paper backbone; random init or user weights),
// nsfwjs's MobileNetV2 (the out-of-the-box labeling backbone) and the COCO-trained detector backbones
// run as graph models (graphModels.ts: NanoDet, bundled; CenterNet, user-installed), which are frozen:
// inference only. Every result records id, weightsHash and weightsSource so numbers can be traced to
// the exact weights.
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors';
import { MobileNetV2Features, NSFWJS_VERSION, mobilenetV2OutSize } from './mobilenetv2';
import { Vgg16, vgg16OutSize, type Vgg16Arrays } from './vgg16';
import { mobilenetOnnx, MOBILENET_GRAPH_VERSION } from './onnx/mobilenetGraph';
import { vgg16Onnx, VGG16_GRAPH_VERSION } from './onnx/vgg16Graph';
import { loadVgg16Arrays, weightsHashOfBytes, weightsHashOfFile } from './weights';
import { sameSide } from './graphBackbone';
import { isGraphBackboneId, loadGraphBackbone } from './graphModels';

import { BACKBONE_IDS, type BackboneId } from '../../shared/engineProtocol';

// the ids are the protocol's (host and engine name backbones the same way)
export { BACKBONE_IDS, type BackboneId };

export interface Backbone {
  id: BackboneId;
  /** First 12 hex chars of a sha256 over the weights (the file, or the decoded nsfwjs weight bytes). */
  weightsHash: string;
  /** Human-readable origin: 'random-init(seed=…)', an absolute file path, or the nsfwjs package. */
  weightsSource: string;
  /** What the weights were trained on when it is not ImageNet classification (e.g. 'COCO detection'):
   *  evaluations on PASCAL-5i / COCO-20i then carry a warning (eval/protocolWarning.ts). */
  trainedOn?: string;
  /** Output stride: feature side ≈ input side / stride (exact: outSize). */
  stride: number;
  channels: number;
  /** Exact feature-map side for an input side n. */
  outSize(n: number): number;
  /** [1, H, W, 3] float RGB in 0..255 → [1, h, w, channels]. Normalisation happens inside. */
  features(x: tf.Tensor4D): tf.Tensor4D;
  /** Trainable parameters by ProtoLab name (absent for frozen backbones). */
  params?: Record<string, tf.Variable>;
  /** The same encoder with the same weights as an ONNX model, for inference (nets/onnx/); graphVersion
   *  changes whenever the builder's output would, so cached model files are keyed by it. */
  onnx?: { graphVersion: number; build(): Uint8Array };
  dispose(): void;
}

export interface CreateBackboneOptions {
  id: BackboneId;
  /** .safetensors: torchvision/timm/PANet VGG-16 state dict, or a ProtoLab checkpoint. vgg16 only. */
  weights?: string;
  /** Seed of the random init when no weights are given (vgg16). Default 1. */
  seed?: number;
  /** Override where nsfwjs is installed (mobilenetv2). */
  nsfwjsDir?: string;
  /** Where the user installed CenterNet (centernet; default PROTOLAB_CENTERNET_DIR, then node_modules). */
  centernetDir?: string;
}

export async function createBackbone(opts: CreateBackboneOptions): Promise<Backbone> {
  if (opts.id === 'vgg16') {
    let net: Vgg16;
    let weightsHash: string;
    let weightsSource: string;
    if (opts.weights) {
      const file = path.resolve(opts.weights);
      net = new Vgg16(loadVgg16Arrays(file));
      weightsHash = await weightsHashOfFile(file);
      weightsSource = file;
    } else {
      const seed = opts.seed ?? 1;
      const arrays = Vgg16.randomArrays(seed);
      net = new Vgg16(arrays);
      // Hash the generated values, so the hash tells random inits apart by content, like a file's.
      weightsHash = weightsHashOfBytes(concatBytes(Object.values(arrays).map((a) => a.data)));
      weightsSource = `random-init(seed=${seed})`;
    }
    return {
      id: 'vgg16',
      weightsHash,
      weightsSource,
      stride: 8,
      channels: 512,
      outSize: vgg16OutSize,
      features: (x) => net.features(x),
      params: net.params,
      // read back from the live parameters: exactly the weights tfjs runs (file, random init or checkpoint)
      onnx: { graphVersion: VGG16_GRAPH_VERSION, build: () => vgg16Onnx(paramArrays(net.params), { weightsHash, backbone: 'vgg16' }) },
      dispose: () => net.dispose(),
    };
  }
  if (opts.id === 'mobilenetv2') {
    if (opts.weights) throw new UsageError('the mobilenetv2 backbone takes its weights from nsfwjs; --weights applies to vgg16 only');
    const net = await MobileNetV2Features.load(opts.nsfwjsDir);
    return {
      id: 'mobilenetv2',
      weightsHash: net.weightsHash,
      weightsSource: `nsfwjs@${NSFWJS_VERSION} MobileNetV2 (ImageNet-init, fine-tuned for NSFW classes)`,
      stride: 16,
      channels: 576,
      outSize: mobilenetV2OutSize,
      features: (x) => net.features(x),
      onnx: { graphVersion: MOBILENET_GRAPH_VERSION, build: () => mobilenetOnnx(net.model, { weightsHash: net.weightsHash, backbone: 'mobilenetv2' }) },
      dispose: () => net.dispose(),
    };
  }
  if (isGraphBackboneId(opts.id)) {
    if (opts.weights) throw new UsageError(`the ${opts.id} backbone has its own weights; --weights applies to vgg16 only`);
    // frozen: no params, no ONNX form (inference runs it on tfjs); features = the stride-16 tap
    const { net, source, trainedOn } = await loadGraphBackbone(opts.id, [16], { centernetDir: opts.centernetDir });
    return {
      id: opts.id,
      weightsHash: net.weightsHash,
      weightsSource: source,
      trainedOn,
      stride: 16,
      channels: net.channels[0],
      outSize: (n) => sameSide(n, 16),
      features: (x) => net.featuresAll(x)[0],
      dispose: () => net.dispose(),
    };
  }
  throw new UsageError(`unknown backbone '${String(opts.id)}' (choose ${BACKBONE_IDS.join(', ')})`);
}

function paramArrays(params: Record<string, tf.Variable>): Vgg16Arrays {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, { shape: v.shape, dtype: 'float32' as const, data: v.dataSync() as Float32Array }]),
  );
}

function concatBytes(arrays: (Float32Array | Int32Array)[]): Uint8Array {
  const total = arrays.reduce((s, a) => s + a.byteLength, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    p += a.byteLength;
  }
  return out;
}
