// Class activation maps from a tfjs layers-model classifier (conv features → global average pool →
// dense head), for the weak-supervision pseudo masks of the Pixel-Level Meta-Learner (WACV 2022 §3.2).
//
// CAM (Zhou et al., CVPR 2016, eq. 2): for a GAP + linear classifier, M_k(x) = Σ_c w_{c,k} F_c(x) —
// the last conv features weighted by the dense layer's weights. nsfwjs's MobileNetV2 has an MLP head
// (GAP → Dense 256 ReLU → Dense 128 ReLU → Dense 5), which plain CAM does not cover; we use Grad-CAM
// (Selvaraju et al., ICCV 2017, eq. 1–2), which reduces to CAM for a linear head:
//   α_{c,k} = ∂y_k / ∂F̄_c   (y_k the PRE-softmax score, F̄ the pooled features; the 1/Z² factor of
//            the paper is a constant and vanishes in the per-map normalisation),
//   M_k(x)  = ReLU(Σ_c α_{c,k} F_c(x)).
// The head is piecewise linear (ReLU), so ∂y/∂F̄ = W_1·D_1·W_2·D_2·…·W_L with D_l = diag(1[pre-act > 0])
// at the image's pooled features: computed in closed form, no tf.grad.
//
// The classifier's classes must exclude the benchmark's base and novel classes (the paper's premise);
// the built-in nsfwjs one trivially does (Drawing, Hentai, Neutral, Porn, Sexy) — which also makes it
// a weak proxy: its CAMs are closer to "salient content" than to any VOC/COCO class. Bring your own
// classifier (a tfjs layers model.json) for anything better.
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DataError, UsageError } from '../../errors';
import type { RawImage } from '../../types';
import { findNsfwjsDir, NSFWJS_VERSION } from '../../nets/mobilenetv2';
import type { CamMaps, CamSource } from './types';

/** nsfwjs's class names in its output order (dist/cjs/nsfw_classes.js). */
export const NSFWJS_CLASSES: readonly string[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

interface ModelJson {
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

interface LayerJson { class_name: string; config: Record<string, unknown> }

function topologyLayers(topology: Record<string, unknown>): { layers: LayerJson[]; set(l: LayerJson[]): void; functional: boolean; cfg: Record<string, unknown> } {
  const mc = (topology.model_config ?? topology) as { class_name?: string; config: unknown };
  if (Array.isArray(mc.config)) return { layers: mc.config as LayerJson[], set: (l) => { mc.config = l; }, functional: false, cfg: {} };
  const cfg = mc.config as Record<string, unknown> & { layers: LayerJson[] };
  return { layers: cfg.layers, set: (l) => { cfg.layers = l; }, functional: cfg.input_layers !== undefined, cfg };
}

/**
 * The topology cut after layer `name` (layers are saved in topological order, so everything it needs
 * comes before it), with the input's height and width freed: the conv part of a GAP classifier runs at
 * any size, while the full model's Flatten → Dense would need the saved size.
 */
function featureTopology(topology: Record<string, unknown>, name: string): Record<string, unknown> {
  const t = JSON.parse(JSON.stringify(topology)) as Record<string, unknown>;
  const { layers, set, functional, cfg } = topologyLayers(t);
  const cut = layers.findIndex((l) => (l.config.name ?? (l as unknown as { name?: string }).name) === name);
  if (cut < 0) throw new UsageError(`CAM: layer ${name} not found in the topology`);
  set(layers.slice(0, cut + 1));
  if (functional) cfg.output_layers = [[name, 0, 0]];
  const first = layers[0];
  const shape = (first.config.batch_input_shape ?? first.config.batchInputShape) as (number | null)[] | undefined;
  if (shape && shape.length === 4) first.config.batch_input_shape = [null, null, null, shape[3]];
  return t;
}

async function layersModelFromJson(topology: Record<string, unknown>, json: ModelJson, bytes: Buffer, strict: boolean): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
    { strict },
  );
}

/** Load a classifier twice: as saved (its head's weights) and cut at the head's conv layer with a free input size. */
async function camFromJson(id: string, classNames: string[], json: ModelJson, shard: (p: string) => Uint8Array, opts: LayersCamOptions): Promise<LayersModelCam> {
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map(shard));
  const full = await layersModelFromJson(json.modelTopology, json, bytes, true);
  try {
    const head = extractHead(full);
    const features = await layersModelFromJson(featureTopology(json.modelTopology, head.convLayer.name), json, bytes, false);
    return new LayersModelCam(id, classNames, full, head, features, opts);
  } catch (e) {
    full.dispose();
    throw e;
  }
}

/** The classifier head, as matrices: y = W_L ∘ act ∘ … ∘ act ∘ W_1 (pooled features). */
interface Head {
  convLayer: tfl.layers.Layer;
  dense: { kernel: tf.Tensor2D; bias: tf.Tensor1D | null; relu: boolean }[];
}

const one = (l: tfl.layers.Layer): tfl.layers.Layer => {
  const nodes = l.inboundNodes;
  if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1) throw new UsageError(`CAM: layer ${l.name} must have exactly one input`);
  return nodes[0].inboundLayers[0];
};

/**
 * Walk back from the output: Dense / Dropout / Flatten / Activation(softmax) layers, then a
 * GlobalAveragePooling2D or an AveragePooling2D (assumed to pool the whole map, as Keras's MobileNet
 * top does at its saved size); its input is the conv layer whose features the CAMs weight.
 */
function extractHead(model: tfl.LayersModel): Head {
  if (model.outputs.length !== 1) throw new UsageError('CAM: the classifier must have one output');
  let l = model.layers[model.layers.length - 1];
  const dense: Head['dense'] = [];
  for (;;) {
    const cls = l.getClassName();
    if (cls === 'Dense') {
      const act = String(l.getConfig().activation ?? 'linear');
      const last = dense.length === 0;
      if (!(act === 'relu' || act === 'linear' || (last && (act === 'softmax' || act === 'sigmoid')))) {
        throw new UsageError(`CAM: dense layer ${l.name} has activation '${act}'; supported: relu/linear (hidden), softmax/sigmoid/linear (output)`);
      }
      const [kernel, bias] = l.getWeights();
      dense.unshift({ kernel: kernel as tf.Tensor2D, bias: (bias as tf.Tensor1D) ?? null, relu: !last && act === 'relu' });
    } else if (cls === 'GlobalAveragePooling2D' || cls === 'AveragePooling2D') {
      if (!dense.length) throw new UsageError('CAM: no dense classifier after the pooling layer');
      return { convLayer: one(l), dense };
    } else if (!(cls === 'Dropout' || cls === 'Flatten' || (cls === 'Activation' && dense.length === 0))) {
      throw new UsageError(`CAM: unsupported layer ${l.name} (${cls}) between the conv features and the output; expected GAP → Dense layers`);
    }
    l = one(l);
  }
}

export interface LayersCamOptions {
  /** Side the image is resized to (square, as nsfwjs does) before the classifier. Default 320. */
  inputSize?: number;
  /** Input = RGB(0..255)·scale + offset. Default 1/255, 0 (nsfwjs: img / 255). */
  inputScale?: number;
  inputOffset?: number;
}

/** A CamSource over any tfjs layers classifier with a GAP → Dense head. Owns (and disposes) the model. */
export class LayersModelCam implements CamSource {
  constructor(
    readonly id: string,
    readonly classNames: string[],
    private readonly model: tfl.LayersModel,
    private readonly head: Head,
    private readonly features: tfl.LayersModel,
    private readonly opts: LayersCamOptions = {},
  ) {
    const units = head.dense[head.dense.length - 1].kernel.shape[1];
    if (units !== classNames.length) throw new UsageError(`CAM: the classifier has ${units} outputs but ${classNames.length} class names were given`);
  }

  /** Per-class Grad-CAM maps [h·w] (un-normalised, ≥ 0) at the conv layer's resolution. */
  async cams(image: RawImage): Promise<CamMaps> {
    const size = this.opts.inputSize ?? 320, scale = this.opts.inputScale ?? 1 / 255, offset = this.opts.inputOffset ?? 0;
    const out = tf.tidy(() => {
      const img = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
      const x = tf.add(tf.mul(tf.image.resizeBilinear(img, [size, size], false, true), scale), offset) as tf.Tensor4D;
      const f = this.features.predict(x) as tf.Tensor4D; // [1, h, w, C]
      const [, h, w, c] = f.shape;
      const flat = tf.reshape(f, [h * w, c]);
      // ∂y/∂F̄ for the ReLU MLP at this image's pooled features: G = W_1 D_1 W_2 D_2 … W_L   [C, K]
      let a = tf.mean(flat, 0, true) as tf.Tensor2D;
      let G: tf.Tensor2D | undefined;
      for (const d of this.head.dense) {
        const pre = (d.bias ? tf.add(tf.matMul(a, d.kernel), d.bias) : tf.matMul(a, d.kernel)) as tf.Tensor2D;
        let g: tf.Tensor2D = G ? tf.matMul(G, d.kernel) : d.kernel;
        if (d.relu) {
          g = tf.mul(g, tf.cast(tf.greater(pre, 0), 'float32')) as tf.Tensor2D; // D_l: [1, units] gate
          a = tf.relu(pre) as tf.Tensor2D;
        } else a = pre;
        G = g;
      }
      return { maps: tf.transpose(tf.relu(tf.matMul(flat, G!))), h, w }; // [K, h·w]
    });
    try {
      const data = (await out.maps.data()) as Float32Array, n = out.h * out.w;
      return { maps: this.classNames.map((_, k) => data.slice(k * n, (k + 1) * n)), h: out.h, w: out.w };
    } finally {
      out.maps.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
    this.features.dispose();
  }
}

/**
 * A user classifier: a tfjs layers `model.json` with its weight shards beside it, and its class names
 * (one per output unit, in order). Names should be words the similarity knows (WordNet nouns or the
 * vector file's vocabulary).
 */
export async function loadLayersModelCam(modelJsonPath: string, classNames: string[], opts: LayersCamOptions = {}): Promise<LayersModelCam> {
  const file = path.resolve(modelJsonPath);
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new DataError(file, `cannot read a tfjs layers model.json: ${(e as Error).message}`);
  }
  if (!json.modelTopology || !json.weightsManifest) throw new DataError(file, 'not a tfjs layers model (needs modelTopology and weightsManifest)');
  return camFromJson(`layers-model:${file}`, classNames, json, (p) => {
    const shard = path.join(path.dirname(file), p);
    if (!fs.existsSync(shard)) throw new DataError(shard, `weight shard named in ${file} is missing`);
    return fs.readFileSync(shard);
  }, opts);
}

/** The built-in CAM source: nsfwjs@4.3.0's MobileNetV2 classifier (5 NSFW classes; honestly weak). */
export async function loadNsfwjsCam(opts: LayersCamOptions & { nsfwjsDir?: string } = {}): Promise<LayersModelCam> {
  const dir = opts.nsfwjsDir ?? findNsfwjsDir();
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string };
  if (pkg.version !== NSFWJS_VERSION) throw new UsageError(`the built-in CAM source needs nsfwjs@${NSFWJS_VERSION} exactly (found ${pkg.version} at ${dir})`);
  const mdir = path.join(dir, 'dist', 'models', 'mobilenet_v2');
  // UMD modules exporting the model JSON / a base64 shard (see nets/mobilenetv2.ts).
  const req = createRequire(path.join(dir, 'package.json'));
  const json = req(path.join(mdir, 'model.min.js')) as ModelJson;
  return camFromJson('nsfwjs-mobilenetv2', [...NSFWJS_CLASSES], json, (p) => {
    const b64 = req(path.join(mdir, `${p}.min.js`));
    if (typeof b64 !== 'string') throw new DataError(path.join(mdir, `${p}.min.js`), 'did not export a base64 weight shard');
    return Buffer.from(b64, 'base64');
  }, { inputScale: 1 / 255, inputOffset: 0, ...opts });
}
