// nsfwjs's MobileNetV2 (mobilenetv2.ts: cut at block_13_expand_relu) as an ONNX graph, translated layer by
// layer from the loaded tfjs LayersModel itself, so topology and (dequantised) weights are exactly what
// tfjs runs. In and out as the tfjs backbone: x [N, H, W, 3] RGB 0..255 → [N, h, w, 576]; inside NCHW.
// The Keras layers this cut uses, and their ONNX forms:
//   InputLayer          → Transpose to NCHW, then x / 255 (nsfwjs feeds the model img / 255)
//   ZeroPadding2D       → Pad (constant 0)
//   Conv2D              → Conv, kernel [kh, kw, cin, cout] → [cout, cin, kh, kw]
//   DepthwiseConv2D     → Conv with group = cin, kernel [kh, kw, cin, m] → [cin·m, 1, kh, kw]
//   BatchNormalization  → BatchNormalization (inference: moving mean/variance, ε from the layer)
//   ReLU(max_value 6)   → Clip(0, 6);  ReLU without max → Relu
//   Add                 → Add
// Keras 'same' padding puts the odd pixel at the end (TF's rule): SAME_UPPER. Anything else in the
// graph is refused by name, so a different nsfwjs model cannot be translated silently wrong. Configs are
// read through layer.getConfig(), which tfjs gives in camelCase (kernelSize, useBias, maxValue, …).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tfToOihw } from './vgg16Graph';
import { OnnxGraphBuilder, type Attr } from './model';

export const MOBILENET_GRAPH_VERSION = 1;

type Layer = tfl.layers.Layer;
type Cfg = Record<string, unknown>;

function weightsOf(layer: Layer): Record<string, { shape: number[]; data: Float32Array }> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const w of layer.weights) {
    const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    out[short] = { shape: w.shape as number[], data: w.read().dataSync() as Float32Array };
  }
  return out;
}

function need<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`mobilenetOnnx: ${what} missing`);
  return x;
}

function pair(v: unknown, name: string): [number, number] {
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return v as [number, number];
  if (typeof v === 'number') return [v, v];
  throw new Error(`mobilenetOnnx: unexpected ${name} ${JSON.stringify(v)}`);
}

/** Conv attributes for Keras padding on a k×k kernel: 'valid' → none, 'same' → SAME_UPPER (odd pixel at the end). */
function convPadding(cfg: Cfg, k: [number, number], dil: [number, number], stride: [number, number]): Record<string, Attr> {
  if (cfg.padding === 'valid') return {};
  if (cfg.padding !== 'same') throw new Error(`mobilenetOnnx: padding '${String(cfg.padding)}'`);
  if (stride[0] === 1 && stride[1] === 1) {
    // stride 1: fixed pads, split as TF does (floor at the start)
    const t = (k[0] - 1) * dil[0], l = (k[1] - 1) * dil[1];
    return { pads: [Math.floor(t / 2), Math.floor(l / 2), t - Math.floor(t / 2), l - Math.floor(l / 2)] };
  }
  return { auto_pad: 'SAME_UPPER' };
}

function convAttrs(cfg: Cfg): { k: [number, number]; attrs: Record<string, Attr> } {
  const k = pair(cfg.kernelSize, 'kernelSize');
  const s = pair(cfg.strides, 'strides');
  const d = pair(cfg.dilationRate ?? 1, 'dilationRate');
  if (cfg.activation !== 'linear') throw new Error(`mobilenetOnnx: fused activation '${String(cfg.activation)}' not handled`);
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new Error('mobilenetOnnx: channels_first layer');
  return { k, attrs: { kernel_shape: k, strides: s, dilations: d, ...convPadding(cfg, k, d, s) } };
}

/** Serialised ONNX model of the cut MobileNetV2 held by `model` (a tfjs LayersModel). */
export function mobilenetOnnx(model: tfl.LayersModel, meta: Record<string, string> = {}): Uint8Array {
  const g = new OnnxGraphBuilder('nsfwjs_mobilenetv2_features');
  const value = new Map<string, string>(); // Keras layer name → ONNX value name
  const channels = new Map<string, number>();
  const inputOf = (layer: Layer): string[] => layer.inboundNodes[0].inboundLayers.map((l) => need(value.get(l.name), `input ${l.name} of ${layer.name}`));
  const chOf = (layer: Layer): number => need(channels.get(layer.inboundNodes[0].inboundLayers[0].name), `channels into ${layer.name}`);
  let last = '';
  tf.tidy(() => {
    for (const layer of model.layers) {
      const cfg = layer.getConfig() as Cfg;
      const cls = layer.getClassName();
      const w = weightsOf(layer);
      let out: string;
      let ch: number;
      switch (cls) {
        case 'InputLayer': {
          const x = g.input('x', ['N', 'H', 'W', 3]);
          const nchw = g.node('Transpose', [x], { perm: [0, 3, 1, 2] });
          out = g.node('Div', [nchw, g.floats('scale255', [1], Float32Array.of(255))]);
          ch = 3;
          break;
        }
        case 'ZeroPadding2D': {
          const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
          out = g.node('Pad', [inputOf(layer)[0], g.int64s('pads', [0, 0, t, l, 0, 0, b, r])], { mode: 'constant' });
          ch = chOf(layer);
          break;
        }
        case 'Conv2D': {
          const { k, attrs } = convAttrs(cfg);
          const kernel = need(w.kernel, `${layer.name} kernel`);
          const [, , cin, cout] = kernel.shape;
          const ins = [inputOf(layer)[0], g.floats(`${layer.name}.weight`, [cout, cin, k[0], k[1]], tfToOihw(kernel.data, k[0], k[1], cin, cout))];
          if (cfg.useBias) ins.push(g.floats(`${layer.name}.bias`, [cout], need(w.bias, `${layer.name} bias`).data));
          out = g.node('Conv', ins, attrs);
          ch = cout;
          break;
        }
        case 'DepthwiseConv2D': {
          const { k, attrs } = convAttrs(cfg);
          const kernel = need(w.depthwise_kernel, `${layer.name} depthwise_kernel`);
          const [, , cin, mult] = kernel.shape;
          // [kh, kw, cin, m] read as [kh, kw, 1, cin·m] is the grouped kernel with in = 1, out = cin·m (channel c·m + j)
          const wt = tfToOihw(kernel.data, k[0], k[1], 1, cin * mult);
          const ins = [inputOf(layer)[0], g.floats(`${layer.name}.weight`, [cin * mult, 1, k[0], k[1]], wt)];
          if (cfg.useBias) ins.push(g.floats(`${layer.name}.bias`, [cin * mult], need(w.bias, `${layer.name} bias`).data));
          out = g.node('Conv', ins, { ...attrs, group: cin });
          ch = cin * mult;
          break;
        }
        case 'BatchNormalization': {
          if (cfg.axis !== -1 && cfg.axis !== 3) throw new Error(`mobilenetOnnx: BatchNormalization axis ${String(cfg.axis)}`);
          ch = chOf(layer);
          const ones = new Float32Array(ch).fill(1), zeros = new Float32Array(ch);
          const p = (k: string, dflt: Float32Array) => g.floats(`${layer.name}.${k}`, [ch], w[k]?.data ?? dflt);
          out = g.node(
            'BatchNormalization',
            [inputOf(layer)[0], p('gamma', ones), p('beta', zeros), p('moving_mean', zeros), p('moving_variance', ones)],
            { epsilon: { float: cfg.epsilon as number } },
          );
          break;
        }
        case 'ReLU': {
          if ((cfg.negativeSlope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0) throw new Error(`mobilenetOnnx: leaky/thresholded ReLU in ${layer.name}`);
          const x = inputOf(layer)[0];
          out = typeof cfg.maxValue === 'number'
            ? g.node('Clip', [x, g.floats('zero', [], Float32Array.of(0)), g.floats('relu_max', [], Float32Array.of(cfg.maxValue))])
            : g.node('Relu', [x]);
          ch = chOf(layer);
          break;
        }
        case 'Add': {
          const ins = inputOf(layer);
          out = ins.slice(1).reduce((a, b) => g.node('Add', [a, b]), ins[0]);
          ch = chOf(layer);
          break;
        }
        default:
          throw new Error(`mobilenetOnnx: layer ${layer.name} of class ${cls} has no ONNX translation here`);
      }
      value.set(layer.name, out);
      channels.set(layer.name, ch);
      last = layer.name;
    }
  });
  const outName = model.outputs[0].sourceLayer.name;
  if (outName !== last) throw new Error(`mobilenetOnnx: output ${outName} is not the last layer ${last}`);
  g.node('Transpose', [value.get(outName)!], { perm: [0, 2, 3, 1] }, 'features');
  g.output('features', ['N', 'h', 'w', channels.get(outName)!]);
  return g.toModel({
    producer: 'protolab',
    producerVersion: String(MOBILENET_GRAPH_VERSION),
    doc: 'nsfwjs MobileNetV2 cut at block_13_expand_relu, NHWC in/out, input RGB 0..255',
    meta,
  });
}
