// Cancel at 100 seeded random points across evaluation and training (and through the engine process's
// own cancel), with tf.memory().numTensors checked after every one: a cancel anywhere (between episodes,
// inside a training step's gradient tape, during validation, right after a checkpoint) must leave the
// tfjs engine exactly as it was. A tiny two-conv backbone keeps each job to milliseconds. A few jobs are
// instead aborted by an error thrown mid-step, the other way a job ends early.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { openDataset } from '../../src/engine/data/open';
import type { SegDataset } from '../../src/engine/data/dataset';
import { DataError } from '../../src/engine/errors';
import { evaluate, type EvalSettings } from '../../src/engine/eval/evaluate';
import { panetMethod } from '../../src/engine/fewshot/method';
import { createMethod } from '../../src/engine/fewshot/registry';
import type { Backbone } from '../../src/engine/nets/backbone';
import { Rng } from '../../src/engine/prng';
import { EngineServer } from '../../src/engine/server';
import type { Reply } from '../../src/shared/engineProtocol';
import { resolveTrainConfig, Trainer } from '../../src/engine/train/trainer';
import { tinyBackbone } from '../unit/helpers/tinyBackbone';
import { useTestBackend } from '../unit/helpers/tf';
import { pristine, TMP } from './helpers/fixtures';
import { countFault, tally } from './helpers/tally';

/** A backbone that calls `tick(n)` on its n-th forward pass (where a trial cancels or throws). */
function instrumented(b: Backbone, tick: (n: number) => void): Backbone {
  let n = 0;
  return { ...b, features: (x) => { tick(++n); return b.features(x); } };
}

describe('cancels at 100 seeded random points: numTensors back to its start each time', function () {
  this.timeout(600000);
  let ds: SegDataset;
  let root: string;

  before(async () => {
    await useTestBackend('wasm');
    root = (await pristine()).root;
    ds = await openDataset({ data: root, dataset: 'voc' });
    await ds.index('val');
    await ds.index('train');
  });

  const settings = (over: Partial<EvalSettings> = {}): EvalSettings => ({
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes: 200, runs: 2, seed: 1234, size: 32, list: 'val',
    annotation: 'dense', minPixels: 1, queriesPerClass: 1, ...over,
  });

  it('evaluation: 45 cancels (at the k-th forward pass, or after a random delay), 3 methods, dense/box/scribble, 1–2 way', async () => {
    const rng = new Rng(1101);
    for (let trial = 0; trial < 45; trial++) {
      const start = tf.memory().numTensors;
      const abort = new AbortController();
      const byTimer = rng.next() < 0.4;
      const k = 1 + rng.int(8);
      const methodId = ['panet', 'metasegnet', 'pixelmeta'][rng.int(3)];
      const backbone = instrumented(tinyBackbone(1 + trial), (n) => { if (!byTimer && n === k) abort.abort(); });
      const method = methodId === 'panet' ? panetMethod : createMethod(methodId, undefined, backbone.channels, trial);
      const timer = byTimer ? setTimeout(() => abort.abort(), rng.int(40)) : undefined;
      try {
        const r = await evaluate(ds, backbone, method, settings({ method: methodId, annotation: (['dense', 'box', 'scribble'] as const)[rng.int(3)], ways: 1 + rng.int(2) }), 'wasm', { signal: abort.signal });
        assert.strictEqual(r.complete, false, `trial ${trial}: the evaluation ran to its end before the cancel`);
      } finally {
        clearTimeout(timer);
        (method as { dispose?: () => void }).dispose?.();
        backbone.dispose();
      }
      const leaked = tf.memory().numTensors - start;
      tally.cancels.leakedTensors += Math.max(0, leaked);
      assert.strictEqual(leaked, 0, `trial ${trial} (${methodId}, ${byTimer ? 'timer' : `forward ${k}`}) leaked ${leaked} tensors`);
      tally.cancels.eval++;
    }
  });

  it('training: 45 cancels (inside a step\'s gradient tape, during validation, after a checkpoint), 3 methods, end to end and frozen', async () => {
    const rng = new Rng(2202);
    for (let trial = 0; trial < 45; trial++) {
      const start = tf.memory().numTensors;
      const abort = new AbortController();
      const method = (['panet', 'metasegnet', 'pixelmeta'] as const)[rng.int(3)];
      const freeze = method !== 'panet' && rng.next() < 0.5;
      const byTimer = rng.next() < 0.3;
      const k = 1 + rng.int(12);
      const runDir = rng.next() < 0.3 ? path.join(TMP, 'cancel-runs', String(trial)) : undefined;
      const cfg = resolveTrainConfig({
        dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 200, size: 32, method, freezeBackbone: freeze, checkpointEvery: 3,
        valEvery: rng.next() < 0.4 ? 2 : 0, valEpisodes: 3, lr: 1e-4, // small: a diverging run (trainer's guard) would end before its cancel
      }, ds);
      const t = await Trainer.create(ds, cfg, {
        runDir, backendName: 'wasm',
        makeBackbone: async () => instrumented(tinyBackbone(100 + trial), (n) => { if (!byTimer && n === k) abort.abort(); }),
      });
      const timer = byTimer ? setTimeout(() => abort.abort(), rng.int(60)) : undefined;
      try {
        const out = await t.run({ signal: abort.signal });
        assert.ok(out.cancelled, `trial ${trial}: training ran to its end before the cancel`);
        if (runDir) assert.ok(fs.existsSync(path.join(runDir, 'latest.json')), 'a cancelled run leaves a checkpoint');
      } finally {
        clearTimeout(timer);
        t.dispose();
      }
      const leaked = tf.memory().numTensors - start;
      tally.cancels.leakedTensors += Math.max(0, leaked);
      assert.strictEqual(leaked, 0, `trial ${trial} (${method}${freeze ? ' frozen' : ''}, ${byTimer ? 'timer' : `forward ${k}`}) leaked ${leaked} tensors`);
      tally.cancels.train++;
    }
  });

  it('and jobs ended by an error thrown inside a forward pass (evaluation, training) or by divergence leave no tensor either', async () => {
    const rng = new Rng(3303);
    for (let trial = 0; trial < 6; trial++) {
      const start = tf.memory().numTensors;
      const k = 1 + rng.int(6);
      const boom = (n: number) => { if (n === k) throw new DataError('/fake/image.jpg', 'thrown mid-step by the test'); };
      if (trial % 2 === 0) {
        const backbone = instrumented(tinyBackbone(7), boom);
        // evaluate skips the episode a DataError spoils and goes on: it completes, one episode short
        const r = await evaluate(ds, backbone, panetMethod, settings({ episodes: 5, runs: 1 }), 'wasm').finally(() => backbone.dispose());
        assert.ok(r.skipped.length >= 1 && r.skipped[0].error.includes('thrown mid-step'));
      } else {
        const cfg = resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 20, size: 32, method: 'metasegnet', checkpointEvery: 0, valEvery: 0 }, ds);
        const t = await Trainer.create(ds, cfg, { backendName: 'wasm', makeBackbone: async () => instrumented(tinyBackbone(8), boom) });
        await assert.rejects(t.run(), /thrown mid-step/).finally(() => t.dispose());
      }
      assert.strictEqual(tf.memory().numTensors - start, 0, `error trial ${trial} leaked`);
      countFault('throw mid-step');
    }
    // and runs stopped by the trainer's own divergence guard (a learning rate far too high)
    for (const method of ['panet', 'metasegnet'] as const) {
      const start = tf.memory().numTensors;
      const cfg = resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 100, size: 32, method, lr: 1e5, checkpointEvery: 0, valEvery: 0 }, ds);
      const t = await Trainer.create(ds, cfg, { backendName: 'wasm', makeBackbone: async () => tinyBackbone(9) });
      await assert.rejects(t.run(), /diverged/).finally(() => t.dispose());
      assert.strictEqual(tf.memory().numTensors - start, 0, `diverged ${method} run leaked`);
      countFault('diverged mid-run');
    }
  });

  it('the engine process\'s own cancel: 10 evaluations and trainings cancelled by request at random moments', async () => {
    const replies: Reply[] = [];
    const server = new EngineServer((r) => replies.push(r), { backend: 'wasm' });
    const set = { data: root, dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' };
    const evaluateReq = (id: number) => ({ type: 'evaluate', id, params: { set, model: { backbone: 'mobilenetv2', size: 32 }, episodes: 2000, runs: 1, annotation: 'dense' } });
    // warm up: the session keeps the model it loaded (and its tensors) between requests
    await server.handle({ ...evaluateReq(1), params: { ...evaluateReq(1).params, episodes: 2 } });
    const rng = new Rng(4404);
    let id = 10;
    for (let trial = 0; trial < 10; trial++) {
      const start = tf.memory().numTensors;
      const train = trial % 3 === 2;
      const job = id++;
      const req = train
        ? { type: 'train', id: job, params: { data: { data: root, dataset: 'voc' }, fold: 0, split: 'panet', ways: 1, shots: 1, steps: 500, method: 'metasegnet', freezeBackbone: true, backbone: 'mobilenetv2', size: 32, valEvery: 0, checkpointEvery: 0, out: path.join(TMP, 'engine-cancel', String(trial)) } }
        : evaluateReq(job);
      const done = server.handle(req);
      await new Promise((r) => setTimeout(r, (train ? 1500 : 50) + rng.int(300)));
      await server.handle({ type: 'cancel', id: id++, target: job });
      await done;
      const reply = replies.filter((r) => r.inReplyTo === job && r.type !== 'event').at(-1)!;
      assert.strictEqual(reply.type, 'result', JSON.stringify(reply).slice(0, 300));
      assert.strictEqual((reply as { value: { complete: boolean } }).value.complete, false, `trial ${trial} finished before its cancel`);
      const leaked = tf.memory().numTensors - start;
      tally.cancels.leakedTensors += Math.max(0, leaked);
      assert.strictEqual(leaked, 0, `engine trial ${trial} (${train ? 'train' : 'evaluate'}) leaked ${leaked} tensors`);
      tally.cancels.engine++;
    }
  });
});
