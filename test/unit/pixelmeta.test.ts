import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { jsUpsample, randImg, type Img } from './helpers/reference';
import { ANN_BG, ANN_FG, ANN_UNLABELED, Annotation, SoftAnnotation } from '../../src/engine/fewshot/annotations';
import { annotationCandidates, createPixelMeta, knnVotes, PixelMetaMethod, sampleSupport, sampleWithoutReplacement } from '../../src/engine/fewshot/pixelmeta';
import type { TrainEpisode } from '../../src/engine/fewshot/trainable';
import type { FeatureEntry } from '../../src/engine/features/featureCache';
import { ensureGradients } from '../../src/engine/gradients';
import { Rng } from '../../src/engine/prng';

// ---- independent plain-JS references (float64) ----
const pixel = (x: Img, i: number): number[] => Array.from(x.v.subarray(i * x.c, (i + 1) * x.c));
type Mlp = { w: number[][][]; b: number[][]; inputNorm: 'l2' | 'none' }; // w[l][in][out]
async function readMlp(m: PixelMetaMethod): Promise<Mlp> {
  const w: number[][][] = [], b: number[][] = [];
  for (let l = 1; l <= 3; l++) {
    w.push((await m.params[`pixelmeta.w${l}`].array()) as number[][]);
    b.push((await m.params[`pixelmeta.b${l}`].array()) as number[]);
  }
  return { w, b, inputNorm: m.settings.inputNorm };
}
function jsEmbed(mlp: Mlp, x: number[]): number[] {
  // inputNorm 'l2': the feature rescaled to norm √C (ε = 1e-12 under the root, as the method)
  const s = mlp.inputNorm === 'l2' ? Math.sqrt(x.length) / Math.sqrt(x.reduce((t, v) => t + v * v, 0) + 1e-12) : 1;
  let a = x.map((v) => v * s);
  for (let l = 0; l < 3; l++) {
    const out = mlp.b[l].slice();
    for (let i = 0; i < a.length; i++) for (let o = 0; o < out.length; o++) out[o] += a[i] * mlp.w[l][i][o];
    a = l < 2 ? out.map((v) => Math.max(v, 0)) : out;
  }
  return a;
}
const sqd = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
const entry = (x: Img): FeatureEntry => ({ shape: [x.h, x.w, x.c], data: Float32Array.from(x.v) });
function randAnnotation(rng: Rng, H: number, W: number): Annotation {
  return { width: W, height: H, data: Uint8Array.from({ length: H * W }, () => { const r = rng.next(); return r < 0.3 ? ANN_FG : r < 0.8 ? ANN_BG : ANN_UNLABELED; }) };
}

describe('Pixel-Level Meta-Learner: sampling and k-NN (plain JS)', () => {
  it('candidates: binary FG/BG; soft by weight ≥ minWeight and above the other side', () => {
    const bin: Annotation = { width: 3, height: 1, data: Uint8Array.from([ANN_FG, ANN_UNLABELED, ANN_BG]) };
    assert.deepStrictEqual([...annotationCandidates(bin).fg], [0]);
    assert.deepStrictEqual([...annotationCandidates(bin).bg], [2]);
    const soft: SoftAnnotation = { width: 4, height: 1, fg: Float32Array.from([0.9, 0.5, 0.4, 0.5]), bg: Float32Array.from([0.1, 0.5, 0.6, 0.2]) };
    const c = annotationCandidates(soft, 0.5);
    assert.deepStrictEqual([...c.fg], [0, 3]);
    assert.deepStrictEqual([...c.bg], [2]);
  });

  it('sampleWithoutReplacement: k distinct members, sorted, all when k ≥ n, same seed ⇒ same draw', () => {
    const items = Int32Array.from({ length: 50 }, (_, i) => i * 3);
    const a = sampleWithoutReplacement(items, 10, new Rng(5)), b = sampleWithoutReplacement(items, 10, new Rng(5));
    assert.deepStrictEqual([...a], [...b]);
    assert.strictEqual(new Set(a).size, 10);
    for (let i = 0; i < a.length; i++) { assert.ok(a[i] % 3 === 0 && a[i] < 150); if (i) assert.ok(a[i] > a[i - 1]); }
    assert.deepStrictEqual([...sampleWithoutReplacement(items.subarray(0, 4), 10, new Rng(1))], [0, 3, 6, 9]);
    // uniform: each item drawn ≈ k/n of the time
    const hits = new Array(20).fill(0), small = Int32Array.from({ length: 20 }, (_, i) => i), r = new Rng(9);
    for (let t = 0; t < 4000; t++) for (const v of sampleWithoutReplacement(small, 5, r)) hits[v]++;
    for (const h of hits) assert.ok(Math.abs(h / 4000 - 0.25) < 0.04, `frequency ${h / 4000}`);
  });

  it('sampleSupport: n fg pixels per shot, ⌈n/N⌉ bg per image, from the right candidates', () => {
    const rng = new Rng(3);
    const anns = [[randAnnotation(rng, 20, 20), randAnnotation(rng, 20, 20)], [randAnnotation(rng, 20, 20)]];
    const s = sampleSupport(anns, { pixelsPerClass: 7, minWeight: 0.5 }, new Rng(1));
    s.forEach((way, j) => way.forEach((img, k) => {
      const fg = [...img.pixels].filter((_, i) => img.labels[i] === j + 1), bg = [...img.pixels].filter((_, i) => img.labels[i] === 0);
      assert.strictEqual(fg.length, 7);
      assert.strictEqual(bg.length, 4); // ⌈7 / 2⌉
      for (const p of fg) assert.strictEqual(anns[j][k].data[p], ANN_FG);
      for (const p of bg) assert.strictEqual(anns[j][k].data[p], ANN_BG);
    }));
  });

  it('knnVotes equals a brute-force sort, ties to the earlier support sample', () => {
    const rng = new Rng(11), rows = 30, cols = 17, classes = 3, k = 5;
    // integer distances: many ties
    const dist = Float32Array.from({ length: rows * cols }, () => rng.int(6));
    const labels = Int32Array.from({ length: cols }, () => rng.int(classes));
    const votes = knnVotes(dist, rows, cols, labels, classes, k);
    for (let r = 0; r < rows; r++) {
      const order = [...Array(cols).keys()].sort((a, b) => dist[r * cols + a] - dist[r * cols + b] || a - b).slice(0, k);
      const want = new Array(classes).fill(0);
      for (const c of order) want[labels[c]] += 1 / k;
      for (let c = 0; c < classes; c++) assert.ok(Math.abs(votes[r * classes + c] - want[c]) < 1e-6, `row ${r}`);
    }
    // k above the number of support samples: every sample votes once
    const v = knnVotes(Float32Array.from([3, 1]), 1, 2, Int32Array.from([0, 1]), 2, 5);
    assert.deepStrictEqual([...v], [0.5, 0.5]);
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`Pixel-Level Meta-Learner (${backend})`, function () {
    before(async () => {
      await useTestBackend(backend);
      ensureGradients();
    });

    const C = 8, h = 5, w = 5, H = 10, W = 10;
    const cfg = { hidden: [16, 12] as [number, number], embedDim: 6, pixelsPerClass: 1000, k: 3 };

    for (const inputNorm of ['l2', 'none'] as const) it(`predict = brute-force k-NN in E-space on upsampled support pixels, votes upsampled, argmax (inputNorm ${inputNorm})`, async () => {
      const rng = new Rng(21);
      const m = createPixelMeta({ ...cfg, inputNorm }, C, 4);
      try {
        const supFeat = [[randImg(rng, h, w, C), randImg(rng, h, w, C)], [randImg(rng, h, w, C)]];
        const supAnn = [[randAnnotation(rng, H, W), randAnnotation(rng, H, W)], [randAnnotation(rng, H, W)]];
        const q = randImg(rng, h, w, C);
        const before = tf.memory().numTensors;
        const got = await m.predict(supFeat.map((way, j) => way.map((f, k) => ({ features: entry(f), annotation: supAnn[j][k] }))), entry(q), [H, W]);
        assert.strictEqual(tf.memory().numTensors, before);

        // Reference: every annotated support pixel (pixelsPerClass exceeds the candidates), embedded naively.
        const mlp = await readMlp(m);
        const sz: number[][] = [], sl: number[] = [];
        supFeat.forEach((way, j) => way.forEach((f, k) => {
          const up = jsUpsample(f, H, W);
          supAnn[j][k].data.forEach((v, i) => {
            if (v === ANN_FG || v === ANN_BG) { sz.push(jsEmbed(mlp, pixel(up, i))); sl.push(v === ANN_FG ? j + 1 : 0); }
          });
        }));
        const classes = 3, votes: Img = { h, w, c: classes, v: new Float64Array(h * w * classes) };
        for (let i = 0; i < h * w; i++) {
          const e = jsEmbed(mlp, pixel(q, i));
          const d = sz.map((z) => sqd(e, z));
          const order = [...d.keys()].sort((a, b) => d[a] - d[b]);
          assert.ok(d[order[cfg.k]] - d[order[cfg.k - 1]] > 1e-4 * d[order[cfg.k]], 'test data has a near-tie at the k-th neighbour');
          for (const s of order.slice(0, cfg.k)) votes.v[i * classes + sl[s]] += 1 / cfg.k;
        }
        const up = jsUpsample(votes, H, W);
        let checked = 0;
        for (let i = 0; i < H * W; i++) {
          const sc = pixel(up, i), best = sc.indexOf(Math.max(...sc));
          const second = Math.max(...sc.filter((_, c) => c !== best));
          if (sc[best] - second < 1e-5) { assert.ok(got[i] === best || sc[got[i]] > sc[best] - 1e-5); continue; } // exact tie
          assert.strictEqual(got[i], best, `pixel ${i}`);
          checked++;
        }
        assert.ok(checked > H * W / 2);
      } finally {
        m.dispose();
      }
    });

    function episode(rng: Rng): { ep: TrainEpisode; sup: Img[][]; ann: Annotation[][]; q: Img; qLabels: Uint8Array; dispose(): void } {
      const sup = [[randImg(rng, h, w, C)], [randImg(rng, h, w, C)]];
      const ann = [[randAnnotation(rng, H, W)], [randAnnotation(rng, H, W)]];
      const q = randImg(rng, h, w, C);
      const qLabels = Uint8Array.from({ length: H * W }, () => { const r = rng.next(); return r < 0.1 ? 255 : r < 0.5 ? 0 : r < 0.75 ? 1 : 2; });
      const t = (x: Img): tf.Tensor4D => tf.tensor4d(Float32Array.from(x.v), [1, x.h, x.w, x.c]);
      const feats = sup.map((way) => way.map(t)), qf = t(q);
      const ep: TrainEpisode = {
        classes: [3, 7],
        support: feats.map((way, j) => way.map((f, k) => ({ feat: f, annotation: ann[j][k] }))),
        query: [{ feat: qf, labels: qLabels }],
        outSize: [H, W],
        rng: new Rng(1),
      };
      return { ep, sup, ann, q, qLabels, dispose: () => tf.dispose([...feats.flat(), qf]) };
    }

    it('L_meta = prototypical loss (softmax over −squared distance to class means), against a naive computation', async () => {
      const e = episode(new Rng(31));
      const m = createPixelMeta(cfg, C, 8);
      try {
        const before = tf.memory().numTensors;
        const got = tf.tidy(() => m.loss(e.ep).total.arraySync() as number);
        assert.strictEqual(tf.memory().numTensors, before);

        const mlp = await readMlp(m);
        const members: number[][][] = [[], [], []];
        e.sup.forEach((way, j) => way.forEach((f, k) => {
          const up = jsUpsample(f, H, W);
          e.ann[j][k].data.forEach((v, i) => {
            if (v === ANN_FG) members[j + 1].push(jsEmbed(mlp, pixel(up, i)));
            if (v === ANN_BG) members[0].push(jsEmbed(mlp, pixel(up, i)));
          });
        }));
        const protos = members.map((zs) => zs[0].map((_, d) => zs.reduce((s, z) => s + z[d], 0) / zs.length));
        const qup = jsUpsample(e.q, H, W);
        let sum = 0, n = 0;
        e.qLabels.forEach((y, i) => {
          if (y === 255) return;
          const z = jsEmbed(mlp, pixel(qup, i));
          const logits = protos.map((p) => -sqd(z, p));
          const mx = Math.max(...logits), lse = mx + Math.log(logits.reduce((s, l) => s + Math.exp(l - mx), 0));
          sum += lse - logits[y];
          n++;
        });
        const want = sum / n;
        assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, Math.abs(want)), `loss ${got} vs naive ${want}`);
      } finally {
        m.dispose();
        e.dispose();
      }
    });

    it('a few SGD steps reduce L_meta; no tensor leaks; config rebuilds the same method', async () => {
      const e = episode(new Rng(41));
      const m = createPixelMeta({ ...cfg, pixelsPerClass: 20 }, C, 2);
      const opt = tf.train.sgd(0.1);
      try {
        const lossNow = (): number => tf.tidy(() => { e.ep.rng = new Rng(7); return m.loss(e.ep).total.arraySync() as number; });
        const first = lossNow();
        const before = tf.memory().numTensors;
        for (let s = 0; s < 20; s++) {
          e.ep.rng = new Rng(7);
          opt.minimize(() => m.loss(e.ep).total, false, Object.values(m.params))?.dispose();
        }
        assert.strictEqual(tf.memory().numTensors, before);
        const last = lossNow();
        assert.ok(last < first * 0.9, `loss ${first} → ${last}`);
        const c = m.config();
        assert.deepStrictEqual(c, { method: 'pixelmeta', hidden: [16, 12], embedDim: 6, pixelsPerClass: 20, k: 3, minWeight: 0.5, inputNorm: 'l2', channels: C, seed: 2 });
        assert.doesNotThrow(() => JSON.stringify(c));
      } finally {
        opt.dispose();
        m.dispose();
        e.dispose();
      }
    });

    it('same seed ⇒ same initial parameters; different seed ⇒ different', async () => {
      const a = createPixelMeta(cfg, C, 5), b = createPixelMeta(cfg, C, 5), c = createPixelMeta(cfg, C, 6);
      try {
        const wa = await a.params['pixelmeta.w1'].data(), wb = await b.params['pixelmeta.w1'].data(), wc = await c.params['pixelmeta.w1'].data();
        assert.deepStrictEqual([...wa], [...wb]);
        assert.notDeepStrictEqual([...wa], [...wc]);
      } finally {
        a.dispose(); b.dispose(); c.dispose();
      }
    });

    it('a way whose support has no foreground gets no votes and no loss term; nothing leaks', async () => {
      const rng = new Rng(51);
      const m = createPixelMeta(cfg, C, 3);
      try {
        const empty: Annotation = { width: W, height: H, data: new Uint8Array(H * W).fill(ANN_BG) };
        const sup = [[{ features: entry(randImg(rng, h, w, C)), annotation: randAnnotation(rng, H, W) }], [{ features: entry(randImg(rng, h, w, C)), annotation: empty }]];
        const before = tf.memory().numTensors;
        const got = await m.predict(sup, entry(randImg(rng, h, w, C)), [H, W]);
        assert.ok(got.every((v) => v === 0 || v === 1));
        assert.strictEqual(tf.memory().numTensors, before);
      } finally {
        m.dispose();
      }
    });

    it('one class among the support samples (a pseudo mask covering the whole image): the loss is exactly 0, not an error', () => {
      const rng = new Rng(52);
      const m = createPixelMeta(cfg, C, 3);
      const e = episode(rng);
      try {
        const full: Annotation = { width: W, height: H, data: new Uint8Array(H * W).fill(ANN_FG) };
        const ep: TrainEpisode = { ...e.ep, support: [[{ feat: e.ep.support[0][0].feat, annotation: full }]], classes: [3] };
        const before = tf.memory().numTensors;
        const loss = tf.tidy(() => m.loss(ep).total.arraySync() as number);
        assert.strictEqual(loss, 0);
        assert.strictEqual(tf.memory().numTensors, before);
      } finally {
        e.dispose();
        m.dispose();
      }
    });
  });
}
