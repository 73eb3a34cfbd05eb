// NanoDet's backbone (nets/nanodet.ts) as an ONNX model, translated node by node from the same verified
// graph JSON and weights that tfjs runs (tfGraphOnnx.ts), up to the taps of the requested strides.
// In and out as the tfjs GraphBackbone, but the pixels as bytes: x [N, H, W, 3] uint8 RGB → one
// [N, h, w, C] float32 (NHWC) per stride, outputs named s<stride>, in the order asked (a labeling image
// is bytes already: the main thread hands over a quarter of the data and converts nothing; measured
// 5 ms of main-thread time per 417² image for the float copy). Inside, NCHW: Transpose, Cast, then NanoDet's preprocessing
// (BGR, (v − mean) / std per channel) as one 1×1 Conv whose weights swap the channels and scale them,
// then the backbone's 3×3 convs with their biases, LeakyRelu, MaxPool and the CSP concats. H and W are
// free: one model per set of strides serves every input size.
import * as tf from '@tensorflow/tfjs-core';
import { NANODET, NANODET_FILES, NANODET_MEAN_BGR, NANODET_STD_BGR } from '../nanodet';
import { bundledModelDir, readVerified } from '../modelFiles';
import { weightsHashOfBytes } from '../weights';
import { OnnxGraphBuilder } from './model';
import type { OnnxModelSource } from './modelCache';
import { translateTfGraph, type TfConst, type TfNode } from './tfGraphOnnx';

/** Bumped whenever the graph this file builds changes, so cached .onnx files from an older one are not reused. */
export const NANODET_GRAPH_VERSION = 1;

interface GraphJson {
  modelTopology: { node: TfNode[] };
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
}

/** The model's ONNX output name for a stride. */
export const nanodetOutput = (stride: number): string => `s${stride}`;

/** NanoDet's files in `dir` (default: the bundled models/nanodet), checked by sha256, as a model for
 *  modelCache.ts: its id names the strides (one file per set of taps); nothing is built until asked. */
export function nanodetOnnxSource(strides: readonly number[], dir?: string): OnnxModelSource & { weightsHash: string } {
  const folder = dir ?? bundledModelDir('nanodet');
  const json = readVerified(folder, NANODET_FILES.json, 'NanoDet model file');
  const bin = readVerified(folder, NANODET_FILES.bin, 'NanoDet model file');
  const weightsHash = weightsHashOfBytes(bin);
  return {
    id: `nanodet-s${strides.join('-')}`,
    weightsHash,
    onnx: { graphVersion: NANODET_GRAPH_VERSION, build: () => nanodetOnnx(json, bin, strides, { weightsHash }) },
  };
}

/** Serialised ONNX model of NanoDet's backbone at `strides`, from the graph JSON and weight bytes. */
export function nanodetOnnx(jsonBytes: Uint8Array, weightBytes: Uint8Array, strides: readonly number[], meta: Record<string, string> = {}): Uint8Array {
  return nanodetOnnxGraph(jsonBytes, weightBytes, strides).toModel({
    producer: 'protolab',
    producerVersion: String(NANODET_GRAPH_VERSION),
    doc: `NanoDet backbone, strides ${strides.join('+')}, NHWC in/out, input RGB 0..255`,
    meta: { backbone: 'nanodet', strides: strides.join(','), ...meta },
  });
}

/** The graph of nanodetOnnx before serialisation. */
export function nanodetOnnxGraph(jsonBytes: Uint8Array, weightBytes: Uint8Array, strides: readonly number[]): OnnxGraphBuilder {
  if (!strides.length) throw new Error('nanodetOnnx: no stride asked for');
  for (const s of strides) if (!NANODET.taps[s]) throw new Error(`nanodetOnnx: NanoDet has no tap at stride ${s}`);
  const json = JSON.parse(Buffer.from(jsonBytes).toString('utf8')) as GraphJson;
  const nodes = json.modelTopology.node;
  const w = Buffer.from(weightBytes);
  // tfjs's own decoding (float16 → float32): the constants are exactly the ones tfjs runs
  const decoded = tf.io.decodeWeights(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer, json.weightsManifest.flatMap((m) => m.weights));
  const consts = new Map<string, TfConst>();
  try {
    for (const [name, t] of Object.entries(decoded)) consts.set(name, { data: t.dataSync() as Float32Array | Int32Array, shape: t.shape });
  } finally {
    tf.dispose(Object.values(decoded));
  }

  const g = new OnnxGraphBuilder('nanodet_backbone');
  const x = g.input('x', ['N', 'H', 'W', 3], 'uint8');
  const nchw = g.node('Cast', [g.node('Transpose', [x], { perm: [0, 3, 1, 2] })], { to: 1 }); // to FLOAT
  // output channel o (B, G, R) = (input channel 2 − o − mean[o]) / std[o]
  const wt = new Float32Array(9), bias = new Float32Array(3);
  for (let o = 0; o < 3; o++) {
    wt[o * 3 + (2 - o)] = 1 / NANODET_STD_BGR[o];
    bias[o] = -NANODET_MEAN_BGR[o] / NANODET_STD_BGR[o];
  }
  const prepared = g.node('Conv', [nchw, g.floats('normalise.weight', [3, 3, 1, 1], wt), g.floats('normalise.bias', [3], bias)], { kernel_shape: [1, 1] });
  translateTfGraph(
    g, nodes, consts,
    { node: NANODET.input, value: { onnx: prepared, perm: [0, 1, 2, 3], ch: 3 } },
    strides.map((s) => ({ node: NANODET.taps[s].node, layout: NANODET.layout, output: nanodetOutput(s), channels: NANODET.taps[s].channels })),
    'nanodetOnnx',
  );
  return g;
}
