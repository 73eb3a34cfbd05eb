// A run that diverges stops at that step, says why, applies no update, and never leaves a diverged model
// as the run's latest checkpoint. The guard itself on loss sequences, then a real trainer made to
// diverge (tiny backbone, absurd learning rate), then the CLI's messages (no stack traces).
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
import { TrainingDivergedError } from '../../src/engine/errors';
import { ensureGradients } from '../../src/engine/gradients';
import { DivergenceGuard } from '../../src/engine/train/divergence';
import { readMetrics } from '../../src/engine/train/log';
import { latestCheckpoint, listCheckpoints, METRICS_FILE } from '../../src/engine/train/runDir';
import { resolveTrainConfig, Trainer } from '../../src/engine/train/trainer';
import { internalErrorMessage } from '../../src/engine/cli/internalError';

/** Feed losses to a guard; the 1-based index of the first one it rejects (0: none) and why. */
function firstRejected(losses: number[], factor = 10): { at: number; reason?: string } {
  const g = new DivergenceGuard(factor);
  for (let i = 0; i < losses.length; i++) {
    const reason = g.check(losses[i]);
    if (reason) return { at: i + 1, reason };
    g.accept(losses[i]);
  }
  return { at: 0 };
}

describe('divergence guard', () => {
  it('stops MetaSegNet\'s old default run at its first exploding loss (step 4: 28 after 5.2, 2.7, 1.2)', () => {
    const r = firstRejected([5.1723, 2.7252, 1.182, 27.996, 7955085]);
    assert.strictEqual(r.at, 4);
    assert.match(r.reason!, /exploded: 27\.9960 is more than 10× its level \(2\.7252/);
  });

  it('stops at a non-finite loss even with the explosion test off', () => {
    assert.strictEqual(firstRejected([0.7, 0.6, NaN], 0).at, 3);
    assert.strictEqual(firstRejected([0.7, Infinity]).at, 2);
    assert.strictEqual(firstRejected([0.7, 1e9, 0.5], 0).at, 0);
  });

  it('lets noisy single-episode losses through: a hard episode late in training is back at the starting level, not over it', () => {
    // starting level ≈ 0.7; converged ≈ 0.05; a hard episode at 3 is 60× the running median but < 10× the start
    const losses = [0.7, 0.69, 0.65, ...Array.from({ length: 200 }, (_, i) => 0.05 + 0.02 * Math.sin(i)), 3, 0.05, 6.5];
    assert.strictEqual(firstRejected(losses).at, 0);
    assert.strictEqual(firstRejected([...losses, 7.1]).at, losses.length + 1);
  });
});

describe('a diverging training run (tiny backbone, lr 1e4)', function () {
  this.timeout(300000);
  let tmp: string;
  let ds: SegDataset;

  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-diverge-'));
    await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 30, val: 10 }, size: 48 });
    ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('stops at the diverging step with the last good checkpoint, removes the checkpoint of the parameters that diverged, leaves no tensor', async () => {
    const runDir = path.join(tmp, 'run');
    const cfg = resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 40, size: 40, lr: 1e4, lrSteps: [], checkpointEvery: 1, valEvery: 0 }, ds);
    const before = tf.memory().numTensors;
    const t = await Trainer.create(ds, cfg, { runDir, backendName: 'wasm', makeBackbone: async () => tinyBackbone(2) });
    let err: unknown;
    const losses: number[] = [];
    try {
      await t.run({ onStep: (r) => losses.push(r.loss) });
    } catch (e) {
      err = e;
    }
    const stepsDone = t.step;
    t.dispose();
    assert.ok(err instanceof TrainingDivergedError, `expected the run to diverge; losses ${losses.join(', ')}`);
    const d = err as TrainingDivergedError;
    assert.strictEqual(d.step, losses.length + 1, 'the diverged step is the one after the last logged step');
    assert.strictEqual(stepsDone, losses.length, 'the diverged step applied no update');
    assert.ok(d.step >= 2 && d.step < 40);
    // checkpoints: every one left is of parameters whose loss passed; latest.json names the newest of them
    const left = listCheckpoints(runDir);
    assert.ok(left.every((c) => c.step <= d.step - 2), `checkpoints left: ${left.map((c) => c.step)}`);
    const latest = latestCheckpoint(runDir);
    if (d.step >= 3) {
      assert.strictEqual(latest?.step, d.step - 2);
      assert.deepStrictEqual(d.lastGood, { step: d.step - 2, file: latest!.file });
      assert.match(d.message, new RegExp(`training diverged at step ${d.step}: .*last good checkpoint is step ${d.step - 2}`));
    } else {
      assert.strictEqual(latest, undefined);
    }
    const rows = readMetrics(path.join(runDir, METRICS_FILE));
    const last = rows[rows.length - 1];
    assert.strictEqual(last.kind, 'diverged');
    assert.strictEqual(last.step, d.step);
    assert.strictEqual(tf.memory().numTensors, before, 'no tensor left behind');
  });

  it('the CLI prints the divergence as a message (exit 1), never a stack trace', () => {
    const runDir = path.join(tmp, 'cli-run');
    const r = cli(['train', '--data', path.join(tmp, 'data'), '--dataset', 'voc', '--fold', '0', '--ways', '1', '--shots', '1', '--size', '32',
      '--steps', '30', '--lr', '1e6', '--checkpoint-every', '1', '--val-every', '0', '--out', runDir]);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: training diverged at step \d+: /);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace lines');
  });
});

describe('internal errors in the CLI', () => {
  it('say they are a bug and where to report it; the stack only with --debug', () => {
    const e = new TypeError('x is undefined');
    const plain = internalErrorMessage(e, false);
    assert.match(plain, /^internal error: x is undefined\nThis is a bug in ProtoLab/);
    assert.match(plain, /report it/);
    assert.match(plain, /--debug/);
    assert.doesNotMatch(plain, /^\s+at /m);
    assert.match(internalErrorMessage(e, true), /\n\nTypeError: x is undefined\n\s+at /);
  });
});
