// PANet's training loss against an independent float64 JS implementation of the official code's
// forward() + alignLoss() (upsample features then mask-average, as getFeatures does — not the adjoint
// trick the engine uses), and PAR's gradient against numeric differences of that reference: the
// reference takes a hard argmax, so its numeric gradient is the gradient with the prediction detached.
import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { jsCos as cos, jsMaskedAverage as maskedAverage, jsUpsample as upsample, randImg, type Img } from './helpers/reference';
import { ANN_BG, ANN_FG, ANN_UNLABELED, type Annotation } from '../../src/engine/fewshot/annotations';
import { crossEntropyMean, createPanetTrainable, guardedCosineLogits, panetLoss } from '../../src/engine/fewshot/panetTrain';
import type { TrainEpisode } from '../../src/engine/fewshot/trainable';
import { ensureGradients } from '../../src/engine/gradients';
import { Rng } from '../../src/engine/prng';


/** α·cos logits at feature resolution, [h·w][P] as an Img with c = P. */
function distLogits(f: Img, protos: number[][]): Img {
  const v = new Float64Array(f.h * f.w * protos.length);
  for (let i = 0; i < f.h * f.w; i++) protos.forEach((p, j) => { v[i * protos.length + j] = 20 * cos(f.v.subarray(i * f.c, (i + 1) * f.c), p); });
  return { h: f.h, w: f.w, c: protos.length, v };
}
/** CE summed over labelled pixels, and their count (torch: mean = sum / count). */
function ceSum(logits: Img, labels: ArrayLike<number>): [number, number] {
  let s = 0, n = 0;
  for (let i = 0; i < logits.h * logits.w; i++) {
    if (labels[i] === 255) continue;
    const row = Array.from(logits.v.subarray(i * logits.c, (i + 1) * logits.c));
    const mx = Math.max(...row), lse = mx + Math.log(row.reduce((a, b) => a + Math.exp(b - mx), 0));
    s += lse - row[labels[i]];
    n++;
  }
  return [s, n];
}

interface RefEpisode {
  support: Array<Array<{ feat: Img; ann: Annotation }>>;
  query: Array<{ feat: Img; labels: Uint8Array }>;
  H: number;
  W: number;
}
/** The official FewShotSeg.forward + CrossEntropyLoss + alignLoss, in float64. */
function reference(ep: RefEpisode, lambda: number): { seg: number; par: number; total: number } {
  const { H, W } = ep;
  const ways = ep.support.length;
  const fgOf = (a: Annotation) => Array.from(a.data, (v) => (v === ANN_FG ? 1 : 0));
  const bgOf = (a: Annotation) => Array.from(a.data, (v) => (v === ANN_BG ? 1 : 0));
  const mean = (xs: number[][]) => xs[0].map((_, k) => xs.reduce((s, x) => s + x[k], 0) / xs.length);
  const fg = ep.support.map((way) => mean(way.map((s) => maskedAverage(s.feat, fgOf(s.ann), H, W))));
  const bg = mean(ep.support.map((way) => mean(way.map((s) => maskedAverage(s.feat, bgOf(s.ann), H, W)))));
  const protos = [bg, ...fg];
  let s = 0, n = 0;
  const preds = ep.query.map((q) => distLogits(q.feat, protos));
  ep.query.forEach((q, i) => { const [a, b] = ceSum(upsample(preds[i], H, W), q.labels); s += a; n += b; });
  const seg = s / n;
  // alignLoss
  const C = ep.query[0].feat.c, P = 1 + ways;
  const sums = Array.from({ length: P }, () => new Array<number>(C).fill(0)), counts = new Array<number>(P).fill(0);
  ep.query.forEach((q, i) => {
    for (let p = 0; p < q.feat.h * q.feat.w; p++) {
      const row = Array.from(preds[i].v.subarray(p * P, (p + 1) * P));
      const j = row.indexOf(Math.max(...row));
      counts[j]++;
      for (let k = 0; k < C; k++) sums[j][k] += q.feat.v[p * C + k];
    }
  });
  const qProtos = sums.map((sm, j) => sm.map((v) => v / (counts[j] + 1e-5)));
  let par = 0;
  for (let j = 0; j < ways; j++) {
    if (counts[j + 1] === 0) continue;
    for (const shot of ep.support[j]) {
      const lab = Array.from(shot.ann.data, (v) => (v === ANN_FG ? 1 : v === ANN_BG ? 0 : 255));
      const [a, b] = ceSum(upsample(distLogits(shot.feat, [qProtos[0], qProtos[j + 1]]), H, W), lab);
      par += a / b / ep.support[j].length / ways;
    }
  }
  return { seg, par, total: seg + lambda * par };
}

function randAnn(rng: Rng, H: number, W: number): Annotation {
  const data = Uint8Array.from({ length: H * W }, () => { const r = rng.next(); return r < 0.35 ? ANN_FG : r < 0.85 ? ANN_BG : ANN_UNLABELED; });
  return { width: W, height: H, data };
}
function randLabels(rng: Rng, n: number, classes: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rng.next() < 0.1 ? 255 : rng.int(classes)));
}
const toT = (x: Img) => tf.tensor4d(Float32Array.from(x.v), [1, x.h, x.w, x.c]);

function makeEpisode(seed: number, ways: number, shots: number, queries: number): RefEpisode {
  const rng = new Rng(seed);
  const h = 3, w = 3, c = 4, H = 7, W = 6;
  return {
    support: Array.from({ length: ways }, () => Array.from({ length: shots }, () => ({ feat: randImg(rng, h, w, c), ann: randAnn(rng, H, W) }))),
    query: Array.from({ length: queries }, () => ({ feat: randImg(rng, h, w, c), labels: randLabels(rng, H * W, 1 + ways) })),
    H, W,
  };
}
function toTrainEpisode(ep: RefEpisode, feats: { support: tf.Tensor4D[][]; query: tf.Tensor4D[] }): TrainEpisode {
  return {
    classes: ep.support.map((_, j) => j + 1),
    support: ep.support.map((way, j) => way.map((s, k) => ({ feat: feats.support[j][k], annotation: s.ann }))),
    query: ep.query.map((q, i) => ({ feat: feats.query[i], labels: q.labels })),
    outSize: [ep.H, ep.W],
    rng: new Rng(1),
  };
}

describe('PANet training loss (L_seg + λ·L_par)', () => {
  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
  });

  it('cross-entropy with ignore equals the naive mean over labelled pixels; all-ignored gives 0', () => {
    const rng = new Rng(3);
    const lg = randImg(rng, 3, 4, 3), labels = randLabels(rng, 12, 3);
    const [s, n] = ceSum(lg, labels);
    const got = tf.tidy(() => crossEntropyMean([{ logits: tf.tensor3d(Float32Array.from(lg.v), [3, 4, 3]), labels }]).dataSync()[0]);
    assert.ok(Math.abs(got - s / n) < 1e-5, `${got} vs ${s / n}`);
    const none = tf.tidy(() => crossEntropyMean([{ logits: tf.zeros([3, 4, 3]) as tf.Tensor3D, labels: new Uint8Array(12).fill(255) }]).dataSync()[0]);
    assert.strictEqual(none, 0);
  });

  for (const [ways, shots, queries] of [[1, 1, 1], [2, 2, 1], [2, 1, 2]] as const) {
    it(`equals the official forward + alignLoss (${ways}-way ${shots}-shot, ${queries} quer${queries > 1 ? 'ies' : 'y'}), λ = 1 and 0`, () => {
      const ep = makeEpisode(100 + ways * 10 + shots + queries, ways, shots, queries);
      const before = tf.memory().numTensors;
      for (const lambda of [1, 0]) {
        const ref = reference(ep, lambda);
        const got = tf.tidy(() => {
          const feats = { support: ep.support.map((w) => w.map((s) => toT(s.feat))), query: ep.query.map((q) => toT(q.feat)) };
          const l = panetLoss(toTrainEpisode(ep, feats), lambda);
          return { total: l.total.dataSync()[0], seg: l.parts.seg.dataSync()[0], par: l.parts.par?.dataSync()[0] };
        });
        assert.ok(Math.abs(got.seg - ref.seg) < 1e-4, `seg ${got.seg} vs ${ref.seg}`);
        assert.ok(Math.abs(got.total - ref.total) < 1e-4, `total ${got.total} vs ${ref.total}`);
        if (lambda) assert.ok(Math.abs(got.par! - ref.par) < 1e-4, `par ${got.par} vs ${ref.par}`);
        else assert.strictEqual(got.par, undefined);
      }
      assert.strictEqual(tf.memory().numTensors, before);
    });
  }

  it('PAR gradient = numeric gradient of the reference with the hard (detached) prediction; query features get gradient', () => {
    const ep = makeEpisode(7, 2, 1, 1);
    const qf = toT(ep.query[0].feat), sf = ep.support.map((w) => w.map((s) => toT(s.feat)));
    const g = tf.grads((q: tf.Tensor) => {
      const e = toTrainEpisode(ep, { support: sf, query: [q as tf.Tensor4D] });
      return panetLoss(e, 1).parts.par;
    });
    const [gq] = g([qf]);
    const analytic = gq.dataSync();
    let nonzero = 0;
    const eps = 1e-6;
    for (let i = 0; i < ep.query[0].feat.v.length; i++) {
      const at = (d: number) => {
        const v = ep.query[0].feat.v.slice();
        v[i] += d;
        return reference({ ...ep, query: [{ ...ep.query[0], feat: { ...ep.query[0].feat, v } }] }, 1).par;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(numeric - analytic[i]) < 2e-3 + 2e-3 * Math.abs(numeric), `d par / d q[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
      if (Math.abs(numeric) > 1e-4) nonzero++;
    }
    assert.ok(nonzero > 0, 'query features must receive gradient through the query prototypes');
    tf.dispose([qf, gq, ...sf.flat()]);
  });

  it('a class with no pixel at this size (zero prototype) gives logit 0 and finite gradients', () => {
    const rng = new Rng(9);
    const ep = makeEpisode(11, 1, 1, 1);
    ep.support[0][0].ann = { ...ep.support[0][0].ann, data: ep.support[0][0].ann.data.map((v) => (v === ANN_FG ? ANN_BG : v)) };
    const logits = tf.tidy(() => guardedCosineLogits(toT(randImg(rng, 2, 2, 4)), tf.tensor2d([[1, 2, 3, 4], [0, 0, 0, 0]])).dataSync());
    for (let i = 1; i < logits.length; i += 2) assert.strictEqual(Math.abs(logits[i]), 0);
    const sf = toT(ep.support[0][0].feat), qf = toT(ep.query[0].feat);
    const [gs, gq] = tf.grads((s: tf.Tensor, q: tf.Tensor) => panetLoss(toTrainEpisode(ep, { support: [[s as tf.Tensor4D]], query: [q as tf.Tensor4D] }), 1).total)([sf, qf]);
    for (const x of [...gs.dataSync(), ...gq.dataSync()]) assert.ok(Number.isFinite(x));
    const ref = reference(ep, 1).total;
    const got = tf.tidy(() => panetLoss(toTrainEpisode(ep, { support: [[sf]], query: [qf] }), 1).total.dataSync()[0]);
    assert.ok(Math.abs(got - ref) < 1e-4, `${got} vs ${ref}`);
    tf.dispose([sf, qf, gs, gq]);
  });

  it('createPanetTrainable: no own parameters, config round-trips λ, rejects λ < 0', () => {
    const m = createPanetTrainable({ par: 0 });
    assert.deepStrictEqual(Object.keys(m.params), []);
    assert.deepStrictEqual(m.config(), { par: 0 });
    assert.deepStrictEqual(createPanetTrainable().config(), { par: 1 });
    assert.throws(() => createPanetTrainable({ par: -1 }), /λ/);
  });
});
