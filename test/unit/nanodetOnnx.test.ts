// NanoDet's backbone on onnxruntime (nets/onnx/nanodetGraph.ts, translated from the same graph JSON and
// weights) against the tfjs graph model: the translation is native NCHW (no transposes around convs, pads
// and biases folded), each tap's features agree within 1e-3 of their scale (max |onnx − tfjs| / max
// |tfjs|) at 417² and 321² on a JPEG photo-like image and on noise; and the labeling encoder chooses
// onnxruntime in worker threads, keeps the tfjs cache key, reports the engine, and falls back or
// obeys a forced tfjs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { tf, useTestBackend } from './helpers/tf';
import { UsageError } from '../../src/engine/errors';
import { loadGraphBackbone } from '../../src/engine/nets/graphModels';
import { cachedOnnxModel } from '../../src/engine/nets/onnx/modelCache';
import { OnnxGraphBuilder } from '../../src/engine/nets/onnx/model';
import { nanodetOnnxGraph, nanodetOnnxSource } from '../../src/engine/nets/onnx/nanodetGraph';
import { translateTfGraph } from '../../src/engine/nets/onnx/tfGraphOnnx';
import { loadOrt } from '../../src/engine/nets/onnx/runtime';
import { GraphLabelEncoder, graphLabelEncoder } from '../../src/engine/label/quality/graphLabelEncoder';
import { createLabelModel } from '../../src/engine/label/methods';
import type { RawImage } from '../../src/engine/types';
import { relErr } from './helpers/relErr';

const NANODET_DIR = path.resolve(__dirname, '../../../models/nanodet');

/** A street-like scene (sky gradient, road, a building with windows, a car, a disc), with sensor noise,
 *  through a JPEG encoder and back: the block artefacts and texture of a real photo, RGB 0..255. */
async function jpegPhoto(size: number): Promise<Float32Array> {
  const raw = Buffer.alloc(size * size * 3);
  let s = 99;
  const noise = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) % 17 - 8;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const u = x / size, v = y / size;
      let rgb = v < 0.55 ? [90 + 120 * v, 140 + 100 * v, 230 - 40 * v] : [70 + 20 * u, 72 + 20 * u, 78 + 15 * u];
      if (u > 0.1 && u < 0.45 && v > 0.15 && v < 0.6) rgb = (Math.floor(x / 9) + Math.floor(y / 11)) % 3 === 0 ? [40, 50, 70] : [170, 150, 120];
      if (u > 0.55 && u < 0.85 && v > 0.62 && v < 0.78) rgb = [200, 30, 35];
      if ((u - 0.7) ** 2 + (v - 0.3) ** 2 < 0.006) rgb = [250, 220, 60];
      for (let c = 0; c < 3; c++) raw[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + noise())));
    }
  const jpeg = await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  const back = await sharp(jpeg).raw().toBuffer();
  assert.strictEqual(back.length, size * size * 3);
  return Float32Array.from(back);
}

function noiseImage(size: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: size * size * 3 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) % 256);
}

const asRaw = (px: Float32Array, size: number): RawImage => ({ width: size, height: size, data: Uint8Array.from(px) });

describe('NanoDet on onnxruntime vs the tfjs graph model', function () {
  this.timeout(600000);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-nanodet-onnx-'));
  before(async () => {
    await useTestBackend('wasm');
    const o = loadOrt();
    assert.ok(o.ok, `onnxruntime-node did not load: ${o.ok ? '' : o.reason}`);
  });
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('the translation is native NCHW: one transpose in, one per tap out, pads and biases folded into 26 convs', () => {
    const before = tf.memory().numTensors;
    const g = nanodetOnnxGraph(fs.readFileSync(path.join(NANODET_DIR, 'nanodet.json')), fs.readFileSync(path.join(NANODET_DIR, 'nanodet.bin')), [8, 16, 32]);
    // the tfjs graph up to Concat_62 has 52 Transposes, 25 Pads + 1 PadV2 and 25 bias Adds
    assert.deepStrictEqual(g.opCounts(), { Transpose: 4, Cast: 1, Conv: 26, LeakyRelu: 25, MaxPool: 1, Concat: 12 });
    assert.strictEqual(tf.memory().numTensors, before, 'decoding the weights left no tensor behind');
  });

  it('each tap (strides 8, 16, 32) agrees within 1e-3 of the feature scale at 417² and 321²; no tensor is left behind', async () => {
    const o = loadOrt();
    if (!o.ok) throw new Error(o.reason);
    const { file } = await cachedOnnxModel(cacheDir, nanodetOnnxSource([8, 16, 32]));
    const session = await o.ort.InferenceSession.create(file, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    const n0 = tf.memory().numTensors;
    const { net } = await loadGraphBackbone('nanodet', [8, 16, 32]);
    const worst: string[] = [];
    try {
      for (const size of [417, 321]) {
        for (const [name, px] of [['jpeg photo', await jpegPhoto(size)], ['noise', noiseImage(size, size)]] as const) {
          const got = await session.run({ x: new o.ort.Tensor('uint8', Uint8Array.from(px), [1, size, size, 3]) });
          const want = tf.tidy(() => net.featuresAll(tf.tensor4d(px, [1, size, size, 3])).map((t) => ({ shape: t.shape, data: t.dataSync() })));
          [8, 16, 32].forEach((s, i) => {
            const out = got[`s${s}`];
            assert.deepStrictEqual([...out.dims], want[i].shape, `${name} ${size}² stride ${s}: shape`);
            const e = relErr(out.data as Float32Array, want[i].data);
            worst.push(`${size}² ${name} s${s} ${e.toExponential(1)}`);
            assert.ok(e <= 1e-3, `${name} ${size}² stride ${s}: relative error ${e}`);
          });
        }
      }
    } finally {
      net.dispose();
      await session.release();
    }
    assert.strictEqual(tf.memory().numTensors, n0, 'loading, forwards and disposing left no tensor behind');
    console.log(`      relative errors: ${worst.join('; ')}`);
  });

  it('a node the translator does not know is refused by name and op, never translated silently', () => {
    const g = new OnnxGraphBuilder('t');
    const x = g.input('x', ['N', 3, 'H', 'W']);
    assert.throws(
      () => translateTfGraph(g, [{ name: 'in', op: 'Placeholder' }, { name: 'act', op: 'Sigmoid', input: ['in'] }], new Map(), { node: 'in', value: { onnx: x, perm: [0, 1, 2, 3], ch: 3 } }, [{ node: 'act', layout: 'NCHW', output: 'y', channels: 3 }], 'test'),
      /test: node act \(Sigmoid\): no ONNX translation here/,
    );
  });

  for (const workers of [1, 2]) {
    it(`the labeling encoder (auto) runs onnxruntime on ${workers} worker thread${workers > 1 ? 's' : ''}: tfjs's key and features`, async () => {
      const size = 161;
      const n0 = tf.memory().numTensors;
      const ref = await GraphLabelEncoder.create('nanodet', size, [16, 32]);
      const c = await graphLabelEncoder('nanodet', size, [16, 32], { workers, cacheDir, inference: 'auto' });
      try {
        assert.strictEqual(c.report.engine, 'onnx');
        assert.match(c.report.detail, new RegExp(`^onnxruntime-node 1\\.30\\.\\d+ \\(CPU\\), ${workers} workers? × ${workers === 1 ? os.availableParallelism() : Math.max(1, Math.floor(os.availableParallelism() / 2))} threads?$`));
        assert.match(c.report.reason[0], /^onnx: chosen/);
        assert.strictEqual(c.concurrency, workers);
        assert.strictEqual(c.encoder.key, ref.key);
        assert.strictEqual(c.weightsHash, ref.weightsHash);
        assert.strictEqual(c.weightsSource, ref.weightsSource);
        const rgb = asRaw(await jpegPhoto(size), size);
        const [want, got] = [await ref.encode(rgb), await Promise.all([c.encoder.encode(rgb), c.encoder.encode(rgb)])];
        for (const g of got) {
          assert.deepStrictEqual(g.map((f) => f.shape), want.map((f) => f.shape));
          g.forEach((f, i) => assert.ok(relErr(f.data, want[i].data) <= 1e-3, `level ${i}`));
        }
      } finally {
        c.encoder.dispose();
        ref.dispose();
      }
      assert.strictEqual(tf.memory().numTensors, n0);
    });
  }

  it('tfjs when asked for (option or PROTOLAB_LABEL_INFERENCE); a bad value of that variable is a usage error', async () => {
    const saved = process.env.PROTOLAB_LABEL_INFERENCE;
    try {
      const a = await graphLabelEncoder('nanodet', 97, [16, 32], { cacheDir, inference: 'tfjs' });
      a.encoder.dispose();
      assert.strictEqual(a.report.engine, 'tfjs');
      assert.deepStrictEqual(a.report.reason, ['tfjs: asked for']);
      process.env.PROTOLAB_LABEL_INFERENCE = 'tfjs';
      const b = await graphLabelEncoder('nanodet', 97, [16, 32], { cacheDir, workers: 2 });
      b.encoder.dispose();
      assert.strictEqual(b.report.engine, 'tfjs');
      assert.strictEqual(b.report.detail, 'tfjs wasm, 2 worker threads');
      process.env.PROTOLAB_LABEL_INFERENCE = 'fast';
      await assert.rejects(graphLabelEncoder('nanodet', 97, [16, 32], { cacheDir }), (e: Error) => e instanceof UsageError && /PROTOLAB_LABEL_INFERENCE=fast: choose auto, onnx, tfjs/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env.PROTOLAB_LABEL_INFERENCE;
      else process.env.PROTOLAB_LABEL_INFERENCE = saved;
    }
  });

  it('onnx unusable (the model cannot be written): auto falls back to tfjs and says why; an asked-for onnx is an error', async () => {
    const notADir = path.join(cacheDir, 'a-file');
    fs.writeFileSync(notADir, 'x');
    const c = await graphLabelEncoder('nanodet', 97, [16, 32], { cacheDir: notADir, inference: 'auto' });
    c.encoder.dispose();
    assert.strictEqual(c.report.engine, 'tfjs');
    assert.match(c.report.reason[0], /^onnx: could not be used \(.*a-file.*\); falling back to tfjs$/);
    await assert.rejects(graphLabelEncoder('nanodet', 97, [16, 32], { cacheDir: notADir, inference: 'onnx' }), (e: Error) => e instanceof UsageError && /onnx inference for the nanodet labeling encoder/.test(e.message));
  });

  it("the quality method on nanodet: its model info says which engine encoded; forced tfjs gives the same key", async () => {
    const saved = process.env.PROTOLAB_CACHE_DIR;
    process.env.PROTOLAB_CACHE_DIR = cacheDir;
    try {
      const onnx = await createLabelModel({ method: 'quality', backbone: 'nanodet', size: 97, workers: 2 });
      const tfjs = await createLabelModel({ method: 'quality', backbone: 'nanodet', size: 97, workers: 2, inference: 'tfjs' });
      try {
        assert.strictEqual(onnx.info.encoder?.engine, 'onnx');
        assert.match(onnx.info.encoder!.detail, /^onnxruntime-node .*2 workers/);
        assert.strictEqual(onnx.encodeConcurrency, 2);
        assert.strictEqual(tfjs.info.encoder?.engine, 'tfjs');
        assert.strictEqual(onnx.info.encoderKey, tfjs.info.encoderKey);
        const rgb = asRaw(noiseImage(97, 3), 97);
        const [a, b] = [await onnx.encoder.encode(rgb), await tfjs.encoder.encode(rgb)];
        a.forEach((f, i) => assert.ok(relErr(f.data, b[i].data) <= 1e-3, `level ${i}`));
      } finally {
        onnx.dispose();
        tfjs.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.PROTOLAB_CACHE_DIR;
      else process.env.PROTOLAB_CACHE_DIR = saved;
    }
  });
});
