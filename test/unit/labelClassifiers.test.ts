// The labeling classifiers' parts (src/engine/label/quality): area pooling of annotation rasters onto
// feature cells, weighted sums through the adjoint of the bilinear read, k-means prototypes that recover
// two looks of a class, and the closed-form ridge classifier against a primal float64 solve.
import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { cellFractions } from '../../src/engine/label/quality/cells';
import { classLogits } from '../../src/engine/label/quality/classifier';
import { cellFeatures, imageLevels, normalisedLevel, type Level } from '../../src/engine/label/quality/levels';
import { MeanPrototypes, meanPrototypes, prototypeClassifier, sphericalKMeans } from '../../src/engine/label/quality/prototypes';
import { RidgeFitter, ridgeClassifier } from '../../src/engine/label/quality/ridge';
import { collectSamples, concatSamples, sampleFeatures, weightedSums, type SampleSet } from '../../src/engine/label/quality/samples';
import { UNLABELED } from '../../src/engine/label/predictor';
import { Rng } from '../../src/engine/prng';

describe('label classifiers', () => {
  before(() => useTestBackend('wasm'));

  it('cellFractions: each 2×2 cell of a 4×4 raster gets the fraction of its pixels per class; 254 and 255 count for none', () => {
    const U = UNLABELED;
    const raster = Uint8Array.from([
      0, 0, 1, U,
      0, 1, 255, U,
      2, 2, 1, 1,
      2, U, 1, 0,
    ]);
    const f = cellFractions(raster, 4, 2, 2, 2);
    assert.deepStrictEqual(Array.from(f), [
      0.75, 0.25, 0, /* top-left */ 0, 0.25, 0, /* top-right */ 0, 0, 0.75, /* bottom-left */ 0.25, 0.75, 0, /* bottom-right */
    ]);
    assert.throws(() => cellFractions(Uint8Array.from([3, 0, 0, 0]), 2, 1, 1, 2), /label 3 but there are 2 classes/);
  });

  it('weightedSums through the adjoint equals summing the bilinearly read vectors (2:1 levels, weights by hand)', () => {
    // fine level 4×4 (1 channel, value = its index), coarse level 2×2 (1 channel, values 10, 20, 30, 40).
    // Half-pixel bilinear read of the coarse level at fine cell (y, x): source coordinate (x + 0.5)/2 − 0.5
    // clamped at 0, e.g. x = 1 → 0.25 (0.75·col0 + 0.25·col1), x = 3 → 1.25 → clamped to col 1.
    const fine: Level = { h: 4, w: 4, c: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
    const coarse: Level = { h: 2, w: 2, c: 1, data: Float32Array.from([10, 20, 30, 40]) };
    const raster = new Uint8Array(16 * 16).fill(UNLABELED);
    // label fine cells (0,1) and (2,2) (each 4×4 pixels of a 16×16 raster) as class 1
    for (const [cy, cx] of [[0, 1], [2, 2]]) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) raster[(cy * 4 + y) * 16 + cx * 4 + x] = 1;
    const s = collectSamples([{ levels: [fine, coarse], labels: raster }], 16, 1);
    assert.strictEqual(s.n, 2);
    const sums = weightedSums(s, Float64Array.from([1, 1, 2, 2]), 2); // both columns: weight 1 for the first sample, 2 for the second
    // sample at (0,1): fine 1; coarse row 0 (y=0 → 0 clamped), x=1 → 0.75·10 + 0.25·20 = 12.5
    // sample at (2,2): fine 10; coarse y=2 → 0.75, x=2 → 0.75: rows mix 0.25·row0 + 0.75·row1,
    //   cols 0.25·col0 + 0.75·col1 → 0.0625·10 + 0.1875·20 + 0.1875·30 + 0.5625·40 = 32.5
    assert.deepStrictEqual(Array.from(sums), [1 + 2 * 10, 12.5 + 2 * 32.5, 1 + 2 * 10, 12.5 + 2 * 32.5]);
    assert.deepStrictEqual(Array.from(cellFeatures([fine, coarse], [1, 10])), [1, 12.5, 10, 32.5]);
  });

  it('imageLevels: each level is L2-normalised and weighted 1/√L, finest first', () => {
    const a = { shape: [2, 2, 2] as [number, number, number], data: Float32Array.from([3, 4, 0, 0, 1, 0, 0, 2]) };
    const b = { shape: [4, 4, 1] as [number, number, number], data: new Float32Array(16).fill(5) };
    const [l0, l1] = imageLevels([a, b]);
    assert.strictEqual(l0.h, 4);
    assert.ok(l0.data.every((v) => Math.abs(v - Math.SQRT1_2) < 1e-6));
    assert.deepStrictEqual(Array.from(l1.data).map((v) => +v.toFixed(6)), [0.6, 0.8, 0, 0, 1, 0, 0, 1].map((v) => +(v * Math.SQRT1_2).toFixed(6)));
    assert.strictEqual(normalisedLevel(a, 1 / Math.sqrt(2)), l1, 'memoised per feature array');
  });

  it('MeanPrototypes.plus gives the means of the union, and the mean prototype is the weighted mean by hand', () => {
    const fine: Level = { h: 2, w: 2, c: 2, data: Float32Array.from([1, 0, 0, 1, 1, 1, 2, 0]) };
    const a = collectSamples([{ levels: [fine], labels: Uint8Array.from([1, 0, 1, 0]) }], 2, 1);
    const b = collectSamples([{ levels: [fine], labels: Uint8Array.from([UNLABELED, UNLABELED, UNLABELED, 1]), weight: 3 }], 2, 1);
    // class 1: cells 0 and 2 (weight 1 each) + cell 3 (weight 3): ([1,0] + [1,1] + 3·[2,0]) / 5 = [1.6, 0.2]
    // class 0: cells 1 and 3: ([0,1] + [2,0]) / 2 = [1, 0.5]
    const m = MeanPrototypes.of(a).plus(b).means();
    assert.deepStrictEqual(Array.from(m).map((v) => +v.toFixed(6)), [1, 0.5, 1.6, 0.2]);
    assert.deepStrictEqual(Array.from(meanPrototypes(concatSamples(a, b))).map((v) => +v.toFixed(6)), [1, 0.5, 1.6, 0.2]);
  });

  it('sphericalKMeans finds the two directions of two noisy clusters', () => {
    const rng = new Rng(9), d = 6, n = 40, x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const dir = i % 2 === 0 ? 0 : 3;
      for (let j = 0; j < d; j++) x[i * d + j] = (j === dir ? 1 : 0) + 0.1 * (rng.next() - 0.5);
    }
    const before = tf.memory().numTensors;
    const c = sphericalKMeans(x, n, d, new Float32Array(n).fill(1), 2);
    assert.strictEqual(tf.memory().numTensors, before);
    assert.strictEqual(c.length, 2 * d);
    const dirs = [0, 1].map((k) => { const v = Array.from(c.subarray(k * d, (k + 1) * d)); return v.indexOf(Math.max(...v)); }).sort();
    assert.deepStrictEqual(dirs, [0, 3]);
  });

  it('k-means prototypes recover a look the single mean prototype loses to the background', () => {
    // One 4×4 feature grid (S = 16, 4 px cells), 4 channels. Foreground has three looks e0, e1, e2
    // (mean prototype ∝ e0+e1+e2: cos with e0 = 0.577); the background is 2e0 + e3 (cos with e0 = 0.894).
    // A query cell of look e0 is background to the mean prototypes, foreground to per-look ones (cos 1).
    const unit = (v: number[]) => { const s = Math.hypot(...v); return v.map((a) => a / s); };
    const looks = [unit([1, 0, 0, 0]), unit([0, 1, 0, 0]), unit([0, 0, 1, 0])], bg = unit([2, 0, 0, 1]);
    const feat = new Float32Array(16 * 4), raster = new Uint8Array(16 * 16);
    for (let c = 0; c < 16; c++) {
      const fg = c < 12, v = fg ? looks[c % 3] : bg;
      feat.set(v, c * 4);
      const cy = Math.floor(c / 4), cx = c % 4;
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) raster[(cy * 4 + y) * 16 + cx * 4 + x] = fg ? 1 : 0;
    }
    const levels = imageLevels([{ shape: [4, 4, 4], data: feat }]);
    const s = collectSamples([{ levels, labels: raster }], 16, 1);
    const query = imageLevels([{ shape: [1, 1, 4], data: Float32Array.from(looks[0]) }]);
    const single = classLogits(query, prototypeClassifier(s, { maxPrototypes: [1, 1] }));
    const multi = classLogits(query, prototypeClassifier(s, { maxPrototypes: [1, 3], cellsPerPrototype: 2 }));
    assert.ok(single[0] > single[1], `mean prototypes: bg ${single[0]} vs fg ${single[1]}`);
    assert.ok(multi[1] > multi[0], `k-means prototypes: fg ${multi[1]} vs bg ${multi[0]}`);
    assert.ok(Math.abs(multi[1] - 20) < 1e-3, 'the e0 prototype matches exactly: α·cos = 20');
  });

  it('ridge classifier (dual form) equals the primal weighted ridge solved in float64', () => {
    // 1 level 3×3 grid of 5-channel features at S = 9 (1 px cells): 9 samples, all labelled.
    const rng = new Rng(21), d = 5, feat = Float32Array.from({ length: 9 * d }, () => rng.next());
    const raster = Uint8Array.from([0, 1, 2, 1, 0, 2, 2, 2, 0]);
    const levels = imageLevels([{ shape: [3, 3, d], data: feat }]);
    const s = collectSamples([{ levels, labels: raster }], 3, 2);
    const lambda = 0.05, scale = 1;
    const before = tf.memory().numTensors;
    const clf = ridgeClassifier(s, { lambda, scale, balanced: false });
    assert.strictEqual(tf.memory().numTensors, before);
    // primal: minimise Σ ω̂ ‖t − xW − b‖² + λ‖W‖² with ω̂ = 1/9: centred normal equations
    const x = Array.from({ length: 9 }, (_, i) => Array.from(levels[0].data.subarray(i * d, (i + 1) * d)));
    const t = Array.from(raster, (v) => [0, 1, 2].map((k) => (k === v ? 1 : 0)));
    const xm = [...Array(d).keys()].map((j) => x.reduce((a, r) => a + r[j], 0) / 9), tm = [0, 1, 2].map((k) => t.reduce((a, r) => a + r[k], 0) / 9);
    const A = [...Array(d).keys()].map((p) => [...Array(d).keys()].map((q) => x.reduce((a, r) => a + (r[p] - xm[p]) * (r[q] - xm[q]), 0) / 9 + (p === q ? lambda : 0)));
    const B = [...Array(d).keys()].map((p) => [0, 1, 2].map((k) => x.reduce((a, r, i) => a + (r[p] - xm[p]) * (t[i][k] - tm[k]), 0) / 9));
    // Gauss–Jordan on [A | B]
    const m = A.map((r, i) => [...r, ...B[i]]);
    for (let c = 0; c < d; c++) for (let r = 0; r < d; r++) if (r !== c) { const f = m[r][c] / m[c][c]; for (let j = 0; j < d + 3; j++) m[r][j] -= f * m[c][j]; }
    const W = m.map((r, i) => r.slice(d).map((v) => v / m[i][i]));
    for (let p = 0; p < d; p++) for (let k = 0; k < 3; k++) assert.ok(Math.abs(clf.weights[p * 3 + k] - W[p][k]) < 1e-4, `W[${p}][${k}]: ${clf.weights[p * 3 + k]} vs ${W[p][k]}`);
    for (let k = 0; k < 3; k++) {
      const b = tm[k] - xm.reduce((a, v, p) => a + v * W[p][k], 0);
      assert.ok(Math.abs(clf.bias[k] - b) < 1e-4, `b[${k}]`);
    }
  });

  it('ridge on supports + an image\'s strokes (RidgeFitter: support Gram and stroke rows kept between fits) equals the primal balanced ridge in float64', () => {
    // supports: one image 6×6 cells of 7 channels + a coarse 3×3 level (bilinear reads), all labelled;
    // strokes: another image, a few cells, weight 4 (as own strokes), then more cells (the stroke after)
    const rng = new Rng(5), lv = () => imageLevels([
      { shape: [6, 6, 7], data: Float32Array.from({ length: 36 * 7 }, () => rng.next()) },
      { shape: [3, 3, 4], data: Float32Array.from({ length: 9 * 4 }, () => rng.next()) },
    ], [1, 0.5]);
    const sup = lv(), img = lv(), S = 12;
    const supRaster = Uint8Array.from({ length: S * S }, (_, i) => ((i % S) < 4 ? 0 : (i % S) < 8 ? 1 : 2));
    const stroke = (cells: number[][]) => {
      const r = new Uint8Array(S * S).fill(UNLABELED);
      for (const [cy, cx, l] of cells) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) r[(cy * 2 + y) * S + cx * 2 + x] = l;
      return r;
    };
    const base = collectSamples([{ levels: sup, labels: supRaster }], S, 2);
    const opts = { lambda: 0.02, scale: 3, balanced: true, maxCells: 1000 };
    const fitter = new RidgeFitter(base, opts);
    for (const cells of [[[0, 0, 1], [1, 1, 0]], [[0, 0, 1], [1, 1, 0], [4, 4, 2], [5, 2, 1], [2, 5, 0]]]) {
      const extra = collectSamples([{ levels: img, labels: stroke(cells), weight: 4 }], S, 2);
      const before = tf.memory().numTensors;
      const clf = fitter.fit(extra);
      assert.strictEqual(tf.memory().numTensors, before);
      const ref = primalRidge(concatSamples(base, extra), opts.lambda, true);
      for (let i = 0; i < ref.W.length; i++) assert.ok(Math.abs(clf.weights[i] - opts.scale * ref.W[i]) < 2e-4, `W[${i}]: ${clf.weights[i]} vs ${opts.scale * ref.W[i]}`);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(clf.bias[k] - opts.scale * ref.b[k]) < 2e-4, `b[${k}]: ${clf.bias[k]} vs ${opts.scale * ref.b[k]}`);
      const plain = ridgeClassifier(concatSamples(base, extra), opts);
      assert.ok(plain.weights.every((v, i) => Math.abs(v - clf.weights[i]) < 1e-5), 'fresh fit = fit with kept rows');
    }
  });

  it('a class no support labels never wins (ridge and prototypes)', () => {
    const feat = Float32Array.from({ length: 4 * 3 }, (_, i) => (i % 3) + 1);
    const levels = imageLevels([{ shape: [2, 2, 3], data: feat }]);
    const s = collectSamples([{ levels, labels: Uint8Array.from([0, 1, 0, 1]) }], 2, 2); // class 2 absent
    for (const clf of [prototypeClassifier(s), ridgeClassifier(s)]) {
      const l = classLogits(levels, clf);
      for (let i = 0; i < 4; i++) assert.ok(l[i * 3 + 2] < l[i * 3] && l[i * 3 + 2] < l[i * 3 + 1]);
    }
  });
});

/**
 * The weighted ridge (R1) solved in the primal, float64, by Gauss–Jordan: ω̂ the sample weights (each
 * class's total equalised when `balanced`) normalised to 1, centred normal equations
 * (Σ ω̂ (x − x̄)(x − x̄)ᵀ + λI) W = Σ ω̂ (x − x̄)(t − t̄)ᵀ, b = t̄ − x̄ W. Unscaled (logit scale 1).
 */
function primalRidge(s: SampleSet, lambda: number, balanced: boolean): { W: number[]; b: number[] } {
  const { n, d, k1 } = s, x = sampleFeatures(s);
  const mass = new Array(k1).fill(0);
  for (let i = 0; i < n; i++) for (let k = 0; k < k1; k++) mass[k] += s.w[i] * s.t[i * k1 + k];
  const present = mass.filter((m) => m > 0).length;
  const om = Array.from({ length: n }, (_, i) => (balanced ? mass.reduce((a, m, k) => a + (m > 0 ? (s.w[i] * s.t[i * k1 + k]) / (m * present) : 0), 0) : s.w[i]));
  const tot = om.reduce((a, v) => a + v, 0), a = om.map((v) => v / tot);
  const xm = Array.from({ length: d }, (_, j) => a.reduce((acc, ai, i) => acc + ai * x[i * d + j], 0));
  const tm = Array.from({ length: k1 }, (_, k) => a.reduce((acc, ai, i) => acc + ai * s.t[i * k1 + k], 0));
  const m = Array.from({ length: d }, (_, p) => [
    ...Array.from({ length: d }, (_, q) => a.reduce((acc, ai, i) => acc + ai * (x[i * d + p] - xm[p]) * (x[i * d + q] - xm[q]), 0) + (p === q ? lambda : 0)),
    ...Array.from({ length: k1 }, (_, k) => a.reduce((acc, ai, i) => acc + ai * (x[i * d + p] - xm[p]) * (s.t[i * k1 + k] - tm[k]), 0)),
  ]);
  for (let c = 0; c < d; c++) for (let r = 0; r < d; r++) if (r !== c) { const f = m[r][c] / m[c][c]; for (let j = 0; j < d + k1; j++) m[r][j] -= f * m[c][j]; }
  const W: number[] = [];
  for (let p = 0; p < d; p++) for (let k = 0; k < k1; k++) W.push(m[p][d + k] / m[p][p]);
  const b = tm.map((t, k) => t - xm.reduce((acc, v, p) => acc + v * W[p * k1 + k], 0));
  return { W, b };
}
