// Every method trains with its DEFAULT settings (VGG-16, lr 1e-3; the whole network for PANet and
// MetaSegNet, the encoder on a frozen backbone for the pixel-level meta-learner, as its paper) without blowing up:
// 20 steps on the sample set (seed 7, as `protolab sample --out s --seed 7`) at 96²; every loss finite
// and below 10× the first; the trained model scores at least half the untrained one's mIoU on the same
// 40 validation episodes. MetaSegNet failed this before its base learner saw L2-normalised embeddings
// with an absolute ridge λ (losses 5.2, 2.7, 1.2, 28, 8·10⁶; mIoU 15.3 → 0.0).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, useTestBackend } from './helpers/tf';
import type { SegDataset } from '../../src/engine/data/dataset';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { evaluate, type EvalSettings } from '../../src/engine/eval/evaluate';
import type { MethodId } from '../../src/engine/fewshot/registry';
import { ensureGradients } from '../../src/engine/gradients';
import { resolveTrainConfig, Trainer } from '../../src/engine/train/trainer';

describe('training with default settings stays stable (VGG-16 end to end, 96², 20 steps)', function () {
  this.timeout(900000);
  let tmp: string;
  let ds: SegDataset;

  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-stable-'));
    await writeSampleDataset({ out: path.join(tmp, 's'), seed: 7 });
    ds = await openDataset({ data: path.join(tmp, 's'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const method of ['panet', 'metasegnet', 'pixelmeta'] as MethodId[]) {
    it(`${method}: losses finite and < 10× the first; mIoU after ≥ half of before`, async () => {
      const start = tf.memory().numTensors;
      const cfg = resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, size: 96, steps: 20, method, valEvery: 0, checkpointEvery: 0 }, ds);
      assert.strictEqual(cfg.lr, 1e-3, 'the default learning rate');
      // the paper's setting: end to end for PANet and MetaSegNet, a frozen backbone for the pixel-level meta-learner
      assert.strictEqual(cfg.freezeBackbone, method === 'pixelmeta');
      const t = await Trainer.create(ds, cfg, { backendName: 'wasm' });
      try {
        const settings: EvalSettings = {
          method, dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes: 40, runs: 1, seed: 21, size: 96,
          list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
        };
        const before = (await evaluate(ds, t.backbone, t.method, settings, 'wasm')).miou;
        const losses: number[] = [];
        await t.run({ onStep: (r) => losses.push(r.loss) });
        const after = (await evaluate(ds, t.backbone, t.method, settings, 'wasm')).miou;
        const shown = `losses ${losses.map((l) => l.toFixed(3)).join(', ')}; mIoU ${(100 * before).toFixed(1)} → ${(100 * after).toFixed(1)}`;
        assert.strictEqual(losses.length, 20, shown);
        assert.ok(losses.every((l) => Number.isFinite(l) && l < 10 * losses[0]), shown);
        assert.ok(after >= before / 2, shown);
        console.log(`      ${method}: ${shown}`);
      } finally {
        t.dispose();
      }
      assert.strictEqual(tf.memory().numTensors, start);
    });
  }
});
