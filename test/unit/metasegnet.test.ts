import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { ensureGradients } from '../../src/engine/gradients';
import { ANN_BG, ANN_FG, ANN_UNLABELED, Annotation, denseAnnotation } from '../../src/engine/fewshot/annotations';
import { createMetaSegNet, MetaSegNet } from '../../src/engine/fewshot/metasegnet';
import { createMethod, storedMethodConfig } from '../../src/engine/fewshot/registry';
import { supportTargets } from '../../src/engine/fewshot/metasegnet/support';
import type { SupportInput } from '../../src/engine/fewshot/method';
import type { TrainEpisode } from '../../src/engine/fewshot/trainable';
import type { FeatureEntry } from '../../src/engine/features/featureCache';
import { Rng } from '../../src/engine/prng';

// ---- synthetic episodes: a feature grid whose channel `label` carries the class, plus noise ----
const G = 12, C = 8, OUT: [number, number] = [24, 24];
type Rect = { cls: number; y0: number; y1: number; x0: number; x1: number };
/** Label map on the feature grid (G×G) from rectangles (later ones on top). */
function gridLabels(rects: Rect[]): Uint8Array {
  const l = new Uint8Array(G * G);
  for (const r of rects) for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) l[y * G + x] = r.cls;
  return l;
}
/** The same map at image resolution: every grid cell covers 2×2 pixels. */
function imageLabels(grid: Uint8Array): Uint8Array {
  const [H, W] = OUT, out = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = grid[(y >> 1) * G + (x >> 1)];
  return out;
}
function features(grid: Uint8Array, rng: Rng, noise: number): FeatureEntry {
  const data = new Float32Array(G * G * C);
  for (let i = 0; i < G * G; i++) for (let c = 0; c < C; c++) data[i * C + c] = (grid[i] === c ? 2 : 0) + noise * rng.normal();
  return { shape: [G, G, C], data };
}
const mask = (labels: Uint8Array) => ({ width: OUT[1], height: OUT[0], data: labels });

/** 2-way episode: way 0 = class 1, way 1 = class 2; the query holds both. */
function episode(noise: number, seed: number) {
  const rng = new Rng(seed);
  const s0 = gridLabels([{ cls: 1, y0: 2, y1: 8, x0: 3, x1: 9 }]);
  const s1 = gridLabels([{ cls: 2, y0: 5, y1: 11, x0: 1, x1: 7 }]);
  const q = gridLabels([{ cls: 1, y0: 1, y1: 6, x0: 1, x1: 6 }, { cls: 2, y0: 6, y1: 11, x0: 5, x1: 11 }]);
  const support: SupportInput[][] = [
    [{ features: features(s0, rng, noise), annotation: denseAnnotation(mask(imageLabels(s0)), 1, [1, 2]) }],
    [{ features: features(s1, rng, noise), annotation: denseAnnotation(mask(imageLabels(s1)), 2, [1, 2]) }],
  ];
  return { support, query: features(q, rng, noise), labels: imageLabels(q) };
}
function trainEpisode(e: ReturnType<typeof episode>): { ep: () => TrainEpisode; dispose: () => void } {
  const t = (f: FeatureEntry) => tf.tensor4d(f.data, [1, ...f.shape]);
  const sup = e.support.map((way) => way.map((s) => ({ feat: t(s.features), annotation: s.annotation })));
  const q = t(e.query);
  return {
    // a fresh Rng per call: the same support pixels every step, so losses are comparable
    ep: () => ({ classes: [1, 2], support: sup, query: [{ feat: q, labels: e.labels }], outSize: OUT, rng: new Rng(9) }),
    dispose: () => tf.dispose([q, ...sup.flat().map((s) => s.feat)]),
  };
}
const accuracy = (got: Uint8Array, want: Uint8Array) => got.reduce((s, v, i) => s + (v === want[i] ? 1 : 0), 0) / want.length;

describe('MetaSegNet support pixels → ridge weights (support.ts)', () => {
  it('without a cap and at grid resolution: ω = 1 on labelled cells, one-hot targets, unlabelled cells out', () => {
    const data = Uint8Array.from([ANN_FG, ANN_BG, ANN_UNLABELED, ANN_BG, ANN_FG, ANN_FG]);
    const ann: Annotation = { width: 3, height: 2, data };
    const st = supportTargets([[], [{ annotation: ann, featSize: [2, 3] }]], 100, new Rng(1));
    assert.deepStrictEqual(st.sampled, [2, 0, 3]); // bg, way 0 (no shot), way 1
    assert.deepStrictEqual([...st.omega[0]], [1, 1, 0, 1, 1, 1]);
    const want = [[0, 0, 1], [1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]].flat();
    assert.deepStrictEqual([...st.targets[0]], want);
  });

  it('pushes a pixel to the grid with its bilinear weights (hand-computed adjoint)', () => {
    // 4×4 annotation → 2×2 grid; pixel (y=1, x=2): src y = 1.5·0.5 − 0.5 = 0.25 → rows 0, 1 weigh 0.75, 0.25;
    // src x = 2.5·0.5 − 0.5 = 0.75 → columns 0, 1 weigh 0.25, 0.75.
    const data = new Uint8Array(16).fill(ANN_UNLABELED);
    data[1 * 4 + 2] = ANN_FG;
    const st = supportTargets([[{ annotation: { width: 4, height: 4, data }, featSize: [2, 2] }]], 10, new Rng(1));
    const got = [...st.omega[0]], want = [0.75 * 0.25, 0.75 * 0.75, 0.25 * 0.25, 0.25 * 0.75];
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-7, `cell ${i}: ${v} vs ${want[i]}`));
    for (let q = 0; q < 4; q++) assert.deepStrictEqual([...st.targets[0].subarray(q * 2, q * 2 + 2)], [0, 1]);
  });

  it('caps pixels per class, preserves mass, is seeded', () => {
    const e = episode(0, 1);
    const info = e.support.map((way) => way.map((s) => ({ annotation: s.annotation, featSize: [G, G] as [number, number] })));
    const a = supportTargets(info, 50, new Rng(3)), b = supportTargets(info, 50, new Rng(3)), c = supportTargets(info, 50, new Rng(4));
    assert.deepStrictEqual(a.sampled, [50, 50, 50]);
    const total = a.omega.reduce((s, om) => s + om.reduce((t, v) => t + v, 0), 0);
    assert.ok(Math.abs(total - 150) < 1e-3, `mass ${total}`);
    assert.deepStrictEqual(a.omega, b.omega);
    assert.notDeepStrictEqual(a.omega, c.omega);
    for (const [i, om] of a.omega.entries()) {
      om.forEach((w, q) => {
        const row = a.targets[i].subarray(q * 3, q * 3 + 3), s = row[0] + row[1] + row[2];
        assert.ok(w > 0 ? Math.abs(s - 1) < 1e-5 : s === 0);
      });
    }
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`MetaSegNet (${backend})`, function () {
    this.timeout(300000);
    before(async () => { await useTestBackend(backend); ensureGradients(); });

    it('an untrained head segments a linearly separable 2-way episode (≥ 95 % pixels), leaving no tensors', async () => {
      const m = createMetaSegNet({}, C, 1);
      const e = episode(0.3, 2);
      const before = tf.memory().numTensors;
      const got = await m.predict(e.support, e.query, OUT);
      assert.strictEqual(tf.memory().numTensors, before);
      assert.strictEqual(got.length, OUT[0] * OUT[1]);
      const acc = accuracy(got, e.labels);
      assert.ok(acc >= 0.95, `accuracy ${acc}`);
      for (let k = 0; k <= 2; k++) assert.ok(got.includes(k), `class ${k} predicted somewhere`);
      m.dispose();
    });

    it('primal and dual solves give the same segmentation; few pixels per class make auto take the dual', async () => {
      const e = episode(0.3, 3);
      const preds: Uint8Array[] = [];
      for (const form of ['primal', 'dual', 'auto'] as const) {
        // 8 px/class → ≤ 3·8·4 = 96 grid cells, fewer than 96 dims once cells are shared
        const m = createMetaSegNet({ form, maxPixelsPerClass: 8 }, C, 1);
        preds.push(await m.predict(e.support, e.query, OUT));
        m.dispose();
      }
      // the inference sampling (seed 0) touches fewer grid cells than the 96 embedding dims ⇒ auto = dual
      const info = e.support.map((way) => way.map((s) => ({ annotation: s.annotation, featSize: [G, G] as [number, number] })));
      const cells = supportTargets(info, 8, new Rng(0)).omega.reduce((n, om) => n + om.filter((w) => w > 0).length, 0);
      assert.ok(cells < 96, `${cells} active cells`);
      assert.ok(accuracy(preds[0], preds[1]) > 0.995, `primal vs dual ${accuracy(preds[0], preds[1])}`);
      assert.ok(accuracy(preds[0], preds[2]) > 0.995);
      assert.ok(accuracy(preds[0], e.labels) > 0.9);
    });

    it('every parameter gets a finite, non-zero gradient through the solve', () => {
      const m = createMetaSegNet({ localDim: 16, globalDim: 8 }, C, 5);
      const t = trainEpisode(episode(1.0, 4));
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => m.loss(t.ep()).total, Object.values(m.params));
        for (const [name, v] of Object.entries(m.params)) {
          const g = grads[v.name].dataSync();
          assert.ok(g.every(Number.isFinite), `${name} finite`);
          assert.ok(g.some((x) => x !== 0), `${name} non-zero`);
        }
      });
      assert.strictEqual(tf.memory().numTensors, before);
      t.dispose();
      m.dispose();
    });

    it('a few momentum-SGD steps reduce the loss on a fixed episode; numTensors flat per step', () => {
      const m = createMetaSegNet({ localDim: 32, globalDim: 16 }, C, 7);
      const t = trainEpisode(episode(1.5, 5));
      const lossNow = () => tf.tidy(() => m.loss(t.ep()).total.dataSync()[0]);
      // lr 0.5: unit-length embeddings with λ = 0.1 give gradients a tenth or less of the raw-embedding head's, for which 0.05 was chosen
      const opt = tf.train.momentum(0.5, 0.9);
      const vars = Object.values(m.params);
      const step = () => { const cost = opt.minimize(() => m.loss(t.ep()).total, true, vars); cost?.dispose(); };
      const first = lossNow();
      step(); // creates the optimiser's accumulators
      const before = tf.memory().numTensors;
      step();
      assert.strictEqual(tf.memory().numTensors, before, 'a training step leaves no tensors');
      for (let i = 0; i < 6; i++) step();
      const last = lossNow();
      assert.ok(Number.isFinite(first) && first > 0);
      assert.ok(last < 0.9 * first, `loss ${first} → ${last}`);
      opt.dispose();
      t.dispose();
      m.dispose();
    });

    it('loss matches a plain-JS cross-entropy of its own logits over labelled pixels (255 ignored)', () => {
      const m = createMetaSegNet({ localDim: 8, globalDim: 4 }, C, 11);
      const e = episode(0.8, 6);
      const labels = e.labels.slice();
      for (let i = 0; i < labels.length; i += 7) labels[i] = 255;
      const t = trainEpisode({ ...e, labels });
      const ep = t.ep();
      const [logits, loss] = tf.tidy(() => [m.logits(ep.support, [ep.query[0].feat], OUT, new Rng(9))[0].dataSync(), m.loss(ep).total.dataSync()[0]]);
      let sum = 0, n = 0;
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] === 255) continue;
        const z = [logits[i * 3], logits[i * 3 + 1], logits[i * 3 + 2]], mx = Math.max(...z);
        sum += mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0)) - z[labels[i]];
        n++;
      }
      assert.ok(Math.abs(loss - sum / n) < 1e-4 * Math.max(1, sum / n), `${loss} vs ${sum / n}`);
      t.dispose();
      m.dispose();
    });
  });
}

describe('MetaSegNet config and parameters', () => {
  before(() => useTestBackend('cpu'));

  it('config() is JSON, includes channels, and rebuilds identical parameters from the same seed', () => {
    const a: MetaSegNet = createMetaSegNet({ localDim: 6, globalDim: 3, lambda: 0.5 }, C, 42);
    const cfg = JSON.parse(JSON.stringify(a.config()));
    assert.strictEqual(cfg.channels, C);
    assert.strictEqual(cfg.lambda, 0.5);
    const b = createMetaSegNet(cfg, C, 42), c = createMetaSegNet(cfg, C, 43);
    assert.deepStrictEqual(Object.keys(a.params).sort(), Object.keys(b.params).sort());
    assert.deepStrictEqual(a.params['embed.local.weight'].shape, [C, 6]);
    assert.deepStrictEqual(a.params['embed.global.context'].shape, [C, 3]);
    for (const k of Object.keys(a.params)) assert.deepStrictEqual(a.params[k].dataSync(), b.params[k].dataSync(), k);
    assert.notDeepStrictEqual(a.params['embed.local.weight'].dataSync(), c.params['embed.local.weight'].dataSync());
    const before = tf.memory().numTensors;
    b.dispose();
    assert.strictEqual(tf.memory().numTensors, before - Object.keys(b.params).length);
    a.dispose();
    c.dispose();
  });

  it('a config stored before the stability fix (no embedNorm / lambdaMode) rebuilds the raw-embedding, relative-λ model it was', () => {
    const fresh = createMetaSegNet({}, C, 1);
    const stored: Record<string, unknown> = fresh.config();
    delete stored.embedNorm;
    delete stored.lambdaMode;
    const old = createMethod('metasegnet', storedMethodConfig('metasegnet', stored), C, 1);
    assert.deepStrictEqual([fresh.config().embedNorm, fresh.config().lambdaMode], ['l2', 'absolute']);
    assert.deepStrictEqual([old.config().embedNorm, old.config().lambdaMode], ['none', 'relative']);
    // a config that has them keeps them
    const kept = storedMethodConfig('metasegnet', fresh.config());
    assert.deepStrictEqual([kept.embedNorm, kept.lambdaMode], ['l2', 'absolute']);
    fresh.dispose();
    old.dispose();
  });

  it('refuses a config whose channels disagree with the backbone, and bad settings', () => {
    assert.throws(() => createMetaSegNet({ channels: 16 }, C, 1), /16 feature channels/);
    assert.throws(() => createMetaSegNet({ localDim: 0 }, C, 1), /localDim/);
    assert.throws(() => createMetaSegNet({ lambda: 0 }, C, 1), /lambda/);
    assert.throws(() => createMetaSegNet({ embedNorm: 'l1' as 'l2' }, C, 1), /embedNorm/);
    assert.throws(() => createMetaSegNet({ lambdaMode: 'huge' as 'absolute' }, C, 1), /lambdaMode/);
  });
});
