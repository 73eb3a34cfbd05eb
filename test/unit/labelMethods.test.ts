// The labeling methods of label/methods.ts as the engine builds them: with workers > 1 on wasm every
// method/backbone pair encodes on a worker pool (so a grid pass never runs a forward pass on the thread
// that answers strokes), the pooled features equal the in-process ones under the same cache key, the
// quality method on a one-level backbone uses that backbone's stride, and nothing is left as a tensor.
import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { createLabelModel, type LabelModelSpec } from '../../src/engine/label/methods';
import type { RawImage } from '../../src/engine/types';

const S = 64;
const rgb: RawImage = { width: S, height: S, data: Uint8Array.from({ length: S * S * 3 }, (_, i) => (i * 31) % 247) };

describe('labeling methods: encoders in process and on a worker pool', function () {
  this.timeout(300000);
  before(() => useTestBackend('wasm'));

  for (const [method, backbone] of [['quality', 'mobilenetv2'], ['quality', 'vgg16'], ['baseline', 'mobilenetv2'], ['baseline', 'vgg16']] as const) {
    it(`${method} on ${backbone}: 2 workers give the in-process features, the same key, concurrency 2; no tensor left`, async () => {
      const before = tf.memory().numTensors;
      const spec: LabelModelSpec = { method, backbone, size: S, initSeed: 3 };
      const here = await createLabelModel({ ...spec, workers: 1 });
      const pooled = await createLabelModel({ ...spec, workers: 2 });
      try {
        assert.strictEqual(here.encodeConcurrency ?? 1, 1);
        assert.strictEqual(pooled.encodeConcurrency, 2);
        assert.strictEqual(pooled.encoder.key, here.encoder.key);
        const a = await here.encoder.encode(rgb), b = await pooled.encoder.encode(rgb);
        assert.deepStrictEqual(b.map((f) => f.shape), a.map((f) => f.shape));
        b.forEach((f, i) => assert.deepStrictEqual(Array.from(f.data), Array.from(a[i].data), `level ${i}`));
        if (method === 'quality') {
          const levels = (pooled.info.settings as { levels: number[] }).levels;
          assert.deepStrictEqual(levels, backbone === 'vgg16' ? [8] : [16, 32]);
        }
      } finally {
        here.dispose();
        pooled.dispose();
      }
      assert.strictEqual(tf.memory().numTensors, before);
    });
  }
});
