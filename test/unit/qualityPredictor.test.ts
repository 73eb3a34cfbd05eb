// The quality labeling predictor behind the Predictor seam (src/engine/label/predictor.ts): the
// contract (probabilities sum to 1 per pixel, labels = their argmax, confidence in [0, 1], K-way), the
// image's own strokes winning on their pixels and counting for the rest of the image at once,
// self-support, and no tfjs tensor left behind.
import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { QualityPredictor, strideOf } from '../../src/engine/label/qualityPredictor';
import { PANET_BASELINE, QUALITY_DEFAULTS, type QualityConfig } from '../../src/engine/label/quality/config';
import { expectedIoU, imageConfidence, maskConfidence } from '../../src/engine/label/quality/confidence';
import { VARIANTS } from '../../src/engine/label/quality/variants';
import { UNLABELED, type LabelImage, type Prediction } from '../../src/engine/label/predictor';
import type { FeatureEntry } from '../../src/engine/features/featureCache';

const S = 32;
const COLOURS: Record<string, [number, number, number]> = { A: [220, 40, 40], B: [40, 200, 40], C: [40, 40, 220], D: [200, 200, 40] };
const DIRS: Record<string, number> = { A: 0, B: 1, C: 2, D: 3 };

/**
 * A synthetic S×S image made of 8×8-pixel blocks, each of a "look" (A–D) that sets both its colour and
 * its features (a one-hot direction plus a little per-block variation), at strides 8 (4×4) and 16 (2×2).
 */
function image(id: string, blocks: string[]): LabelImage {
  const rgb = { width: S, height: S, data: new Uint8Array(S * S * 3) };
  const f8 = new Float32Array(4 * 4 * 6);
  blocks.forEach((look, b) => {
    const by = Math.floor(b / 4), bx = b % 4;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) rgb.data.set(COLOURS[look], ((by * 8 + y) * S + bx * 8 + x) * 3);
    f8[b * 6 + DIRS[look]] = 1;
    f8[b * 6 + 4] = 0.05 * (b % 3);
    f8[b * 6 + 5] = 0.05;
  });
  const f16 = new Float32Array(2 * 2 * 6);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
    const b = (2 * y + dy) * 4 + 2 * x + dx;
    for (let k = 0; k < 6; k++) f16[(y * 2 + x) * 6 + k] += f8[b * 6 + k] / 4;
  }
  const features: FeatureEntry[] = [{ shape: [4, 4, 6], data: f8 }, { shape: [2, 2, 6], data: f16 }];
  return { id, rgb, features };
}

/** An S×S raster labelling each block by a map from look to label (missing look → 254). */
function raster(blocks: string[], labelOf: Record<string, number>): Uint8Array {
  const out = new Uint8Array(S * S).fill(UNLABELED);
  blocks.forEach((look, b) => {
    const by = Math.floor(b / 4), bx = b % 4, v = labelOf[look] ?? UNLABELED;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out[(by * 8 + y) * S + bx * 8 + x] = v;
  });
  return out;
}

function blockLabels(p: Prediction): number[] {
  return Array.from({ length: 16 }, (_, b) => p.labels[(Math.floor(b / 4) * 8 + 4) * S + (b % 4) * 8 + 4]);
}

function checkContract(p: Prediction, classes: number): void {
  assert.strictEqual(p.size, S);
  assert.strictEqual(p.classes, classes);
  assert.strictEqual(p.labels.length, S * S);
  assert.strictEqual(p.probs.length, S * S * (classes + 1));
  for (let i = 0; i < S * S; i++) {
    let sum = 0, best = 0;
    for (let k = 0; k <= classes; k++) {
      const v = p.probs[i * (classes + 1) + k];
      assert.ok(v >= 0 && v <= 1 + 1e-6, `prob ${v}`);
      sum += v;
      if (v > p.probs[i * (classes + 1) + best]) best = k;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
    assert.strictEqual(p.labels[i], best, `label of pixel ${i} is not the argmax`);
  }
  assert.ok(p.confidence >= 0 && p.confidence <= 1, `confidence ${p.confidence}`);
}

const SUPPORT = ['A', 'A', 'B', 'B', 'A', 'A', 'B', 'B', 'B', 'B', 'C', 'C', 'B', 'B', 'C', 'C'];
const QUERY = ['B', 'A', 'A', 'B', 'B', 'A', 'A', 'B', 'C', 'C', 'B', 'B', 'C', 'C', 'D', 'D'];
const small = (c: Partial<QualityConfig>): Partial<QualityConfig> => ({ levels: [8, 16], levelWeights: undefined, crf: { ...QUALITY_DEFAULTS.crf, sigmaXY: 8 }, guided: { radius: 4, eps: 0.01, subsample: 2 }, ...c });

describe('QualityPredictor', () => {
  before(() => useTestBackend('wasm'));

  for (const v of VARIANTS) {
    it(`${v.name}: 2-way prediction honours the contract; the looks it was shown are labelled right`, () => {
      const cfg = { ...v.config, levels: v.config.levels.map((l) => (l === 32 ? 16 : l === 16 ? 8 : l)).filter((l, i, a) => a.indexOf(l) === i), levelWeights: undefined, crf: { ...v.config.crf, sigmaXY: 8 }, guided: { radius: 4, eps: 0.01, subsample: 2 } };
      const pred = new QualityPredictor(cfg, v.name);
      const model = pred.fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 2 }) }], 2);
      const p = model.predict(image('q', QUERY));
      checkContract(p, 2);
      const got = blockLabels(p);
      QUERY.forEach((look, b) => {
        if (look !== 'D') assert.strictEqual(got[b], { A: 1, B: 0, C: 2 }[look], `block ${b} (${look}): ${got.join('')}`);
      });
      model.dispose();
    });
  }

  it('the image\'s own strokes win on their pixels, and count for the rest of the image at once', () => {
    // D was never shown: a few pixels of ONE D block marked as class 1 must turn the OTHER D block too.
    // (Stride 8 alone: at stride 16 the D blocks share their cell with B blocks and look half B.)
    const pred = new QualityPredictor(small({ levels: [8] }));
    const model = pred.fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 2 }) }], 2);
    const q = image('q', QUERY);
    const without = model.predict(q);
    assert.notStrictEqual(blockLabels(without)[15], 1, 'D is not class 1 before the stroke');
    const own = new Uint8Array(S * S).fill(UNLABELED);
    for (let y = 27; y < 30; y++) for (let x = 19; x < 22; x++) own[y * S + x] = 1; // 9 pixels inside block 14 (a D block)
    own[0] = 2; // and one pixel of a B block marked class 2
    const withStrokes = model.predict(q, own);
    checkContract(withStrokes, 2);
    assert.strictEqual(withStrokes.labels[0], 2, 'a marked pixel keeps its label');
    for (let y = 27; y < 30; y++) for (let x = 19; x < 22; x++) assert.strictEqual(withStrokes.labels[y * S + x], 1);
    assert.strictEqual(blockLabels(withStrokes)[15], 1, 'the unmarked D block follows the stroke');
    assert.strictEqual(blockLabels(withStrokes)[1], 1, 'A is still class 1');
    // unsure (255) pixels of ownLabels are no evidence
    const unsure = new Uint8Array(S * S).fill(255);
    assert.deepStrictEqual(blockLabels(model.predict(q, unsure)), blockLabels(without));
  });

  it('a support predicted itself keeps what was drawn on it, as its own strokes, without a second fit per predict', () => {
    // the support's annotation marks one A pixel as class 2 (against everything else A shows): as its own
    // stroke it is clamped; a query gets no such clamp from it
    const labels = raster(SUPPORT, { A: 1, B: 0, C: 2 });
    labels[0] = 2;
    const model = new QualityPredictor(small({})).fit([{ image: image('s', SUPPORT), labels }], 2);
    const self = model.predict(image('s', SUPPORT));
    checkContract(self, 2);
    assert.strictEqual(self.labels[0], 2, 'the marked pixel keeps its label on the support itself');
    assert.deepStrictEqual(blockLabels(self), SUPPORT.map((l) => ({ A: 1, B: 0, C: 2 }[l])));
    assert.notStrictEqual(model.predict(image('q', SUPPORT)).labels[0], 2, 'another image is not clamped by the support\'s marks');
    // with own strokes off, the support is predicted like any image
    const off = new QualityPredictor(small({ ownWeight: 0, ownClamp: false })).fit([{ image: image('s', SUPPORT), labels }], 2);
    assert.strictEqual(off.predict(image('s', SUPPORT)).labels[0], 1);
  });

  it('one predictor refitted with another class count predicts a support itself (its kept ridge fitters are per K)', () => {
    // with 'auto' a support predicting itself fits a ridge on "the other supports" = none: the same
    // supports for every K
    const pred = new QualityPredictor(small({ classifier: 'auto' }));
    const two = pred.fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 2 }) }], 2);
    checkContract(two.predict(image('s', SUPPORT)), 2);
    const three = pred.fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 3 }) }], 3);
    const p = three.predict(image('s', SUPPORT));
    checkContract(p, 3);
    assert.deepStrictEqual(blockLabels(p), SUPPORT.map((l) => ({ A: 1, B: 0, C: 3 }[l])));
  });

  it('a predictor kept across fits (supports\' samples, sums and ridge fitters reused) predicts exactly as a fresh one', () => {
    // two supports; the second's annotation changes between fits (a stroke on it: a new raster), the
    // first's stays the same object, so its samples, prototype sums and ridge rows come from the cache
    const s1 = image('s1', SUPPORT), s2 = image('s2', QUERY), q = image('q', QUERY);
    const l1 = raster(SUPPORT, { A: 1, B: 0, C: 2 });
    const l2a = raster(QUERY, { A: 1, C: 2 }), l2b = raster(QUERY, { A: 1, B: 0, C: 2, D: 0 });
    const own = raster(QUERY, { D: 0 });
    const kept = new QualityPredictor(small({}));
    for (const l2 of [l2a, l2b, l2a]) {
      const supports = [{ image: s1, labels: l1 }, { image: s2, labels: l2 }];
      const a = kept.fit(supports, 2), b = new QualityPredictor(small({})).fit(supports, 2);
      for (const [what, pa, pb] of [
        ['query', a.predict(q), b.predict(q)],
        ['query with strokes', a.predict(q, own), b.predict(q, own)],
        ['support 1 itself', a.predict(s1), b.predict(s1)],
        ['support 2 itself', a.predict(s2), b.predict(s2)],
      ] as const) {
        assert.deepStrictEqual(Array.from(pa.labels), Array.from(pb.labels), `${what}: labels`);
        assert.ok(pa.probs.every((v, i) => Math.abs(v - pb.probs[i]) < 1e-6), `${what}: probabilities`);
        assert.strictEqual(pa.confidence, pb.confidence, `${what}: confidence`);
      }
    }
  });

  it('with own strokes switched off (ownWeight 0, no clamp, no local evidence) a marked pixel can lose', () => {
    const model = new QualityPredictor(small({ ownWeight: 0, ownClamp: false, local: { ...QUALITY_DEFAULTS.local, weight: 0 } })).fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 2 }) }], 2);
    const own = new Uint8Array(S * S).fill(UNLABELED);
    own[0] = 2; // a B pixel
    assert.strictEqual(model.predict(image('q', QUERY), own).labels[0], 0);
  });

  it('a feature map\'s stride is read from its side even where padding makes S / side inexact', () => {
    // MobileNetV2 at 417²: 27 cells at stride 16, 14 at 32; at 65²: 5 and 3 (65/3 = 21.7), or 4 and 2 (32.5)
    assert.deepStrictEqual([strideOf(417, 53), strideOf(417, 27), strideOf(417, 14), strideOf(65, 4), strideOf(65, 2), strideOf(65, 3)], [8, 16, 32, 16, 32, 16]);
  });

  it('fit throws when no support labels a pixel, or the features lack a level', () => {
    const pred = new QualityPredictor(small({}));
    assert.throws(() => pred.fit([{ image: image('s', SUPPORT), labels: new Uint8Array(S * S).fill(UNLABELED) }], 1), /no support labels any pixel/);
    assert.throws(() => pred.fit([{ image: image('s', SUPPORT), labels: new Uint8Array(S * S).fill(255) }], 1), /no support labels any pixel/);
    assert.throws(() => new QualityPredictor({ levels: [32] }).fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0 }) }], 1), /no level at stride 32/);
  });

  it('leaves no tfjs tensor behind (k-means, ridge, self-support, strokes)', () => {
    const before = tf.memory().numTensors;
    for (const cfg of [small({ prototypes: [3, 3] }), small({ classifier: 'ridge' }), small({ selfSupport: { ...QUALITY_DEFAULTS.selfSupport, rounds: 2 } })]) {
      const model = new QualityPredictor(cfg).fit([{ image: image('s', SUPPORT), labels: raster(SUPPORT, { A: 1, B: 0, C: 2 }) }], 2);
      const own = new Uint8Array(S * S).fill(UNLABELED);
      own[5] = 1;
      model.predict(image('q', QUERY), own);
      model.dispose();
    }
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('PANet baseline config is PANet: one mean prototype, α = 20, no refinement', () => {
    assert.deepStrictEqual([PANET_BASELINE.prototypes, PANET_BASELINE.alpha, PANET_BASELINE.refine, PANET_BASELINE.levels, PANET_BASELINE.selfSupport.rounds], [[1, 1], 20, 'none', [16], 0]);
  });
});

describe('image confidence', () => {
  it('is agreement with the first answer × the share of the image left as background', () => {
    // 4×4 labels, class 1 on the left two columns; read on every 2nd pixel: (0,0) (2,0) (0,2) (2,2)
    const labels = Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
    // first answer on a 2×2 grid equal to the final masks: agreement 1, area 1/2
    const same = Float32Array.from([0, 5, 5, 0, 0, 5, 5, 0]);
    assert.ok(Math.abs(imageConfidence(same, 2, 2, labels, 2) - 0.5) < 1e-6);
    // first answer: everything class 1: the sampled union is 4 pixels, 2 agree → 0.5 × 0.5
    const all = Float32Array.from([0, 5, 0, 5, 0, 5, 0, 5]);
    assert.ok(Math.abs(imageConfidence(all, 2, 2, labels, 2) - 0.25) < 1e-6);
    // nothing predicted by either: 1
    assert.strictEqual(imageConfidence(Float32Array.from([5, 0, 5, 0, 5, 0, 5, 0]), 2, 2, new Uint8Array(16), 2), 1);
  });
});

describe('mask confidence', () => {
  it('is the mean probability of the predicted class inside the masks; all background: the mean background probability', () => {
    // 3 classes, 4 pixels labelled 1, 2, 0, 1 with those labels' probabilities 0.9, 0.6, (bg), 0.7
    const probs = Float32Array.from([0.05, 0.9, 0.05, 0.2, 0.2, 0.6, 0.8, 0.1, 0.1, 0.1, 0.7, 0.2]);
    assert.ok(Math.abs(maskConfidence(probs, Uint8Array.from([1, 2, 0, 1]), 3) - (0.9 + 0.6 + 0.7) / 3) < 1e-6);
    assert.ok(Math.abs(maskConfidence(Float32Array.from([0.9, 0.1, 0.7, 0.3]), Uint8Array.from([0, 0]), 2) - 0.8) < 1e-6);
  });
});

describe('expected-IoU confidence', () => {
  it('is 1 for certain probabilities and drops as probability mass leaves the mask', () => {
    const labels = Uint8Array.from([1, 1, 0, 0]);
    assert.strictEqual(expectedIoU(Float32Array.from([0, 1, 0, 1, 1, 0, 1, 0]), labels, 2), 1);
    // inside: p1 = 0.75 each (1.5); outside: p1 = 0.25 each (0.5): 1.5 / (2 + 0.5) = 0.6
    assert.ok(Math.abs(expectedIoU(Float32Array.from([0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75, 0.25]), labels, 2) - 0.6) < 1e-6);
  });

  it('an image predicted all background is as sure as its background probabilities', () => {
    assert.ok(Math.abs(expectedIoU(Float32Array.from([0.9, 0.1, 0.7, 0.3]), Uint8Array.from([0, 0]), 2) - 0.8) < 1e-6);
  });
});
