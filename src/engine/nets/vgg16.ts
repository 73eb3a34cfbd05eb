// PANet's VGG-16 encoder (Wang et al., ICCV 2019; official code models/vgg.py):
//   conv1_1..conv1_2 → maxpool(3, s2, p1)
//   conv2_1..conv2_2 → maxpool(3, s2, p1)
//   conv3_1..conv3_3 → maxpool(3, s2, p1)
//   conv4_1..conv4_3 → maxpool(3, s1, p1)      (pool4 keeps the resolution)
//   conv5_1..conv5_3, dilation 2, padding 2    (no pool5; no ReLU after conv5_3)
// All convs 3×3 + ReLU. Output stride 8, 512 channels: side ceil(ceil(ceil(n/2)/2)/2) = ceil(n/8),
// so 417 → 53 and 321 → 41.
// Parameters use ProtoLab names 'convB_I.weight' ([3,3,in,out], tfjs layout) and 'convB_I.bias'.
import * as tf from '@tensorflow/tfjs-core';
import { newVariable } from './variable';
import { Rng } from '../prng';
import { conv3x3 } from './conv';
import { maxPool3x3, maxPool3x3OutSize } from './pool';
import type { TensorData } from './safetensors';

export interface ConvSpec {
  name: string;
  cin: number;
  cout: number;
  dilation: number;
  relu: boolean;
  /** Max-pool (3×3, pad 1) after this conv, with this stride; absent when none follows. */
  poolAfter?: 1 | 2;
}

function block(b: number, n: number, cin: number, cout: number, dilation: number, lastRelu: boolean, poolAfter?: 1 | 2): ConvSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `conv${b}_${i + 1}`,
    cin: i === 0 ? cin : cout,
    cout,
    dilation,
    relu: i < n - 1 || lastRelu,
    poolAfter: i === n - 1 ? poolAfter : undefined,
  }));
}

/** The 13 convolutions in order (the order torchvision's `features.*` weights map onto). */
export const VGG16_CONVS: readonly ConvSpec[] = [
  ...block(1, 2, 3, 64, 1, true, 2),
  ...block(2, 2, 64, 128, 1, true, 2),
  ...block(3, 3, 128, 256, 1, true, 2),
  ...block(4, 3, 256, 512, 1, true, 1),
  ...block(5, 3, 512, 512, 2, false),
];

/** ImageNet statistics used by torchvision's (and so PANet's) VGG-16 weights, on RGB in [0, 1]. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Feature-map side for an input side n. */
export function vgg16OutSize(n: number): number {
  let s = n;
  for (const c of VGG16_CONVS) if (c.poolAfter) s = maxPool3x3OutSize(s, c.poolAfter);
  return s;
}

export type Vgg16Arrays = Record<string, TensorData>;

/** Relative std of an edge tap of the random init's 3×3 filters (corner: TAPER²; centre: 1). */
const TAPER = 0.3;

export class Vgg16 {
  /** Trainable parameters by ProtoLab name. */
  readonly params: Record<string, tf.Variable>;

  constructor(arrays: Vgg16Arrays) {
    this.params = {};
    try {
      for (const c of VGG16_CONVS) {
        for (const [key, shape] of [[`${c.name}.weight`, [3, 3, c.cin, c.cout]], [`${c.name}.bias`, [c.cout]]] as const) {
          const a = arrays[key];
          if (!a) throw new Error(`Vgg16: missing parameter ${key}`);
          if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
            throw new Error(`Vgg16: ${key} has shape [${a.shape}], expected [${shape}]`);
          }
          this.params[key] = newVariable(() => tf.tensor(a.data as Float32Array, [...shape], 'float32'));
        }
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * The init when no weights are given: Kaiming-normal weights (fan_in, ReLU gain) and torch's default
   * conv bias, uniform(±1/sqrt(9·cin)), except that the per-tap std follows a centre-weighted profile
   * (centre 1, edge taps TAPER, corner taps TAPER²), rescaled so each filter's total fan-in variance —
   * hence the RMS std over a layer, sqrt(2/(9·cin)) — is exactly Kaiming's. Why: with i.i.d. taps every
   * random 3×3 layer mixes its 9 neighbours with equal energy, and 13 of them (conv5 dilated) smear the
   * stride-8 features over most of a 224² input, so fg and bg prototypes become alike; centre-heavy taps
   * (as trained VGG filters tend to be) keep the random features local. Measured on the sample set (24 val
   * images, own-image and cross-image prototype IoU): cross-image IoU 14 → ~23. Still a seeded, data-free
   * init; nothing is fitted. Each layer draws from its own stream (rng.fork(name)).
   */
  static randomArrays(seed: number): Vgg16Arrays {
    const rng = new Rng(seed);
    const out: Vgg16Arrays = {};
    for (const c of VGG16_CONVS) {
      const fanIn = 9 * c.cin;
      const r = rng.fork(c.name);
      const std = Math.sqrt(2 / fanIn);
      const w = new Float32Array(9 * c.cin * c.cout);
      // Box-Muller gives two independent normals per pair of uniforms; use both (init is 14.7M draws).
      for (let i = 0; i < w.length; i += 2) {
        const u = 1 - r.next(); // (0, 1]: log(u) is finite
        const rad = std * Math.sqrt(-2 * Math.log(u));
        const th = 2 * Math.PI * r.next();
        w[i] = rad * Math.cos(th);
        if (i + 1 < w.length) w[i + 1] = rad * Math.sin(th);
      }
      // centre-weighted tap profile, normalised so the 9 gains² sum to 9 (fan-in variance unchanged);
      // layout [kh, kw, cin, cout]: tap (y, x) owns w[(3y + x)·cin·cout …]
      const norm = Math.sqrt(9 / (1 + 4 * TAPER ** 2 + 4 * TAPER ** 4));
      const per = c.cin * c.cout;
      for (let t = 0; t < 9; t++) {
        const d2 = (Math.floor(t / 3) - 1) ** 2 + ((t % 3) - 1) ** 2; // 0 centre, 1 edge, 2 corner
        const g = norm * TAPER ** d2;
        for (let i = t * per; i < (t + 1) * per; i++) w[i] *= g;
      }
      const bound = 1 / Math.sqrt(fanIn);
      const b = new Float32Array(c.cout);
      for (let i = 0; i < b.length; i++) b[i] = r.uniform(-bound, bound);
      out[`${c.name}.weight`] = { shape: [3, 3, c.cin, c.cout], dtype: 'float32', data: w };
      out[`${c.name}.bias`] = { shape: [c.cout], dtype: 'float32', data: b };
    }
    return out;
  }

  /** The encoder on an already-normalised NHWC input → [B, ceil(H/8), ceil(W/8), 512]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x;
      for (const c of VGG16_CONVS) {
        h = tf.add(conv3x3(h, this.params[`${c.name}.weight`] as tf.Tensor4D, c.dilation), this.params[`${c.name}.bias`]);
        if (c.relu) h = tf.relu(h);
        if (c.poolAfter) h = maxPool3x3(h, c.poolAfter);
      }
      return h;
    });
  }

  /** RGB in 0..255 → ImageNet-normalised → encoder. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const mean = tf.tensor1d(IMAGENET_MEAN.map((m) => m * 255));
      const std = tf.tensor1d(IMAGENET_STD.map((s) => s * 255));
      return this.forward(tf.div(tf.sub(x, mean), std) as tf.Tensor4D);
    });
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}
