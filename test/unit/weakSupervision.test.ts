// Weak supervision wired through the protocol: evaluation with pseudo-mask supports (and the pseudo
// masks' own IoU), training from image-level labels, query labels from several pseudo masks, and the
// WordNet similarity of names WordNet does not know. The pseudo-mask source is a stand-in with a known
// mask (left half of the image), so every expected number is computed here from the ground truth.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from './helpers/cli';
import { tf, useTestBackend } from './helpers/tf';
import { tinyBackbone } from './helpers/tinyBackbone';
import type { SegDataset } from '../../src/engine/data/dataset';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { UsageError } from '../../src/engine/errors';
import { evaluate, type EpisodeOutcome, type EvalSettings } from '../../src/engine/eval/evaluate';
import { ANN_BG, ANN_FG } from '../../src/engine/fewshot/annotations';
import { panetMethod } from '../../src/engine/fewshot/method';
import type { PseudoMask } from '../../src/engine/fewshot/weak';
import { pseudoEpisodeLabels } from '../../src/engine/fewshot/weak/pseudoLabels';
import { pseudoMaskSource, type PseudoMaskSource } from '../../src/engine/fewshot/weak/pseudoSource';
import { wordnetSimilarity } from '../../src/engine/fewshot/wordnet';
import { ensureGradients } from '../../src/engine/gradients';
import { decodeIndexPng } from '../../src/engine/image/png';
import { resizeMaskNearest } from '../../src/engine/image/resize';
import { resolveTrainConfig, Trainer } from '../../src/engine/train/trainer';

/** A pseudo mask that is the left half of the image (score 1 there, 0 elsewhere), whatever the image. */
function leftHalf(n: number): PseudoMask {
  const score = Float32Array.from({ length: n * n }, (_, i) => (i % n < n / 2 ? 1 : 0));
  return {
    annotation: { width: n, height: n, data: Uint8Array.from(score, (s) => (s ? ANN_FG : ANN_BG)) },
    used: { cam: 'test', similarity: 'test', saliency: 'test' },
    classWeights: [],
    score,
    notes: [],
  };
}

function fakeSource(n: number): PseudoMaskSource & { asked: Array<{ key: string; label: string; width: number }> } {
  const asked: Array<{ key: string; label: string; width: number }> = [];
  return {
    asked,
    describe: () => ({ cam: 'test-cam', similarity: 'test-sim', saliency: 'test-sal', threshold: 0.5, unknownLabels: [] }),
    async mask(key, image, label) {
      const img = await image();
      asked.push({ key, label, width: img.width });
      return leftHalf(n);
    },
  };
}

describe('pseudoEpisodeLabels (query labels from image-level labels)', () => {
  const pm = (score: number[]): PseudoMask => ({ ...leftHalf(1), score: Float32Array.from(score) });
  it('each pixel takes the way whose score is highest and ≥ threshold; unlabelled classes take nothing', () => {
    const a = pm([0.9, 0.6, 0.1, 0.5, 0.3]), b = pm([0.2, 0.7, 0.8, 0.5, 0.2]);
    assert.deepStrictEqual(Array.from(pseudoEpisodeLabels([a, b], 5, 0.5)), [1, 2, 2, 1, 0]); // tie 0.5/0.5 → first way
    assert.deepStrictEqual(Array.from(pseudoEpisodeLabels([null, b], 5, 0.5)), [0, 2, 2, 2, 0]);
    assert.deepStrictEqual(Array.from(pseudoEpisodeLabels([null, null], 5, 0.5)), [0, 0, 0, 0, 0]);
    assert.throws(() => pseudoEpisodeLabels([a], 4, 0.5), RangeError);
  });
});

describe('pseudoMaskSource.describe', () => {
  it('lists the labels the word similarity knew nothing of, not the CAM class names (in any case)', () => {
    const src = pseudoMaskSource({
      cam: { id: 'cam', classNames: ['Drawing', 'Neutral'], cams: async () => ({ maps: [], h: 1, w: 1 }) },
      similarity: { id: 'vectors:x', sim: () => 0, unknown: () => ['drawing', 'stripes-disc', 'Neutral'] },
      saliency: null,
    }, { threshold: 0.4 });
    assert.deepStrictEqual(src.describe(), { cam: 'cam', similarity: 'vectors:x', saliency: 'none', threshold: 0.4, unknownLabels: ['stripes-disc'] });
  });
});

describe('WordNet similarity of a name WordNet does not know', () => {
  it('is 0 (as word vectors give for a missing word) and the name is listed by unknown()', function () {
    this.timeout(60000);
    const sim = wordnetSimilarity();
    assert.strictEqual(sim.sim('stripes-disc', 'Neutral'), 0);
    assert.ok(sim.sim('sheep', 'cow') > 0.5);
    assert.deepStrictEqual(sim.unknown!(), ['stripes-disc']);
  });
});

describe('weak supervision through evaluate() and the trainer (sample set, tiny backbone)', function () {
  this.timeout(300000);
  const N = 40;
  let tmp: string;
  let ds: SegDataset;
  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-weak-'));
    await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 40, val: 20 }, size: 64 });
    ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const settings = (annotation: EvalSettings['annotation']): EvalSettings => ({
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 2, shots: 1, episodes: 4, runs: 2, seed: 7, size: N,
    list: 'val', annotation, minPixels: 1, queriesPerClass: 1,
  });

  it('pseudo supports: each support scored against its class truth (TP/FP/FN summed, 255 ignored); parts recorded', async () => {
    const bb = tinyBackbone(3);
    const src = fakeSource(N);
    const recs: EpisodeOutcome[] = [];
    try {
      const n0 = tf.memory().numTensors;
      const r = await evaluate(ds, bb, panetMethod, settings('pseudo'), 'wasm', { pseudo: src, onEpisode: (e) => recs.push(e) });
      assert.strictEqual(tf.memory().numTensors, n0);
      assert.strictEqual(r.weak?.supervision, 'image-labels');
      assert.deepStrictEqual(r.weak.parts, src.describe());
      assert.strictEqual(r.weak.pseudoMasks.masks, 2 * 4 * 2); // runs × episodes × (2 ways × 1 shot)
      // Supports are asked for by their class name, at the input size.
      assert.ok(src.asked.every((a) => a.width === N && ds.classNames.includes(a.label)));
      // Per support, by hand: IoU of the left half against (mask == class), 255 ignored.
      const perClass = new Map<number, number[][]>(); // run → class → [tp, fp, fn]
      for (const rec of recs) {
        assert.strictEqual(rec.pseudoIoU!.length, 2);
        for (let j = 0; j < 2; j++) {
          const cls = rec.classes[j];
          const gt = resizeMaskNearest(await ds.loadMask(rec.supports[j][0]), N, N).data;
          let tp = 0, fp = 0, fn = 0;
          gt.forEach((g, i) => {
            if (g === 255) return;
            const p = i % N < N / 2, t = g === cls;
            if (p && t) tp++; else if (p) fp++; else if (t) fn++;
          });
          const iou = tp + fp + fn ? tp / (tp + fp + fn) : null;
          const got = rec.pseudoIoU![j][0];
          assert.ok(iou === null ? got === null : Math.abs(got! - iou) < 1e-12, `${rec.id} way ${j}: ${got} vs ${iou}`);
          const k = rec.run * 100 + cls;
          const acc = perClass.get(k) ?? [[0, 0, 0]];
          acc[0][0] += tp; acc[0][1] += fp; acc[0][2] += fn;
          perClass.set(k, acc);
        }
      }
      // Class IoU of the report = mean over runs of the per-run summed counts.
      for (const c of r.weak.pseudoMasks.classIoU) {
        const runs = [0, 1].map((run) => perClass.get(run * 100 + c.cls)?.[0]).filter((x): x is number[] => !!x && x[0] + x[1] + x[2] > 0);
        const want = runs.length ? runs.reduce((s, [tp, fp, fn]) => s + tp / (tp + fp + fn), 0) / runs.length : null;
        assert.ok(want === null ? c.iou === null : Math.abs(c.iou! - want) < 1e-9, `class ${c.cls}: ${c.iou} vs ${want}`);
      }
      // Dense supervision on the same episodes has no weak section and no per-support IoU.
      const dense = await evaluate(ds, bb, panetMethod, { ...settings('dense'), runs: 1, episodes: 1 }, 'wasm');
      assert.strictEqual(dense.weak, undefined);
      await assert.rejects(evaluate(ds, bb, panetMethod, settings('pseudo'), 'wasm'), UsageError);
    } finally {
      bb.dispose();
    }
  });

  it('training from image-level labels: pseudo masks of the images as the network sees them (flips too), weak validation, numTensors flat', async () => {
    const src = fakeSource(N);
    const cfg = resolveTrainConfig({
      dataset: 'voc', fold: 0, ways: 2, shots: 1, steps: 3, size: N, lr: 1e-3, lrSteps: [], checkpointEvery: 0, valEvery: 0,
      method: 'pixelmeta', freezeBackbone: true, supervision: 'image-labels', valEpisodes: 2,
    }, ds);
    assert.deepStrictEqual(cfg.weak, { saliency: true, threshold: 0.25 }); // the built-in parts, recorded
    const t = await Trainer.create(ds, cfg, { backendName: 'wasm', makeBackbone: async () => tinyBackbone(3), pseudo: src });
    try {
      const head0 = Object.values(t.method.params).map((v) => Array.from(v.dataSync()));
      await t.trainStep();
      const n = tf.memory().numTensors;
      await t.trainStep();
      await t.trainStep();
      assert.strictEqual(tf.memory().numTensors, n);
      assert.ok(Object.values(t.method.params).some((v, i) => v.dataSync().some((x, j) => x !== head0[i][j])), 'head parameters must change');
      // Supports (one per way) and queries (per class they hold) were asked for, some of them flipped.
      assert.ok(src.asked.length >= 3 * 3, `asked ${src.asked.length}`);
      assert.ok(src.asked.some((a) => a.key.endsWith(':hflip')) && src.asked.some((a) => !a.key.endsWith(':hflip')));
      const before = src.asked.length;
      const v = await t.validate();
      assert.ok(v && v.episodes === 2);
      assert.ok(src.asked.length > before, 'validation must use pseudo masks too');
    } finally {
      t.dispose();
    }
    assert.throws(() => resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, weak: { saliency: false, threshold: 0.3 } }, ds), UsageError);
  });
});

describe('protolab eval / train --supervision image-labels (CLI, built-in pseudo-mask parts)', function () {
  this.timeout(600000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-weak-cli-'));
    assert.strictEqual(cli(['sample', '--out', path.join(dir, 'data'), '--train', '20', '--val', '20']).code, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('evaluates PixelMeta from image labels, reports the pseudo masks\' IoU; trains from image labels; a checkpoint so trained evaluates the same way', () => {
    const data = path.join(dir, 'data'), json = path.join(dir, 'weak.json'), records = path.join(dir, 'weak.jsonl');
    const common = ['--data', data, '--fold', '0', '--ways', '1', '--shots', '1', '--backend', 'wasm', '--size', '64'];
    const pseudoDir = path.join(dir, 'pseudo');
    const e = cli(['eval', ...common, '--method', 'pixelmeta', '--supervision', 'image-labels', '--episodes', '3', '--runs', '1', '--json', json, '--records', records, '--pseudo-out', pseudoDir]);
    assert.strictEqual(e.code, 0, e.stderr);
    assert.match(e.stdout, /image-level labels only/);
    assert.match(e.stdout, /pseudo masks vs ground truth \(3 support masks\): mIoU \d+\.\d %/);
    const r = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.strictEqual(r.settings.annotation, 'pseudo');
    assert.strictEqual(r.weak.parts.cam, 'nsfwjs-mobilenetv2');
    assert.strictEqual(r.weak.parts.similarity, 'wordnet-wup');
    assert.ok(r.weak.pseudoMasks.miou >= 0 && r.weak.pseudoMasks.miou <= 1);
    const lines = fs.readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 3);
    assert.ok(lines.every((l) => Array.isArray(l.pseudoIoU) && l.pseudoIoU.length === 1));
    // --pseudo-out: one index PNG per (support image, class) at the input size, in dataset ordinals.
    const want = [...new Set(lines.map((l) => `${l.supports[0][0]}.${l.classes[0]}.png`))].sort();
    assert.deepStrictEqual(fs.readdirSync(pseudoDir).sort(), want);
    for (const f of want) {
      const m = decodeIndexPng(fs.readFileSync(path.join(pseudoDir, f)), f);
      const cls = Number(f.split('.')[1]);
      assert.deepStrictEqual([m.width, m.height], [64, 64]);
      assert.ok([...new Set(m.data)].every((x) => x === 0 || x === cls), f);
    }
    assert.strictEqual(cli(['eval', ...common, '--pseudo-out', pseudoDir]).code, 2);

    const bad = cli(['eval', ...common, '--vectors', path.join(dir, 'none.txt')]);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /only apply with --supervision image-labels/);
    const clash = cli(['eval', ...common, '--supervision', 'image-labels', '--annotation', 'box']);
    assert.strictEqual(clash.code, 2);

    const run = path.join(dir, 'run');
    const t = cli(['train', '--data', data, '--fold', '0', '--ways', '1', '--shots', '1', '--backend', 'wasm', '--size', '48', '--steps', '2',
      '--method', 'pixelmeta', '--freeze-backbone', '--lr', '1e-3', '--supervision', 'image-labels', '--val-every', '0', '--out', run]);
    assert.strictEqual(t.code, 0, t.stderr);
    assert.match(t.stderr, /image-level labels only/);
    const cfg = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
    assert.strictEqual(cfg.config.supervision, 'image-labels');
    const ev = cli(['eval', '--checkpoint', run, '--data', data, '--fold', '0', '--ways', '1', '--shots', '1', '--backend', 'wasm', '--episodes', '2', '--runs', '1']);
    assert.strictEqual(ev.code, 0, ev.stderr);
    assert.match(ev.stderr, /trained from image-level labels: evaluating with them too/);
    assert.match(ev.stdout, /pseudo masks vs ground truth/);
  });
});
