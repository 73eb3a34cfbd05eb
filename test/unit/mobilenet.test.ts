// nsfwjs@4.3.0 MobileNetV2 cut at block_13_expand_relu. Expected sides are worked out by hand from the
// Keras graph (Conv1 'same' stride 2; each later stride-2 block pads (0,1) then 'valid'):
// s = ceil(n/2), then floor(s/2) three times.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs-layers';
import { useTestBackend, tf } from './helpers/tf';
import { createBackbone, type Backbone } from '../../src/engine/nets/backbone';
import { MobileNetV2Features, findNsfwjsDir } from '../../src/engine/nets/mobilenetv2';
import { untouchedNsfwjsModel } from './helpers/nsfwjsReference';

describe('MobileNetV2 backbone (nsfwjs@4.3.0)', function () {
  this.timeout(120000);
  let bb: Backbone;
  let baseline: number;
  before(async () => {
    await useTestBackend('wasm');
    baseline = tf.memory().numTensors;
    bb = await createBackbone({ id: 'mobilenetv2' });
  });
  after(() => {
    bb?.dispose();
    assert.strictEqual(tf.memory().numTensors, baseline, 'dispose() frees every model tensor');
  });

  it('records where its weights come from', () => {
    assert.strictEqual(bb.id, 'mobilenetv2');
    assert.strictEqual(bb.stride, 16);
    assert.strictEqual(bb.channels, 576);
    assert.match(bb.weightsSource, /nsfwjs@4\.3\.0/);
    assert.match(bb.weightsHash, /^[0-9a-f]{12}$/);
  });

  for (const [h, w, oh, ow] of [
    [417, 417, 26, 26], // 209 → 104 → 52 → 26
    [321, 321, 20, 20], // 161 → 80 → 40 → 20
    [224, 224, 14, 14],
    [65, 98, 4, 6], // 33 → 16 → 8 → 4 ; 49 → 24 → 12 → 6
  ]) {
    it(`${h}×${w} → [1, ${oh}, ${ow}, 576], finite, not constant, numTensors flat`, async () => {
      assert.strictEqual(bb.outSize(h), oh);
      assert.strictEqual(bb.outSize(w), ow);
      const before = tf.memory().numTensors;
      const x = tf.tidy(() => tf.mul(tf.randomUniform([1, h, w, 3], 0, 1, 'float32', 1), 255)) as tf.Tensor4D;
      const y = bb.features(x);
      assert.deepStrictEqual(y.shape, [1, oh, ow, 576]);
      const v = await y.data();
      tf.dispose([x, y]);
      assert.strictEqual(tf.memory().numTensors, before);
      assert.ok(v.every(Number.isFinite));
      let mn = Infinity, mx = -Infinity;
      for (const a of v) { mn = Math.min(mn, a); mx = Math.max(mx, a); }
      assert.ok(mn >= 0 && mx <= 6 && mx > 0, `ReLU6 range, got [${mn}, ${mx}]`);
    });
  }

  it('equals the untouched nsfwjs graph (224², its saved input) tapped at block_13_expand_relu, fed x/255', async () => {
    // Independent path: nsfwjs's model JSON as shipped (fixed input, all layers), loaded directly with
    // tfjs-layers and tapped at the layer by name; nsfwjs itself feeds img/255 (dist/cjs/core.js).
    const full = await untouchedNsfwjsModel();
    const tap = tfl.model({ inputs: full.inputs, outputs: full.getLayer('block_13_expand_relu').output });
    const x = tf.randomUniform([1, 224, 224, 3], 0, 255, 'float32', 4) as tf.Tensor4D;
    const want = tf.tidy(() => tap.predict(tf.div(x, 255)) as tf.Tensor);
    const got = bb.features(x);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(want, got))).dataSync()[0]);
    assert.deepStrictEqual(got.shape, want.shape);
    tf.dispose([x, want, got]);
    full.dispose();
    assert.ok(d < 1e-4, `max diff ${d}`);
  });

  it('refuses an nsfwjs that is not exactly 4.3.0, naming the version', async () => {
    const real = findNsfwjsDir();
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfwjs-fake-'));
    fs.writeFileSync(path.join(fake, 'package.json'), JSON.stringify({ name: 'nsfwjs', version: '2.4.2' }));
    await assert.rejects(MobileNetV2Features.load(fake), /4\.3\.0.*2\.4\.2|2\.4\.2.*4\.3\.0/);
    fs.rmSync(fake, { recursive: true, force: true });
    assert.ok(fs.existsSync(path.join(real, 'dist', 'models', 'mobilenet_v2', 'model.min.js')));
  });
});
