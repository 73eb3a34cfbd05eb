// A two-conv stand-in for VGG-16 with trainable variables (stride 2, 8 channels), so trainer tests run
// episodes end to end in milliseconds. Same Backbone interface; its id is a test-only label.
import * as tf from '@tensorflow/tfjs-core';
import type { Backbone, BackboneId } from '../../../src/engine/nets/backbone';
import { conv3x3 } from '../../../src/engine/nets/conv';
import { maxPool3x3 } from '../../../src/engine/nets/pool';
import { Rng } from '../../../src/engine/prng';

export function tinyBackbone(seed = 1, channels = 8): Backbone {
  const rng = new Rng(seed);
  const randn = (shape: number[], std: number) => tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal()), shape), true));
  const params: Record<string, tf.Variable> = {
    'c1.weight': randn([3, 3, 3, channels], 0.3),
    'c1.bias': randn([channels], 0.1),
    'c2.weight': randn([3, 3, channels, channels], 0.2),
    'c2.bias': randn([channels], 0.1),
  };
  return {
    id: 'tiny' as BackboneId,
    weightsHash: `tiny-${seed}`,
    weightsSource: `tiny-test-backbone(seed=${seed})`,
    stride: 2,
    channels,
    outSize: (n) => Math.floor((n - 1) / 2) + 1,
    features: (x) => tf.tidy(() => {
      const h = tf.relu(tf.add(conv3x3(tf.sub(tf.div(x, 127.5), 1) as tf.Tensor4D, params['c1.weight'] as tf.Tensor4D), params['c1.bias'])) as tf.Tensor4D;
      return tf.add(conv3x3(maxPool3x3(h, 2), params['c2.weight'] as tf.Tensor4D, 2), params['c2.bias']) as tf.Tensor4D;
    }),
    params,
    dispose: () => Object.values(params).forEach((v) => v.dispose()),
  };
}
