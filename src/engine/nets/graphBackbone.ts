// Frozen backbones that run as TensorFlow graph models (tfjs-converter's GraphModel): a detector's
// graph, tapped at intermediate nodes, one per output stride. The detectors were converted with a
// fixed input size; this loader makes them take any size:
//   - the input placeholder's baked shape is freed and the signature (which repeats it) dropped;
//   - constants that hold resize output sizes (their heads upsample by explicit [h, w]) are replaced
//     for each new input side, so even the full detector stays consistent (the taps do not need them:
//     the executor runs only the nodes the requested taps depend on).
// Input convention of every ProtoLab backbone: [1, S, S', 3] RGB 0..255 (NHWC); outputs are NHWC too,
// whatever layout the graph computes in. Each model's own file (nanodet.ts, centernet.ts) says which
// nodes to tap and how to normalise.
import * as tf from '@tensorflow/tfjs-core';
import * as tfc from '@tensorflow/tfjs-converter';
import { UsageError } from '../errors';
import { weightsHashOfBytes } from './weights';

export type GraphBackboneId = 'nanodet' | 'centernet';

export interface GraphTap {
  /** Node name in the graph. */
  node: string;
  /** Channels of the node's output. */
  channels: number;
}

/** What ProtoLab knows about one graph model: everything but its bytes. */
export interface GraphModelDef {
  id: GraphBackboneId;
  /** Input placeholder node name. */
  input: string;
  /** Layout of the graph's input and tapped outputs (NCHW outputs are transposed to NHWC). */
  layout: 'NHWC' | 'NCHW';
  /** Tapped node by output stride. */
  taps: Readonly<Record<number, GraphTap>>;
  /** Constant nodes holding a resize's output size [h, w], with the stride of the map they produce. */
  resizeSizes: Readonly<Record<string, number>>;
  /** [1, H, W, 3] RGB 0..255 → the model's input: its normalisation, in its layout. */
  prepare(x: tf.Tensor4D): tf.Tensor4D;
}

/** Side of the feature map at `stride` for input side n: each stride-2 step with SAME padding gives ceil(s / 2). */
export function sameSide(n: number, stride: number): number {
  let s = n;
  for (let k = 1; k < stride; k *= 2) s = Math.ceil(s / 2);
  return s;
}

interface GraphJson {
  modelTopology: { node: Array<{ name: string; op: string; attr?: { shape?: { shape?: { dim?: Array<{ size: string }> } } } }> };
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: { signature?: unknown };
}

export class GraphBackbone {
  private patchedFor = '';

  private constructor(
    readonly def: GraphModelDef,
    private readonly model: tfc.GraphModel,
    /** First 12 hex chars of the sha256 of the weight file. */
    readonly weightsHash: string,
    /** Output strides of featuresAll, in order. */
    readonly strides: readonly number[],
  ) {}

  /**
   * A graph model from its JSON (text) and weight bytes, outputting the taps at `strides` (in that order).
   * `source` names the files in errors.
   */
  static async load(def: GraphModelDef, jsonBytes: Uint8Array, weightBytes: Uint8Array, strides: readonly number[], source: string): Promise<GraphBackbone> {
    if (!strides.length) throw new UsageError(`${def.id}: no feature level asked for`);
    for (const s of strides) {
      if (!def.taps[s]) throw new UsageError(`${def.id} has no feature level at stride ${s} (choose among ${Object.keys(def.taps).join(', ')})`);
    }
    let json: GraphJson;
    try {
      json = JSON.parse(Buffer.from(jsonBytes).toString('utf8')) as GraphJson;
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
    const nodes = json.modelTopology?.node;
    if (!Array.isArray(nodes)) throw new Error(`${source}: not a tfjs graph model (no modelTopology.node)`);
    const input = nodes.find((n) => n.name === def.input && n.op === 'Placeholder');
    if (!input) throw new Error(`${source}: no input placeholder ${def.input}`);
    const dims = input.attr?.shape?.shape?.dim;
    if (dims) input.attr!.shape!.shape!.dim = dims.map(() => ({ size: '-1' }));
    for (const s of strides) if (!nodes.some((n) => n.name === def.taps[s].node)) throw new Error(`${source}: no node ${def.taps[s].node}`);
    const w = Buffer.from(weightBytes);
    const model = await tfc.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        // no signature: it repeats the fixed input shape
      }),
    );
    for (const k of Object.keys(def.resizeSizes)) {
      if (!model.weights[k]) {
        model.dispose();
        throw new Error(`${source}: no constant ${k}`);
      }
    }
    return new GraphBackbone(def, model, weightsHashOfBytes(weightBytes), [...strides]);
  }

  /** Channels at each stride of `strides`. */
  get channels(): number[] {
    return this.strides.map((s) => this.def.taps[s].channels);
  }

  /** [1, H, W, 3] RGB 0..255 → one [1, h, w, C] per stride of `strides` (NHWC), in that order. */
  featuresAll(x: tf.Tensor4D): tf.Tensor4D[] {
    if (x.rank !== 4 || x.shape[0] !== 1 || x.shape[3] !== 3) throw new RangeError(`${this.def.id}: expected [1, H, W, 3] RGB, got [${x.shape.join(', ')}]`);
    this.patchResizeSizes(x.shape[1], x.shape[2]);
    const names = this.strides.map((s) => this.def.taps[s].node);
    return tf.tidy(() => {
      const out = this.model.execute({ [this.def.input]: this.def.prepare(x) }, names);
      const outs = (Array.isArray(out) ? out : [out]) as tf.Tensor4D[];
      return this.def.layout === 'NCHW' ? outs.map((t) => tf.transpose(t, [0, 2, 3, 1])) : outs;
    });
  }

  /**
   * The whole graph's own outputs (the detector), for timing and checks only. The caller disposes them.
   * Runs at the input side the model was converted for unless its heads take any size.
   */
  executeNodes(x: tf.Tensor4D, nodes?: string[]): tf.Tensor[] {
    this.patchResizeSizes(x.shape[1], x.shape[2]);
    return tf.tidy(() => {
      const out = this.model.execute({ [this.def.input]: this.def.prepare(x) }, nodes);
      return Array.isArray(out) ? out : [out];
    });
  }

  /** Replace the baked resize sizes when the input side changes (kept tensors, owned by the model). */
  private patchResizeSizes(h: number, w: number): void {
    const key = `${h}x${w}`;
    if (this.patchedFor === key) return;
    const weights = this.model.weights;
    for (const [name, stride] of Object.entries(this.def.resizeSizes)) {
      const old = weights[name][0];
      weights[name] = [tf.keep(tf.tensor1d([sameSide(h, stride), sameSide(w, stride)], old.dtype as 'int32' | 'float32'))];
      old.dispose();
    }
    this.patchedFor = key;
  }

  dispose(): void {
    this.model.dispose();
  }
}
