// Export of a labelled folder, read back through ProtoLab's own VOC and COCO readers: the masks come
// back identical; every COCO RLE decodes to the pixels of its region in the PNG; hand-made region
// vectors; atomic replace with force only.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { connectedComponents } from '../../src/engine/fewshot/annotations';
import { rleDecode, rleEncode, rleFromString } from '../../src/engine/data/coco/rle';
import { openDataset } from '../../src/engine/data/open';
import { UsageError } from '../../src/engine/errors';
import { readIndexPng } from '../../src/engine/image/png';
import { exportLabels } from '../../src/engine/label/export';
import { maskRegions } from '../../src/engine/label/export/instances';
import { exportNames, splitNames } from '../../src/engine/label/export/names';
import { LabelService } from '../../src/engine/label/service';
import { maskShape } from '../../src/engine/label/shapes';
import type { IndexMask } from '../../src/engine/types';
import { colourModel, rgbOf, truth, writeFolder, type Scene } from './helpers/labelFolder';

describe('label export: hand-made vectors', () => {
  // h = 3, w = 4 (column-major index p = x·3 + y):
  //   1 1 0 2
  //   0 0 0 2
  //   1 0 255 0
  const mask: IndexMask = { width: 4, height: 3, data: Uint8Array.from([1, 1, 0, 2, 0, 0, 0, 2, 1, 0, 255, 0]) };

  it('per instance: 8-connected components of each class, RLE zeros first, area, bbox', () => {
    assert.deepStrictEqual(maskRegions(mask, 2, 'instance'), [
      // (0,0) p=0 and (1,0) p=3: 0 zeros, 1 one, 2 zeros, 1 one, 8 zeros
      { cls: 1, counts: [0, 1, 2, 1, 8], area: 2, bbox: [0, 0, 2, 1] },
      // (0,2) p=2, two rows below the first: not 8-adjacent
      { cls: 1, counts: [2, 1, 9], area: 1, bbox: [0, 2, 1, 1] },
      // (3,0) p=9 and (3,1) p=10
      { cls: 2, counts: [9, 2, 1], area: 2, bbox: [3, 0, 1, 2] },
    ]);
  });

  it('per class: one region per class; 255 and background in none', () => {
    assert.deepStrictEqual(maskRegions(mask, 2, 'class'), [
      { cls: 1, counts: [0, 1, 1, 2, 8], area: 3, bbox: [0, 0, 2, 3] },
      { cls: 2, counts: [9, 2, 1], area: 2, bbox: [3, 0, 1, 2] },
    ]);
    assert.deepStrictEqual(maskRegions({ width: 2, height: 1, data: Uint8Array.from([0, 255]) }, 2, 'class'), []);
  });

  it('agrees with the repo\'s RLE encoder on random masks', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 20; t++) {
      const w = 3 + Math.floor(rnd() * 20), h = 2 + Math.floor(rnd() * 20);
      const m: IndexMask = { width: w, height: h, data: Uint8Array.from({ length: w * h }, () => (rnd() < 0.1 ? 255 : Math.floor(rnd() * 3))) };
      for (const r of maskRegions(m, 2, 'class')) {
        const bin = Uint8Array.from(m.data, (v) => (v === r.cls ? 1 : 0));
        assert.deepStrictEqual(r.counts, rleEncode(bin, h, w).counts);
      }
      const inst = maskRegions(m, 2, 'instance');
      for (const c of [1, 2]) {
        const n = connectedComponents(Uint8Array.from(m.data, (v) => (v === c ? 1 : 0)), w, h).count;
        assert.strictEqual(inst.filter((r) => r.cls === c).length, n);
      }
    }
  });

  it('names: flat, unique (case-insensitively), stable; split by hash with one image in each list', () => {
    const names = exportNames(['a.jpg', 'a.png', 'A.webp', 'sub/a b.jpg', 'sub/x/y.jpeg', '.odd.jpg']);
    assert.deepStrictEqual([...names.values()], ['a', 'a_png', 'A_webp', 'sub__a_b', 'sub__x__y', '_odd']);
    const s = splitNames(['p', 'q'], 0.2, (x) => (x === 'p' ? 0.9 : 0.5));
    assert.deepStrictEqual(s, { train: ['p'], val: ['q'] });
    const s2 = splitNames(['p', 'q', 'r'], 0.2, (x) => ({ p: 0.1, q: 0.5, r: 0.15 })[x]!);
    assert.deepStrictEqual(s2, { train: ['q'], val: ['p', 'r'] });
  });
});

describe('label export round trip through ProtoLab\'s readers', function () {
  this.timeout(120000);
  let dir: string, out: string, sc: Scene[];
  let svc: LabelService;
  const full = new Map<string, IndexMask>();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelexp-'));
    const images = path.join(dir, 'photos');
    out = path.join(dir, 'export');
    sc = await writeFolder(images, 5);
    // a PNG and an EXIF-rotated JPEG among them, and a broken file
    await sharp(rgbOf(sc[1]), { raw: { width: 96, height: 72, channels: 3 } }).png().toFile(path.join(images, 'img1.png'));
    fs.rmSync(path.join(images, 'img1.jpg'));
    fs.mkdirSync(path.join(images, 'sub'));
    await sharp(rgbOf(sc[2]), { raw: { width: 96, height: 72, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path.join(images, 'sub', 'rot.jpg'));
    fs.writeFileSync(path.join(images, 'broken.webp'), 'RIFF....WEBPVP8 nothing');
    svc = await LabelService.open(images, { classes: ['disk', 'square'], model: colourModel(), featureDir: null, exclude: [path.join(images, 'truth')] });
    await svc.setShapes('img0.jpg', [maskShape(truth(sc[0]))], { support: true });
    await svc.requestGrid().done;
    await svc.accept('img3.jpg');
    await svc.setShapes('img4.jpg', [{ kind: 'box', label: 255, x0: 0, y0: 0, x1: 10, y1: 10 }]);
    for (const id of svc.ids()) if (svc.summary(id).status !== 'broken') full.set(id, await svc.fullMask(id));
    const res = await exportLabels(svc.exportSource(), out, { formats: ['voc', 'coco'] });
    assert.strictEqual(res.exported, 6); // img0, img1.png, img2, img3, img4, sub/rot.jpg; not broken.webp
  });
  after(async () => {
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const nameOf = (id: string) => id.replace(/\.[^.]+$/, '').replace('/', '__');

  it('the manifest says what every mask is and how every image got there', () => {
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.strictEqual(m.tool, 'protolab-label');
    assert.deepStrictEqual(m.classes.map((c: { name: string }) => c.name), ['_background_', 'disk', 'square']);
    const per = new Map<string, { mask: string; image: string; confidence: number | null; unsurePixels: number; exifOrientation: number }>(m.perImage.map((x: { id: string }) => [x.id, x]));
    assert.strictEqual(per.get('img0.jpg')!.mask, 'human');
    assert.strictEqual(per.get('img3.jpg')!.mask, 'accepted-prediction');
    assert.strictEqual(per.get('img2.jpg')!.mask, 'prediction');
    assert.ok(per.get('img2.jpg')!.confidence! > 0);
    // copies by default: the export owns its images (editing one must not edit the user's photo)
    assert.strictEqual(per.get('img2.jpg')!.image, 'copy');
    assert.notStrictEqual(fs.statSync(path.join(out, 'JPEGImages', 'img2.jpg')).ino, fs.statSync(path.join(dir, 'photos', 'img2.jpg')).ino);
    assert.strictEqual(per.get('img1.png')!.image, 're-encoded');
    assert.strictEqual(per.get('sub/rot.jpg')!.image, 're-encoded');
    assert.strictEqual(per.get('sub/rot.jpg')!.exifOrientation, 6);
    assert.ok(per.get('img4.jpg')!.unsurePixels > 0);
    assert.deepStrictEqual(m.skipped.map((s: { id: string }) => s.id), ['broken.webp']);
    assert.match(m.orientation, /EXIF orientation applied/);
    assert.match(m.model.weightsHash, /none/);
    assert.strictEqual(m.model.method, 'baseline');
    assert.deepStrictEqual(m.model.supports, ['img0.jpg']);
  });

  it('VOC: the reader gives back the masks exactly, images the same size, class names, train + val = all', async () => {
    const voc = await openDataset({ data: out, dataset: 'voc', cacheDir: path.join(dir, 'cache') });
    assert.deepStrictEqual(voc.classNames, ['background', 'disk', 'square']);
    const ids = [...(await voc.imageIds('train')), ...(await voc.imageIds('val'))].sort();
    assert.deepStrictEqual(ids, [...full.keys()].map(nameOf).sort());
    assert.ok((await voc.imageIds('val')).length >= 1);
    for (const [id, mask] of full) {
      const back = await voc.loadMask(nameOf(id));
      assert.deepStrictEqual([back.width, back.height], [mask.width, mask.height]);
      assert.ok(Buffer.from(back.data).equals(Buffer.from(mask.data)), `${id}: mask differs after the round trip`);
      const img = await voc.loadImage(nameOf(id));
      assert.deepStrictEqual([img.width, img.height], [mask.width, mask.height], `${id}: image size`);
    }
    // the rotated photo is exported upright: 72×96
    assert.deepStrictEqual([full.get('sub/rot.jpg')!.width, full.get('sub/rot.jpg')!.height], [72, 96]);
    assert.ok(full.get('img4.jpg')!.data.includes(255));
  });

  it('COCO: the reader gives back the same masks (unsure → background), and each RLE is its region of the PNG', async () => {
    const coco = await openDataset({ data: path.join(out, 'annotations.json'), dataset: 'coco', cacheDir: path.join(dir, 'cache') });
    assert.deepStrictEqual(coco.classNames, ['background', 'disk', 'square']);
    for (const [id, mask] of full) {
      const back = await coco.loadMask(nameOf(id));
      const expected = Uint8Array.from(mask.data, (v) => (v === 255 ? 0 : v));
      assert.ok(Buffer.from(back.data).equals(Buffer.from(expected)), `${id}: COCO mask differs`);
    }
    const json = JSON.parse(fs.readFileSync(path.join(out, 'annotations.json'), 'utf8'));
    const imgs = new Map<number, { file_name: string; width: number; height: number }>(json.images.map((i: { id: number }) => [i.id, i]));
    const union = new Map<number, Uint8Array>();
    for (const a of json.annotations) {
      const im = imgs.get(a.image_id)!;
      assert.strictEqual(a.iscrowd, 0);
      assert.strictEqual(typeof a.segmentation.counts, 'string', 'compressed RLE');
      const bin = rleDecode({ counts: rleFromString(a.segmentation.counts) }, im.height, im.width);
      const png = await readIndexPng(path.join(out, 'SegmentationClass', im.file_name.replace(/^JPEGImages\//, '').replace(/\.jpg$/, '.png')));
      let area = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let i = 0; i < bin.length; i++) {
        if (!bin[i]) continue;
        assert.strictEqual(png.data[i], a.category_id, 'an RLE pixel is its class in the PNG');
        area++;
        const x = i % im.width, y = Math.floor(i / im.width);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
      assert.strictEqual(a.area, area);
      assert.deepStrictEqual(a.bbox, [x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
      const u = union.get(a.image_id) ?? new Uint8Array(im.width * im.height);
      for (let i = 0; i < bin.length; i++) if (bin[i]) { assert.strictEqual(u[i], 0, 'regions do not overlap'); u[i] = a.category_id; }
      union.set(a.image_id, u);
    }
    for (const [imageId, u] of union) {
      const im = imgs.get(imageId)!;
      const png = await readIndexPng(path.join(out, 'SegmentationClass', path.basename(im.file_name, '.jpg') + '.png'));
      assert.deepStrictEqual(u, Uint8Array.from(png.data, (v) => (v === 255 ? 0 : v)), `${im.file_name}: the RLEs together are the PNG`);
    }
  });

  it('an existing export is kept unless forced; forced replaces it whole, leaving no temp folders', async () => {
    await assert.rejects(exportLabels(svc.exportSource(), out), (e: Error) => e instanceof UsageError && /exists.*--force/.test(e.message));
    // --link-images: hard links to the photos (same inode)
    const linked = path.join(dir, 'linked');
    await exportLabels(svc.exportSource(), linked, { formats: ['voc'], images: 'link' });
    const lm = JSON.parse(fs.readFileSync(path.join(linked, 'manifest.json'), 'utf8'));
    assert.strictEqual(lm.perImage.find((x: { id: string }) => x.id === 'img2.jpg').image, 'hardlink');
    assert.strictEqual(fs.statSync(path.join(linked, 'JPEGImages', 'img2.jpg')).ino, fs.statSync(path.join(dir, 'photos', 'img2.jpg')).ino);
    fs.writeFileSync(path.join(out, 'stale.txt'), 'from before');
    const res = await svc.exportTo(out, { include: 'accepted', force: true, formats: ['coco'], cocoMode: 'class' });
    assert.deepStrictEqual(res.exported, 2); // img0 drawn + img3 accepted
    assert.ok(!fs.existsSync(path.join(out, 'stale.txt')));
    assert.ok(!fs.existsSync(path.join(out, 'SegmentationClass')), 'coco only');
    const json = JSON.parse(fs.readFileSync(path.join(out, 'annotations.json'), 'utf8'));
    for (const im of json.images) {
      const cats = json.annotations.filter((a: { image_id: number }) => a.image_id === im.id).map((a: { category_id: number }) => a.category_id);
      assert.deepStrictEqual(cats, [...new Set(cats)], 'one annotation per class per image');
    }
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), []);
    await assert.rejects(exportLabels(svc.exportSource(), path.join(dir, 'photos')), /exists/);
    await assert.rejects(exportLabels(svc.exportSource(), path.join(dir, 'photos', '.protolab', 'x'), { force: true }), /labelled folder or its \.protolab state/);
  });
});
