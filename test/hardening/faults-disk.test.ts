// Disk full (ENOSPC, after the bytes that still fit) and read-only folders (EROFS), injected under one
// folder at a time by helpers/faultyFs.ts, for every kind of file ProtoLab writes: checkpoints and
// latest.json, metrics.jsonl, run folders and their lock, reports and episode records, the VOC and COCO
// index caches, the feature cache, masks, segment outputs, score JSON, and the engine process's writes.
// Each must end with a clear error naming the file and the reason (or, for a pure cache, a note and
// going on), and leave no half-written file under any name.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { EngineServer } from '../../src/engine/server';
import type { Reply } from '../../src/shared/engineProtocol';
import { readMetrics } from '../../src/engine/train/log';
import { runCli, show, type CliRun } from './helpers/cliInProcess';
import { withFault, type Fault } from './helpers/faultyFs';
import { freshCase, pristine, tempLeftovers, TMP, type Fixture } from './helpers/fixtures';
import { countFault } from './helpers/tally';

const MODEL = ['--backbone', 'mobilenetv2', '--size', '32', '--workers', '0', '--backend', 'wasm'];
const TRAIN = ['--fold', '0', '--ways', '1', '--shots', '1', '--size', '32', '--method', 'metasegnet', '--freeze-backbone', '--backbone', 'mobilenetv2',
  '--backend', 'wasm', '--val-every', '0', '--checkpoint-every', '1'];
const FULL = /no space left on the device \(the disk is full\) \(ENOSPC\)/;
const READ_ONLY = /the file system is read-only \(EROFS\)/;

/** Run a CLI command with a fault in force. */
async function cliUnder(fault: Fault, argv: string[]): Promise<{ r: CliRun; hits: string[] }> {
  const { value, error, report } = await withFault(fault, () => runCli(argv));
  if (error) throw error;
  return { r: value!, hits: report.hits };
}

/** The command failed cleanly (exit 1, no escaped exception) with a line naming `file` and `reason`. */
function failsNaming(r: CliRun, file: string | RegExp, reason: RegExp): void {
  const ok = r.err.split('\n').some((l) => (typeof file === 'string' ? l.includes(file) : file.test(l)) && reason.test(l));
  assert.ok(!r.threw && r.code === 1 && ok, show(r));
  assert.doesNotMatch(r.err, /\n\s+at \S+ \(/, 'no stack trace');
}

describe('faults: disk full and read-only folders', function () {
  this.timeout(300000);
  let f: Fixture;

  before(async () => {
    f = await pristine();
  });

  it('checkpoint write on a full disk: clear error, no half checkpoint, latest.json still names the last whole one; resume finishes', async () => {
    const run = path.join(TMP, 'disk', 'ckpt-full');
    const { r, hits } = await cliUnder({ code: 'ENOSPC', under: run, match: /step-000003/, room: 64 }, ['train', '--data', f.root, ...TRAIN, '--steps', '4', '--out', run]);
    assert.ok(hits.length > 0, 'the fault was hit');
    failsNaming(r, path.join(run, 'checkpoints', 'step-000003.safetensors'), new RegExp(`cannot write: ${FULL.source}`));
    assert.deepStrictEqual(fs.readdirSync(path.join(run, 'checkpoints')).sort(), ['step-000001.safetensors', 'step-000002.safetensors']);
    assert.deepStrictEqual(tempLeftovers(run), []);
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(run, 'latest.json'), 'utf8')).step, 2);
    const again = await runCli(['train', '--resume', run, '--backend', 'wasm']);
    assert.ok(again.code === 0, show(again));
    assert.deepStrictEqual(readMetrics(path.join(run, 'metrics.jsonl')).map((m) => m.step), [1, 2, 3, 4]);
    countFault('ENOSPC');
  });

  it('metrics.jsonl append on a full disk: clear error; the torn row is dropped on resume', async () => {
    const run = path.join(TMP, 'disk', 'metrics-full');
    const { r } = await cliUnder({ code: 'ENOSPC', under: run, match: /metrics\.jsonl$/, room: 250 }, ['train', '--data', f.root, ...TRAIN, '--steps', '4', '--out', run]);
    failsNaming(r, path.join(run, 'metrics.jsonl'), FULL);
    const again = await runCli(['train', '--resume', run, '--backend', 'wasm']);
    assert.ok(again.code === 0, show(again));
    const text = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8');
    assert.deepStrictEqual(text.trim().split('\n').map((l) => JSON.parse(l).step), [1, 2, 3, 4], 'whole rows, each step once');
    assert.deepStrictEqual(tempLeftovers(run), []);
    countFault('ENOSPC');
  });

  it('a read-only run folder: train refuses before anything, naming the lock file', async () => {
    const parent = path.join(TMP, 'disk', 'ro-runs');
    fs.mkdirSync(parent, { recursive: true });
    const run = path.join(parent, 'run');
    const { r } = await cliUnder({ code: 'EROFS', under: parent }, ['train', '--data', f.root, ...TRAIN, '--steps', '2', '--out', run]);
    failsNaming(r, path.join(run, '.lock'), new RegExp(`cannot create the lock file: ${READ_ONLY.source}`));
    assert.ok(!fs.existsSync(run));
    countFault('EROFS');
  });

  it('eval --json into a read-only folder: the table is printed, the error names the file, nothing is left', async () => {
    const dir = path.join(TMP, 'disk', 'ro-report');
    fs.mkdirSync(dir, { recursive: true });
    const json = path.join(dir, 'r.json');
    const { r } = await cliUnder({ code: 'EROFS', under: dir }, ['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', '--json', json, ...MODEL]);
    assert.match(r.out, /mIoU per run/);
    failsNaming(r, json, new RegExp(`cannot write: ${READ_ONLY.source}`));
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    countFault('EROFS');
  });

  it('eval --records on a disk that fills mid-stream: clear error, no records file under any name', async () => {
    const dir = path.join(TMP, 'disk', 'records-full');
    fs.mkdirSync(dir, { recursive: true });
    const rec = path.join(dir, 'r.jsonl');
    const { r } = await cliUnder({ code: 'ENOSPC', under: dir, room: 700 }, ['eval', '--data', f.root, '--fold', '0', '--episodes', '6', '--runs', '1', '--records', rec, ...MODEL]);
    failsNaming(r, rec, new RegExp(`cannot write: ${FULL.source}`));
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    countFault('ENOSPC');
  });

  it('VOC index cache on a full disk: a note, the evaluation goes on; an explicit read-only --cache-dir is refused by name', async () => {
    const g = await freshCase('index cache full', 'voc');
    const cache = path.join(g.voc, '.protolab-cache');
    const { r } = await cliUnder({ code: 'ENOSPC', under: cache, match: /voc-index/ }, ['eval', '--data', g.root, '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
    assert.ok(!r.threw && r.code === 0, show(r));
    assert.match(r.err, new RegExp(`note: the class index could not be cached \\(\\S+voc-index-val-\\S+\\.json: cannot write: ${FULL.source}\\); it is rebuilt on the next open`));
    assert.deepStrictEqual(tempLeftovers(cache), []);
    const ro = path.join(TMP, 'disk', 'ro-cache');
    fs.mkdirSync(ro, { recursive: true });
    const { r: r2 } = await cliUnder({ code: 'EROFS', under: ro }, ['eval', '--data', g.root, '--fold', '0', '--episodes', '2', '--runs', '1', '--cache-dir', ro, ...MODEL]);
    failsNaming(r2, ro, /cache folder is not writable/);
    countFault('ENOSPC');
    countFault('EROFS');
  });

  it('COCO annotation cache on a full disk: clear error naming the cache file; no temp file left', async () => {
    const g = await freshCase('coco cache full', 'coco');
    const cache = path.join(TMP, 'disk', 'coco-cache');
    const { r } = await cliUnder({ code: 'ENOSPC', under: cache, room: 1000 }, ['masks', '--data', g.coco, '--dataset', 'coco', '--list', 'val', '--cache-dir', cache, '--out', path.join(g.root, 'm')]);
    failsNaming(r, /\.protolab-anns\.jsonl/, new RegExp(`cannot write: ${FULL.source}`));
    assert.deepStrictEqual(fs.readdirSync(cache).filter((x) => !x.startsWith('.probe')), []);
    countFault('ENOSPC');
  });

  it('feature cache on a full disk: a note, the evaluation goes on from memory with the same result', async () => {
    const feat = path.join(TMP, 'disk', 'features');
    const json = path.join(TMP, 'disk', 'feat.json'), ref = path.join(TMP, 'disk', 'feat-ref.json');
    const base = ['eval', '--data', f.root, '--fold', '0', '--episodes', '5', '--runs', '1', ...MODEL];
    assert.strictEqual((await runCli([...base, '--json', ref])).code, 0);
    const { r } = await cliUnder({ code: 'ENOSPC', under: feat, room: 3000 }, [...base, '--feature-cache', feat, '--json', json]);
    assert.ok(!r.threw && r.code === 0, show(r));
    assert.match(r.err, new RegExp(`note: feature cache folder ${feat.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is no longer written to \\(.*${FULL.source}\\); going on from memory`));
    assert.strictEqual(JSON.parse(fs.readFileSync(json, 'utf8')).miou, JSON.parse(fs.readFileSync(ref, 'utf8')).miou);
    assert.deepStrictEqual(tempLeftovers(feat), []);
    countFault('ENOSPC');
  });

  it('masks, segment and score into read-only folders: one clear error each (not one per file)', async () => {
    const ro = path.join(TMP, 'disk', 'ro-out');
    fs.mkdirSync(ro, { recursive: true });
    const m = (await cliUnder({ code: 'EROFS', under: ro }, ['masks', '--data', f.root, '--out', path.join(ro, 'masks')])).r;
    failsNaming(m, path.join(ro, 'masks'), READ_ONLY);
    assert.doesNotMatch(m.out, /skipped/);
    const id = f.valIds[0];
    const s = (await cliUnder({ code: 'EROFS', under: ro }, ['segment', '--support', f.jpeg(id), '--support-mask', f.mask(id), '--query', f.jpeg(f.valIds[1]), '--out', path.join(ro, 'seg'), '--size', '32', '--backend', 'wasm'])).r;
    failsNaming(s, path.join(ro, 'seg'), READ_ONLY);
    const sc = (await cliUnder({ code: 'EROFS', under: ro }, ['score', '--gt', path.join(f.voc, 'SegmentationClass'), '--pred', path.join(f.voc, 'SegmentationClass'), '--json', path.join(ro, 's.json')])).r;
    failsNaming(sc, path.join(ro, 's.json'), READ_ONLY);
    assert.deepStrictEqual(fs.readdirSync(ro), []);
    countFault('EROFS', 3);
  });

  it('the engine process: a report into a read-only folder and a run on a full disk are error replies naming the file', async () => {
    const replies: Reply[] = [];
    const server = new EngineServer((r) => replies.push(r), { backend: 'wasm' });
    const ask = async (req: Record<string, unknown>) => {
      await server.handle(req);
      return replies.filter((x) => x.inReplyTo === req.id && x.type !== 'event').at(-1)!;
    };
    const ro = path.join(TMP, 'disk', 'engine-ro');
    fs.mkdirSync(ro, { recursive: true });
    const set = { data: f.root, dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' };
    const json = path.join(ro, 'r.json');
    const { value: a } = await withFault({ code: 'EROFS', under: ro }, () => ask({ type: 'evaluate', id: 1, params: { set, model: { backbone: 'mobilenetv2', size: 32 }, episodes: 2, runs: 1, annotation: 'dense', json } }));
    assert.ok(a && a.type === 'error' && a.kind === 'data' && a.file === json && READ_ONLY.test(a.message), JSON.stringify(a));
    const run = path.join(TMP, 'disk', 'engine-run');
    const params = { data: { data: f.root, dataset: 'voc' }, fold: 0, split: 'panet', ways: 1, shots: 1, steps: 3, method: 'metasegnet', freezeBackbone: true, backbone: 'mobilenetv2', size: 32, checkpointEvery: 1, valEvery: 0, out: run };
    const { value: b } = await withFault({ code: 'ENOSPC', under: run, match: /step-000002/ }, () => ask({ type: 'train', id: 2, params }));
    assert.ok(b && b.type === 'error' && b.kind === 'data' && /step-000002\.safetensors$/.test(b.file ?? '') && FULL.test(b.message), JSON.stringify(b));
    assert.deepStrictEqual(tempLeftovers(ro), []);
    assert.deepStrictEqual(tempLeftovers(run), []);
    assert.deepStrictEqual(fs.readdirSync(path.join(run, 'checkpoints')), ['step-000001.safetensors']);
    assert.ok(!fs.existsSync(path.join(run, '.lock')), 'the failed run let go of its lock');
    // and the same server goes on serving
    const ok = await ask({ type: 'listEpisodes', id: 3, set, run: 0, from: 0, count: 2 });
    assert.strictEqual(ok.type, 'result');
    countFault('EROFS');
    countFault('ENOSPC');
  });
});
