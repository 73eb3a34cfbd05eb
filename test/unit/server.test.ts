// The engine process as the extension host meets it: forked with an IPC channel, typed requests in,
// events and one result/error out, binary payloads as Uint8Array, cancel by id.
import * as assert from 'assert';
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSampleDataset } from '../../src/engine/data/sample';
import type { EpisodeSetRef, Reply } from '../../src/shared/engineProtocol';
import { cli } from './helpers/cli';
import { decodeIndexPng } from '../../src/engine/image/png';

class Client {
  private next = 1;
  readonly events = new Map<number, Reply[]>();
  private readonly done = new Map<number, (r: Reply) => void>();
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      if (m.type === 'event') (this.events.get(m.inReplyTo) ?? this.events.set(m.inReplyTo, []).get(m.inReplyTo)!).push(m);
      else this.done.get(m.inReplyTo)?.(m);
    });
  }
  start(req: Record<string, unknown>): { id: number; reply: Promise<Reply> } {
    const id = this.next++;
    const reply = new Promise<Reply>((resolve) => this.done.set(id, resolve));
    this.child.send({ ...req, id });
    return { id, reply };
  }
  async call(req: Record<string, unknown>): Promise<any> {
    const r = await this.start(req).reply;
    if (r.type === 'error') throw new Error(`${r.kind}: ${r.message}`);
    return (r as { value: unknown }).value;
  }
}

describe('engine server process', function () {
  this.timeout(300000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-srv-'));
  let child: ChildProcess;
  let c: Client;
  let set: EpisodeSetRef;

  before(async () => {
    await writeSampleDataset({ out: dir, seed: 3, images: { train: 10, val: 30 } });
    child = fork(path.resolve(__dirname, '../../src/engine/server.js'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c = new Client(child);
    set = { data: dir, dataset: 'voc', split: 'panet', fold: 2, ways: 1, shots: 1, seed: 1234, list: 'val' };
  });
  after(() => {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers hello with the protocol, version and backend', async () => {
    const h = await c.call({ type: 'hello', protocol: 1 });
    assert.strictEqual(h.protocol, 1);
    assert.strictEqual(h.backend, 'wasm');
    assert.ok(h.backendReasons.length > 0);
  });

  it('rejects malformed messages with a protocol error naming the problem', async () => {
    const r = await c.start({ type: 'listEpisodes', set: { ...set, fold: 'x' }, run: 0, from: 0, count: 5 }).reply;
    assert.strictEqual(r.type, 'error');
    assert.strictEqual((r as { kind: string }).kind, 'protocol');
    assert.match((r as { message: string }).message, /fold must be an integer/);
    const u = await c.start({ type: 'nonsense' }).reply;
    assert.match((u as { message: string }).message, /unknown request type/);
  });

  it('opens a dataset and lists episodes by random access, the same as the CLI sampler', async () => {
    const info = await c.call({ type: 'openDataset', ref: { data: dir, dataset: 'voc' } });
    assert.strictEqual(info.classNames.length, 21);
    assert.deepStrictEqual(info.folds.panet[2], [11, 12, 13, 14, 15]);
    const a = await c.call({ type: 'listEpisodes', set, run: 0, from: 100, count: 3 });
    const b = await c.call({ type: 'listEpisodes', set, run: 0, from: 101, count: 1 });
    assert.deepStrictEqual(a.episodes[1], b.episodes[0]);
    assert.strictEqual(a.episodes[0].id, 'r0e100');
  });

  it('episodeView sends PNG bytes (not number arrays) for image, ground truth, annotation and prediction', async () => {
    const v = await c.call({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 128 }, annotation: 'box', episode: 'r0e3', maxSide: 200 });
    const q = v.queries[0];
    assert.ok(q.image instanceof Uint8Array && q.pred instanceof Uint8Array && q.gt instanceof Uint8Array);
    const pred = decodeIndexPng(q.pred, 'pred'), gt = decodeIndexPng(q.gt, 'gt');
    assert.deepStrictEqual([pred.width, pred.height], [q.width, q.height]);
    assert.deepStrictEqual([gt.width, gt.height], [q.width, q.height]);
    assert.ok(Math.max(q.width, q.height) <= 200);
    const ann = decodeIndexPng(v.supports[0][0].annotation, 'ann');
    assert.ok(new Set(ann.data).has(1), 'the box annotation has foreground');
    assert.ok(q.classIoU.length === 1);
  });

  it('weak supervision (annotation pseudo): evaluate reports the pseudo masks; episodeView shows the same support mask and the query\'s pseudo mask', async () => {
    const { reply, id } = c.start({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 96 }, episodes: 3, runs: 1, annotation: 'pseudo' } });
    const r = await reply;
    assert.strictEqual(r.type, 'result');
    const result = (r as { value: any }).value;
    assert.strictEqual(result.weak.parts.cam, 'nsfwjs-mobilenetv2');
    const rec = c.events.get(id)!.filter((e) => e.type === 'event' && e.event.kind === 'episode').map((e) => (e as any).event.record)[0];
    assert.ok(Array.isArray(rec.pseudoIoU));
    const v = await c.call({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 96 }, annotation: 'pseudo', episode: rec.id });
    assert.deepStrictEqual(v.queries[0].classIoU, rec.classIoU); // same pseudo supports as the evaluation
    const q = v.queries[0];
    assert.ok(q.pseudo instanceof Uint8Array);
    const pm = decodeIndexPng(q.pseudo, 'pseudo');
    assert.deepStrictEqual([pm.width, pm.height], [q.width, q.height]);
    const cls = v.episode.classes[0];
    assert.ok([...new Set(pm.data)].every((x) => x === 0 || x === cls), 'the query pseudo mask is in dataset ordinals (0 or its class)');
    const dense = await c.call({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 96 }, annotation: 'dense', episode: rec.id });
    assert.strictEqual(dense.queries[0].pseudo, undefined);
  });

  it('a checkpoint trained from image labels brings its own pseudo-mask parts (here: no saliency) to evaluate and episodeView', async () => {
    const run = path.join(dir, 'runs', 'weak');
    const t = cli(['train', '--data', dir, '--fold', '2', '--ways', '1', '--shots', '1', '--steps', '1', '--size', '48', '--backend', 'wasm',
      '--method', 'pixelmeta', '--freeze-backbone', '--backbone', 'mobilenetv2', '--supervision', 'image-labels', '--no-saliency', '--val-every', '0', '--out', run]);
    assert.strictEqual(t.code, 0, t.stderr);
    const model = { checkpoint: run, size: 48 };
    const r = await c.call({ type: 'evaluate', params: { set, model, episodes: 2, runs: 1, annotation: 'pseudo' } });
    assert.strictEqual(r.weak.parts.saliency, 'none');
    const v = await c.call({ type: 'episodeView', set, model, annotation: 'pseudo', episode: 'r0e0' });
    assert.ok(v.queries[0].pseudo instanceof Uint8Array);
    // plain weights: the built-in parts again (saliency on)
    const plain = await c.call({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 48 }, episodes: 1, runs: 1, annotation: 'pseudo' } });
    assert.match(plain.weak.parts.saliency, /^feature-contrast/);
  });

  it('evaluate streams progress and episode events, writes the JSON, and its per-episode IoU matches episodeView', async () => {
    const json = path.join(dir, 'out', 'eval.json');
    const { id, reply } = c.start({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 128 }, episodes: 8, runs: 1, annotation: 'dense', json } });
    const r = await reply;
    assert.strictEqual(r.type, 'result');
    const ev = c.events.get(id)!;
    assert.ok(ev.some((e) => e.type === 'event' && e.event.kind === 'progress'));
    const eps = ev.filter((e) => e.type === 'event' && e.event.kind === 'episode').map((e) => (e as any).event.record);
    assert.strictEqual(eps.length, 8);
    assert.ok(fs.existsSync(json));
    const v = await c.call({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 128 }, annotation: 'dense', episode: eps[5].id });
    assert.deepStrictEqual(v.queries[0].classIoU, eps[5].classIoU);
  });

  it('cancel stops a running evaluation early and the engine keeps serving', async () => {
    const { id, reply } = c.start({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 128 }, episodes: 5000, runs: 5, annotation: 'dense' } });
    await new Promise((r) => setTimeout(r, 1500));
    const cc = await c.call({ type: 'cancel', target: id });
    assert.strictEqual(cc.cancelled, true);
    const r = (await reply) as { type: string; value: { complete: boolean; episodesScored: number } };
    assert.strictEqual(r.type, 'result');
    assert.strictEqual(r.value.complete, false);
    assert.ok(r.value.episodesScored < 25000);
    assert.strictEqual((await c.call({ type: 'hello', protocol: 1 })).protocol, 1);
  });

  it('train streams metrics, progress and checkpoints; its checkpoint evaluates with its own method', async () => {
    const out = path.join(dir, 'runs', 'msn');
    const params = {
      data: { data: dir, dataset: 'voc' }, fold: 2, split: 'panet', ways: 1, shots: 1, steps: 3, method: 'metasegnet',
      freezeBackbone: true, backbone: 'mobilenetv2', size: 64, out, checkpointEvery: 2, valEvery: 0,
    };
    const { id, reply } = c.start({ type: 'train', params });
    const r = (await reply) as { type: string; value: { runDir: string; checkpoint: string; step: number; complete: boolean }; message?: string };
    assert.strictEqual(r.type, 'result', r.message);
    assert.deepStrictEqual([r.value.step, r.value.complete, r.value.runDir], [3, true, out]);
    assert.ok(fs.existsSync(r.value.checkpoint));
    const ev = c.events.get(id)!.map((e) => (e as { event: { kind: string; row?: { kind?: string }; step?: number } }).event);
    assert.strictEqual(ev.filter((e) => e.kind === 'metrics' && e.row?.kind === 'train').length, 3);
    assert.deepStrictEqual(ev.filter((e) => e.kind === 'checkpoint').map((e) => e.step), [2, 3]);
    const res = await c.call({ type: 'evaluate', params: { set, model: { checkpoint: out, size: 64 }, episodes: 4, runs: 1, annotation: 'dense' } });
    assert.strictEqual(res.settings.method, 'metasegnet');
    assert.strictEqual(res.episodesScored, 4);
  });

  it('train with supervision image-labels trains the pixel-level meta-learner from pseudo masks; config.json records it', async () => {
    const out = path.join(dir, 'runs', 'weak-srv');
    const params = {
      data: { data: dir, dataset: 'voc' }, fold: 2, split: 'panet', ways: 1, shots: 1, steps: 2, method: 'pixelmeta', supervision: 'image-labels',
      freezeBackbone: true, backbone: 'mobilenetv2', size: 48, out, valEvery: 0,
    };
    const { id, reply } = c.start({ type: 'train', params });
    const r = (await reply) as { type: string; value: { runDir: string; step: number; complete: boolean }; message?: string };
    assert.strictEqual(r.type, 'result', r.message);
    assert.deepStrictEqual([r.value.step, r.value.complete], [2, true]);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.strictEqual(cfg.config.supervision, 'image-labels');
    assert.strictEqual(cfg.config.method, 'pixelmeta');
    assert.ok(cfg.config.weak, 'the pseudo-mask pipeline settings (defaults) are recorded');
    const rows = c.events.get(id)!.map((e) => (e as { event: { kind: string; row?: { kind?: string; parts?: Record<string, number> } } }).event)
      .filter((e) => e.kind === 'metrics' && e.row?.kind === 'train');
    assert.strictEqual(rows.length, 2);
    assert.ok(rows.every((e) => typeof e.row!.parts?.meta === 'number'), 'PixelMeta logs its meta loss part');
    // a mask-supervised run (the test above, no supervision given) records 'masks'
    const msnCfg = path.join(dir, 'runs', 'msn', 'config.json');
    if (fs.existsSync(msnCfg)) assert.strictEqual(JSON.parse(fs.readFileSync(msnCfg, 'utf8')).config.supervision, 'masks');
  });

  it('train with an unknown supervision is a protocol error', async () => {
    const r = await c.start({ type: 'train', params: {
      data: { data: dir, dataset: 'voc' }, fold: 2, split: 'panet', ways: 1, shots: 1, steps: 1, method: 'pixelmeta', supervision: 'scribbles',
      out: path.join(dir, 'runs', 'bad'),
    } }).reply;
    assert.strictEqual(r.type, 'error');
    assert.strictEqual((r as { kind: string }).kind, 'protocol');
    assert.match((r as { message: string }).message, /supervision must be one of masks\|image-labels/);
    assert.ok(!fs.existsSync(path.join(dir, 'runs', 'bad')), 'nothing was started');
  });

  it('train without an output folder is a usage error', async () => {
    const r = await c.start({ type: 'train', params: { data: { data: dir, dataset: 'voc' }, fold: 0, split: 'panet', ways: 1, shots: 1, steps: 1, method: 'panet' } }).reply;
    assert.strictEqual((r as { kind: string }).kind, 'usage');
  });

  it('a missing dataset is a data error naming the path', async () => {
    const r = await c.start({ type: 'openDataset', ref: { data: path.join(dir, 'nope'), dataset: 'voc' } }).reply;
    assert.strictEqual(r.type, 'error');
    assert.strictEqual((r as { kind: string }).kind, 'data');
    assert.match((r as { message: string }).message, /nope/);
  });
});
