// PANet's VGG-16 encoder (vgg16.ts, the same VGG16_CONVS table) as an ONNX graph, for inference only.
// In and out as the tfjs backbone: x [N, H, W, 3] RGB in 0..255 → [N, ceil(H/8), ceil(W/8), 512].
// Inside, NCHW (onnxruntime's CPU convolutions are NCHW; its optimiser re-blocks them and fuses
// Conv+Relu): Transpose → (x − 255·mean) / (255·std) → 13 × [Conv (pad d, dilation d) → Relu?
// → MaxPool(3, s, pad 1)?] → Transpose. ONNX MaxPool ignores padded cells, as torch's −∞ padding does.
import { IMAGENET_MEAN, IMAGENET_STD, VGG16_CONVS, type Vgg16Arrays } from '../vgg16';
import { OnnxGraphBuilder } from './model';

/** Bumped whenever the graph this file builds changes, so cached .onnx files from an older one are not reused. */
export const VGG16_GRAPH_VERSION = 1;

/** tfjs conv kernel [kh, kw, cin, cout] → ONNX/torch [cout, cin, kh, kw]. */
export function tfToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++) {
        const src = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = w[src + o];
      }
  return out;
}

/** Serialised ONNX model of the encoder with these weights (ProtoLab names, tfjs layout). */
export function vgg16Onnx(arrays: Vgg16Arrays, meta: Record<string, string> = {}): Uint8Array {
  const g = new OnnxGraphBuilder('panet_vgg16_encoder');
  const x = g.input('x', ['N', 'H', 'W', 3]);
  let h = g.node('Transpose', [x], { perm: [0, 3, 1, 2] });
  const mean = g.floats('mean255', [1, 3, 1, 1], Float32Array.from(IMAGENET_MEAN, (m) => m * 255));
  const std = g.floats('std255', [1, 3, 1, 1], Float32Array.from(IMAGENET_STD, (s) => s * 255));
  h = g.node('Div', [g.node('Sub', [h, mean]), std]);
  for (const c of VGG16_CONVS) {
    const w = arrays[`${c.name}.weight`], b = arrays[`${c.name}.bias`];
    if (!w || !b) throw new Error(`vgg16Onnx: missing ${c.name} weights`);
    const wt = g.floats(`${c.name}.weight`, [c.cout, c.cin, 3, 3], tfToOihw(w.data as Float32Array, 3, 3, c.cin, c.cout));
    const bias = g.floats(`${c.name}.bias`, [c.cout], b.data as Float32Array);
    const d = c.dilation;
    h = g.node('Conv', [h, wt, bias], { kernel_shape: [3, 3], pads: [d, d, d, d], dilations: [d, d], strides: [1, 1] }, c.name);
    if (c.relu) h = g.node('Relu', [h]);
    if (c.poolAfter) h = g.node('MaxPool', [h], { kernel_shape: [3, 3], strides: [c.poolAfter, c.poolAfter], pads: [1, 1, 1, 1] });
  }
  g.node('Transpose', [h], { perm: [0, 2, 3, 1] }, 'features');
  g.output('features', ['N', 'h', 'w', 512]);
  return g.toModel({
    producer: 'protolab',
    producerVersion: String(VGG16_GRAPH_VERSION),
    doc: 'PANet VGG-16 encoder (conv5 dilated, pool4 stride 1), NHWC in/out, input RGB 0..255',
    meta,
  });
}
