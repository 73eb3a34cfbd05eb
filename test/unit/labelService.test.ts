// The label service end to end on a generated folder (helpers/labelFolder.ts: red disks = class 1, blue
// squares = class 2, a colour encoder): annotate → re-segment one image → grid pass → newest wins →
// accept → use as support → suggest → reopen without re-encoding; and a pass with the real MobileNetV2
// leaves no tensors behind.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { DataError } from '../../src/engine/errors';
import { UNLABELED } from '../../src/engine/label/predictor';
import { LabelService, type LabelEvent } from '../../src/engine/label/service';
import { maskShape } from '../../src/engine/label/shapes';
import { loadState } from '../../src/engine/label/state';
import { colourModel, iou, rgbOf, truth, writeFolder, type Scene } from './helpers/labelFolder';
import { tf, useTestBackend } from './helpers/tf';

describe('label service', function () {
  this.timeout(120000);
  let dir: string;
  let sc: Scene[];
  const open = (model = colourModel(), events: LabelEvent[] = []) =>
    LabelService.open(dir, { classes: ['disk', 'square'], model, featureBytes: 64 << 20, saveDelayMs: 10, onEvent: (e) => events.push(e), exclude: [path.join(dir, 'truth')] });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelsvc-'));
    sc = await writeFolder(dir, 8);
    fs.writeFileSync(path.join(dir, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2, 3]));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the folder, reports the broken file with its reason, annotates, predicts, passes over the grid', async () => {
    const events: LabelEvent[] = [];
    const svc = await open(colourModel(), events);
    try {
      assert.deepStrictEqual(svc.ids(), ['broken.jpg', ...Array.from({ length: 8 }, (_, i) => `img${i}.jpg`)]);
      const b = svc.summary('broken.jpg');
      assert.strictEqual(b.status, 'broken');
      assert.match(b.reason!, /not a readable image|corrupt|truncated/);
      assert.deepStrictEqual([svc.summary('img0.jpg').status, svc.summary('img0.jpg').width, svc.summary('img0.jpg').height], ['unlabeled', 96, 72]);

      // img0: the whole truth as a mask shape → drawn, a support
      const g0 = svc.generation;
      const r0 = await svc.setShapes('img0.jpg', [maskShape(truth(sc[0]))], { support: true });
      assert.ok(r0, 'a prediction comes back');
      assert.strictEqual(svc.summary('img0.jpg').status, 'drawn');
      assert.ok(svc.generation > g0, 'a new support is a new model generation');

      const run = svc.requestGrid();
      const summary = await run.done;
      assert.strictEqual(summary.completed, true, JSON.stringify(summary));
      assert.strictEqual(summary.predicted, 7);
      for (let i = 1; i < 8; i++) {
        const s = svc.summary(`img${i}.jpg`);
        assert.strictEqual(s.status, 'predicted');
        assert.ok(s.confidence! > 0 && s.confidence! <= 1);
        const full = await svc.fullMask(`img${i}.jpg`);
        assert.deepStrictEqual([full.width, full.height], [96, 72]);
        const t = truth(sc[i]).data;
        // colour features on 4×4 cells: blocky edges (measured 0.76–0.90), but the objects are found (a broken pipeline gives ≈ 0)
        assert.ok(iou(full.data, t, 1) > 0.7 && iou(full.data, t, 2) > 0.7, `img${i}: IoU disk ${iou(full.data, t, 1).toFixed(2)}, square ${iou(full.data, t, 2).toFixed(2)}`);
      }
      assert.ok(events.some((e) => e.type === 'grid' && e.done === 7 && e.total === 7));
      assert.ok(events.some((e) => e.type === 'gridDone'));
      // a second pass has nothing to do
      assert.deepStrictEqual((await svc.requestGrid().done).predicted, 0);
    } finally {
      await svc.close();
    }
  });

  it('strokes on one image count for it at once and are never overruled; other images keep their predictions', async () => {
    const svc = await open();
    try {
      const before = svc.summary('img3.jpg');
      const g = svc.generation;
      // a background stroke across the middle of img3, where the disk is
      const d = sc[3].disk;
      const res = await svc.setShapes('img3.jpg', [{ kind: 'stroke', label: 0, radius: 3, points: [d.cx - 8, d.cy, d.cx + 8, d.cy] }]);
      assert.ok(res);
      assert.strictEqual(svc.generation, g, 'a non-support annotation does not change the model');
      const full = await svc.fullMask('img3.jpg');
      for (let x = Math.ceil(d.cx - 8); x < d.cx + 8; x++) assert.strictEqual(full.data[Math.floor(d.cy) * 96 + x], 0, `stroke pixel (${x}, ${Math.floor(d.cy)})`);
      assert.strictEqual(svc.summary('img4.jpg').stale, false);
      assert.notStrictEqual(svc.summary('img3.jpg').confidence, undefined);
      assert.strictEqual(before.status, 'predicted');
      // unsure marks come back as 255
      await svc.setShapes('img3.jpg', [{ kind: 'box', label: 255, x0: 0, y0: 0, x1: 9, y1: 9 }]);
      assert.strictEqual((await svc.fullMask('img3.jpg')).data[5 * 96 + 5], 255);
    } finally {
      await svc.close();
    }
  });

  it('newest wins: a model change or a newer request stops a running grid pass', async () => {
    let firstImage!: () => void;
    const oneDone = new Promise<void>((r) => { firstImage = r; });
    const events: LabelEvent[] = [];
    const svc = await LabelService.open(dir, { model: colourModel(), saveDelayMs: 10, exclude: [path.join(dir, 'truth')], onEvent: (e) => { events.push(e); if (e.type === 'grid') firstImage(); } });
    try {
      // a scribble support on img1 changes the model: every prediction is stale now
      const stroke = (r: number) => [{ kind: 'stroke', label: 1, radius: r, points: [sc[1].disk.cx, sc[1].disk.cy] }];
      await svc.setShapes('img1.jpg', stroke(2), { support: true });
      assert.ok(svc.list().filter((x) => x.stale).length >= 6, 'predictions of the old model are stale');
      const first = svc.requestGrid();
      await oneDone;
      await svc.setShapes('img1.jpg', stroke(3), { support: true }); // the model changes again mid-pass
      const s1 = await first.done;
      assert.strictEqual(s1.stopped, 'model changed', JSON.stringify(s1));
      assert.ok(s1.predicted >= 1 && s1.predicted < 6, JSON.stringify(s1));
      const second = svc.requestGrid();
      const third = svc.requestGrid({ order: ['img7.jpg'] });
      assert.strictEqual((await second.done).stopped, 'newer request');
      const s3 = await third.done;
      assert.strictEqual(s3.completed, true);
      assert.ok(s3.predicted >= 5, JSON.stringify(s3));
      assert.ok(svc.list().every((s) => !s.stale));
      // a cancelled pass says so
      await svc.setShapes('img1.jpg', [], { support: false });
      const c = svc.requestGrid();
      c.cancel();
      assert.strictEqual((await c.done).stopped, 'cancelled');
    } finally {
      await svc.close();
    }
  });

  it('accept and acceptAbove (count first), frozen accepted masks, use as support, suggestions with reasons', async () => {
    const svc = await open();
    try {
      await svc.requestGrid().done;
      const all = svc.list().filter((s) => s.status === 'predicted').length;
      const dry = await svc.acceptAbove(0, { dryRun: true });
      assert.strictEqual(dry.count, all);
      assert.ok(svc.list().every((s) => s.status !== 'accepted'), 'a dry run accepts nothing');
      const sug = svc.suggestNext(3);
      assert.strictEqual(sug.length, 3);
      assert.ok(sug[0].score >= sug[1].score && sug[1].score >= sug[2].score);
      for (const s of sug) assert.match(s.reason, /confidence \d\.\d\d and (unlike any support|somewhat like a support|close to a support): nearest support img0\.jpg at cosine -?\d\.\d\d/);

      const hi = await svc.acceptAbove(svc.summary('img5.jpg').confidence!);
      assert.ok(hi.ids.includes('img5.jpg'));
      assert.strictEqual(svc.summary('img5.jpg').status, 'accepted');
      const frozen = await svc.fullMask('img5.jpg');
      // img6 becomes a support: the model changes, the accepted img5 does not
      await svc.setSupport('img6.jpg', true);
      assert.strictEqual(svc.summary('img6.jpg').support, true);
      assert.strictEqual(svc.summary('img6.jpg').origin, 'accepted-prediction');
      assert.strictEqual(svc.shapes('img6.jpg')[0].kind, 'mask');
      await svc.requestGrid().done;
      assert.deepStrictEqual((await svc.fullMask('img5.jpg')).data, frozen.data);
    } finally {
      await svc.close();
    }
  });

  it('state persists; reopening encodes nothing and strokes never re-encode; a second opener is refused', async () => {
    // the tests above encoded every image once, into the default disk cache under .protolab/label/features
    const calls = { n: 0 };
    const svc = await open(colourModel(48, calls));
    try {
      await assert.rejects(open(), (e: Error) => e instanceof DataError && /in use by/.test(e.message));
      assert.strictEqual(calls.n, 0, 'opening encodes nothing');
      await svc.requestGrid().done;
      await svc.predict('img2.jpg');
      assert.strictEqual(calls.n, 0, 'features of every image came from the disk cache');
      for (let k = 0; k < 5; k++) {
        await svc.setShapes('img2.jpg', [{ kind: 'stroke', label: 2, radius: 2, points: [10 + k, 10, 20 + k, 12] }]);
      }
      assert.strictEqual(calls.n, 0, 'strokes re-segment from cached features');
    } finally {
      await svc.close();
    }
    const st = loadState(path.join(dir, '.protolab', 'label'))!;
    assert.strictEqual(st.images['img5.jpg'].status, 'accepted');
    assert.strictEqual(st.images['img2.jpg'].shapes.length, 1);
    assert.strictEqual(st.images['broken.jpg'].status, 'broken');
    assert.deepStrictEqual(st.classes.map((c) => c.name), ['disk', 'square']);
    // a conflicting class list is refused
    await assert.rejects(LabelService.open(dir, { classes: ['cat'], model: colourModel() }), /labels class 1 as "disk", not "cat"/);
  });

  it('EXIF-rotated photos: annotations and masks are in the orientation the user sees', async () => {
    const rot = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelrot-'));
    const svc0 = { s: undefined as LabelService | undefined };
    try {
      const s = sc[2];
      // stored 96×72 with orientation 6: the user sees it 72×96
      await sharp(rgbOf(s), { raw: { width: 96, height: 72, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path.join(rot, 'r.jpg'));
      const svc = (svc0.s = await LabelService.open(rot, { classes: ['disk', 'square'], model: colourModel(), featureDir: null }));
      assert.deepStrictEqual([svc.summary('r.jpg').width, svc.summary('r.jpg').height], [72, 96]);
      await assert.rejects(svc.setShapes('r.jpg', [maskShape(truth(s))]), /PNG is 96×72 but the image is 72×96/);
      // the truth turned clockwise: stored (x, y) → seen (H − 1 − y, x)
      const t = truth(s), turned = new Uint8Array(72 * 96);
      for (let y = 0; y < 72; y++) for (let x = 0; x < 96; x++) turned[x * 72 + (71 - y)] = t.data[y * 96 + x];
      await svc.setShapes('r.jpg', [maskShape({ width: 72, height: 96, data: turned })], { support: true });
      const full = await svc.fullMask('r.jpg');
      assert.deepStrictEqual([full.width, full.height], [72, 96]);
      assert.deepStrictEqual(full.data, turned);
      // its own prediction agrees with the turned truth (the pixels it was fed are turned too)
      const p = (await svc.prediction('r.jpg'))!;
      const S = p.size;
      let agree = 0;
      for (let j = 0; j < S; j++) for (let i = 0; i < S; i++) {
        const v = turned[Math.min(95, Math.floor((j + 0.5) * 96 / S)) * 72 + Math.min(71, Math.floor((i + 0.5) * 72 / S))];
        if (p.labels[j * S + i] === v) agree++;
      }
      assert.ok(agree / (S * S) > 0.9, `prediction agrees with the oriented truth on ${(100 * agree / (S * S)).toFixed(1)}%`);
    } finally {
      await svc0.s?.close();
      fs.rmSync(rot, { recursive: true, force: true });
    }
  });

  it('a large photo: features from a downscaled copy, the mask at full size', async () => {
    const big = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelbig-'));
    let svc: LabelService | undefined;
    try {
      // 2400×1800 (4.3 MP) versions of two scenes, 25× the pixels of the others
      const up = async (s: Scene, file: string) => sharp(rgbOf(s), { raw: { width: 96, height: 72, channels: 3 } }).resize(2400, 1800, { kernel: 'nearest' }).jpeg({ quality: 90 }).toFile(path.join(big, file));
      await up(sc[0], 'a.jpg');
      await up(sc[4], 'b.jpg');
      svc = await LabelService.open(big, { classes: ['disk', 'square'], model: colourModel(), featureDir: null });
      const t0 = truth(sc[0]);
      const bigTruth = (t: typeof t0) => {
        const d = new Uint8Array(2400 * 1800);
        for (let y = 0; y < 1800; y++) for (let x = 0; x < 2400; x++) d[y * 2400 + x] = t.data[Math.floor(y / 25) * 96 + Math.floor(x / 25)];
        return { width: 2400, height: 1800, data: d };
      };
      await svc.setShapes('a.jpg', [maskShape(bigTruth(t0))], { support: true });
      const full = await svc.fullMask('b.jpg');
      assert.deepStrictEqual([full.width, full.height], [2400, 1800]);
      const t4 = bigTruth(truth(sc[4])).data;
      assert.ok(iou(full.data, t4, 1) > 0.7 && iou(full.data, t4, 2) > 0.7, `IoU disk ${iou(full.data, t4, 1).toFixed(2)}, square ${iou(full.data, t4, 2).toFixed(2)}`);
    } finally {
      await svc?.close();
      fs.rmSync(big, { recursive: true, force: true });
    }
  });

  it('autosave: changes coming every 100 ms (a grid pass) still reach the disk within about a second of the first', async () => {
    const events: LabelEvent[] = [];
    const svc = await LabelService.open(dir, { classes: ['disk', 'square'], model: colourModel(), featureBytes: 64 << 20, saveDelayMs: 300, onEvent: (e) => events.push(e), exclude: [path.join(dir, 'truth')] });
    try {
      const t0 = Date.now();
      const saves: number[] = [];
      svc.setTags('img1.jpg', ['disk']);
      while (Date.now() - t0 < 2500) {
        await new Promise((r) => setTimeout(r, 100));
        svc.setTags('img1.jpg', Date.now() % 2 ? ['disk'] : ['square']); // a change every 100 ms: a plain debounce would never save
        for (const e of events.splice(0)) if (e.type === 'saved') saves.push(Date.now() - t0);
      }
      assert.ok(saves.length >= 2, `saved ${saves.length} times in 2.5 s of changes`);
      // 1 s cap; the rest is timer slack on a loaded machine
      assert.ok(saves[0] < 1600, `first save ${saves[0]} ms after the first change`);
    } finally {
      svc.setTags('img1.jpg', undefined);
      await svc.close();
    }
  });

  it('validates shapes against the image and the classes', async () => {
    const svc = await open();
    try {
      await assert.rejects(svc.setShapes('img1.jpg', [{ kind: 'stroke', label: 3, radius: 1, points: [1, 1] }]), /img1\.jpg, shape 0: stroke: label 3 is not a class \(there are 2/);
      await assert.rejects(svc.setShapes('nope.jpg', []), /no image "nope\.jpg"/);
      await assert.rejects(svc.setShapes('broken.jpg', []), /cannot annotate a broken image/);
      assert.strictEqual(UNLABELED, 254);
    } finally {
      await svc.close();
    }
  });
});

describe('label service with MobileNetV2', function () {
  this.timeout(300000);
  before(() => useTestBackend('wasm'));

  it('a labeling pass leaves tf.memory().numTensors where it was', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labeltf-'));
    try {
      const sc = await writeFolder(dir, 4);
      const before = tf.memory().numTensors;
      const svc = await LabelService.open(dir, { classes: ['disk', 'square'], spec: { size: 65, backbone: 'mobilenetv2' }, featureDir: null, exclude: [path.join(dir, 'truth')] });
      let during: number;
      try {
        const loaded = tf.memory().numTensors;
        await svc.setShapes('img0.jpg', [maskShape(truth(sc[0]))], { support: true });
        const s = await svc.requestGrid().done;
        assert.strictEqual(s.completed, true);
        await svc.setShapes('img2.jpg', [{ kind: 'stroke', label: 1, radius: 3, points: [30, 30, 40, 30] }]);
        await svc.fullMask('img3.jpg');
        during = tf.memory().numTensors;
        assert.strictEqual(during, loaded, `the pass left ${during - loaded} tensors`);
      } finally {
        await svc.close();
      }
      assert.strictEqual(tf.memory().numTensors, before, 'closing frees the model');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
