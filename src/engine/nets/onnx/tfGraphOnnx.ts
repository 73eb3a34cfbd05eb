// A tfjs graph model (tfjs-converter JSON + its decoded constants) translated to native ONNX ops, from
// its input placeholder up to a few tapped nodes. Written for detectors that came from ONNX through
// onnx-tf (NanoDet): that conversion computes NCHW maps but wraps every convolution in transposes to
// NHWC and back, pads with a separate Pad op, and adds the bias after the conv. ONNX is NCHW, so here
// every value is kept PHYSICALLY in NCHW and carries a logical permutation instead:
//   Transpose            → no op: only the value's permutation changes
//   Pad / PadV2          → pending: folded into the next Conv's pads (constant 0) or MaxPool's pads
//                          (constant −∞, which ONNX MaxPool's ignored padding equals); else an ONNX Pad
//   Conv2D (+ Add [C])   → one Conv with its bias; grouped when the filter has fewer input channels
//   LeakyRelu / Relu     → LeakyRelu (its alpha) / Relu; onnxruntime fuses them into the Conv
//   MaxPool, ConcatV2    → MaxPool, Concat on the physical axis
//   Identity             → no op
// Anything else on the way to a tap is refused by node name and op, so a graph this does not know is
// never translated silently wrong. Shapes stay free (symbolic N, H, W): nothing here depends on sizes.
import { OnnxGraphBuilder, type Attr } from './model';
import { tfToOihw } from './vgg16Graph';

/** A node of the graph JSON, as tfjs-converter writes it. */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; f?: number; i?: string; list?: { i?: string[] } } | undefined>;
}

/** A constant's values (dequantised by tfjs) and shape. */
export interface TfConst {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** A value of the translated graph: an ONNX tensor stored NCHW, seen by the tf graph through `perm`
 *  (logical axis i is physical axis perm[i]), with `ch` physical channels and maybe a pending pad. */
export interface TfValue {
  onnx: string;
  perm: number[];
  ch: number;
  pad?: PendingPad;
}

interface PendingPad {
  /** ONNX order over the physical axes: begins of axes 0..3, then ends. */
  pads: number[];
  value: number;
  /** the Pad node's output once something needed it materialised */
  done?: string;
}

type Translated = TfValue | 'const';

export interface TfGraphTap {
  node: string;
  /** the tap's logical layout in the tf graph; outputs are always NHWC */
  layout: 'NHWC' | 'NCHW';
  /** ONNX output name */
  output: string;
  channels: number;
}

const NHWC = [0, 2, 3, 1];
const NCHW = [0, 1, 2, 3];
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const utf8 = (b64: string | undefined): string => (b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('utf8'));

/**
 * Translate the part of `nodes` that the taps need into `g`. `input` is the placeholder's value (the
 * caller builds the model's own input and preprocessing); `consts` holds every Const node by name.
 */
export function translateTfGraph(
  g: OnnxGraphBuilder,
  nodes: readonly TfNode[],
  consts: ReadonlyMap<string, TfConst>,
  input: { node: string; value: TfValue },
  taps: readonly TfGraphTap[],
  what: string,
): void {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const ref = (s: string): string => s.replace(/^\^/, '').replace(/:0$/, '');
  const consumers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(ref(i), (consumers.get(ref(i)) ?? 0) + 1);
  const values = new Map<string, Translated>([[input.node, input.value]]);
  const fail = (n: TfNode, why: string): never => {
    throw new Error(`${what}: node ${n.name} (${n.op}): ${why}`);
  };

  const constOf = (name: string, user: TfNode): TfConst => {
    const c = consts.get(ref(name));
    if (!c) fail(user, `input ${name} is not a constant`);
    return c!;
  };
  const tensorOf = (name: string, user: TfNode): TfValue => {
    const v = translate(ref(name));
    if (v === 'const') fail(user, `input ${name} is a constant where a tensor was expected`);
    return v as TfValue;
  };
  /** The value with any pending pad applied as an ONNX Pad. */
  const dense = (v: TfValue): string => {
    if (!v.pad) return v.onnx;
    if (!v.pad.done) {
      v.pad.done = g.node('Pad', [v.onnx, g.int64s('pads', v.pad.pads), g.floats('pad_value', [], Float32Array.of(v.pad.value))], { mode: 'constant' });
    }
    return v.pad.done;
  };
  /** H and W pads [top, left, bottom, right] of a pending pad that touches only H and W, else undefined. */
  const spatialPads = (v: TfValue): number[] | undefined => {
    const p = v.pad?.pads;
    if (!p || p[0] || p[1] || p[4] || p[5]) return undefined;
    return [p[2], p[3], p[6], p[7]];
  };
  /**
   * The input of a windowed op (Conv, MaxPool) under the node's padding, setting its pads in `attrs`:
   * VALID after a pending spatial pad of `foldValue` (what the ONNX op pads with itself) takes that pad
   * as its own; SAME is ONNX's SAME_UPPER; any other pending pad is applied first.
   */
  const padded = (n: TfNode, x: TfValue, attrs: Record<string, Attr>, foldValue: number): string => {
    const padding = utf8(n.attr?.padding?.s);
    if (padding === 'VALID') {
      const sp = x.pad && x.pad.value === foldValue ? spatialPads(x) : undefined;
      if (!sp) return dense(x);
      attrs.pads = sp;
      return x.onnx;
    }
    if (padding !== 'SAME') return fail(n, `padding ${padding}`);
    attrs.auto_pad = 'SAME_UPPER';
    return dense(x);
  };
  /** A per-format [H, W] pair out of a 4-list in the node's data_format. */
  const hw = (n: TfNode, key: string, nhwc: boolean, dflt?: number[]): number[] => {
    const l = n.attr?.[key]?.list?.i?.map(Number) ?? dflt;
    if (!l || l.length !== 4) return fail(n, `attribute ${key} is not a 4-list`);
    return nhwc ? [l[1], l[2]] : [l[2], l[3]];
  };
  const format = (n: TfNode): boolean => {
    const f = utf8(n.attr?.data_format?.s) || 'NHWC';
    if (f !== 'NHWC' && f !== 'NCHW') fail(n, `data_format ${f}`);
    return f === 'NHWC';
  };
  const needLayout = (n: TfNode, v: TfValue, nhwc: boolean): void => {
    if (!same(v.perm, nhwc ? NHWC : NCHW)) fail(n, `input layout [${v.perm}] does not put channels on the physical channel axis`);
  };

  function conv(n: TfNode, bias?: Float32Array): TfValue {
    const nhwc = format(n);
    const x = tensorOf(n.input![0], n);
    needLayout(n, x, nhwc);
    const f = constOf(n.input![1], n);
    if (f.shape.length !== 4) fail(n, 'filter is not 4-D');
    const [kh, kw, cin, cout] = f.shape;
    if (x.ch % cin !== 0) fail(n, `${x.ch} input channels are not a multiple of the filter's ${cin}`);
    const group = x.ch / cin;
    const attrs: Record<string, Attr> = { kernel_shape: [kh, kw], strides: hw(n, 'strides', nhwc), dilations: hw(n, 'dilations', nhwc, [1, 1, 1, 1]), group };
    // a zero Pad before a VALID convolution is the convolution's own padding
    const src = padded(n, x, attrs, 0);
    const ins = [src, g.floats(`${n.name}.weight`, [cout, cin, kh, kw], tfToOihw(Float32Array.from(f.data), kh, kw, cin, cout))];
    if (bias) ins.push(g.floats(`${n.name}.bias`, [cout], bias));
    return { onnx: g.node('Conv', ins, attrs), perm: x.perm, ch: cout };
  }

  function translate(name: string): Translated {
    const known = values.get(name);
    if (known) return known;
    if (consts.has(name)) return 'const';
    const n = byName.get(name);
    if (!n) throw new Error(`${what}: no node ${name}`);
    const ins = n.input ?? [];
    let out: TfValue;
    switch (n.op) {
      case 'Identity':
        out = tensorOf(ins[0], n);
        break;
      case 'Transpose': {
        const x = tensorOf(ins[0], n);
        const p = Array.from(constOf(ins[1], n).data);
        out = { ...x, perm: p.map((i) => x.perm[i]) };
        break;
      }
      case 'Pad':
      case 'PadV2': {
        const x = tensorOf(ins[0], n);
        const p = constOf(ins[1], n);
        if (p.shape[0] !== 4 || p.shape[1] !== 2) fail(n, 'paddings are not [4, 2]');
        const value = n.op === 'PadV2' ? constOf(ins[2], n).data[0] : 0;
        const pads = new Array<number>(8).fill(0);
        for (let i = 0; i < 4; i++) {
          pads[x.perm[i]] = p.data[2 * i];
          pads[4 + x.perm[i]] = p.data[2 * i + 1];
        }
        out = { onnx: dense(x), perm: x.perm, ch: x.ch + pads[1] + pads[5], pad: { pads, value } };
        break;
      }
      case 'Conv2D':
        out = conv(n);
        break;
      case 'Add':
      case 'AddV2':
      case 'BiasAdd': {
        const [a, b] = ins.map(ref);
        const [t, c] = consts.has(a) ? [b, a] : [a, b];
        const bias = constOf(c, n);
        const src = byName.get(t);
        const x = values.get(t);
        if (src?.op === 'Conv2D' && !x && consumers.get(t) === 1 && bias.shape.length === 1) {
          // the conv's bias: fold it (the conv is translated here, with it)
          out = conv(src, Float32Array.from(bias.data));
          if (out.ch !== bias.shape[0] || out.perm[3] !== 1) fail(n, 'bias does not run along the channels');
          values.set(t, out);
          break;
        }
        const v = tensorOf(t, n);
        if (bias.shape.length !== 1 || bias.shape[0] !== v.ch || v.perm[3] !== 1) fail(n, 'only a per-channel constant add is handled');
        out = { onnx: g.node('Add', [dense(v), g.floats(`${n.name}.bias`, [v.ch, 1, 1], Float32Array.from(bias.data))]), perm: v.perm, ch: v.ch };
        break;
      }
      case 'LeakyRelu': {
        const x = tensorOf(ins[0], n);
        const alpha = n.attr?.alpha?.f ?? 0.2; // TF's default
        out = { onnx: g.node('LeakyRelu', [dense(x)], { alpha: { float: alpha } }), perm: x.perm, ch: x.ch };
        break;
      }
      case 'Relu': {
        const x = tensorOf(ins[0], n);
        out = { onnx: g.node('Relu', [dense(x)]), perm: x.perm, ch: x.ch };
        break;
      }
      case 'MaxPool': {
        const nhwc = format(n);
        const x = tensorOf(ins[0], n);
        needLayout(n, x, nhwc);
        const attrs: Record<string, Attr> = { kernel_shape: hw(n, 'ksize', nhwc), strides: hw(n, 'strides', nhwc) };
        // a −∞ Pad before a VALID max pool is the pool's own padding (ONNX pads a max pool with −∞)
        out = { onnx: g.node('MaxPool', [padded(n, x, attrs, -Infinity)], attrs), perm: x.perm, ch: x.ch };
        break;
      }
      case 'ConcatV2': {
        const parts = ins.slice(0, -1).map((i) => tensorOf(i, n));
        let axis = constOf(ins[ins.length - 1], n).data[0];
        if (axis < 0) axis += 4;
        const perm = parts[0].perm;
        if (!parts.every((p) => same(p.perm, perm))) fail(n, 'inputs in different layouts');
        const phys = perm[axis];
        out = {
          onnx: g.node('Concat', parts.map(dense), { axis: phys }),
          perm,
          ch: phys === 1 ? parts.reduce((s, p) => s + p.ch, 0) : parts[0].ch,
        };
        break;
      }
      default:
        return fail(n, 'no ONNX translation here');
    }
    values.set(name, out);
    return out;
  }

  for (const t of taps) {
    const v = tensorOf(t.node, { name: t.node, op: 'tap' });
    if (v.ch !== t.channels) throw new Error(`${what}: tap ${t.node} has ${v.ch} channels, expected ${t.channels}`);
    // NHWC out: logical N, H, W, C of the tap's layout, as physical axes
    const order = t.layout === 'NCHW' ? NHWC : NCHW;
    const perm = order.map((i) => v.perm[i]);
    if (same(perm, NCHW)) g.node('Identity', [dense(v)], undefined, t.output);
    else g.node('Transpose', [dense(v)], { perm }, t.output);
    g.output(t.output, ['N', `${t.output}_h`, `${t.output}_w`, t.channels]);
  }
}
