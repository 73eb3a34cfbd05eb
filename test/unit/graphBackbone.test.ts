// The detector backbones run as graph models: NanoDet from the files committed in models/nanodet,
// CenterNet from the devDependency @vladmandic/human@3.3.6 (what a user installs). Expected sides come
// from the SAME-padding rule (a stride-s map of an n-pixel side has ceil(n / s) cells); expected values
// of NanoDet come from the untouched graph fed by a separately written preprocessing.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tfc from '@tensorflow/tfjs-converter';
import { tf, useTestBackend } from './helpers/tf';
import { UsageError } from '../../src/engine/errors';
import { EncoderPool } from '../../src/engine/features/encoderPool';
import { createBackbone } from '../../src/engine/nets/backbone';
import { CENTERNET_ENV, findCenternetDir } from '../../src/engine/nets/centernet';
import { loadGraphBackbone } from '../../src/engine/nets/graphModels';
import { GraphLabelEncoder } from '../../src/engine/label/quality/graphLabelEncoder';
import { createLabelModel } from '../../src/engine/label/methods';
import type { RawImage } from '../../src/engine/types';

const ROOT = path.resolve(__dirname, '../../..');
const NANODET_DIR = path.join(ROOT, 'models/nanodet');
const ceilDiv = (n: number, s: number) => Math.ceil(n / s);

function photo(size: number, seed: number): RawImage {
  return { width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * seed + ((i / 3) | 0) * 7) % 251) };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('graph-model backbones (NanoDet bundled, CenterNet opt-in)', function () {
  this.timeout(300000);
  before(() => useTestBackend('wasm'));

  it('NanoDet from models/nanodet: strides 8, 16, 32 at 417² are ceil(417/s) cells of 128, 256, 512 channels, NHWC', async () => {
    const before = tf.memory().numTensors;
    const { net, trainedOn, source } = await loadGraphBackbone('nanodet', [8, 16, 32]);
    assert.strictEqual(trainedOn, 'COCO detection');
    assert.match(source, /Apache-2\.0/);
    const x = tf.tensor4d(Float32Array.from(photo(417, 31).data), [1, 417, 417, 3]);
    const outs = net.featuresAll(x);
    assert.deepStrictEqual(outs.map((o) => o.shape), [[1, ceilDiv(417, 8), ceilDiv(417, 8), 128], [1, ceilDiv(417, 16), ceilDiv(417, 16), 256], [1, ceilDiv(417, 32), ceilDiv(417, 32), 512]]);
    assert.deepStrictEqual(outs.map((o) => o.shape[1]), [53, 27, 14]);
    tf.dispose(outs);
    x.dispose();
    net.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it("NanoDet's stride-16 tap equals the untouched graph fed NanoDet's own preprocessing (BGR, mean, std, NCHW)", async () => {
    const size = 129;
    const rgb = photo(size, 17);
    const { net } = await loadGraphBackbone('nanodet', [16]);
    const x = tf.tensor4d(Float32Array.from(rgb.data), [1, size, size, 3]);
    const got = tf.tidy(() => net.featuresAll(x)[0].dataSync());
    net.dispose();
    // reference: the committed JSON with only the input size freed, executed by name
    const json = JSON.parse(fs.readFileSync(path.join(NANODET_DIR, 'nanodet.json'), 'utf8'));
    for (const n of json.modelTopology.node) if (n.op === 'Placeholder') n.attr.shape.shape.dim = n.attr.shape.shape.dim.map(() => ({ size: '-1' }));
    const bin = fs.readFileSync(path.join(NANODET_DIR, 'nanodet.bin'));
    const ref = await tfc.loadGraphModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }));
    const want = tf.tidy(() => {
      const bgr = tf.reverse(x, -1);
      const norm = tf.div(tf.sub(bgr, tf.tensor1d([103.53, 116.28, 123.675])), tf.tensor1d([57.375, 57.12, 58.395]));
      const y = ref.execute({ input_1: tf.transpose(norm, [0, 3, 1, 2]) }, 'PartitionedCall/onnx_tf_prefix_Concat_42') as tf.Tensor;
      return tf.transpose(y, [0, 2, 3, 1]).dataSync();
    });
    ref.dispose();
    x.dispose();
    const d = maxDiff(got, want);
    assert.ok(d < 1e-3, `max difference ${d}`);
  });

  it('other input sides work, including graph nodes behind the resize constants baked for 416² (patched per side)', async () => {
    const before = tf.memory().numTensors;
    const { net } = await loadGraphBackbone('nanodet', [8, 16, 32]);
    for (const n of [321, 417]) {
      const x = tf.zeros([1, n, n, 3]) as tf.Tensor4D;
      const outs = net.featuresAll(x);
      assert.deepStrictEqual(outs.map((o) => o.shape[1]), [8, 16, 32].map((s) => ceilDiv(n, s)), `side ${n}`);
      tf.dispose(outs);
      // Add_128 adds the stride-16 lateral map to the stride-8 PAN map resized by Cast_5 to stride 16,
      // Add_149 the stride-32 map to one resized by Cast_7: shapes agree only when both are patched
      const pan = net.executeNodes(x, ['PartitionedCall/onnx_tf_prefix_Add_128', 'PartitionedCall/onnx_tf_prefix_Add_149']);
      assert.deepStrictEqual(pan.map((t) => t.shape.slice(2)), [[ceilDiv(n, 16), ceilDiv(n, 16)], [ceilDiv(n, 32), ceilDiv(n, 32)]], `side ${n}: PAN maps (NCHW)`);
      tf.dispose(pan);
      x.dispose();
    }
    net.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('a NanoDet file with one flipped byte, or missing, is refused with its path before loading', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-nanodet-'));
    try {
      fs.copyFileSync(path.join(NANODET_DIR, 'nanodet.json'), path.join(dir, 'nanodet.json'));
      const bin = fs.readFileSync(path.join(NANODET_DIR, 'nanodet.bin'));
      bin[123456] ^= 0x01;
      fs.writeFileSync(path.join(dir, 'nanodet.bin'), bin);
      const before = tf.memory().numTensors;
      await assert.rejects(loadGraphBackbone('nanodet', [16], { nanodetDir: dir }), (e: Error) => {
        assert.ok(e.message.includes(path.join(dir, 'nanodet.bin')), e.message);
        assert.match(e.message, /sha256 is [0-9a-f]{64}, expected 5d0e4f8c/);
        return true;
      });
      assert.strictEqual(tf.memory().numTensors, before);
      fs.rmSync(path.join(dir, 'nanodet.json'));
      await assert.rejects(loadGraphBackbone('nanodet', [16], { nanodetDir: dir }), (e: Error) => e.message.includes(path.join(dir, 'nanodet.json')) && /missing/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CenterNet not found where the user points: a UsageError saying how to install it and why it is not bundled', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-centernet-'));
    try {
      const check = (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.ok(e.message.includes(empty), e.message);
        assert.match(e.message, /npm install @vladmandic\/human@3\.3\.6/);
        assert.match(e.message, new RegExp(CENTERNET_ENV));
        assert.match(e.message, /not bundled/);
        assert.match(e.message, /no licence/);
        return true;
      };
      assert.throws(() => findCenternetDir(empty), check);
      assert.throws(() => findCenternetDir(undefined, { [CENTERNET_ENV]: empty }), check);
      await assert.rejects(createBackbone({ id: 'centernet', centernetDir: empty }), check);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('CenterNet installed (as `npm install @vladmandic/human@3.3.6` leaves it): found in a folder or node_modules, strides 16 + 32', async () => {
    const viaModules = findCenternetDir();
    assert.ok(viaModules.endsWith(path.join('@vladmandic', 'human', 'models')), viaModules);
    assert.strictEqual(findCenternetDir(ROOT), viaModules); // the folder where npm install ran
    const { net, trainedOn } = await loadGraphBackbone('centernet', [16, 32], { centernetDir: ROOT });
    assert.strictEqual(trainedOn, 'COCO detection');
    const x = tf.tensor4d(Float32Array.from(photo(417, 13).data), [1, 417, 417, 3]);
    const outs = net.featuresAll(x);
    assert.deepStrictEqual(outs.map((o) => o.shape), [[1, 27, 27, 528], [1, 14, 14, 480]]);
    tf.dispose(outs);
    x.dispose();
    net.dispose();
  });

  it('createBackbone(nanodet): frozen (no params, no ONNX form), COCO-trained, features = the stride-16 tap', async () => {
    const b = await createBackbone({ id: 'nanodet' });
    try {
      assert.strictEqual(b.trainedOn, 'COCO detection');
      assert.strictEqual(b.params, undefined);
      assert.strictEqual(b.onnx, undefined);
      assert.strictEqual(b.stride, 16);
      assert.strictEqual(b.channels, 256);
      assert.strictEqual(b.outSize(417), ceilDiv(417, 16));
      assert.match(b.weightsHash, /^5d0e4f8c4ede$/);
      const f = tf.tidy(() => b.features(tf.zeros([1, 100, 100, 3]) as tf.Tensor4D).shape);
      assert.deepStrictEqual(f, [1, ceilDiv(100, 16), ceilDiv(100, 16), 256]);
      await assert.rejects(createBackbone({ id: 'nanodet', weights: '/x.safetensors' }), /--weights applies to vgg16 only/);
    } finally {
      b.dispose();
    }
  });

  it('label encoder: key names backbone, weights, levels and size; repeated encodes leave no tensor behind', async () => {
    const enc = await GraphLabelEncoder.create('nanodet', 161, [16, 32]);
    try {
      assert.strictEqual(enc.key, 'nanodet|5d0e4f8c4ede|L16,32|S161');
      const rgb = photo(161, 7);
      await enc.encode(rgb); // first call compiles the execution plan
      const before = tf.memory().numTensors;
      let shapes: number[][] = [];
      for (let i = 0; i < 4; i++) shapes = (await enc.encode(rgb)).map((f) => f.shape);
      assert.strictEqual(tf.memory().numTensors, before);
      assert.deepStrictEqual(shapes, [[ceilDiv(161, 16), ceilDiv(161, 16), 256], [ceilDiv(161, 32), ceilDiv(161, 32), 512]]);
      await assert.rejects(enc.encode(photo(100, 3)), /161²/);
    } finally {
      enc.dispose();
    }
  });

  it('the pooled encoder (a worker thread with its own wasm backend) gives the in-process features, same key', async () => {
    const enc = await GraphLabelEncoder.create('nanodet', 129, [8, 16]);
    const rgb = photo(129, 11);
    const here = await enc.encode(rgb);
    const pooled = enc.pooled(await enc.startPool(1, 'wasm'));
    try {
      assert.strictEqual(pooled.key, enc.key);
      const there = await pooled.encode(rgb);
      assert.deepStrictEqual(there.map((f) => f.shape), here.map((f) => f.shape));
      there.forEach((f, i) => assert.ok(maxDiff(f.data, here[i].data) < 1e-4, `level ${i}`));
    } finally {
      pooled.dispose(); // closes the pool and the in-process encoder
    }
  });

  it('a pool asked for levels of a backbone that has none refuses to start', async () => {
    await assert.rejects(EncoderPool.create(1, { id: 'vgg16' }, 'wasm', undefined, [16]), /feature levels need a graph backbone/);
  });

  it('the quality labeling method runs on nanodet at its configured levels', async () => {
    const before = tf.memory().numTensors;
    const m = await createLabelModel({ method: 'quality', backbone: 'nanodet', size: 97 });
    try {
      assert.match(m.info.encoderKey, /^nanodet\|5d0e4f8c4ede\|L16,32\|S97$/);
      assert.strictEqual(m.info.backbone, 'nanodet');
      assert.match(m.info.weightsSource, /NanoDet/);
      const feats = await m.encoder.encode(photo(97, 5));
      assert.deepStrictEqual(feats.map((f) => f.shape), [[7, 7, 256], [4, 4, 512]]);
    } finally {
      m.dispose();
    }
    assert.strictEqual(tf.memory().numTensors, before);
  });
});
