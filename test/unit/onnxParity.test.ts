// The onnxruntime inference path against tfjs, for both backbones: features equal within 1e-3 relative
// (max |onnx − tfjs| / max |tfjs| over the tensor), and PANet predictions on sample episodes agree on
// ≥ 99.9 % of pixels. Plus the encoder's choice and fallback rules, and the model cache.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, useTestBackend } from './helpers/tf';
import { tinyBackbone } from './helpers/tinyBackbone';
import { createBackbone, type Backbone } from '../../src/engine/nets/backbone';
import { createEncoder, tfjsFeatures, type Encoder } from '../../src/engine/features/frozenEncoder';
import { cachedOnnxModel, KEEP, onnxModelPath } from '../../src/engine/nets/onnx/modelCache';
import { loadOrt } from '../../src/engine/nets/onnx/runtime';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { openDataset } from '../../src/engine/data/open';
import type { SegDataset } from '../../src/engine/data/dataset';
import { EpisodeSampler } from '../../src/engine/data/episodes';
import { foldClasses } from '../../src/engine/data/splits';
import { EpisodeInputs } from '../../src/engine/eval/episodeInputs';
import { episodeSupport } from '../../src/engine/eval/evaluate';
import { panetMethod } from '../../src/engine/fewshot/method';
import { UsageError } from '../../src/engine/errors';
import { relErr } from './helpers/relErr';

/** A deterministic, image-like input: smooth gradients plus texture, RGB 0..255. */
function image(h: number, w: number): Float32Array {
  const px = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = 127.5 + 100 * Math.sin(0.21 * x * (c + 1) + 0.13 * y) * Math.cos(0.07 * (x - y) * (2 - c));
  return px;
}

const wasm = { name: 'wasm' as const };

describe('onnx inference path vs tfjs', function () {
  this.timeout(600000);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-onnx-'));
  let ds: SegDataset;
  before(async () => {
    await useTestBackend('wasm');
    const o = loadOrt();
    assert.ok(o.ok, `onnxruntime-node did not load: ${o.ok ? '' : o.reason}`);
    await writeSampleDataset({ out: path.join(cacheDir, 'data'), seed: 5, images: { train: 4, val: 48 } });
    ds = await openDataset({ data: path.join(cacheDir, 'data'), dataset: 'voc', cacheDir });
  });
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  /** onnxruntime on the backbone's own ONNX model, any input shape [1, h, w, 3]. */
  async function ortFeatures(bb: Backbone, px: Float32Array, h: number, w: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const o = loadOrt();
    if (!o.ok) throw new Error(o.reason);
    const { file } = await cachedOnnxModel(cacheDir, bb);
    const s = await o.ort.InferenceSession.create(file, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    try {
      const r = await s.run({ x: new o.ort.Tensor('float32', px, [1, h, w, 3]) });
      return { data: r.features.data as Float32Array, dims: r.features.dims };
    } finally {
      await s.release();
    }
  }

  function tfjsOf(bb: Backbone, px: Float32Array, h: number, w: number): { data: Float32Array; shape: number[] } {
    return tf.tidy(() => {
      const t = bb.features(tf.tensor4d(px, [1, h, w, 3]));
      return { data: t.dataSync() as Float32Array, shape: t.shape };
    });
  }

  /** Predictions of PANet on the same episodes with features from each encoder: fraction of equal pixels. */
  async function predictionAgreement(bb: Backbone, a: Encoder, b: Encoder, size: number, episodes: number, shots: number): Promise<{ agree: number; pixels: number }> {
    const classes = foldClasses('voc', ds.classNames.length - 1, 0, 'panet');
    const sampler = new EpisodeSampler({ fold: 0, classes, ways: 1, shots, queriesPerClass: 1, seed: 11, list: 'val', minPixels: 1 }, await ds.index('val'));
    const inputs = (e: Encoder) => new EpisodeInputs(ds, bb, { size, featureBytes: 256 * 1024 ** 2, encode: (px, n) => e.encode(px, n) });
    const [ia, ib] = [inputs(a), inputs(b)];
    let agree = 0, pixels = 0;
    for (let i = 0; i < episodes; i++) {
      const ep = sampler.episode(0, i);
      const preds: Uint8Array[] = [];
      for (const inp of [ia, ib]) {
        const support = await episodeSupport(ep, inp, 'dense', 11);
        preds.push(await panetMethod.predict(support, await inp.featuresOf(ep.queries[0]), [size, size]));
      }
      preds[0].forEach((p, k) => { agree += p === preds[1][k] ? 1 : 0; });
      pixels += preds[0].length;
    }
    return { agree: agree / pixels, pixels };
  }

  for (const [id, sizes, size] of [
    ['vgg16', [[45, 45], [64, 48]], 96],
    ['mobilenetv2', [[96, 96], [65, 98]], 128],
  ] as const) {
    describe(id, () => {
      let bb: Backbone;
      let onnx: Encoder, tfjs: Encoder;
      let n0: number;
      before(async () => {
        n0 = tf.memory().numTensors;
        bb = await createBackbone({ id, seed: 3 });
        onnx = await createEncoder(bb, { inference: 'onnx', tfjs: wasm, cacheDir, threads: 2 });
        tfjs = await createEncoder(bb, { inference: 'tfjs', tfjs: wasm, cacheDir });
      });
      after(async () => {
        await onnx?.close();
        await tfjs?.close();
        bb?.dispose();
        assert.strictEqual(tf.memory().numTensors, n0, 'building and running the ONNX model left no tfjs tensor behind');
      });

      for (const [h, w] of sizes) {
        it(`features at ${h}×${w}: same shape, within 1e-3 relative`, async () => {
          const px = image(h, w);
          const ref = tfjsOf(bb, px, h, w);
          const got = await ortFeatures(bb, px, h, w);
          assert.deepStrictEqual([...got.dims], ref.shape);
          const e = relErr(got.data, ref.data);
          assert.ok(e < 1e-3, `relative error ${e}`);
        });
      }

      it('the encoder (worker thread) reports onnx and returns the same features as tfjs in-process', async () => {
        assert.strictEqual(onnx.report.engine, 'onnx');
        assert.match(onnx.report.detail, /onnxruntime-node 1\.30\.0/);
        assert.strictEqual(tfjs.report.engine, 'tfjs');
        const px = image(size, size);
        const a = await onnx.encode(px.slice(), size);
        const b = await tfjsFeatures(bb, px, size);
        assert.deepStrictEqual(a.shape, b.shape);
        assert.ok(relErr(a.data, b.data) < 1e-3);
      });

      it(`PANet predictions on sample episodes agree on ≥ 99.9 % of pixels (1-shot and 5-shot, ${size}²)`, async () => {
        for (const shots of [1, 5]) {
          const r = await predictionAgreement(bb, onnx, tfjs, size, shots === 1 ? 8 : 3, shots);
          assert.ok(r.agree >= 0.999, `${shots}-shot: ${(100 * r.agree).toFixed(3)} % of ${r.pixels} pixels agree`);
        }
      });
    });
  }

  describe('which engine, and falling back', () => {
    it('auto: onnx where it loads; tfjs already on a GPU is kept; a backbone without an ONNX form falls back to tfjs, saying why', async () => {
      const vgg = await createBackbone({ id: 'vgg16', seed: 3 });
      const tiny = tinyBackbone(1);
      try {
        const a = await createEncoder(vgg, { tfjs: wasm, cacheDir, threads: 1 });
        assert.strictEqual(a.report.engine, 'onnx');
        assert.ok(a.report.reason.some((r) => /onnx: chosen \(fastest that loads\)/.test(r)), a.report.reason.join('; '));
        await a.close();
        const gpu = await createEncoder(vgg, { tfjs: { name: 'webgpu' }, cacheDir });
        assert.strictEqual(gpu.report.engine, 'tfjs');
        assert.match(gpu.report.reason.join('; '), /tfjs runs on a GPU/);
        await gpu.close();
        const logs: string[] = [];
        const t = await createEncoder(tiny, { tfjs: wasm, cacheDir, log: (l) => logs.push(l) });
        assert.strictEqual(t.report.engine, 'tfjs');
        assert.match(t.report.reason.join('; '), /onnx: could not be used \(backbone tiny has no ONNX form\); falling back to tfjs/);
        assert.ok(logs.some((l) => /falling back to tfjs/.test(l)), 'the fallback is said where the user sees it');
        await t.close();
        // asked for explicitly, the same failure is an error, not a silent switch
        await assert.rejects(createEncoder(tiny, { inference: 'onnx', tfjs: wasm, cacheDir }), (e: Error) => e instanceof UsageError && /--inference onnx: backbone tiny has no ONNX form/.test(e.message));
      } finally {
        vgg.dispose();
        tiny.dispose();
      }
    });

    it('model cache: keyed by backbone, weights hash and graph version; built once, reused, no temp files left', async () => {
      const bb = await createBackbone({ id: 'mobilenetv2' });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-onnxc-'));
      try {
        const first = await cachedOnnxModel(dir, bb);
        assert.strictEqual(first.built, true);
        assert.strictEqual(first.file, onnxModelPath(dir, bb, bb.onnx!.graphVersion));
        assert.ok(path.basename(first.file).includes(bb.weightsHash));
        const again = await cachedOnnxModel(dir, bb);
        assert.deepStrictEqual(again, { file: first.file, built: false });
        assert.deepStrictEqual(fs.readdirSync(path.dirname(first.file)), [path.basename(first.file)]);
        // a damaged file is replaced when onnxruntime refuses it
        fs.writeFileSync(first.file, 'not a model');
        const enc = await createEncoder(bb, { inference: 'onnx', tfjs: wasm, cacheDir: dir, threads: 1 });
        assert.ok(enc.report.reason.some((r) => /onnx model built/.test(r)));
        assert.ok(fs.statSync(first.file).size > 1e6);
        await enc.close();
        // the folder keeps the KEEP most recently used models: older ones go when a new one is written
        const old = Array.from({ length: KEEP + 2 }, (_, i) => path.join(path.dirname(first.file), `vgg16-old${i}-g1.onnx`));
        old.forEach((f, i) => {
          fs.writeFileSync(f, 'x');
          fs.utimesSync(f, new Date(2000, 0, 1 + i), new Date(2000, 0, 1 + i));
        });
        await cachedOnnxModel(dir, bb, true);
        const left = fs.readdirSync(path.dirname(first.file)).sort();
        assert.strictEqual(left.length, KEEP);
        assert.ok(left.includes(path.basename(first.file)));
        assert.ok(!left.includes('vgg16-old0-g1.onnx') && left.includes(`vgg16-old${KEEP + 1}-g1.onnx`), left.join(' '));
      } finally {
        bb.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
