// An ONNX model as the few messages a feed-forward float32 graph needs, written with protobuf.ts.
// Field numbers are those of onnx/onnx.proto (IR version 8):
//   ModelProto      ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
//                   opset_import 8, metadata_props 14
//   OperatorSetIdProto  domain 1, version 2          StringStringEntryProto  key 1, value 2
//   GraphProto      node 1, name 2, initializer 5, input 11, output 12
//   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto  name 1, f 2, i 3, s 4, floats 7, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7)
//   TensorProto     dims 1, data_type 2 (FLOAT 1, UINT8 2, INT64 7), name 8, raw_data 9 (little-endian)
//   ValueInfoProto  name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1, shape 2;
//   TensorShapeProto dim 1;  Dimension dim_value 1, dim_param 2
import { PbMessage } from './protobuf';

export const ONNX_IR_VERSION = 8;
/** Default-domain opset: 17 has every op used here (Conv, MaxPool, Clip with min/max inputs, Pad with pads input). */
export const ONNX_OPSET = 17;

const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;

export type Attr = number | number[] | { float: number } | { floats: number[] } | string;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Integers and integer lists, or {float}/{floats} for float attributes, or a string. */
  attrs?: Record<string, Attr>;
}

/** A symbolic dimension is a string (e.g. 'N'), a fixed one a number. */
export type Dim = number | string;

function attribute(name: string, v: Attr): PbMessage {
  const m = new PbMessage().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TypeError(`ONNX attribute ${name}: ${v} is not an integer (use {float})`);
    return m.int(3, v).int(20, 2);
  }
  if (typeof v === 'string') return m.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (Array.isArray(v)) return m.packedInts(8, v).int(20, 7);
  if ('float' in v) return m.float(2, v.float).int(20, 1);
  return m.packedFloats(7, v.floats).int(20, 6);
}

function nodeMessage(n: OnnxNode, i: number): PbMessage {
  const m = new PbMessage();
  for (const x of n.inputs) m.string(1, x);
  for (const y of n.outputs) m.string(2, y);
  m.string(3, n.name ?? `${n.op}_${i}`).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.message(5, attribute(k, v));
  return m;
}

function tensorMessage(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): PbMessage {
  return new PbMessage().packedInts(1, dims).int(2, dataType).string(8, name).bytes(9, raw);
}

function valueInfo(name: string, dims: readonly Dim[], elemType = FLOAT): PbMessage {
  const shape = new PbMessage();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new PbMessage().int(1, d) : new PbMessage().string(2, d));
  const tensorType = new PbMessage().int(1, elemType).message(2, shape);
  return new PbMessage().string(1, name).message(2, new PbMessage().message(1, tensorType));
}

/** Builds one graph: float32 inputs/outputs, float32 / int64 initializers, nodes in topological order. */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly inits: PbMessage[] = [];
  private readonly inputs: PbMessage[] = [];
  private readonly outputs: PbMessage[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with this prefix. */
  fresh(prefix: string): string {
    let n = `${prefix}`;
    while (this.names.has(n)) n = `${prefix}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** A graph input: float32, or uint8 (pixels: a quarter of the bytes to hand over; Cast inside). */
  input(name: string, dims: Dim[], type: 'float32' | 'uint8' = 'float32'): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims, type === 'uint8' ? UINT8 : FLOAT));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 constant (weights). The data is referenced until the model is serialised. */
  floats(prefix: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new RangeError(`ONNX initializer ${prefix}: ${data.length} values for shape [${dims}]`);
    const name = this.fresh(prefix);
    this.inits.push(tensorMessage(name, dims, FLOAT, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return name;
  }

  /** An int64 constant (e.g. Pad's pads input); values must be ≥ 0 here, written as little-endian int64. */
  int64s(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.inits.push(tensorMessage(name, [values.length], INT64, new Uint8Array(raw.buffer)));
    return name;
  }

  /** Add a node; returns its (first) output's name. */
  node(op: string, inputs: string[], attrs?: Record<string, Attr>, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.names.add(out);
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** How many nodes of each op type the graph has (for checks of a translation). */
  opCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.nodes) out[n.op] = (out[n.op] ?? 0) + 1;
    return out;
  }

  /** Serialise as a ModelProto. `meta` goes to metadata_props (provenance: weights hash, builder version). */
  toModel(opts: { producer: string; producerVersion: string; doc?: string; meta?: Record<string, string> }): Uint8Array {
    const graph = new PbMessage();
    this.nodes.forEach((n, i) => graph.message(1, nodeMessage(n, i)));
    graph.string(2, this.name);
    for (const t of this.inits) graph.message(5, t);
    for (const x of this.inputs) graph.message(11, x);
    for (const y of this.outputs) graph.message(12, y);
    const model = new PbMessage()
      .int(1, ONNX_IR_VERSION)
      .string(2, opts.producer)
      .string(3, opts.producerVersion);
    if (opts.doc) model.string(6, opts.doc);
    model.message(7, graph).message(8, new PbMessage().string(1, '').int(2, ONNX_OPSET));
    for (const [k, v] of Object.entries(opts.meta ?? {})) model.message(14, new PbMessage().string(1, k).string(2, v));
    return model.finish();
  }
}
