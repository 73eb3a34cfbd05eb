// Sharded evaluation (eval/shard.ts): the shards partition every run's episodes, and merging their files
// gives the unsharded result field by field (timings aside) — dense 2-way 2-shot with a skipped episode,
// and weak supervision with its pseudo-mask score — and a merge refuses shards that do not make one
// evaluation, naming the file.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useTestBackend, tf } from './helpers/tf';
import { tinyBackbone } from './helpers/tinyBackbone';
import type { SegDataset } from '../../src/engine/data/dataset';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { DataError, UsageError } from '../../src/engine/errors';
import { evaluate, resultOf, runEvaluation, type EpisodeOutcome, type EvalHooks, type EvalResult, type EvalSettings } from '../../src/engine/eval/evaluate';
import { evalTable } from '../../src/engine/commands/evalReport';
import { mergeShards, parseShard, shardEpisodes, shardFile, type ShardFile } from '../../src/engine/eval/shard';
import { ANN_BG, ANN_FG } from '../../src/engine/fewshot/annotations';
import { panetMethod } from '../../src/engine/fewshot/method';
import type { PseudoMaskSource } from '../../src/engine/fewshot/weak/pseudoSource';

/** The result without what legitimately differs between one process and a merge. */
function numbers(r: EvalResult): Omit<EvalResult, 'timing' | 'createdAt'> {
  const { timing: _t, createdAt: _c, ...rest } = r;
  return rest;
}

describe('shard spec', () => {
  it('i/n partitions 0…E−1: every episode in exactly one shard, shard sizes within one of each other', () => {
    for (const [E, n] of [[1000, 3], [7, 3], [5, 8], [12, 1]]) {
      const parts = Array.from({ length: n }, (_, i) => shardEpisodes(E, { index: i, count: n }));
      const all = parts.flat().sort((a, b) => a - b);
      assert.deepStrictEqual(all, Array.from({ length: E }, (_, e) => e), `E=${E} n=${n}`);
      const sizes = parts.map((p) => p.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
    }
    assert.deepStrictEqual(shardEpisodes(10, { index: 1, count: 3 }), [1, 4, 7]);
  });
  it('parses i/n and refuses what is not a shard', () => {
    assert.deepStrictEqual(parseShard('2/5'), { index: 2, count: 5 });
    assert.deepStrictEqual(parseShard(' 0 / 1 '), { index: 0, count: 1 });
    for (const bad of ['5/5', '1', '-1/3', '1/0', 'a/b', '1.5/3']) assert.throws(() => parseShard(bad), UsageError, bad);
  });
});

describe('sharded evaluation merged = unsharded (tiny backbone, sample set)', function () {
  this.timeout(300000);
  const N = 40;
  let tmp: string;
  let ds: SegDataset;
  before(async () => {
    await useTestBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-shard-'));
    await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 10, val: 30 }, size: 64 });
    ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const settings = (over: Partial<EvalSettings> = {}): EvalSettings => ({
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 2, shots: 2, episodes: 10, runs: 2, seed: 11, size: N,
    list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1, ...over,
  });

  /** Run all n shards, write each file as JSON and read it back (what a cluster does), merge. */
  async function sharded(data: SegDataset, s: EvalSettings, n: number, hooks: () => EvalHooks = () => ({})) {
    const bb = tinyBackbone(5);
    try {
      const files: Array<{ file: string; data: ShardFile }> = [];
      for (let index = n - 1; index >= 0; index--) { // any order: the merge sorts
        const records: EpisodeOutcome[] = [];
        const run = await runEvaluation(data, bb, panetMethod, s, 'wasm', { ...hooks(), shard: { index, count: n }, onEpisode: (r) => records.push(r) });
        const file = path.join(tmp, `shard-${index}.json`);
        fs.writeFileSync(file, JSON.stringify(shardFile(run, { index, count: n }, records, { backendDetails: { name: 'wasm' } })));
        files.push({ file, data: JSON.parse(fs.readFileSync(file, 'utf8')) });
      }
      return mergeShards(files);
    } finally {
      bb.dispose();
    }
  }

  async function unsharded(data: SegDataset, s: EvalSettings, hooks: EvalHooks = {}) {
    const bb = tinyBackbone(5);
    const records: EpisodeOutcome[] = [];
    try {
      const n0 = tf.memory().numTensors;
      const result = await evaluate(data, bb, panetMethod, s, 'wasm', { ...hooks, onEpisode: (r) => records.push(r) });
      assert.strictEqual(tf.memory().numTensors, n0);
      return { result, records };
    } finally {
      bb.dispose();
    }
  }

  it('dense 2-way 2-shot, 2 runs × 10 episodes, n = 3, with an episode skipped for a bad mask: identical numbers, records, skips and table', async () => {
    const s = settings();
    const clean = await unsharded(ds, s);
    // A mask that fails to load spoils the episodes that use it; they are skipped, in both.
    const badId = clean.records[3].queries[0];
    const broken: SegDataset = Object.create(ds);
    broken.loadMask = (id: string) => (id === badId ? Promise.reject(new DataError(`${id}.png`, 'damaged for the test')) : ds.loadMask(id));
    const one = await unsharded(broken, s);
    assert.ok(one.result.skipped.length >= 1, 'the bad mask must make at least one episode skip');
    const merged = await sharded(broken, s, 3);
    const result = resultOf(merged.run);
    assert.deepStrictEqual(numbers(result), numbers(one.result));
    assert.deepStrictEqual(merged.records, one.records);
    assert.deepStrictEqual(merged.extras, { backendDetails: { name: 'wasm' } });
    // the printed table too, up to its timing line
    const noTiming = (t: string) => t.split('\n').filter((l) => !/ episodes in .* s \(/.test(l)).join('\n');
    assert.strictEqual(noTiming(evalTable(result)), noTiming(evalTable(one.result)));
    assert.strictEqual(result.episodesScored + result.skipped.length, s.runs * s.episodes);
  });

  it('weak supervision (pseudo-mask supports), n = 2 and n = 5 (more shards than a run has episodes of some shards)', async () => {
    const half = Float32Array.from({ length: N * N }, (_, i) => (i % N < N / 2 ? 1 : 0));
    const source = (): PseudoMaskSource => ({
      describe: () => ({ cam: 'test-cam', similarity: 'test-sim', saliency: 'test-sal', threshold: 0.5, unknownLabels: [] }),
      async mask() {
        return {
          annotation: { width: N, height: N, data: Uint8Array.from(half, (v) => (v ? ANN_FG : ANN_BG)) },
          used: { cam: 'test', similarity: 'test', saliency: 'test' }, classWeights: [], score: half, notes: [],
        };
      },
    });
    const s = settings({ annotation: 'pseudo', ways: 1, shots: 1, episodes: 4 });
    const one = await unsharded(ds, s, { pseudo: source() });
    assert.ok(one.result.weak && one.result.weak.pseudoMasks.masks === 8);
    for (const n of [2, 5]) {
      const merged = await sharded(ds, s, n, () => ({ pseudo: source() }));
      assert.deepStrictEqual(numbers(resultOf(merged.run)), numbers(one.result), `n = ${n}`);
      assert.deepStrictEqual(merged.records, one.records, `n = ${n}`);
    }
  });

  it('refuses shards that are not one evaluation, naming the file and what differs', async () => {
    const s = settings({ episodes: 6, runs: 1, ways: 1, shots: 1 });
    const bb = tinyBackbone(5);
    const shards: ShardFile[] = [];
    try {
      for (let index = 0; index < 3; index++) {
        const records: EpisodeOutcome[] = [];
        const run = await runEvaluation(ds, bb, panetMethod, s, 'wasm', { shard: { index, count: 3 }, onEpisode: (r) => records.push(r) });
        shards.push(JSON.parse(JSON.stringify(shardFile(run, { index, count: 3 }, records, {}))));
      }
    } finally {
      bb.dispose();
    }
    const as = (...fs: ShardFile[]) => fs.map((data, i) => ({ file: `/x/s${i}.json`, data }));
    const clone = (f: ShardFile): ShardFile => JSON.parse(JSON.stringify(f));
    assert.doesNotThrow(() => mergeShards(as(...shards)));
    assert.throws(() => mergeShards(as(shards[0], shards[1])), /shard 2\/3 missing/);
    assert.throws(() => mergeShards(as(shards[0], shards[1], shards[1])), (e: Error) => e instanceof DataError && /s2\.json: is shard 1\/3 again \(\/x\/s1\.json is too\)/.test(e.message));
    const other = clone(shards[2]);
    other.evaluation.settings.seed = 12;
    assert.throws(() => mergeShards(as(shards[0], shards[1], other)), /s2\.json: belongs to another evaluation than \/x\/s0\.json: settings\.seed is 12 here, 11 there/);
    const weights = clone(shards[1]);
    weights.evaluation.backbone.weightsHash = 'other';
    assert.throws(() => mergeShards(as(shards[0], weights, shards[2])), /s1\.json: .*backbone\.weightsHash is "other" here/);
    const data = clone(shards[1]);
    data.evaluation.data.fingerprint = 'voc-elsewhere';
    assert.throws(() => mergeShards(as(shards[0], data, shards[2])), /s1\.json: .*data\.fingerprint/);
    const four = clone(shards[2]);
    four.shard.count = 4;
    assert.throws(() => mergeShards(as(shards[0], shards[1], four)), /s2\.json: is shard 2\/4, but \/x\/s0\.json is one of 3 shards/);
    const stopped = clone(shards[0]);
    stopped.complete = false;
    assert.throws(() => mergeShards(as(stopped, shards[1], shards[2])), /s0\.json: shard 0\/3 was stopped before its end/);
    const moved = clone(shards[0]);
    moved.episodes[0] = [0, 1];
    assert.throws(() => mergeShards(as(moved, shards[1], shards[2])), /s0\.json: run 0 covers episodes other than shard 0\/3's/);
    const counts = clone(shards[1]);
    counts.runs[0].model.counts.pop();
    assert.throws(() => mergeShards(as(shards[0], counts, shards[2])), /s1\.json \(run 0, model\): 20 class counts, expected 21/);
  });
});
