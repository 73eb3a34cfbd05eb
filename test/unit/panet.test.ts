import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { jsCos, jsMaskedAverage, jsUpsample, randImg, type Img } from './helpers/reference';
import { ANN_BG, ANN_FG, ANN_UNLABELED, Annotation, denseAnnotation } from '../../src/engine/fewshot/annotations';
import { resizeBilinearAdjoint, resizeBilinearHalfPixel } from '../../src/engine/fewshot/bilinear';
import { cosineLogits } from '../../src/engine/fewshot/cosine';
import { panetEpisode, panetLogits, toEpisodeLabels, toOrdinals } from '../../src/engine/fewshot/panet';
import { maskedAveragePool, prototypes, SupportShot } from '../../src/engine/fewshot/prototypes';
import { Rng } from '../../src/engine/prng';

// ---- test helpers (the plain-JS references live in helpers/reference.ts) ----
const toTensor = (x: Img): tf.Tensor4D => tf.tensor4d(Float32Array.from(x.v), [1, x.h, x.w, x.c]);
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
function annotation(rng: Rng, H: number, W: number): Annotation {
  const data = Uint8Array.from({ length: H * W }, () => { const r = rng.next(); return r < 0.3 ? ANN_FG : r < 0.8 ? ANN_BG : ANN_UNLABELED; });
  return { width: W, height: H, data };
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`PANet inference (${backend})`, () => {
    before(() => useTestBackend(backend));

    it('half-pixel resize equals tf.image.resizeBilinear(x, size, false, true) and the plain-JS torch formula', () => {
      const rng = new Rng(1);
      for (const [h, w, H, W] of [[3, 4, 7, 9], [5, 5, 17, 17], [6, 3, 4, 5]]) {
        const x = randImg(rng, h, w, 3);
        tf.tidy(() => {
          const t = tf.tensor3d(Float32Array.from(x.v), [h, w, 3]);
          const ours = resizeBilinearHalfPixel(t, [H, W]).dataSync();
          assert.ok(maxDiff(ours, tf.image.resizeBilinear(t, [H, W], false, true).dataSync()) < 1e-5);
          assert.ok(maxDiff(ours, jsUpsample(x, H, W).v) < 1e-5);
        });
      }
    });

    it('the adjoint satisfies <Up f, m> = <f, Upᵀ m> (non-square)', () => {
      tf.tidy(() => {
        const f = tf.randomNormal([5, 7, 2], 0, 1, 'float32', 3) as tf.Tensor3D, m = tf.randomNormal([2, 13, 22], 0, 1, 'float32', 4) as tf.Tensor3D;
        const lhs = tf.sum(tf.mul(tf.transpose(resizeBilinearHalfPixel(f, [13, 22]), [2, 0, 1]), m)).dataSync()[0];
        const rhs = tf.sum(tf.mul(tf.transpose(f, [2, 0, 1]), resizeBilinearAdjoint(m, [5, 7]))).dataSync()[0];
        assert.ok(Math.abs(lhs - rhs) < 1e-3 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
      });
    });

    it('masked average pooling via the adjoint equals upsample-features-then-average (tf, 1e-5)', () => {
      tf.tidy(() => {
        const f = tf.randomNormal([1, 9, 11, 16], 0, 1, 'float32', 5) as tf.Tensor4D;
        const m = tf.cast(tf.greater(tf.randomUniform([3, 33, 41], 0, 1, 'float32', 6), 0.6), 'float32') as tf.Tensor3D;
        const ours = maskedAveragePool(f, m);
        const up = tf.reshape(tf.image.resizeBilinear(f, [33, 41], false, true), [33 * 41, 16]);
        const ref = tf.div(tf.matMul(tf.reshape(m, [3, 33 * 41]), up), tf.add(tf.sum(tf.reshape(m, [3, -1]), 1, true), 1e-5));
        assert.ok(maxDiff(ours.dataSync(), ref.dataSync()) < 1e-5);
      });
    });

    it('episode prototypes (2-way 2-shot, partial annotations) equal a plain-JS per-shot average', () => {
      const rng = new Rng(7), h = 4, w = 5, C = 6, H = 13, W = 17;
      const imgs = [[randImg(rng, h, w, C), randImg(rng, h, w, C)], [randImg(rng, h, w, C), randImg(rng, h, w, C)]];
      const anns = imgs.map((way) => way.map(() => annotation(rng, H, W)));
      const before = tf.memory().numTensors;
      const feats = imgs.map((way) => way.map(toTensor));
      const support: SupportShot[][] = feats.map((way, i) => way.map((feat, k) => ({ feat, annotation: anns[i][k] })));
      const protos = prototypes(support);
      const got = protos.arraySync();
      protos.dispose();
      feats.flat().forEach((t) => t.dispose());
      assert.strictEqual(tf.memory().numTensors, before);
      // reference: per shot fg/bg masked averages, fg_j = mean over shots, bg = mean over ways of mean over shots
      const bin = (a: Annotation, v: number): Float64Array => Float64Array.from(a.data, (x) => (x === v ? 1 : 0));
      const mean = (vs: number[][]): number[] => vs[0].map((_, k) => vs.reduce((s, v) => s + v[k], 0) / vs.length);
      const fg = imgs.map((way, i) => mean(way.map((im, k) => jsMaskedAverage(im, bin(anns[i][k], ANN_FG), H, W))));
      const bg = mean(imgs.map((way, i) => mean(way.map((im, k) => jsMaskedAverage(im, bin(anns[i][k], ANN_BG), H, W)))));
      assert.ok(maxDiff(got.flat(), [bg, ...fg].flat()) < 1e-5);
    });

    it('cosine logits equal 20·cos from a plain-JS loop', () => {
      const rng = new Rng(9), q = randImg(rng, 3, 4, 5);
      const P = [[1, 0, 2, -1, 0.5], [0, 0, 0, 0, 0], [-2, 1, 1, 3, 0]];
      tf.tidy(() => {
        const got = cosineLogits(toTensor(q), tf.tensor2d(P)).dataSync();
        const want: number[] = [];
        for (let i = 0; i < 12; i++) for (const p of P) want.push(20 * jsCos(q.v.subarray(i * 5, i * 5 + 5), p));
        assert.ok(maxDiff(got, want) < 1e-4);
      });
    });

    it('a whole episode: labels equal the plain-JS pipeline and no tensor is left behind', async () => {
      const rng = new Rng(11), h = 5, w = 6, C = 8, H = 20, W = 23;
      const sImg = randImg(rng, h, w, C), qImg = randImg(rng, h, w, C);
      const gt = { width: W, height: H, data: Uint8Array.from({ length: H * W }, () => [0, 0, 3, 7, 255][rng.int(5)]) };
      const ann = denseAnnotation(gt, 3, [3]);
      const before = tf.memory().numTensors;
      const sF = toTensor(sImg), qF = toTensor(qImg);
      const labels = await panetEpisode([[{ feat: sF, annotation: ann }]], qF, [H, W]);
      const logits = tf.tidy(() => {
        const p = prototypes([[{ feat: sF, annotation: ann }]]);
        return panetLogits(qF, p, [H, W]);
      });
      const logitData = logits.dataSync();
      logits.dispose(); sF.dispose(); qF.dispose();
      assert.strictEqual(tf.memory().numTensors, before);
      // plain JS: prototypes, 20·cos at feature resolution, upsample, argmax
      const bin = (v: number): Float64Array => Float64Array.from(ann.data, (x) => (x === v ? 1 : 0));
      const protos = [jsMaskedAverage(sImg, bin(ANN_BG), H, W), jsMaskedAverage(sImg, bin(ANN_FG), H, W)];
      const low: Img = { h, w, c: 2, v: new Float64Array(h * w * 2) };
      for (let i = 0; i < h * w; i++) protos.forEach((p, j) => { low.v[i * 2 + j] = 20 * jsCos(qImg.v.subarray(i * C, i * C + C), p); });
      const up = jsUpsample(low, H, W);
      assert.ok(maxDiff(logitData, up.v) < 1e-3);
      let agree = 0;
      for (let i = 0; i < H * W; i++) if (labels[i] === (up.v[i * 2 + 1] > up.v[i * 2] ? 1 : 0)) agree++;
      assert.ok(agree >= H * W - 1, `agree ${agree}/${H * W}`); // a float tie may flip one pixel at most
    });
  });
}

describe('episode label mapping', () => {
  it('dataset ordinals ↔ episode-local labels', () => {
    const m = { width: 5, height: 1, data: Uint8Array.from([0, 7, 3, 255, 9]) };
    const local = toEpisodeLabels(m, [3, 7]);
    assert.deepStrictEqual([...local], [0, 2, 1, 255, 0]);
    assert.deepStrictEqual([...toOrdinals(local, [3, 7])], [0, 7, 3, 255, 0]);
  });
});
