// The independent reference for MobileNetV2 tests: nsfwjs's model JSON exactly as shipped (fixed input,
// every layer), loaded straight with tfjs-layers — not through src/engine/nets/mobilenetv2.ts, whose
// graph surgery is what the tests check.
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from './tf';
import { findNsfwjsDir } from '../../../src/engine/nets/mobilenetv2';

export async function untouchedNsfwjsModel(): Promise<tfl.LayersModel> {
  const dir = path.join(findNsfwjsDir(), 'dist', 'models', 'mobilenet_v2');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mj = require(path.join(dir, 'model.min.js'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const data = Buffer.from(require(path.join(dir, 'group1-shard1of1.min.js')) as string, 'base64');
  return tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: mj.modelTopology,
    weightSpecs: mj.weightsManifest[0].weights,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  }));
}
