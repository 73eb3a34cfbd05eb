import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';

describe('test backend', () => {
  it('runs a conv on wasm', async () => {
    await useTestBackend('wasm');
    assert.strictEqual(tf.getBackend(), 'wasm');
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same'));
    assert.strictEqual((await y.data())[6], 18);
    y.dispose();
  });
});
