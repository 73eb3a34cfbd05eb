// VOC reader on trees written in the real on-disk formats (JPEG via sharp, palette / grayscale PNGs).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { encode } from 'fast-png';
import { DataError } from '../../src/engine/errors';
import { encodeIndexPng, readIndexPng } from '../../src/engine/image/png';
import { openDataset } from '../../src/engine/data/open';
import { writeMasks } from '../../src/engine/data/masks';
import type { VocDataset } from '../../src/engine/data/voc';

const W = 4, H = 3;

async function jpeg(file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: W, height: H, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toFile(file);
}
function palettePng(file: string, data: number[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeIndexPng({ width: W, height: H, data: Uint8Array.from(data) }));
}
function grayPng(file: string, data: number[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encode({ width: W, height: H, data: Uint8Array.from(data), depth: 8, channels: 1 }));
}

const A_CLASS = [0, 15, 15, 255, 0, 15, 255, 0, 0, 0, 0, 0];
const A_AUG = [0, 15, 15, 15, 0, 15, 15, 0, 0, 0, 0, 0];
const C_CLASS = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20];

async function makeVoc(top: string): Promise<string> {
  const voc = path.join(top, 'VOCdevkit', 'VOC2012');
  for (const id of ['a', 'c', 'd', 'e']) await jpeg(path.join(voc, 'JPEGImages', `${id}.jpg`));
  fs.writeFileSync(path.join(voc, 'JPEGImages', 'b.jpg'), Buffer.from('this is not a jpeg at all'));
  palettePng(path.join(voc, 'SegmentationClass', 'a.png'), A_CLASS);
  palettePng(path.join(voc, 'SegmentationClass', 'b.png'), new Array(W * H).fill(7));
  palettePng(path.join(voc, 'SegmentationClass', 'c.png'), C_CLASS);
  // d has no mask at all
  grayPng(path.join(voc, 'SegmentationClassAug', 'a.png'), A_AUG);
  grayPng(path.join(voc, 'SegmentationClassAug', 'c.png'), C_CLASS);
  grayPng(path.join(voc, 'SegmentationClassAug', 'e.png'), new Array(W * H).fill(3));
  palettePng(path.join(voc, 'SegmentationObject', 'a.png'), [0, 1, 1, 255, 0, 2, 255, 0, 0, 0, 0, 0]);
  const sets = path.join(voc, 'ImageSets', 'Segmentation');
  fs.mkdirSync(sets, { recursive: true });
  fs.writeFileSync(path.join(sets, 'train.txt'), 'a\nb\nd\n');
  fs.writeFileSync(path.join(sets, 'val.txt'), 'c\n');
  return voc;
}

describe('VOC reader', () => {
  let top: string;
  let voc: string;
  let cache: string;
  before(async () => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-voc-'));
    voc = await makeVoc(top);
    cache = path.join(top, 'cache');
  });
  after(() => fs.rmSync(top, { recursive: true, force: true }));

  it('opens from the parent, VOCdevkit and VOC2012 folders', async () => {
    for (const data of [top, path.join(top, 'VOCdevkit'), voc]) {
      const ds = await openDataset({ data, dataset: 'voc', cacheDir: cache });
      assert.strictEqual(ds.root, voc);
      assert.strictEqual(ds.classNames.length, 21);
      assert.strictEqual(ds.classNames[15], 'person');
    }
  });

  it('says which paths it tried when nothing matches', async () => {
    const empty = path.join(top, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    await assert.rejects(openDataset({ data: empty, dataset: 'voc' }), (e: Error) =>
      e instanceof DataError && e.message.includes(path.join(empty, 'VOCdevkit', 'VOC2012')));
  });

  it('lists, trainaug = Aug ids minus val, Aug masks preferred', async () => {
    const ds = await openDataset({ data: top, dataset: 'voc', cacheDir: cache });
    assert.deepStrictEqual(ds.lists(), ['train', 'val', 'trainaug']);
    assert.deepStrictEqual(await ds.imageIds('train'), ['a', 'b', 'd']);
    assert.deepStrictEqual(await ds.imageIds('trainaug'), ['a', 'e']);
    const a = await ds.loadMask('a');
    assert.deepStrictEqual([...a.data], A_AUG);
    const c = await ds.loadMask('c');
    assert.deepStrictEqual([...c.data], C_CLASS);
    const b = await ds.loadMask('b'); // only in SegmentationClass: falls back to it
    assert.strictEqual(b.data[0], 7);
  });

  it('instances from SegmentationObject, null without', async () => {
    const ds = await openDataset({ data: voc, dataset: 'voc', cacheDir: cache });
    const inst = await ds.loadInstances('a');
    assert.deepStrictEqual([...inst!.data], [0, 1, 1, 255, 0, 2, 255, 0, 0, 0, 0, 0]);
    assert.strictEqual(await ds.loadInstances('c'), null);
  });

  it('missing mask and corrupt JPEG are DataErrors naming the file', async () => {
    const ds = await openDataset({ data: voc, dataset: 'voc', cacheDir: cache });
    await assert.rejects(ds.loadMask('d'), (e: Error) => e instanceof DataError && e.file === path.join(voc, 'SegmentationClass', 'd.png'));
    await assert.rejects(ds.loadImage('b'), (e: Error) => e instanceof DataError && e.file === path.join(voc, 'JPEGImages', 'b.jpg'));
    // the index goes on without the image whose mask is missing, and says so
    const train = await ds.index('train');
    assert.ok(!train.some((e) => e.id === 'd'));
    assert.deepStrictEqual(ds.indexProblems!('train').map((p) => [path.basename(p.file), p.problem]), [['d.png', 'mask file not found']]);
    const img = await ds.loadImage('a');
    assert.deepStrictEqual([img.width, img.height, img.data.length], [W, H, W * H * 3]);
  });

  it('rejects list entries that leave the dataset', async () => {
    const sets = path.join(voc, 'ImageSets', 'Segmentation');
    fs.writeFileSync(path.join(sets, 'trainval.txt'), 'a\n../../../etc/passwd\n');
    const ds = (await openDataset({ data: voc, dataset: 'voc', cacheDir: cache })) as VocDataset;
    await assert.rejects(ds.imageIds('trainval' as never), (e: Error) => e instanceof DataError && e.file.endsWith('trainval.txt'));
    assert.throws(() => ds.imagePath('../x'), DataError);
  });

  it('class presence index: hand counts, cached on disk, progress reported', async () => {
    const ds = await openDataset({ data: voc, dataset: 'voc', cacheDir: cache });
    const seen: [number, number][] = [];
    const val = await ds.index('val', (d, t) => seen.push([d, t]));
    assert.deepStrictEqual(val, [{ id: 'c', pixels: { 1: 2, 20: 2 } }]);
    assert.deepStrictEqual(seen[seen.length - 1], [1, 1]);
    const aug = await ds.index('trainaug');
    assert.deepStrictEqual(aug, [{ id: 'a', pixels: { 15: 5 } }, { id: 'e', pixels: { 3: 12 } }]);
    // Prove the second call reads the cache: plant a sentinel in the cached entries (same key).
    const files = fs.readdirSync(cache).filter((f) => f.startsWith('voc-index-val-'));
    assert.strictEqual(files.length, 1);
    const cf = path.join(cache, files[0]);
    const doc = JSON.parse(fs.readFileSync(cf, 'utf8'));
    doc.entries[0].pixels = { 1: 999 };
    fs.writeFileSync(cf, JSON.stringify(doc));
    const again = await (await openDataset({ data: voc, dataset: 'voc', cacheDir: cache })).index('val');
    assert.deepStrictEqual(again[0].pixels, { 1: 999 });
    // a changed list file invalidates it
    fs.writeFileSync(path.join(voc, 'ImageSets', 'Segmentation', 'val.txt'), 'c\n\n');
    const fresh = await (await openDataset({ data: voc, dataset: 'voc', cacheDir: cache })).index('val');
    assert.deepStrictEqual(fresh[0].pixels, { 1: 2, 20: 2 });
  });

  it('writeMasks writes what the engine sees and goes on past bad items', async () => {
    const ds = await openDataset({ data: voc, dataset: 'voc', cacheDir: cache });
    const out = path.join(top, 'masks-out');
    const r = await writeMasks(ds, ['train'], out);
    assert.strictEqual(r.written, 1);
    assert.deepStrictEqual(r.skipped.map((s) => path.basename(s.file)).sort(), ['b.jpg', 'd.png']);
    const a = await readIndexPng(path.join(out, 'a.png'));
    assert.deepStrictEqual([...a.data], A_AUG);
  });

  it("labelme's export: SegmentationClassPNG, class_names.txt, no ImageSets", async () => {
    const root = path.join(top, 'data_dataset_voc');
    for (const id of ['x1', 'x2', 'nomask']) await jpeg(path.join(root, 'JPEGImages', `${id}.jpg`));
    fs.mkdirSync(path.join(root, 'SegmentationClass'), { recursive: true });
    fs.writeFileSync(path.join(root, 'SegmentationClass', 'x1.npy'), 'not a png');
    palettePng(path.join(root, 'SegmentationClassPNG', 'x1.png'), [0, 1, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    palettePng(path.join(root, 'SegmentationClassPNG', 'x2.png'), new Array(W * H).fill(0));
    palettePng(path.join(root, 'SegmentationObjectPNG', 'x1.png'), [0, 1, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    fs.writeFileSync(path.join(root, 'class_names.txt'), '_background_\ncat\ndog\n');
    const ds = await openDataset({ data: root, dataset: 'voc', cacheDir: cache });
    assert.deepStrictEqual(ds.classNames, ['background', 'cat', 'dog']);
    assert.deepStrictEqual(ds.lists(), ['train', 'val']);
    assert.deepStrictEqual(await ds.imageIds('train'), ['x1', 'x2']);
    assert.deepStrictEqual(await ds.imageIds('val'), ['x1', 'x2']);
    assert.deepStrictEqual((await ds.index('val'))[0], { id: 'x1', pixels: { 1: 1, 2: 1 } });
    assert.ok(await ds.loadInstances('x1'));
    // a value beyond the class list is an error naming the mask
    palettePng(path.join(root, 'SegmentationClassPNG', 'x2.png'), new Array(W * H).fill(5));
    await assert.rejects(ds.loadMask('x2'), (e: Error) => e instanceof DataError && e.file.endsWith('x2.png'));
  });
});
