// The baseline labeling predictor against the engine's PANet tensors (fewshot/prototypes.ts,
// fewshot/panet.ts) on random features, and the array resampling it is built on against tfjs.
import * as assert from 'assert';
import { resizeBilinearAdjoint, resizeBilinearHalfPixel } from '../../src/engine/fewshot/bilinear';
import { panetProbabilities } from '../../src/engine/fewshot/panet';
import { maskedAveragePool } from '../../src/engine/fewshot/prototypes';
import { baselinePredictor } from '../../src/engine/label/baselinePredictor';
import { UNLABELED, type LabelImage } from '../../src/engine/label/predictor';
import { adjointPool, argmaxChannels, resizeChannels, upsampleArgmax } from '../../src/engine/label/upsample';
import { Rng } from '../../src/engine/prng';
import { tf, useTestBackend } from './helpers/tf';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function image(rng: Rng, id: string, S: number, h: number, c: number): LabelImage {
  return {
    id,
    rgb: { width: S, height: S, data: new Uint8Array(S * S * 3) },
    features: [{ shape: [h, h, c], data: Float32Array.from({ length: h * h * c }, () => Math.max(0, rng.normal())) }],
  };
}

function raster(rng: Rng, n: number, K: number, pUnlabeled = 0.3): Uint8Array {
  return Uint8Array.from({ length: n }, () => {
    const r = rng.next();
    return r < pUnlabeled ? UNLABELED : r < pUnlabeled + 0.05 ? 255 : Math.floor(rng.next() * (K + 1));
  });
}

describe('label upsampling on arrays', () => {
  before(() => useTestBackend('wasm'));

  it('resizeChannels equals the engine\'s half-pixel resize (tfjs), up and down', () => {
    const rng = new Rng(2);
    for (const [h, w, c, H, W] of [[5, 7, 3, 17, 23], [26, 26, 2, 417, 417], [9, 9, 4, 4, 5]]) {
      const x = Float32Array.from({ length: h * w * c }, () => rng.normal());
      const ref = tf.tidy(() => resizeBilinearHalfPixel(tf.tensor3d(x, [h, w, c]), [H, W]).dataSync());
      assert.ok(maxDiff(resizeChannels(x, h, w, c, H, W), ref) < 1e-4);
    }
  });

  it('adjointPool equals resizeBilinearAdjoint of the one-hot planes, and counts areas', () => {
    const rng = new Rng(3);
    const H = 37, W = 29, h = 5, w = 4, K1 = 3;
    const r = raster(rng, H * W, K1 - 1);
    const { pooled, areas } = adjointPool(r, H, W, h, w, K1);
    const planes = new Float32Array(K1 * H * W);
    for (let i = 0; i < H * W; i++) if (r[i] < K1) planes[r[i] * H * W + i] = 1;
    const ref = tf.tidy(() => resizeBilinearAdjoint(tf.tensor3d(planes, [K1, H, W]), [h, w]).dataSync());
    assert.ok(maxDiff(pooled, ref) < 1e-4);
    for (let k = 0; k < K1; k++) assert.strictEqual(areas[k], r.filter((v) => v === k).length);
  });

  it('upsampleArgmax (row by row) equals argmax of the whole upsampled array', () => {
    const rng = new Rng(4);
    for (const [h, w, c, H, W] of [[13, 13, 3, 101, 77], [8, 6, 2, 8, 6], [4, 4, 5, 3, 50]]) {
      const p = Float32Array.from({ length: h * w * c }, () => rng.next());
      assert.deepStrictEqual(upsampleArgmax(p, h, w, c, H, W), argmaxChannels(resizeChannels(p, h, w, c, H, W), H * W, c));
    }
  });
});

describe('baseline label predictor', () => {
  before(() => useTestBackend('wasm'));
  const S = 33, h = 5, C = 8;

  it('one dense support: probabilities equal PANet\'s (masked average pooling, α·cos, upsample, softmax)', () => {
    const rng = new Rng(5);
    const sup = image(rng, 's', S, h, C), q = image(rng, 'q', S, h, C);
    const labels = Uint8Array.from({ length: S * S }, (_, i) => ((i % S) > 15 ? 1 : 0));
    labels[0] = 255; // unsure: in neither prototype
    labels[1] = UNLABELED;
    const model = baselinePredictor().fit([{ image: sup, labels }], 1);
    const pred = model.predict(q);
    const ref = tf.tidy(() => {
      const feat = tf.tensor4d(sup.features[0].data, [1, h, h, C]);
      const w = new Float32Array(2 * S * S);
      for (let i = 0; i < S * S; i++) {
        if (labels[i] === 0) w[i] = 1; // row 0: background
        if (labels[i] === 1) w[S * S + i] = 1; // row 1: class 1
      }
      const protos = maskedAveragePool(feat, tf.tensor3d(w, [2, S, S]));
      return panetProbabilities(tf.tensor4d(q.features[0].data, [1, h, h, C]), protos, [S, S]).dataSync();
    });
    assert.ok(maxDiff(pred.probs, ref) < 1e-4, `max diff ${maxDiff(pred.probs, ref)}`);
    assert.deepStrictEqual(pred.labels, argmaxChannels(pred.probs, S * S, 2));
    assert.strictEqual(pred.size, S);
    assert.strictEqual(pred.classes, 1);
    let sumMax = 0;
    for (let i = 0; i < S * S; i++) sumMax += Math.max(pred.probs[2 * i], pred.probs[2 * i + 1]);
    assert.ok(Math.abs(pred.confidence - (sumMax / (S * S) - 0.5) / 0.5) < 1e-6);
    model.dispose();
  });

  it('pools pixels over all supports: two supports = one support holding both annotations\' pixels', () => {
    // Same image twice with disjoint annotations ⇔ that image once with their union (sums and areas add).
    const rng = new Rng(6);
    const sup = image(rng, 's', S, h, C), q = image(rng, 'q', S, h, C);
    const a = new Uint8Array(S * S).fill(UNLABELED), b = new Uint8Array(S * S).fill(UNLABELED), both = new Uint8Array(S * S).fill(UNLABELED);
    for (let i = 0; i < S * S; i++) {
      const v = i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2;
      (i < S * S / 2 ? a : b)[i] = v;
      both[i] = v;
    }
    const p2 = baselinePredictor().fit([{ image: sup, labels: a }, { image: sup, labels: b }], 2).predict(q);
    const p1 = baselinePredictor().fit([{ image: sup, labels: both }], 2).predict(q);
    assert.ok(maxDiff(p2.probs, p1.probs) < 1e-5);
  });

  it('a class no support marks has probability 0; the image\'s own strokes give it a prototype at once', () => {
    const rng = new Rng(7);
    const sup = image(rng, 's', S, h, C), q = image(rng, 'q', S, h, C);
    const labels = Uint8Array.from({ length: S * S }, (_, i) => (i % 2)); // classes 0 and 1 only
    const model = baselinePredictor().fit([{ image: sup, labels }], 2);
    const before = model.predict(q);
    for (let i = 0; i < S * S; i++) assert.strictEqual(before.probs[3 * i + 2], 0);
    assert.ok(!before.labels.includes(2));
    const own = new Uint8Array(S * S).fill(UNLABELED);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) own[y * S + x] = 2; // a class-2 patch in q's corner
    const after = model.predict(q, own);
    assert.ok(after.labels.includes(2), 'class 2 appears once the image marks it');
    assert.ok(after.labels[0] === 2, 'the marked corner takes the marked class');
    for (let i = 0; i < S * S; i++) assert.ok(Math.abs(after.probs[3 * i] + after.probs[3 * i + 1] + after.probs[3 * i + 2] - 1) < 1e-5);
    model.dispose();
  });

  it('one class only: everything is that class and the confidence is 0', () => {
    const rng = new Rng(8);
    const sup = image(rng, 's', S, h, C);
    const labels = new Uint8Array(S * S).fill(UNLABELED);
    labels[100] = 1;
    const p = baselinePredictor().fit([{ image: sup, labels }], 1).predict(image(rng, 'q', S, h, C));
    assert.ok(p.labels.every((v) => v === 1));
    assert.strictEqual(p.confidence, 0);
  });

  it('refuses supports that label nothing, and mismatched sizes', () => {
    const rng = new Rng(9);
    const sup = image(rng, 's', S, h, C);
    assert.throws(() => baselinePredictor().fit([{ image: sup, labels: new Uint8Array(S * S).fill(UNLABELED) }], 1), /no support labels any pixel/);
    assert.throws(() => baselinePredictor().fit([], 1), /no support image/);
    assert.throws(() => baselinePredictor().fit([{ image: sup, labels: new Uint8Array(10) }], 1), /expected 33×33/);
  });
});
