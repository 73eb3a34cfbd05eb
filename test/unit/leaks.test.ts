// Creating and disposing a model must leave the tfjs engine as it was: parameters are the only tensors
// a model owns, and the initial values they are built from must not linger.
import * as assert from 'assert';
import { createBackbone } from '../../src/engine/nets/backbone';
import { createMetaSegNet } from '../../src/engine/fewshot/metasegnet';
import { createPixelMeta } from '../../src/engine/fewshot/pixelmeta';
import { SgdMomentum } from '../../src/engine/train/optimizer';
import { tf, useTestBackend } from './helpers/tf';

async function flat(what: string, make: () => Promise<{ dispose(): void }> | { dispose(): void }): Promise<void> {
  const before = tf.memory().numTensors;
  const m = await make();
  m.dispose();
  assert.strictEqual(tf.memory().numTensors, before, `${what} leaves ${tf.memory().numTensors - before} tensors behind`);
}

describe('models leave no tensors behind when disposed', () => {
  before(() => useTestBackend('wasm'));
  it('VGG-16 (random init)', () => flat('vgg16', () => createBackbone({ id: 'vgg16', seed: 3 })));
  it('MetaSegNet head', () => flat('metasegnet', () => createMetaSegNet({}, 16, 1)));
  it('PixelMeta encoder', () => flat('pixelmeta', () => createPixelMeta({}, 16, 1)));
  it('SGD momentum buffers', () => flat('sgd', () => {
    const p = { w: tf.tidy(() => tf.variable(tf.zeros([3, 3]), true)) };
    const opt = new SgdMomentum(p, { momentum: 0.9, weightDecay: 5e-4 });
    return { dispose: () => { opt.dispose(); p.w.dispose(); } };
  }));
});
