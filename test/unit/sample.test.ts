import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { polygonsToMask } from '../../src/engine/data/coco/polygon';
import { rleDecode } from '../../src/engine/data/coco/rle';
import { SAMPLE_CLASSES, SAMPLE_CLASS_NAMES, SAMPLE_COCO_IDS, writeSampleDataset } from '../../src/engine/data/sample';
import type { SampleResult } from '../../src/engine/data/sample';
import { openDataset } from '../../src/engine/data/open';
import { foldClasses } from '../../src/engine/data/splits';
import { readIndexPng } from '../../src/engine/image/png';

function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(root, p), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

interface CocoFile {
  info: object;
  licenses: object[];
  images: Array<{ id: number; file_name: string; width: number; height: number }>;
  annotations: Array<{ id: number; image_id: number; category_id: number; segmentation: number[][] | { counts: number[]; size: [number, number] }; area: number; bbox: number[]; iscrowd: number }>;
  categories: Array<{ id: number; name: string; supercategory: string }>;
}

describe('sample dataset', function () {
  this.timeout(60000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-sample-'));
  // 8+ images per split so each split gets a crowd region (every 20th image from the 8th)
  const small = { images: { train: 10, val: 12 }, size: [96, 128] as [number, number] };
  let a: SampleResult;

  before(async () => {
    a = await writeSampleDataset({ out: path.join(tmp, 'a'), seed: 7, ...small });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is byte-identical for the same seed and differs for another seed', async () => {
    await writeSampleDataset({ out: path.join(tmp, 'b'), seed: 7, ...small });
    const ha = hashTree(path.join(tmp, 'a')), hb = hashTree(path.join(tmp, 'b'));
    // 22 images x (jpg + 2 png) in VOC, 22 jpg in COCO, 3 lists, class_names.txt, 2 JSON
    assert.strictEqual(ha.size, 22 * 4 + 3 + 1 + 2);
    assert.deepStrictEqual([...hb.entries()], [...ha.entries()]);
    await writeSampleDataset({ out: path.join(tmp, 'c'), seed: 8, ...small });
    const hc = hashTree(path.join(tmp, 'c'));
    const same = [...ha.keys()].filter((k) => k.endsWith('.jpg') && hc.get(k) === ha.get(k));
    assert.strictEqual(same.length, 0);
  });

  it('has 20 named classes, a look-alike pair at 9/11 in different folds, all folds in val', () => {
    assert.strictEqual(SAMPLE_CLASSES.length, 20);
    assert.strictEqual(SAMPLE_CLASS_NAMES.length, 21);
    assert.strictEqual(new Set(SAMPLE_CLASS_NAMES).size, 21);
    assert.strictEqual(new Set(SAMPLE_CLASSES.map((k) => `${k.shape}/${k.texture}`)).size, 20);
    const [chair, table] = [SAMPLE_CLASSES[8], SAMPLE_CLASSES[10]];
    assert.strictEqual(chair.shape, table.shape);
    assert.notStrictEqual(chair.texture, table.texture);
    for (const conv of ['panet', 'fwb'] as const) {
      const fold = (c: number): number => [0, 1, 2, 3].find((f) => foldClasses('coco', 20, f, conv).includes(c)) as number;
      assert.notStrictEqual(fold(9), fold(11), conv);
    }
    for (let f = 0; f < 4; f++) {
      assert.ok(foldClasses('voc', 20, f).some((c) => a.counts.imagesWithClass.val[c] > 0), `fold ${f} empty in val`);
    }
  });

  it('writes VOC lists and masks with 255 borders and instance maps', async () => {
    const sets = path.join(a.vocRoot, 'ImageSets', 'Segmentation');
    const train = fs.readFileSync(path.join(sets, 'train.txt'), 'utf8').trim().split('\n');
    const val = fs.readFileSync(path.join(sets, 'val.txt'), 'utf8').trim().split('\n');
    const trainval = fs.readFileSync(path.join(sets, 'trainval.txt'), 'utf8').trim().split('\n');
    assert.deepStrictEqual([train.length, val.length], [10, 12]);
    assert.deepStrictEqual([...trainval].sort(), [...train, ...val].sort());
    for (const id of val) assert.match(id, /^\d{4}_\d{6}$/);
    let ignoreFrac = 0;
    for (const id of val) {
      const cls = await readIndexPng(path.join(a.vocRoot, 'SegmentationClass', `${id}.png`));
      const obj = await readIndexPng(path.join(a.vocRoot, 'SegmentationObject', `${id}.png`));
      assert.ok(cls.data.includes(255), `${id}: no void border`);
      assert.ok(cls.data.every((v) => v <= 20 || v === 255));
      // every labelled pixel of the class map has an instance and vice versa
      for (let i = 0; i < cls.data.length; i++) assert.strictEqual(cls.data[i] === 0, obj.data[i] === 0);
      ignoreFrac += cls.data.filter((v) => v === 255).length / cls.data.length / val.length;
      assert.ok(fs.existsSync(path.join(a.vocRoot, 'JPEGImages', `${id}.jpg`)));
    }
    assert.ok(ignoreFrac > 0.03 && ignoreFrac < 0.3, `void share ${ignoreFrac}`);
  });

  it('writes real-structured COCO JSON: polygons, crowd RLE, non-contiguous category ids', () => {
    for (const split of ['train', 'val'] as const) {
      const j = JSON.parse(fs.readFileSync(path.join(a.cocoRoot, 'annotations', `instances_${split}2014.json`), 'utf8')) as CocoFile;
      assert.ok(j.info && Array.isArray(j.licenses));
      assert.deepStrictEqual(j.categories.map((c) => c.id), [...SAMPLE_COCO_IDS]);
      assert.deepStrictEqual(j.categories.map((c) => c.name), SAMPLE_CLASS_NAMES.slice(1));
      assert.ok(j.categories.some((c, i) => c.id !== i + 1), 'ids must not be 1..20');
      for (const im of j.images) {
        assert.match(im.file_name, new RegExp(`^COCO_${split}2014_\\d{12}\\.jpg$`));
        assert.ok(fs.existsSync(path.join(a.cocoRoot, `${split}2014`, im.file_name)));
      }
      const crowd = j.annotations.filter((x) => x.iscrowd === 1);
      assert.ok(crowd.length >= 1, `${split}: no crowd region`);
      for (const c of crowd) {
        const seg = c.segmentation as { counts: number[]; size: [number, number] };
        const im = j.images.find((i) => i.id === c.image_id)!;
        assert.deepStrictEqual(seg.size, [im.height, im.width]);
        assert.strictEqual(seg.counts.reduce((s, v) => s + v, 0), im.height * im.width);
        assert.strictEqual(rleDecode(seg, im.height, im.width).reduce((s, v) => s + v, 0), c.area);
      }
      const polys = j.annotations.filter((x) => x.iscrowd === 0);
      assert.ok(polys.length >= 2 * j.images.length);
      for (const p of polys) {
        const seg = p.segmentation as number[][];
        assert.ok(Array.isArray(seg) && seg[0].length >= 6 && seg[0].length % 2 === 0);
        assert.strictEqual(p.bbox.length, 4);
      }
      assert.strictEqual(new Set(j.annotations.map((x) => x.id)).size, j.annotations.length);
    }
  });

  it('VOC masks agree with COCO polygons rasterised the maskApi way on non-ignored pixels', async () => {
    for (const split of ['train', 'val'] as const) {
      const j = JSON.parse(fs.readFileSync(path.join(a.cocoRoot, 'annotations', `instances_${split}2014.json`), 'utf8')) as CocoFile;
      const ordinal = new Map(j.categories.map((c, i) => [c.id, i + 1]));
      const ids = fs.readFileSync(path.join(a.vocRoot, 'ImageSets', 'Segmentation', `${split}.txt`), 'utf8').trim().split('\n');
      assert.strictEqual(ids.length, j.images.length);
      let agree = 0, total = 0;
      // the lists and the COCO images are both in scene order
      for (let k = 0; k < ids.length; k++) {
        const im = j.images[k];
        const voc = await readIndexPng(path.join(a.vocRoot, 'SegmentationClass', `${ids[k]}.png`));
        const coco = new Uint8Array(im.width * im.height);
        // paint in file order (back to front); crowds are ignore
        for (const an of j.annotations.filter((x) => x.image_id === im.id)) {
          const m = an.iscrowd ? rleDecode(an.segmentation as { counts: number[] }, im.height, im.width) : polygonsToMask(an.segmentation as number[][], im.height, im.width);
          const v = an.iscrowd ? 255 : (ordinal.get(an.category_id) as number);
          for (let i = 0; i < m.length; i++) if (m[i]) coco[i] = v;
        }
        for (let i = 0; i < coco.length; i++) {
          if (voc.data[i] === 255 || coco[i] === 255) continue;
          total++;
          if (voc.data[i] === coco[i]) agree++;
        }
      }
      assert.ok(agree / total >= 0.999, `${split}: ${agree}/${total}`);
    }
  });

  it('reads back through openDataset: VOC and COCO masks agree', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const voc = await openDataset({ data: path.join(tmp, 'a'), dataset: 'voc', cacheDir });
    const coco = await openDataset({ data: path.join(tmp, 'a'), dataset: 'coco', cacheDir });
    assert.deepStrictEqual(coco.classNames, SAMPLE_CLASS_NAMES);
    assert.deepStrictEqual(voc.classNames, SAMPLE_CLASS_NAMES, 'VOC export names its classes (class_names.txt)');
    for (const list of ['train', 'val'] as const) {
      const vids = await voc.imageIds(list), cids = await coco.imageIds(list);
      assert.strictEqual(vids.length, cids.length);
      let agree = 0, total = 0;
      for (let k = 0; k < vids.length; k++) {
        const m1 = (await voc.loadMask(vids[k])).data, m2 = (await coco.loadMask(cids[k])).data;
        assert.strictEqual(m1.length, m2.length);
        for (let i = 0; i < m1.length; i++) {
          if (m1[i] === 255 || m2[i] === 255) continue;
          total++;
          if (m1[i] === m2[i]) agree++;
        }
      }
      assert.ok(agree / total >= 0.95, `${list}: ${agree}/${total}`);
      // every class the VOC index sees in val, the COCO index sees too
      const vi = await voc.index(list), ci = await coco.index(list);
      const classes = (ix: typeof vi): number[] => [...new Set(ix.flatMap((e) => Object.keys(e.pixels).map(Number)))].sort((x, y) => x - y);
      assert.deepStrictEqual(classes(ci), classes(vi));
    }
  });
});
