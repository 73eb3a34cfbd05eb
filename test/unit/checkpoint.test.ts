// Training checkpoints: every tensor (backbone, head, momentum buffers) written and read back bit for bit,
// the config that rebuilds the run, the run-dir pointers, and the metrics log's truncation on resume.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf, useTestBackend } from './helpers/tf';
import { tinyBackbone } from './helpers/tinyBackbone';
import type { SegDataset } from '../../src/engine/data/dataset';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { ensureGradients } from '../../src/engine/gradients';
import { loadCheckpoint } from '../../src/engine/nets/weights';
import { readTrainMeta } from '../../src/engine/train/checkpoint';
import { MetricsLog, readMetrics } from '../../src/engine/train/log';
import { checkpointPath, latestCheckpoint, resolveCheckpoint } from '../../src/engine/train/runDir';
import { resolveTrainConfig, Trainer } from '../../src/engine/train/trainer';

const bytes = (a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('training checkpoints', function () {
  this.timeout(300000);
  let tmp: string;
  let ds: SegDataset;

  before(async () => {
    await useTestBackend('wasm');
    ensureGradients();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-ckpt-'));
    await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 40, val: 20 }, size: 64 });
    ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('round-trips weights and momentum bit for bit, with step, config and data fingerprint', async () => {
    const run = path.join(tmp, 'run');
    const cfg = resolveTrainConfig({ dataset: 'voc', fold: 1, ways: 1, shots: 1, steps: 2, size: 40, checkpointEvery: 0, valEvery: 0 }, ds);
    const t = await Trainer.create(ds, cfg, { runDir: run, backendName: 'wasm', makeBackbone: async () => tinyBackbone(5) });
    await t.run();
    const file = latestCheckpoint(run)!.file;
    assert.strictEqual(file, checkpointPath(run, 2));
    assert.strictEqual(resolveCheckpoint(run), file);
    assert.strictEqual(resolveCheckpoint(file), file);

    const ck = loadCheckpoint(file);
    const names = Object.keys(ck.tensors).sort();
    assert.deepStrictEqual(names, [
      ...['c1.bias', 'c1.weight', 'c2.bias', 'c2.weight'].map((n) => `backbone.${n}`),
      ...['c1.bias', 'c1.weight', 'c2.bias', 'c2.weight'].map((n) => `optim.backbone.${n}`),
    ]);
    for (const [n, v] of Object.entries(t.backbone.params!)) {
      assert.ok(bytes(ck.tensors[`backbone.${n}`].dataSync()).equals(bytes(v.dataSync())), `backbone.${n}`);
    }
    // momentum after 2 steps is not zero: the file really holds the optimizer state
    const buf = ck.tensors['optim.backbone.c1.weight'].dataSync();
    assert.ok(buf.some((x) => x !== 0));
    const meta = readTrainMeta(file);
    assert.strictEqual(meta.step, 2);
    assert.strictEqual(meta.method, 'panet');
    assert.deepStrictEqual(meta.methodConfig, { par: 1 });
    assert.deepStrictEqual(meta.config, JSON.parse(JSON.stringify(t.config)));
    assert.strictEqual(meta.data.fingerprint, ds.fingerprint);
    assert.strictEqual(meta.data.fold, 1);
    assert.ok(!meta.data.classes.includes(6) && meta.data.classes.includes(1)); // fold 1 novel = 6..10
    assert.deepStrictEqual(meta.optimizer, { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });

    // A trainer built from a different init, restored from the run: every tensor equal to the file's.
    // (The first trainer lets go of the run first: one trainer per run folder, lock.ts.)
    t.dispose();
    const r = await Trainer.resume(ds, run, { backendName: 'wasm', makeBackbone: async () => tinyBackbone(99) });
    assert.strictEqual(r.step, 2);
    for (const [n, v] of Object.entries(r.backbone.params!)) assert.ok(bytes(ck.tensors[`backbone.${n}`].dataSync()).equals(bytes(v.dataSync())), n);
    const again = path.join(tmp, 'again.safetensors');
    await r.saveCheckpoint(again);
    const ck2 = loadCheckpoint(again);
    for (const n of names) assert.ok(bytes(ck2.tensors[n].dataSync()).equals(bytes(ck.tensors[n].dataSync())), `re-saved ${n}`);
    r.dispose();
    tf.dispose([...Object.values(ck.tensors), ...Object.values(ck2.tensors)]);
  });

  it('metrics log: truncation keeps steps ≤ the checkpoint, a torn last line is ignored', () => {
    const f = path.join(tmp, 'm.jsonl');
    const log = new MetricsLog(f);
    for (let s = 1; s <= 5; s++) log.append({ kind: 'train', step: s, loss: 1 / s, parts: {}, lr: 0.1, ms: 1, episode: `r0e${s - 1}` });
    log.append({ kind: 'val', step: 4, miou: 0.5, fbiou: 0.6, episodes: 2, ms: 3 });
    fs.appendFileSync(f, '{"kind":"train","step":6,"lo');
    assert.strictEqual(readMetrics(f).length, 6);
    log.truncateAfter(3);
    assert.deepStrictEqual(readMetrics(f).map((r) => r.step), [1, 2, 3]);
  });

  it('resolveCheckpoint: a run dir without latest.json falls back to the highest step file; errors name the path', () => {
    const run = path.join(tmp, 'bare');
    fs.mkdirSync(path.join(run, 'checkpoints'), { recursive: true });
    assert.throws(() => resolveCheckpoint(run), /no checkpoint yet/);
    fs.writeFileSync(checkpointPath(run, 20), '');
    fs.writeFileSync(checkpointPath(run, 100), '');
    assert.strictEqual(resolveCheckpoint(run), checkpointPath(run, 100));
    assert.throws(() => resolveCheckpoint(path.join(tmp, 'nope')), /does not exist/);
  });
});
