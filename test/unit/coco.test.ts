// COCO reader on a tree written in the real on-disk format (annotations/instances_*2014.json, image folders).
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { DataError, UsageError } from '../../src/engine/errors';
import { openDataset } from '../../src/engine/data/open';
import { openCocoJson } from '../../src/engine/data/coco';
import { cocoIndexStats } from '../../src/engine/data/coco/index';

async function jpeg(file: string, w: number, h: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 120, b: 200 } } }).jpeg().toFile(file);
}

// Image 42 (w 6, h 5), annotations in file order:
//  1 person polygon [0,2]^2            -> (x 0..1, y 0..1) = 1
//  2 car polygon [1,4]x[1,3]           -> (x 1..3, y 1..2) = 2, wins over person at (1,1)
//  3 person crowd RLE, column 5        -> counts [25, 5]: 255 (ignore) or 1 (class)
//  4 car compressed RLE "41i0" = [4,1,25] -> column-major index 4 = (x 0, y 4) = 2 (no area field)
//  5 a _background_ annotation         -> ignored
const MASK_IGNORE = [
  1, 1, 0, 0, 0, 255,
  1, 2, 2, 2, 0, 255,
  0, 2, 2, 2, 0, 255,
  0, 0, 0, 0, 0, 255,
  2, 0, 0, 0, 0, 255,
];
const INST = [
  1, 1, 0, 0, 0, 255,
  1, 2, 2, 2, 0, 255,
  0, 2, 2, 2, 0, 255,
  0, 0, 0, 0, 0, 255,
  3, 0, 0, 0, 0, 255,
];
const CATS = [{ id: 0, name: '_background_' }, { id: 1, name: 'person' }, { id: 3, name: 'car' }];

async function makeCoco(top: string): Promise<string> {
  const coco = path.join(top, 'coco');
  const ann = path.join(coco, 'annotations');
  fs.mkdirSync(ann, { recursive: true });
  await jpeg(path.join(coco, 'val2014', 'JPEGImages', 'a.jpg'), 6, 5);
  fs.mkdirSync(path.join(coco, 'val2014'), { recursive: true });
  fs.writeFileSync(path.join(coco, 'val2014', 'b.jpg'), Buffer.from('garbage, not a jpeg'));
  const val = {
    info: {}, licenses: [],
    images: [
      { id: 42, file_name: 'JPEGImages/a.jpg', width: 6, height: 5 },
      { id: 7, file_name: 'b.jpg', width: 4, height: 4 },
      { id: 8, file_name: '../../etc/passwd', width: 4, height: 4 },
    ],
    annotations: [
      { id: 1, image_id: 42, category_id: 1, iscrowd: 0, area: 4, bbox: [0, 0, 2, 2], segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] },
      { id: 2, image_id: 42, category_id: 3, iscrowd: 0, area: 6, bbox: [1, 1, 3, 2], segmentation: [[1, 1, 4, 1, 4, 3, 1, 3]] },
      { id: 3, image_id: 42, category_id: 1, iscrowd: 1, area: 5, bbox: [5, 0, 1, 5], segmentation: { counts: [25, 5], size: [5, 6] } },
      { id: 4, image_id: 42, category_id: 3, iscrowd: 0, bbox: [0, 4, 1, 1], segmentation: { counts: '41i0', size: [5, 6] } },
      { id: 5, image_id: 42, category_id: 0, iscrowd: 0, area: 30, bbox: [0, 0, 6, 5], segmentation: [[0, 0, 6, 0, 6, 5, 0, 5]] },
    ],
    categories: CATS,
  };
  fs.writeFileSync(path.join(ann, 'instances_val2014.json'), JSON.stringify(val));
  // train: one image in a sub-folder of train2014/, one found only next to the JSON
  await jpeg(path.join(coco, 'train2014', 'sub', 'c.jpg'), 3, 3);
  await jpeg(path.join(ann, 'd.jpg'), 3, 3);
  const train = {
    images: [{ id: 1, file_name: 'sub/c.jpg', width: 3, height: 3 }, { id: 2, file_name: 'd.jpg', width: 3, height: 3 }],
    annotations: [{ id: 9, image_id: 1, category_id: 3, iscrowd: 0, area: 4, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] }],
    categories: CATS,
  };
  fs.writeFileSync(path.join(ann, 'instances_train2014.json'), JSON.stringify(train));
  return coco;
}

describe('COCO reader', () => {
  let top: string;
  let coco: string;
  let cache: string;
  before(async () => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-coco-'));
    coco = await makeCoco(top);
    cache = path.join(top, 'cache');
  });
  after(() => fs.rmSync(top, { recursive: true, force: true }));

  it('maps category ids to ordinals in file order, without the background category', async () => {
    const ds = await openDataset({ data: top, dataset: 'coco', cacheDir: cache });
    assert.deepStrictEqual(ds.classNames, ['background', 'person', 'car']);
    assert.deepStrictEqual(ds.lists(), ['train', 'val']);
    assert.deepStrictEqual(await ds.imageIds('val'), ['a', 'b', 'passwd']);
    await assert.rejects(ds.imageIds('trainaug'), UsageError);
  });

  it('paints polygons, compressed and uncompressed RLE; later wins; crowd ignored by default', async () => {
    const ds = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache });
    const m = await ds.loadMask('a');
    assert.deepStrictEqual([m.width, m.height], [6, 5]);
    assert.deepStrictEqual([...m.data], MASK_IGNORE);
    const inst = await ds.loadInstances('a');
    assert.deepStrictEqual([...inst!.data], INST);
    assert.match(ds.fingerprint, /crowd=ignore/);
  });

  it("crowd: 'class' paints crowd regions with their class and counts them", async () => {
    const ds = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache, crowd: 'class' });
    const m = await ds.loadMask('a');
    assert.deepStrictEqual([...m.data], MASK_IGNORE.map((v) => (v === 255 ? 1 : v)));
    const idx = await ds.index('val');
    // areas: person 4 + crowd 5; car 6 + 1 (computed from the RLE, no area field)
    assert.deepStrictEqual(idx.find((e) => e.id === 'a')!.pixels, { 1: 9, 2: 7 });
    assert.match(ds.fingerprint, /crowd=class/);
  });

  it('index: per-class areas, crowd excluded by default', async () => {
    const ds = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache });
    const idx = await ds.index('val');
    assert.deepStrictEqual(idx, [{ id: 'a', pixels: { 1: 4, 2: 7 } }, { id: 'b', pixels: {} }, { id: 'passwd', pixels: {} }]);
  });

  it('resolves sub-folder file_names against the images folder, then the JSON folder', async () => {
    const ds = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache });
    assert.strictEqual(ds.imagePath('a'), path.join(coco, 'val2014', 'JPEGImages', 'a.jpg'));
    assert.strictEqual(ds.imagePath('c'), path.join(coco, 'train2014', 'sub', 'c.jpg'));
    assert.strictEqual(ds.imagePath('d'), path.join(coco, 'annotations', 'd.jpg'));
    const img = await ds.loadImage('d');
    assert.deepStrictEqual([img.width, img.height], [3, 3]);
    const c = await ds.loadMask('c');
    assert.deepStrictEqual([...c.data], [2, 2, 0, 2, 2, 0, 0, 0, 0]);
  });

  it('corrupt image and escaping file_name are DataErrors naming the file', async () => {
    const ds = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache });
    await assert.rejects(ds.loadImage('b'), (e: Error) => e instanceof DataError && e.file === path.join(coco, 'val2014', 'b.jpg'));
    await assert.rejects(ds.loadImage('passwd'), (e: Error) =>
      e instanceof DataError && e.file === path.join(coco, 'annotations', 'instances_val2014.json') && /outside/.test(e.problem));
  });

  it('parses each JSON once: later opens read the cached index; a changed JSON is re-indexed', async () => {
    const cache2 = path.join(top, 'cache2');
    const before = cocoIndexStats.parses;
    const ds1 = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache2 });
    assert.strictEqual(cocoIndexStats.parses, before + 2);
    const ds2 = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache2 });
    assert.strictEqual(cocoIndexStats.parses, before + 2);
    assert.deepStrictEqual([...(await ds2.loadMask('a')).data], MASK_IGNORE);
    assert.strictEqual(ds1.fingerprint, ds2.fingerprint);
    const json = path.join(coco, 'annotations', 'instances_train2014.json');
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(json, t, t);
    const ds3 = await openDataset({ data: coco, dataset: 'coco', cacheDir: cache2 });
    assert.strictEqual(cocoIndexStats.parses, before + 3);
    assert.notStrictEqual(ds3.fingerprint, ds1.fingerprint);
    // the stale cache files of the old key are gone: one index + one anns file per JSON
    assert.strictEqual(fs.readdirSync(cache2).filter((f) => f.startsWith('instances_train2014-')).length, 2);
  });

  it('one JSON from any tool serves both lists; bad JSON names the file', async () => {
    const json = path.join(coco, 'annotations', 'instances_val2014.json');
    const ds = await openDataset({ data: json, dataset: 'coco', images: path.join(coco, 'val2014'), cacheDir: cache });
    assert.deepStrictEqual(await ds.imageIds('train'), await ds.imageIds('val'));
    assert.deepStrictEqual([...(await ds.loadMask('a')).data], MASK_IGNORE);
    const bad = path.join(top, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ images: [{ id: 1, file_name: 'x.jpg', width: 2, height: 2 }], annotations: [{ image_id: 1, category_id: 99, segmentation: [] }], categories: CATS }));
    await assert.rejects(openCocoJson(bad, { cacheDir: cache }), (e: Error) => e instanceof DataError && e.file === bad && /category_id 99/.test(e.problem));
  });

  it('says which paths it tried when no COCO data is found', async () => {
    const empty = path.join(top, 'nothing');
    fs.mkdirSync(empty, { recursive: true });
    await assert.rejects(openDataset({ data: empty, dataset: 'coco' }), (e: Error) =>
      e instanceof DataError && e.message.includes(path.join(empty, 'coco', 'annotations')));
  });
});

describe('COCO index: a heap too small for the annotation file', () => {
  it('is refused before parsing with the flag to set, naming the file (not a V8 out-of-memory crash)', function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-coco-heap-'));
    try {
      // ≈ 40 MB of polygons: needs ≈ 160 MB of heap by the reader's own rule, more than a 64 MB old space allows.
      const images = Array.from({ length: 2000 }, (_, i) => ({ id: i + 1, file_name: `${i}.jpg`, width: 640, height: 480 }));
      const poly = Array.from({ length: 400 }, (_, j) => (j * 1.25).toFixed(2)).join(',');
      const anns = Array.from({ length: 16000 }, (_, i) => `{"id":${i + 1},"image_id":${(i % 2000) + 1},"category_id":1,"iscrowd":0,"area":10,"segmentation":[[${poly}]]}`);
      const file = path.join(dir, 'big.json');
      fs.writeFileSync(file, `{"images":${JSON.stringify(images)},"categories":[{"id":1,"name":"a"},{"id":2,"name":"b"},{"id":3,"name":"c"},{"id":4,"name":"d"}],"annotations":[${anns.join(',')}]}`);
      assert.ok(fs.statSync(file).size > 30 * 2 ** 20);
      const openJs = path.resolve(__dirname, '../../src/engine/data/open.js');
      const script = `require(${JSON.stringify(openJs)}).openDataset({ data: ${JSON.stringify(file)}, dataset: 'coco', cacheDir: ${JSON.stringify(path.join(dir, 'cache'))} })` +
        '.then((ds) => ds.index(ds.lists()[0])).then(() => console.log("indexed"), (e) => { console.log("ERR " + e.message); process.exit(3); })';
      const r = spawnSync(process.execPath, ['--max-old-space-size=64', '-e', script], { encoding: 'utf8', timeout: 100000 });
      assert.strictEqual(r.status, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /big\.json: indexing this \d+ MB file needs about [\d.]+ GB of JS heap .* NODE_OPTIONS=--max-old-space-size=\d+/);
      assert.doesNotMatch(r.stderr, /FATAL|out of memory/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
