// Out-of-the-box labeling backbone: the MobileNetV2 that ships inside nsfwjs@4.3.0 (MIT).
// It is ImageNet-initialised and then fine-tuned by nsfwjs for its own 5 classes; weights are uint8-
// quantised. No ImageNet-only backbone ships in any package reachable offline, so this is the best
// pretrained dense feature extractor available without the user bringing weights.
//
// We load the installed package's model files at run time (never bundled: 3.5 MB of base64), free the
// input size (Keras saved it as 224×224) and cut the graph at `block_13_expand_relu`: the expansion of
// the last stride-16 block, 576 channels, before block_13's stride-2 depthwise conv.
//
// Output side for an input side n (measured; Conv1 is 'same' stride 2, each later stride-2 block
// zero-pads (0,1) then convolves 'valid'): s1 = ceil(n/2), then s ← floor(s/2) three times.
// 417 → 209 → 104 → 52 → 26;  224 → 14;  321 → 161 → 80 → 40 → 20.
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { weightsHashOfBytes } from './weights';

export const NSFWJS_VERSION = '4.3.0';
export const MOBILENET_CUT = 'block_13_expand_relu';

/**
 * Taps by output stride, for multi-level features (labeling): each is the ReLU after the expansion 1×1
 * conv of the first block that runs at the next stride, i.e. the richest map still at this stride
 * (6× the channels of the previous block's output). Stride 8: block_6_expand_relu, 192 channels,
 * 417 → 52; stride 4: block_3_expand_relu, 144 channels, 417 → 104. Stride 32: the network's last
 * feature map (out_relu, 1280 channels, 417 → 13), the layer nsfwjs fine-tuned most for its classes.
 */
export const MOBILENET_TAPS: Readonly<Record<number, { layer: string; channels: number }>> = {
  4: { layer: 'block_3_expand_relu', channels: 144 },
  8: { layer: 'block_6_expand_relu', channels: 192 },
  16: { layer: MOBILENET_CUT, channels: 576 },
  32: { layer: 'out_relu', channels: 1280 },
};

/** Feature side at output stride 4, 8, 16 or 32 for an input side n (same padding rule as mobilenetV2OutSize). */
export function mobilenetV2SideAt(n: number, stride: number): number {
  let s = Math.ceil(n / 2);
  for (let k = 2; k < stride; k *= 2) s = Math.floor(s / 2);
  return s;
}

export function mobilenetV2OutSize(n: number): number {
  let s = Math.ceil(n / 2);
  for (let i = 0; i < 3; i++) s = Math.floor(s / 2);
  return s;
}

/** The installed nsfwjs package directory (its `exports` map hides package.json from require.resolve). */
export function findNsfwjsDir(from?: string): string {
  const req = createRequire(from ?? __filename);
  let entry: string;
  try {
    entry = req.resolve('nsfwjs');
  } catch {
    throw new Error(`MobileNetV2 backbone needs the npm package nsfwjs@${NSFWJS_VERSION}, which is not installed`);
  }
  for (let d = path.dirname(entry); d !== path.dirname(d); d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'nsfwjs') return d;
  }
  throw new Error(`cannot find nsfwjs's package.json above ${entry}`);
}

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown;
}

export class MobileNetV2Features {
  private constructor(
    /** The cut layers model (read by onnx/mobilenetGraph.ts to translate it). */
    readonly model: tfl.LayersModel,
    readonly weightsHash: string,
    readonly dir: string,
  ) {}

  /**
   * Load from the installed nsfwjs (or `nsfwjsDir`); throws unless its version is exactly 4.3.0.
   * `taps`: the layers to output, in order (default: block_13_expand_relu alone). The graph is cut after
   * the deepest one.
   */
  static async load(nsfwjsDir?: string, taps: readonly string[] = [MOBILENET_CUT]): Promise<MobileNetV2Features> {
    const dir = nsfwjsDir ?? findNsfwjsDir();
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string };
    if (pkg.version !== NSFWJS_VERSION) {
      throw new Error(`MobileNetV2 backbone needs nsfwjs@${NSFWJS_VERSION} exactly (found ${pkg.version} at ${dir}); its weights define the backbone`);
    }
    const mdir = path.join(dir, 'dist', 'models', 'mobilenet_v2');
    // The .min.js files are UMD modules whose export is the model JSON / the base64 weight shard.
    // createRequire with a computed path keeps bundlers from inlining them.
    const req = createRequire(path.join(dir, 'package.json'));
    const modelJson = req(path.join(mdir, 'model.min.js')) as {
      modelTopology: { model_config: { config: { layers: KerasLayer[]; input_layers: unknown; output_layers: unknown } } };
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const topology = JSON.parse(JSON.stringify(modelJson.modelTopology)) as typeof modelJson.modelTopology;
    const shards = modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => {
      const b64 = req(path.join(mdir, `${p}.min.js`));
      if (typeof b64 !== 'string') throw new Error(`nsfwjs weight shard ${p}.min.js did not export a base64 string`);
      return Buffer.from(b64, 'base64');
    });
    const bytes = Buffer.concat(shards);
    const cfg = topology.model_config.config;
    const input = cfg.layers[0];
    if (input.class_name !== 'InputLayer') throw new Error('nsfwjs MobileNetV2: first layer is not the input');
    input.config.batch_input_shape = [null, null, null, 3]; // free the input size
    if (!taps.length) throw new Error('nsfwjs MobileNetV2: no layer to output');
    const cut = Math.max(...taps.map((t) => {
      const i = cfg.layers.findIndex((l) => l.name === t);
      if (i < 0) throw new Error(`nsfwjs MobileNetV2 has no layer ${t}`);
      return i;
    }));
    cfg.layers = cfg.layers.slice(0, cut + 1); // functional-model layers are stored in topological order
    cfg.output_layers = taps.map((t) => [t, 0, 0]);
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
        weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
        weightData,
      }),
      { strict: false }, // the weights of the layers we cut off are simply not used
    );
    return new MobileNetV2Features(model, weightsHashOfBytes(bytes), dir);
  }

  /** RGB 0..255 → [1, s, s', 576]. nsfwjs feeds the model `img.toFloat().div(255)` (dist/cjs/core.js), so do we. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.model.predict(tf.div(x, 255)) as tf.Tensor4D | tf.Tensor4D[];
      if (!Array.isArray(y)) return y;
      y.slice(1).forEach((t) => t.dispose());
      return y[0];
    });
  }

  /** Every tap's output, in the order given to load(). */
  featuresAll(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const y = this.model.predict(tf.div(x, 255)) as tf.Tensor4D | tf.Tensor4D[];
      return Array.isArray(y) ? y : [y];
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
