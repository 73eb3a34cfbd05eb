// The engine process's labeling requests as the extension host meets them: a forked server.js, typed
// label* requests in, watch events and one result/error out, masks and images as Uint8Array bytes.
// A generated folder (helpers/labelFolder.ts) and the real MobileNetV2 at a small working size.
import * as assert from 'assert';
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { decodeIndexPng } from '../../src/engine/image/png';
import { maskShape } from '../../src/engine/label/shapes';
import type { EngineEvent, LabelChange, Reply } from '../../src/shared/engineProtocol';
import { truth, writeFolder, type Scene } from './helpers/labelFolder';

const SERVER = path.resolve(__dirname, '../../src/engine/server.js');
const SIZE = 160;

/** A bare client of the engine process: requests by id, events collected per request. */
class Engine {
  private next = 1;
  readonly events = new Map<number, EngineEvent[]>();
  private readonly done = new Map<number, (r: Reply) => void>();
  readonly exited: Promise<number | null>;
  onEvent?: (id: number, e: EngineEvent) => void;
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      if (m.type === 'event') {
        (this.events.get(m.inReplyTo) ?? this.events.set(m.inReplyTo, []).get(m.inReplyTo)!).push(m.event);
        this.onEvent?.(m.inReplyTo, m.event);
      } else this.done.get(m.inReplyTo)?.(m);
    });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }
  static start(): Engine {
    return new Engine(fork(SERVER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, PROTOLAB_BACKEND: 'wasm' } }));
  }
  start(req: Record<string, unknown>): { id: number; reply: Promise<Reply> } {
    const id = this.next++;
    const reply = new Promise<Reply>((resolve) => this.done.set(id, resolve));
    this.child.send({ ...req, id });
    return { id, reply };
  }
  async call(req: Record<string, unknown>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.start(req).reply;
    if (r.type === 'error') throw Object.assign(new Error(`${r.kind}: ${r.message}`), { kind: r.kind });
    return (r as { value: unknown }).value;
  }
  changes(id: number): LabelChange[] {
    return (this.events.get(id) ?? []).flatMap((e) => (e.kind === 'label' ? [e.change] : []));
  }
}

const until = async <T>(what: string, f: () => T | undefined, ms = 60000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const isJpeg = (b: Uint8Array) => b instanceof Uint8Array && b[0] === 0xff && b[1] === 0xd8;
const readState = (folder: string) => JSON.parse(fs.readFileSync(path.join(folder, '.protolab', 'label', 'state.json'), 'utf8'));

describe('engine server: labeling requests', function () {
  this.timeout(300000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelsrv-'));
  const folder = path.join(root, 'photos');
  let sc: Scene[];
  let eng: Engine;
  let watch: { id: number; reply: Promise<Reply> };
  const spec = { backbone: 'mobilenetv2', size: SIZE };

  before(async () => {
    sc = await writeFolder(folder, 6);
    fs.renameSync(path.join(folder, 'truth'), path.join(root, 'truth')); // only photos in the labelled folder
    eng = Engine.start();
  });
  after(async () => {
    eng.child.kill();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('labelOpen opens the folder: images, classes with colours, methods, the model; the lock names the tool', async () => {
    const info = await eng.call({ type: 'labelOpen', folder, classes: ['disk', 'square'], spec, tool: 'ProtoLab test' });
    assert.deepStrictEqual(info.images.map((i: { id: string }) => i.id), Array.from({ length: 6 }, (_, i) => `img${i}.jpg`));
    assert.deepStrictEqual(info.images.map((i: { status: string }) => i.status), Array(6).fill('unlabeled'));
    assert.deepStrictEqual(info.classes.map((c: { name: string }) => c.name), ['disk', 'square']);
    assert.ok(info.classes.every((c: { color: string }) => /^#[0-9a-f]{6}$/.test(c.color)));
    assert.ok(info.methods.some((m: { id: string }) => m.id === 'baseline'));
    assert.deepStrictEqual([info.model.backbone, info.model.size, info.mode, info.reused], ['mobilenetv2', SIZE, 'draw', false]);
    const lock = JSON.parse(fs.readFileSync(path.join(folder, '.protolab', 'label', 'lock'), 'utf8'));
    assert.strictEqual(lock.purpose, 'ProtoLab test');
    assert.strictEqual(lock.pid, eng.child.pid);
    // the same folder again in this engine: the open service, not a second one
    assert.strictEqual((await eng.call({ type: 'labelOpen', folder })).reused, true);
    watch = eng.start({ type: 'labelWatch', folder });
  });

  it('a second engine process is refused with a message naming the holder', async () => {
    const other = Engine.start();
    try {
      await assert.rejects(other.call({ type: 'labelOpen', folder, spec, tool: 'another window' }), (e: Error & { kind?: string }) => {
        assert.strictEqual(e.kind, 'data');
        assert.match(e.message, new RegExp(`in use by ProtoLab test \\(pid ${eng.child.pid} on `));
        return true;
      });
    } finally {
      other.child.kill();
    }
  });

  it('rejects a malformed label request with a protocol error naming the field', async () => {
    const r = await eng.start({ type: 'labelSetShapes', folder, image: 'img0.jpg', shapes: 'x', seq: 1 }).reply;
    assert.strictEqual(r.type, 'error');
    assert.strictEqual((r as { kind: string }).kind, 'protocol');
    assert.match((r as { message: string }).message, /shapes must be an array/);
    const bad = await eng.start({ type: 'labelSetShapes', folder, image: 'img0.jpg', shapes: [{ kind: 'stroke', label: 9, radius: 3, points: [1, 2] }], seq: 1 }).reply;
    assert.strictEqual((bad as { kind: string }).kind, 'usage', 'a shape the service cannot draw is a usage error');
    assert.match((bad as { message: string }).message, /label 9/);
  });

  it('labelSetShapes stores shapes and redo, answers with the prediction as PNG bytes; the first annotation makes a support; saved reports its seq', async () => {
    const redo = [{ kind: 'stroke', label: 1, radius: 4, points: [10, 10, 20, 20] }];
    const r = await eng.call({ type: 'labelSetShapes', folder, image: 'img0.jpg', shapes: [maskShape(truth(sc[0]))], redo, seq: 2, autoSupport: true });
    assert.deepStrictEqual([r.status, r.support, r.superseded], ['drawn', true, false]);
    assert.ok(r.prediction.mask instanceof Uint8Array, 'the mask travels as bytes');
    const tm = r.timing as { totalMs: number; predictMs: number; encodeMs: number };
    assert.ok(tm.predictMs > 0 && tm.encodeMs >= 0 && tm.totalMs >= tm.predictMs + tm.encodeMs, `the engine's time: ${JSON.stringify(tm)}`);
    const m = decodeIndexPng(r.prediction.mask, 'prediction');
    assert.deepStrictEqual([m.width, m.height, r.prediction.size], [SIZE, SIZE, SIZE]);
    const values = new Set(m.data);
    assert.ok(values.has(1) && values.has(2) && values.has(0), `classes in the mask: ${[...values]}`);
    await until('a saved event covering seq 2', () => eng.changes(watch.id).find((c) => c.type === 'saved' && c.seq >= 2));
    const st = readState(folder);
    assert.strictEqual(st.images['img0.jpg'].shapes.length, 1);
    assert.deepStrictEqual(st.images['img0.jpg'].redo, redo);
    assert.strictEqual(st.images['img0.jpg'].support, true);
    assert.ok(eng.changes(watch.id).some((c) => c.type === 'generation'), 'a new support is a new generation');
    assert.ok(eng.changes(watch.id).some((c) => c.type === 'images' && c.images.some((i) => i.id === 'img0.jpg' && i.status === 'drawn')));
  });

  it('labelGrid predicts every other image with progress events; thumbnails are JPEG + index PNG', async () => {
    const g = eng.start({ type: 'labelGrid', folder, order: ['img3.jpg'] });
    const r = (await g.reply) as { type: string; value: { completed: boolean; predicted: number } };
    assert.strictEqual(r.type, 'result');
    assert.deepStrictEqual([r.value.completed, r.value.predicted], [true, 5]);
    const prog = (eng.events.get(g.id) ?? []).filter((e) => e.kind === 'progress') as Array<{ done: number; total: number; note?: string }>;
    assert.deepStrictEqual(prog.map((p) => p.done), [1, 2, 3, 4, 5]);
    assert.strictEqual(prog[0].note, 'img3.jpg', 'the image asked for first comes first');
    const list = await eng.call({ type: 'labelList', folder });
    assert.deepStrictEqual(list.images.map((i: { status: string }) => i.status), ['drawn', 'predicted', 'predicted', 'predicted', 'predicted', 'predicted']);
    const t = await eng.call({ type: 'labelThumbs', folder, images: ['img0.jpg', 'img2.jpg', 'nope.jpg'], side: 64 });
    assert.deepStrictEqual(t.thumbs.map((x: { id: string }) => x.id), ['img0.jpg', 'img2.jpg']);
    for (const x of t.thumbs) {
      assert.ok(isJpeg(x.image), 'thumbnail image is JPEG bytes');
      const m = decodeIndexPng(x.mask, 'thumb');
      assert.deepStrictEqual([m.width, m.height], [64, 48], 'the mask has the image\'s aspect');
    }
  });

  it('a stroke changes the thumbnail\'s mask; its JPEG (kept across strokes) stays the same', async () => {
    const before = (await eng.call({ type: 'labelThumbs', folder, images: ['img4.jpg'], side: 64 })).thumbs[0];
    // class 2 over the whole image: the thumbnail's mask must follow
    await eng.call({ type: 'labelSetShapes', folder, image: 'img4.jpg', shapes: [{ kind: 'box', label: 2, x0: 0, y0: 0, x1: 1000, y1: 1000 }], redo: [], seq: 20 });
    const after = (await eng.call({ type: 'labelThumbs', folder, images: ['img4.jpg'], side: 64 })).thumbs[0];
    assert.deepStrictEqual(Buffer.from(after.image), Buffer.from(before.image));
    const [m0, m1] = [decodeIndexPng(before.mask, 'before'), decodeIndexPng(after.mask, 'after')];
    assert.notDeepStrictEqual(m1.data, m0.data, 'the mask follows the stroke');
    assert.ok(m1.data.every((v) => v === 2), 'the box covers the whole thumbnail');
    await eng.call({ type: 'labelSetShapes', folder, image: 'img4.jpg', shapes: [], redo: [], seq: 21 });
  });

  it('a file changed on disk gets a new thumbnail after a rescan (the kept JPEG is dropped at every size)', async () => {
    const before = (await eng.call({ type: 'labelThumbs', folder, images: ['img3.jpg'], side: 64 })).thumbs[0];
    const file = path.join(folder, 'img3.jpg');
    const original = fs.readFileSync(file);
    try {
      const { width, height } = await sharp(original).metadata();
      fs.writeFileSync(file, await sharp({ create: { width: width!, height: height!, channels: 3, background: { r: 250, g: 10, b: 10 } } }).jpeg().toBuffer());
      await eng.call({ type: 'labelRescan', folder });
      const after = (await eng.call({ type: 'labelThumbs', folder, images: ['img3.jpg'], side: 64 })).thumbs[0];
      assert.notDeepStrictEqual(Buffer.from(after.image), Buffer.from(before.image), 'the thumbnail shows the new file');
    } finally {
      fs.writeFileSync(file, original);
      await eng.call({ type: 'labelRescan', folder });
    }
  });

  it('a stroke is answered while a grid pass runs, before the pass ends (drawing never waits behind it)', async () => {
    // a changed support makes every prediction stale: the next pass has 5 images to do
    const shapes = [maskShape(truth(sc[0])), { kind: 'stroke', label: 0, radius: 3, points: [5, 5, 6, 6] }];
    await eng.call({ type: 'labelSetShapes', folder, image: 'img0.jpg', shapes, redo: [], seq: 3 });
    let replyAt = -1;
    const g = eng.start({ type: 'labelGrid', folder, order: ['img1.jpg', 'img2.jpg', 'img3.jpg', 'img4.jpg', 'img5.jpg'] });
    const gridDone = g.reply.then(() => Date.now());
    const stroke = eng.start({ type: 'labelSetShapes', folder, image: 'img5.jpg', shapes: [{ kind: 'stroke', label: 2, radius: 3, points: [60, 20, 70, 25] }], redo: [], seq: 4 });
    const progressBefore = await stroke.reply.then((r) => {
      replyAt = Date.now();
      assert.strictEqual(r.type, 'result');
      assert.ok((r as { value: { prediction?: unknown } }).value.prediction, 'the stroke got its prediction');
      return (eng.events.get(g.id) ?? []).filter((e) => e.kind === 'progress').length;
    });
    const doneAt = await gridDone;
    assert.ok(replyAt <= doneAt, 'the stroke was answered before the pass finished');
    assert.ok(progressBefore < 5, `the stroke waited for ${progressBefore} of 5 grid images`);
  });

  it('labelImage gives display bytes, the full size, shapes and the last prediction', async () => {
    const r = await eng.call({ type: 'labelImage', folder, image: 'img0.jpg', maxSide: 64 });
    assert.ok(isJpeg(r.bytes));
    assert.deepStrictEqual([r.width, r.height], [96, 72], 'full-resolution size, the shapes\' coordinates');
    assert.strictEqual(r.shapes.length, 2);
    assert.ok(r.prediction && r.prediction.mask instanceof Uint8Array);
    await assert.rejects(eng.call({ type: 'labelImage', folder, image: 'missing.jpg' }), /no image "missing.jpg"/);
  });

  it('accept, accept-above (dry run counts, then accepts), support, classes, suggest', async () => {
    await eng.call({ type: 'labelGrid', folder });
    assert.deepStrictEqual((await eng.call({ type: 'labelAccept', folder, images: ['img1.jpg'] })).accepted, ['img1.jpg']);
    const dry = await eng.call({ type: 'labelAcceptAbove', folder, threshold: 0, dryRun: true });
    // img5 has a stroke of its own but is not fully drawn: predicted like the others
    assert.deepStrictEqual([dry.count, dry.ids], [4, ['img2.jpg', 'img3.jpg', 'img4.jpg', 'img5.jpg']]);
    assert.strictEqual(readState(folder).images['img2.jpg'].status, 'predicted', 'a dry run accepts nothing');
    const sup = await eng.call({ type: 'labelSetSupport', folder, image: 'img1.jpg', on: true });
    assert.strictEqual(sup.summary.support, true);
    const cls = await eng.call({ type: 'labelSetClasses', folder, classes: [{ name: 'disc', color: '#aa0000' }, 'square', 'triangle'] });
    assert.deepStrictEqual(cls.classes.map((c: { name: string }) => c.name), ['disc', 'square', 'triangle']);
    assert.deepStrictEqual(readState(folder).classes.map((c: { name: string }) => c.name), ['disc', 'square', 'triangle'], 'classes are saved at once');
    await eng.call({ type: 'labelGrid', folder });
    const s = await eng.call({ type: 'labelSuggest', folder, count: 2 });
    assert.ok(s.suggestions.length >= 1 && s.suggestions.every((x: { reason: string }) => /confidence/.test(x.reason)));
  });

  it('labelExport writes VOC + COCO + manifest with progress events', async () => {
    const out = path.join(root, 'export');
    const ex = eng.start({ type: 'labelExport', folder, out, formats: ['voc', 'coco'] });
    const r = (await ex.reply) as { type: string; value: { exported: number; out: string } };
    assert.strictEqual(r.type, 'result', JSON.stringify(r));
    assert.strictEqual(r.value.exported, 6);
    assert.strictEqual(fs.readdirSync(path.join(out, 'JPEGImages')).length, 6);
    assert.strictEqual(fs.readdirSync(path.join(out, 'SegmentationClass')).length, 6);
    const man = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.strictEqual(man.tool, 'protolab-label');
    assert.strictEqual(man.exportedBy, 'ProtoLab labeling workbench');
    assert.deepStrictEqual(fs.readFileSync(path.join(out, 'class_names.txt'), 'utf8').trim().split('\n'), ['_background_', 'disc', 'square', 'triangle']);
    assert.ok(JSON.parse(fs.readFileSync(path.join(out, 'annotations.json'), 'utf8')).annotations.length > 0);
    assert.strictEqual((eng.events.get(ex.id) ?? []).filter((e) => e.kind === 'progress').length, 6);
  });

  it('labelTags: image tags become pseudo masks (a support, origin pseudo); an unknown name becomes a class; null clears; the mode is saved', async () => {
    await eng.call({ type: 'labelSetMode', folder, mode: 'tags', folderTags: false });
    const t = eng.start({ type: 'labelTags', folder, tags: { 'img3.jpg': ['square', 'circle'] } });
    const r = (await t.reply) as { type: string; value: { done: string[]; failed: unknown[]; classes: Array<{ name: string }> } };
    assert.strictEqual(r.type, 'result', JSON.stringify(r));
    assert.deepStrictEqual([r.value.done, r.value.failed], [['img3.jpg'], []]);
    assert.deepStrictEqual(r.value.classes.map((c) => c.name), ['disc', 'square', 'triangle', 'circle']);
    const s3 = (await eng.call({ type: 'labelList', folder, images: ['img3.jpg'] })).images[0];
    assert.deepStrictEqual([s3.origin, s3.support, s3.tags], ['pseudo', true, ['square', 'circle']]);
    const st = readState(folder);
    assert.deepStrictEqual([st.settings.mode, st.images['img3.jpg'].tags], ['tags', ['square', 'circle']]);
    assert.strictEqual(st.images['img3.jpg'].shapes[0].kind, 'mask');
    await eng.call({ type: 'labelTags', folder, tags: { 'img3.jpg': null } });
    const c3 = (await eng.call({ type: 'labelList', folder, images: ['img3.jpg'] })).images[0];
    assert.deepStrictEqual([c3.shapes, c3.support, c3.tags], [0, false, undefined]);
    await eng.call({ type: 'labelSetMode', folder, mode: 'draw', folderTags: false });
  });

  it('labelRescan: an added file appears, a removed one disappears (work on the others kept), the watch says so', async () => {
    fs.copyFileSync(path.join(folder, 'img2.jpg'), path.join(folder, 'sub-new.jpg'));
    fs.appendFileSync(path.join(folder, 'sub-new.jpg'), Buffer.from([0])); // other bytes than img2 (not a rename)
    fs.rmSync(path.join(folder, 'img4.jpg'));
    const r = await eng.call({ type: 'labelRescan', folder });
    assert.deepStrictEqual([r.added, r.removed], [['sub-new.jpg'], ['img4.jpg']]);
    assert.deepStrictEqual(r.images.map((i: { id: string; status: string }) => [i.id, i.status]), [['sub-new.jpg', 'unlabeled']]);
    await until('a watch event removing img4', () => eng.changes(watch.id).find((c) => c.type === 'images' && c.removed?.includes('img4.jpg')));
    const list = (await eng.call({ type: 'labelList', folder })).images as Array<{ id: string; shapes: number; status: string }>;
    assert.deepStrictEqual(list.find((i) => i.id === 'img0.jpg')!.shapes, 2);
    assert.strictEqual(list.find((i) => i.id === 'img1.jpg')!.status, 'accepted');
  });

  it('labelClose saves, releases the lock and ends the watch; another process then reopens the same state', async () => {
    assert.deepStrictEqual(await eng.call({ type: 'labelClose', folder }), { closed: true });
    const w = (await watch.reply) as { type: string; value: unknown };
    assert.deepStrictEqual(w, { type: 'result', inReplyTo: watch.id, value: { closed: true } });
    assert.ok(!fs.existsSync(path.join(folder, '.protolab', 'label', 'lock')));
    const other = Engine.start();
    try {
      const info = await other.call({ type: 'labelOpen', folder, spec });
      assert.deepStrictEqual(info.classes.map((c: { name: string }) => c.name), ['disc', 'square', 'triangle', 'circle']);
      const img = await other.call({ type: 'labelImage', folder, image: 'img0.jpg' });
      assert.strictEqual(img.shapes.length, 2);
      assert.strictEqual(img.summary.support, true);
      assert.strictEqual(info.images.find((i: { id: string }) => i.id === 'img1.jpg').status, 'accepted');
      await other.call({ type: 'labelClose', folder });
    } finally {
      other.child.kill();
    }
  });

  for (const how of ['shutdown', 'disconnect'] as const) {
    it(`an edit not saved yet is written when the host ${how === 'shutdown' ? 'shuts the engine down' : 'goes away (IPC disconnect)'}`, async () => {
      const e = Engine.start();
      await e.call({ type: 'labelOpen', folder, spec, saveDelayMs: 600000 });
      const stroke = { kind: 'stroke', label: 3, radius: 2, points: [30, 30, 40, 40] };
      await e.call({ type: 'labelSetShapes', folder, image: 'img3.jpg', shapes: [stroke], redo: [], seq: 1 });
      assert.deepStrictEqual(readState(folder).images['img3.jpg'].shapes, [], 'held unsaved (long save delay)');
      if (how === 'shutdown') e.child.send({ type: 'shutdown', id: 999 });
      else e.child.disconnect();
      assert.strictEqual(await e.exited, 0);
      assert.deepStrictEqual(readState(folder).images['img3.jpg'].shapes, [stroke]);
      // leave img3 as it was for the next case
      const c = Engine.start();
      await c.call({ type: 'labelOpen', folder, spec });
      await c.call({ type: 'labelSetShapes', folder, image: 'img3.jpg', shapes: [], redo: [], seq: 1 });
      await c.call({ type: 'labelClose', folder });
      c.child.kill();
    });
  }
});
