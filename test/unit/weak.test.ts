import * as assert from 'assert';
import { jsUpsample as jsUpsampleImg } from './helpers/reference';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf, useTestBackend } from './helpers/tf';
import { ANN_BG, ANN_FG, Annotation, SoftAnnotation } from '../../src/engine/fewshot/annotations';
import { CamMaps, CamSource, combineCams, pseudoMask, resizeMap, SaliencySource, WordSimilarity } from '../../src/engine/fewshot/weak';
import { loadLayersModelCam, loadNsfwjsCam, NSFWJS_CLASSES } from '../../src/engine/fewshot/weak/cam';
import { borderContrast, featureContrastSaliency } from '../../src/engine/fewshot/weak/saliency';
import { loadVectorSimilarity } from '../../src/engine/fewshot/weak/vectors';
import type { RawImage } from '../../src/engine/types';
import { Rng } from '../../src/engine/prng';

// ---- independent references ----
/** torch F.interpolate(bilinear, align_corners=False) of one map (helpers/reference.ts). */
const jsUpsample = (m: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array =>
  jsUpsampleImg({ h, w, c: 1, v: Float64Array.from(m) }, H, W).v;
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void => {
  assert.strictEqual(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const tableSim = (t: Record<string, number>): WordSimilarity => ({ id: 'fake-sim', sim: (a, b) => t[`${a}|${b}`] ?? 0 });
function randImage(rng: Rng, width: number, height: number): RawImage {
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => rng.int(256)) };
}

describe('weak supervision: CAM combination, resize, pseudo masks (plain JS)', () => {
  it('combineCams = Σ_k (w_k/Σw)·ReLU(T_k)/max T_k, renormalised to peak 1; null when all weights are 0', () => {
    const rng = new Rng(1), h = 3, w = 4;
    const maps = [0, 1, 2].map(() => Float32Array.from({ length: h * w }, () => rng.normal()));
    const cams: CamMaps = { maps, h, w };
    const wts = [0.5, 0, 0.25];
    const naive = new Float64Array(h * w);
    maps.forEach((m, k) => {
      const mx = Math.max(...m);
      for (let i = 0; i < h * w; i++) naive[i] += (wts[k] / 0.75) * Math.max(0, m[i]) / mx;
    });
    const peak = Math.max(...naive);
    close(combineCams(cams, wts)!, naive.map((v) => v / peak), 1e-6, 'T̄');
    assert.strictEqual(combineCams(cams, [0, 0, 0]), null);
  });

  it('resizeMap = torch bilinear (half-pixel), up and down', () => {
    const rng = new Rng(2), m = Float32Array.from({ length: 5 * 7 }, () => rng.normal());
    close(resizeMap(m, 5, 7, 13, 9), jsUpsample(m, 5, 7, 13, 9), 1e-5, 'up');
    close(resizeMap(m, 5, 7, 3, 4), jsUpsample(m, 5, 7, 3, 4), 1e-5, 'down');
  });

  it('pseudoMask = threshold(T̄ ⊙ S) at image size, says which parts it used; soft output; all-zero weights', async () => {
    const rng = new Rng(3), W = 17, H = 11, ch = 4, cw = 5;
    const maps = [0, 1].map(() => Float32Array.from({ length: ch * cw }, () => Math.abs(rng.normal())));
    const cam: CamSource = { id: 'fake-cam', classNames: ['ewe', 'truck'], cams: async () => ({ maps, h: ch, w: cw }) };
    const salMap = Float32Array.from({ length: 6 * 6 }, () => rng.next());
    const saliency: SaliencySource = { id: 'fake-sal', saliency: async () => ({ map: salMap, h: 6, w: 6 }) };
    const sim = tableSim({ 'ewe|sheep': 0.9, 'truck|sheep': -0.2 });
    const image = randImage(rng, W, H);
    const r = await pseudoMask(image, 'sheep', { cam, similarity: sim, saliency }, { threshold: 0.3 });
    assert.deepStrictEqual(r.used, { cam: 'fake-cam', similarity: 'fake-sim', saliency: 'fake-sal' });
    assert.deepStrictEqual(r.classWeights, [{ name: 'ewe', weight: 0.9 }, { name: 'truck', weight: 0 }]);
    // naive: only 'ewe' counts (negative similarity clamps to 0): T̄ = ewe / max(ewe)
    const mx = Math.max(...maps[0]);
    const t = jsUpsample(Array.from(maps[0], (v) => v / mx), ch, cw, H, W), s = jsUpsample(salMap, 6, 6, H, W);
    const score = t.map((v, i) => v * s[i]);
    close(r.score, score, 1e-5, 'score');
    const ann = r.annotation as Annotation;
    assert.strictEqual(ann.width, W);
    assert.strictEqual(ann.height, H);
    let fg = 0;
    score.forEach((v, i) => {
      if (Math.abs(v - 0.3) < 1e-5) return;
      assert.strictEqual(ann.data[i], v >= 0.3 ? ANN_FG : ANN_BG, `pixel ${i}`);
      if (v >= 0.3) fg++;
    });
    assert.ok(fg > 0 && fg < W * H);

    const soft = (await pseudoMask(image, 'sheep', { cam, similarity: sim, saliency }, { output: 'soft' })).annotation as SoftAnnotation;
    close(soft.fg, score, 1e-5, 'soft fg');
    close(soft.bg, score.map((v) => 1 - v), 1e-5, 'soft bg');

    const none = await pseudoMask(image, 'bus', { cam, similarity: sim, saliency: null });
    assert.strictEqual(none.used.saliency, 'none');
    assert.strictEqual(none.notes.length, 1);
    assert.ok((none.annotation as Annotation).data.every((v) => v === ANN_FG)); // T̄ ≡ 1, no gate
  });

  it('borderContrast: distance to the border-ring mean, (S − min)/(P95 − min) clipped to [0, 1]', () => {
    const h = 6, w = 7, c = 3, rng = new Rng(4);
    const feat = Float32Array.from({ length: h * w * c }, () => rng.normal());
    const mu = [0, 0, 0];
    let n = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (y === 0 || x === 0 || y === h - 1 || x === w - 1) { n++; for (let k = 0; k < c; k++) mu[k] += feat[(y * w + x) * c + k]; }
    const d = Array.from({ length: h * w }, (_, i) => Math.hypot(...mu.map((m, k) => feat[i * c + k] - m / n)));
    const sorted = [...d].sort((a, b) => a - b), lo = sorted[0], hi = sorted[Math.floor(0.95 * (h * w - 1))];
    close(borderContrast(feat, h, w, c), d.map((v) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)))), 1e-5, 'saliency');
    assert.ok(borderContrast(new Float32Array(h * w * c).fill(2), h, w, c).every((v) => v === 0));
  });
});

describe('weak supervision: word vectors', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vec-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cos = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);

  it('GloVe text: cosine; multi-word names average their words; whole tokens preferred; missing names → 0', async () => {
    const v: Record<string, number[]> = { sheep: [1, 2, 0.5], goat: [0.9, 2.1, 0.4], bus: [-1, 0.2, 3], dining: [0.3, 0.1, 0.2], table: [0.5, -0.4, 1], potted_plant: [2, 2, 2], plant: [0, 1, 0] };
    const file = path.join(dir, 'glove.txt');
    fs.writeFileSync(file, Object.entries(v).map(([k, x]) => `${k} ${x.join(' ')}`).join('\n') + '\n');
    const s = await loadVectorSimilarity(file, ['sheep', 'goat', 'bus', 'diningtable', 'pottedplant', 'unicorn']);
    assert.strictEqual(s.id, `vectors:${path.resolve(file)}`);
    assert.strictEqual(s.dim, 3);
    assert.ok(Math.abs(s.sim('sheep', 'goat') - cos(v.sheep, v.goat)) < 1e-12);
    assert.ok(Math.abs(s.sim('Sheep', 'bus') - cos(v.sheep, v.bus)) < 1e-12);
    const dt = v.dining.map((x, i) => (x + v.table[i]) / 2);
    assert.ok(Math.abs(s.sim('diningtable', 'bus') - cos(dt, v.bus)) < 1e-12);
    assert.ok(Math.abs(s.sim('pottedplant', 'sheep') - cos(v.potted_plant, v.sheep)) < 1e-12);
    assert.deepStrictEqual(s.missing, ['unicorn']);
    assert.strictEqual(s.sim('unicorn', 'sheep'), 0);
  });

  it('word2vec/fastText .vec: the "count dim" header is skipped; a malformed line names the file', async () => {
    const file = path.join(dir, 'w2v.vec');
    fs.writeFileSync(file, '2 2\ncat 1 0\ndog 1 1\n');
    const s = await loadVectorSimilarity(file, ['cat', 'dog']);
    assert.ok(Math.abs(s.sim('cat', 'dog') - Math.SQRT1_2) < 1e-12);
    const bad = path.join(dir, 'bad.txt');
    fs.writeFileSync(bad, 'cat 1 0\ndog 1 x\n');
    await assert.rejects(loadVectorSimilarity(bad, ['dog', 'cat']), (e: Error) => e.message.includes(bad) && /line 2/.test(e.message));
  });
});

/** Write a tfjs layers model as model.json + one shard, as tfjs's file format. */
async function saveModel(model: tfl.LayersModel, dir: string): Promise<string> {
  await model.save(tf.io.withSaveHandler(async (art) => {
    const wd = art.weightData!;
    const buf = Array.isArray(wd) ? Buffer.concat(wd.map((b) => Buffer.from(b))) : Buffer.from(wd as ArrayBuffer);
    fs.writeFileSync(path.join(dir, 'weights.bin'), buf);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return path.join(dir, 'model.json');
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`weak supervision: CAM sources (${backend})`, () => {
    let dir: string;
    before(async () => {
      await useTestBackend(backend);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cam-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** conv 1×1 (ReLU) → GAP → head; returns model, kernel [3, C], bias [C], and the dense layers' weights. */
    async function classifier(head: 'linear' | 'mlp', seed: number): Promise<{ file: string; K: number[][]; b: number[]; dense: { W: number[][]; b: number[]; relu: boolean }[] }> {
      const m = tfl.sequential();
      m.add(tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 1, activation: 'relu', kernelInitializer: tfl.initializers.randomNormal({ seed }), biasInitializer: tfl.initializers.randomNormal({ seed: seed + 1 }) }));
      m.add(tfl.layers.globalAveragePooling2d({}));
      if (head === 'mlp') {
        m.add(tfl.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tfl.initializers.randomNormal({ seed: seed + 2 }), biasInitializer: tfl.initializers.randomNormal({ seed: seed + 3 }) }));
        m.add(tfl.layers.dropout({ rate: 0.5 }));
      }
      m.add(tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.randomNormal({ seed: seed + 4 }) }));
      const sub = fs.mkdtempSync(path.join(dir, head));
      const file = await saveModel(m, sub);
      const ws = m.getWeights().map((t) => t.arraySync());
      m.dispose();
      const dense = [];
      for (let i = 2; i < ws.length; i += 2) dense.push({ W: ws[i] as number[][], b: ws[i + 1] as number[], relu: i + 2 < ws.length });
      return { file, K: (ws[0] as number[][][][])[0][0], b: ws[1] as number[], dense };
    }

    /** Naive: F = ReLU(x/255 · K + b) per pixel; α_{c,k} = ∂y_k/∂F̄_c by central differences of the pre-softmax head. */
    function naiveCams(img: RawImage, c: { K: number[][]; b: number[]; dense: { W: number[][]; b: number[]; relu: boolean }[] }): number[][] {
      const n = img.width * img.height, C = c.b.length;
      const F = Array.from({ length: n }, (_, p) => c.b.map((bb, o) => Math.max(0, bb + [0, 1, 2].reduce((s, i) => s + (img.data[p * 3 + i] / 255) * c.K[i][o], 0))));
      const mean = c.b.map((_, o) => F.reduce((s, f) => s + f[o], 0) / n);
      const y = (v: number[]): number[] => c.dense.reduce((a, d) => d.b.map((bb, o) => { const z = bb + a.reduce((s, ai, i) => s + ai * d.W[i][o], 0); return d.relu ? Math.max(0, z) : z; }), v);
      const eps = 1e-4;
      return [0, 1, 2].map((k) => {
        const alpha = mean.map((_, ci) => { const p = mean.slice(), q = mean.slice(); p[ci] += eps; q[ci] -= eps; return (y(p)[k] - y(q)[k]) / (2 * eps); });
        return F.map((f) => Math.max(0, f.reduce((s, v, ci) => s + v * alpha[ci], 0)));
      });
    }

    for (const head of ['linear', 'mlp'] as const) {
      it(`user classifier (${head} head): Grad-CAM maps = naive ${head === 'linear' ? 'CAM Σ_c w_ck F_c' : 'gradient-weighted features'}; nothing leaks`, async () => {
        const c = await classifier(head, head === 'linear' ? 10 : 20);
        const cam = await loadLayersModelCam(c.file, ['a', 'b', 'c'], { inputSize: 6 });
        try {
          assert.strictEqual(cam.id, `layers-model:${c.file}`);
          const img = randImage(new Rng(5), 6, 6);
          const before = tf.memory().numTensors;
          const got = await cam.cams(img);
          assert.strictEqual(tf.memory().numTensors, before);
          assert.strictEqual(got.h, 6);
          assert.strictEqual(got.w, 6);
          const want = naiveCams(img, c);
          const scale = Math.max(1e-6, ...want.flat());
          for (let k = 0; k < 3; k++) close(Array.from(got.maps[k], (v) => v / scale), want[k].map((v) => v / scale), 2e-3, `cam ${k}`);
          // a free input size: a larger image gives a larger map
          const big = await cam.cams(randImage(new Rng(6), 9, 9));
          assert.ok(big.h === 6 && big.w === 6); // resized to inputSize first
        } finally {
          cam.dispose();
        }
        await assert.rejects(loadLayersModelCam(c.file, ['a', 'b']), /3 outputs but 2 class names/);
      });
    }

    it('built-in nsfwjs MobileNetV2 CAMs: 5 classes, conv resolution, ≥ 0; feature-contrast saliency; nothing leaks', async function () {
      if (backend === 'cpu') this.skip(); // ≈ 9 s on the cpu backend; the wasm run covers it
      const cam = await loadNsfwjsCam({ inputSize: 224 });
      try {
        assert.strictEqual(cam.id, 'nsfwjs-mobilenetv2');
        assert.deepStrictEqual(cam.classNames, [...NSFWJS_CLASSES]);
        const img = randImage(new Rng(7), 50, 40);
        const before = tf.memory().numTensors;
        const r = await cam.cams(img);
        assert.strictEqual(tf.memory().numTensors, before);
        assert.strictEqual(r.maps.length, 5);
        assert.deepStrictEqual([r.h, r.w], [7, 7]);
        assert.ok(r.maps.every((m) => m.length === 49 && m.every((v) => v >= 0 && Number.isFinite(v))));
      } finally {
        cam.dispose();
      }
      // saliency over any feature function: equals borderContrast of its features
      const features = (x: tf.Tensor4D): tf.Tensor4D => tf.avgPool(x, 4, 4, 'valid');
      const sal = featureContrastSaliency({ name: 'avgpool', features, inputSize: 16 });
      assert.strictEqual(sal.id, 'feature-contrast(avgpool)');
      const img = randImage(new Rng(8), 16, 16);
      const before = tf.memory().numTensors;
      const s = await sal.saliency(img);
      assert.strictEqual(tf.memory().numTensors, before);
      const f = tf.tidy(() => features(tf.tensor4d(Float32Array.from(img.data), [1, 16, 16, 3])));
      close(s.map, borderContrast(f.dataSync() as Float32Array, 4, 4, 3), 1e-5, 'saliency');
      f.dispose();
    });
  });
}
