// The episodic trainer on the built-in sample set, with a two-conv backbone so every test trains real
// episodes end to end in seconds: lr schedule, SGD against torch's update written out, exact resume,
// cancel, tensor bookkeeping, the frozen-backbone rules.
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
import { ensureGradients } from '../../src/engine/gradients';
import { readMetrics, type TrainRow } from '../../src/engine/train/log';
import { SgdMomentum } from '../../src/engine/train/optimizer';
import { latestCheckpoint, METRICS_FILE } from '../../src/engine/train/runDir';
import { lrAt } from '../../src/engine/train/schedule';
import { flipImage, resolveTrainConfig, Trainer, type TrainConfigInput } from '../../src/engine/train/trainer';

describe('lr schedule (MultiStepLR)', () => {
  it('1e-3, ×0.1 from step 10000 and again from 20000 (0-based step index, as torch)', () => {
    const s = { lr: 1e-3, milestones: [10000, 20000], gamma: 0.1 };
    assert.strictEqual(lrAt(0, s), 1e-3);
    assert.strictEqual(lrAt(9999, s), 1e-3);
    assert.strictEqual(lrAt(10000, s), 1e-3 * 0.1);
    assert.strictEqual(lrAt(19999, s), 1e-3 * 0.1);
    assert.strictEqual(lrAt(20000, s), 1e-3 * 0.1 * 0.1);
    assert.strictEqual(lrAt(29999, s), 1e-3 * 0.1 * 0.1);
    assert.strictEqual(lrAt(5, { lr: 0.5, milestones: [], gamma: 0.1 }), 0.5);
  });
});

describe('SGD with momentum and weight decay', () => {
  before(() => useTestBackend('wasm'));

  it('matches torch.optim.SGD written out in float64 over 4 steps (missing gradient = 0)', () => {
    const p0 = [0.5, -1.25, 2], grads = [[0.1, 0.2, -0.3], [0.05, -0.4, 0.2], [1, 0, -1], [0, 0, 0]];
    const lrs = [0.1, 0.1, 0.01, 0.01], mu = 0.9, wd = 5e-4;
    const v = tf.variable(tf.tensor1d(p0));
    const opt = new SgdMomentum({ w: v }, { momentum: mu, weightDecay: wd });
    const p = p0.slice(), b: number[] = [];
    grads.forEach((g, s) => {
      const d = g.map((gi, i) => gi + wd * p[i]);
      d.forEach((di, i) => { b[i] = s === 0 ? di : mu * b[i] + di; p[i] -= lrs[s] * b[i]; }); // torch: buf = d on the first step
      const gt = s === 3 ? undefined : tf.tensor1d(g);
      opt.step(gt ? { w: gt } : {}, lrs[s]);
      gt?.dispose();
    });
    const got = v.dataSync();
    p.forEach((pi, i) => assert.ok(Math.abs(got[i] - pi) < 1e-6, `${got[i]} vs ${pi}`));
    opt.dispose();
    v.dispose();
  });
});

describe('episodic trainer (sample set, tiny backbone)', function () {
  this.timeout(300000);
  let tmp: string;
  let ds: SegDataset;
  const config = (over: Partial<TrainConfigInput> = {}) =>
    resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 6, size: 40, lr: 0.05, lrSteps: [4], checkpointEvery: 3, valEvery: 0, ...over }, ds);
  const opts = (runDir?: string) => ({ runDir, backendName: 'wasm', makeBackbone: async () => tinyBackbone(3) });
  const losses = (dir: string) => readMetrics(path.join(dir, METRICS_FILE)).filter((r): r is TrainRow => r.kind === 'train').map((r) => [r.step, r.loss, r.parts]);

  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-train-'));
    await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 40, val: 20 }, size: 64 });
    ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('trains on the base classes only, defaults to PANet\'s settings, numTensors flat across steps', async () => {
    const t = await Trainer.create(ds, config(), opts());
    try {
      assert.deepStrictEqual(t.data.classes, Array.from({ length: 15 }, (_, i) => i + 6)); // fold 0 novel = 1..5
      assert.strictEqual(t.config.momentum, 0.9);
      assert.strictEqual(t.config.weightDecay, 5e-4);
      assert.deepStrictEqual(t.config.methodConfig, { par: 1 });
      const r1 = await t.trainStep();
      const n = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const r = await t.trainStep();
        assert.ok(Number.isFinite(r.loss) && r.parts.seg !== undefined && r.parts.par !== undefined);
        assert.ok(Math.abs(r.loss - (r.parts.seg + r.parts.par)) < 1e-5);
      }
      assert.strictEqual(tf.memory().numTensors, n);
      assert.strictEqual(r1.lr, 0.05);
      assert.strictEqual(t.step, 4);
    } finally {
      t.dispose();
    }
  });

  it('a resumed run reproduces the uninterrupted loss curve and parameters bit for bit', async () => {
    const a = path.join(tmp, 'runA'), b = path.join(tmp, 'runB');
    const ta = await Trainer.create(ds, config(), opts(a));
    await ta.run();
    const finalA = await Promise.all(Object.values(ta.backbone.params!).map((v) => v.data()));
    ta.dispose();

    // B: cancelled after its 2nd step (not a checkpoint step): the cancel writes a checkpoint at step 2.
    const before = tf.memory().numTensors;
    const tb = await Trainer.create(ds, config(), opts(b));
    const abort = new AbortController();
    const out = await tb.run({ signal: abort.signal, onStep: (r) => { if (r.step === 2) abort.abort(); } });
    tb.dispose();
    assert.deepStrictEqual({ step: out.step, cancelled: out.cancelled }, { step: 2, cancelled: true });
    assert.strictEqual(tf.memory().numTensors, before, 'no tensor left after a cancelled run');
    assert.strictEqual(latestCheckpoint(b)?.step, 2);

    const tc = await Trainer.resume(ds, b, opts());
    assert.strictEqual(tc.step, 2);
    await tc.run();
    const finalB = await Promise.all(Object.values(tc.backbone.params!).map((v) => v.data()));
    tc.dispose();
    assert.deepStrictEqual(losses(b), losses(a));
    assert.strictEqual(losses(a).length, 6);
    finalA.forEach((x, i) => assert.ok(Buffer.from(x.buffer).equals(Buffer.from(finalB[i].buffer)), `parameter ${i} differs`));
    assert.deepStrictEqual(fs.readdirSync(path.join(a, 'checkpoints')).sort(), ['step-000003.safetensors', 'step-000006.safetensors']);
  });

  it('PAR off (λ = 0) logs seg only', async () => {
    const t = await Trainer.create(ds, config({ methodConfig: { par: 0 }, steps: 2 }), opts());
    try {
      const r = await t.trainStep();
      assert.deepStrictEqual(Object.keys(r.parts), ['seg']);
      assert.strictEqual(r.loss, r.parts.seg);
    } finally {
      t.dispose();
    }
  });

  it('the backbone trains or not as each paper does, unless told: PANet and MetaSegNet end to end, the pixel-level meta-learner frozen', () => {
    assert.strictEqual(config({ method: 'panet' }).freezeBackbone, false);
    assert.strictEqual(config({ method: 'metasegnet' }).freezeBackbone, false);
    assert.strictEqual(config({ method: 'pixelmeta' }).freezeBackbone, true);
    assert.strictEqual(config({ method: 'pixelmeta', freezeBackbone: false }).freezeBackbone, false);
    assert.strictEqual(config({ method: 'metasegnet', freezeBackbone: true }).freezeBackbone, true);
  });

  it('refuses what cannot train: PANet with a frozen backbone (names the methods that can), an existing run dir', async () => {
    await assert.rejects(Trainer.create(ds, config({ freezeBackbone: true }), opts()), (e: Error) => e instanceof UsageError && /nothing to train/.test(e.message) && /metasegnet/.test(e.message));
    const dir = path.join(tmp, 'runA');
    await assert.rejects(Trainer.create(ds, config(), opts(dir)), /already holds a training run/);
  });

  for (const method of ['metasegnet', 'pixelmeta'] as const) {
    it(`frozen backbone (${method}): only the head moves, features come from the cache, numTensors flat`, async () => {
      const t = await Trainer.create(ds, config({ method, freezeBackbone: true, steps: 4 }), opts());
      try {
        const bb0 = Object.values(t.backbone.params!).map((v) => Buffer.from(v.dataSync().buffer).toString('base64'));
        const head0 = Object.values(t.method.params).map((v) => Array.from(v.dataSync()));
        assert.ok(head0.length > 0);
        await t.trainStep();
        const n = tf.memory().numTensors;
        await t.trainStep();
        await t.trainStep();
        assert.strictEqual(tf.memory().numTensors, n);
        assert.deepStrictEqual(Object.values(t.backbone.params!).map((v) => Buffer.from(v.dataSync().buffer).toString('base64')), bb0);
        assert.ok(Object.values(t.method.params).some((v, i) => v.dataSync().some((x, j) => x !== head0[i][j])), 'head parameters must change');
      } finally {
        t.dispose();
      }
    });
  }

  it('validation scores novel classes through evaluate()', async () => {
    const t = await Trainer.create(ds, config({ valEpisodes: 4 }), opts());
    try {
      const v = await t.validate();
      assert.ok(v && v.episodes === 4 && v.miou >= 0 && v.miou <= 1);
    } finally {
      t.dispose();
    }
  });

  it('flipImage mirrors pixels and labels together', () => {
    const px = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    const { px: f, mask } = flipImage(px, { width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]) }, 2);
    assert.deepStrictEqual(Array.from(mask.data), [2, 1, 4, 3]);
    assert.deepStrictEqual(Array.from(f), [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]);
  });
});

describe('protolab train / eval --checkpoint (CLI, VGG-16 at 32²)', function () {
  this.timeout(600000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-train-cli-'));
    assert.strictEqual(cli(['sample', '--out', path.join(dir, 'data'), '--train', '20', '--val', '20']).code, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains, writes the run dir, evaluates the run by its dir; refuses PANet --freeze-backbone', () => {
    const data = path.join(dir, 'data'), run = path.join(dir, 'run');
    const common = ['--data', data, '--dataset', 'voc', '--fold', '0', '--ways', '1', '--shots', '1', '--backend', 'wasm'];
    const t = cli(['train', ...common, '--steps', '2', '--size', '32', '--out', run, '--val-every', '2', '--val-episodes', '2', '--par', '0.5']);
    assert.strictEqual(t.code, 0, t.stderr);
    assert.match(t.stdout, /finished at step 2\/2/);
    assert.match(t.stderr, /validation at step 2: novel-class mIoU/);
    for (const f of ['config.json', 'metrics.jsonl', 'latest.json', 'checkpoints/step-000002.safetensors']) assert.ok(fs.existsSync(path.join(run, f)), f);
    const rows = readMetrics(path.join(run, METRICS_FILE));
    assert.deepStrictEqual(rows.map((r) => `${r.kind}${r.step}`), ['train1', 'train2', 'val2']);
    const e = cli(['eval', ...common, '--checkpoint', run, '--episodes', '2', '--runs', '1', '--workers', '0', '--json', path.join(dir, 'e.json')]);
    assert.strictEqual(e.code, 0, e.stderr);
    const res = JSON.parse(fs.readFileSync(path.join(dir, 'e.json'), 'utf8'));
    assert.strictEqual(res.settings.size, 32); // from the checkpoint's config
    assert.strictEqual(res.settings.method, 'panet');
    assert.strictEqual(res.backbone.weightsSource, path.join(run, 'checkpoints', 'step-000002.safetensors'));
    const f = cli(['train', ...common, '--steps', '1', '--size', '32', '--freeze-backbone', '--out', path.join(dir, 'frozen')]);
    assert.strictEqual(f.code, 2);
    assert.match(f.stderr, /nothing to train.*metasegnet/s);
    const again = cli(['train', '--resume', run, '--fold', '1']);
    assert.strictEqual(again.code, 2);
    assert.match(again.stderr, /drop --fold/);
    // flags that repeat the checkpoint's own settings are accepted; a conflict names both values
    const agree = cli(['eval', ...common, '--checkpoint', run, '--method', 'panet', '--backbone', 'vgg16', '--init-seed', '1', '--episodes', '1', '--runs', '1', '--workers', '0']);
    assert.strictEqual(agree.code, 0, agree.stderr);
    const clash = cli(['eval', ...common, '--checkpoint', run, '--method', 'metasegnet', '--episodes', '1', '--runs', '1']);
    assert.strictEqual(clash.code, 2);
    assert.match(clash.stderr, /--method metasegnet conflicts with the checkpoint's method \(panet\)/);
    const both = cli(['train', ...common, '--steps', '1', '--freeze-backbone', '--train-backbone', '--out', path.join(dir, 'both')]);
    assert.strictEqual(both.code, 2);
    assert.match(both.stderr, /--freeze-backbone or --train-backbone, not both/);
  });
});
