// The labeling encoder: nsfwjs's MobileNetV2 tapped at several output strides at once. Each tap must
// equal the untouched nsfwjs graph tapped at that layer by name (an independent path through
// tfjs-layers), and the sides follow the padding rule worked out in mobilenetv2.ts.
import * as assert from 'assert';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf, useTestBackend } from './helpers/tf';
import { MobileNetLabelEncoder, parseLevels } from '../../src/engine/label/quality/mobileNetLabelEncoder';
import { EncoderPool } from '../../src/engine/features/encoderPool';
import { MOBILENET_TAPS, mobilenetV2OutSize, mobilenetV2SideAt } from '../../src/engine/nets/mobilenetv2';
import type { RawImage } from '../../src/engine/types';
import { untouchedNsfwjsModel } from './helpers/nsfwjsReference';

describe('MobileNetV2 label encoder (strides 8, 16, 32)', function () {
  this.timeout(180000);
  before(() => useTestBackend('wasm'));

  it('sides at each stride: 417 → 52, 26, 13; 224 → 28, 14, 7; stride 16 agrees with mobilenetV2OutSize', () => {
    assert.deepStrictEqual([8, 16, 32].map((s) => mobilenetV2SideAt(417, s)), [52, 26, 13]);
    assert.deepStrictEqual([4, 8, 16, 32].map((s) => mobilenetV2SideAt(224, s)), [56, 28, 14, 7]);
    for (const n of [65, 98, 321, 417]) assert.strictEqual(mobilenetV2SideAt(n, 16), mobilenetV2OutSize(n));
  });

  it('parseLevels: strides among 4, 8, 16, 32, sorted, deduplicated; anything else is a usage error', () => {
    assert.deepStrictEqual(parseLevels('16,8,16'), [8, 16]);
    assert.deepStrictEqual(parseLevels(' 32 , 16 '), [16, 32]);
    assert.throws(() => parseLevels('12'), /--levels takes strides among 4, 8, 16, 32/);
    assert.throws(() => parseLevels(''), /--levels/);
  });

  it('encodes a 224² image into the three taps, each equal to the untouched nsfwjs graph at that layer; no tensor left', async () => {
    const before = tf.memory().numTensors;
    const enc = await MobileNetLabelEncoder.create(224, [8, 16, 32]);
    assert.match(enc.key, /^mobilenetv2\|[0-9a-f]{12}\|L8,16,32\|S224$/);
    const rgb: RawImage = { width: 224, height: 224, data: Uint8Array.from({ length: 224 * 224 * 3 }, (_, i) => (i * 37) % 251) };
    const feats = await enc.encode(rgb);
    assert.deepStrictEqual(feats.map((f) => f.shape), [[28, 28, 192], [14, 14, 576], [7, 7, 1280]]);
    await assert.rejects(enc.encode({ width: 100, height: 100, data: new Uint8Array(30000) }), /224²/);
    enc.dispose();

    const full = await untouchedNsfwjsModel();
    const x = tf.tensor4d(Float32Array.from(rgb.data), [1, 224, 224, 3]);
    [8, 16, 32].forEach((s, i) => {
      const tap = tfl.model({ inputs: full.inputs, outputs: full.getLayer(MOBILENET_TAPS[s].layer).output });
      const want = tf.tidy(() => (tap.predict(tf.div(x, 255)) as tf.Tensor).dataSync());
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(want[k] - feats[i].data[k]));
      assert.ok(worst < 1e-4, `stride ${s}: max difference ${worst}`);
    });
    x.dispose();
    full.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('on a worker-thread pool (taps packed, then unpacked) gives exactly the in-process levels, under the same key', async () => {
    const enc = await MobileNetLabelEncoder.create(96, [16, 32]);
    const rgb: RawImage = { width: 96, height: 96, data: Uint8Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 53) % 253) };
    const here = await enc.encode(rgb);
    const pooled = enc.pooled(await EncoderPool.create(1, { id: 'mobilenetv2' }, 'wasm', enc.taps));
    try {
      assert.strictEqual(pooled.key, enc.key);
      const there = await pooled.encode(rgb);
      assert.deepStrictEqual(there.map((f) => f.shape), here.map((f) => f.shape));
      there.forEach((f, i) => assert.deepStrictEqual(Array.from(f.data), Array.from(here[i].data), `level ${i}`));
    } finally {
      pooled.dispose(); // closes the pool and the in-process encoder
    }
  });
});
