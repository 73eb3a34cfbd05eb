// Hand-traced truth built into masks (scripts/lib/photoTruth.ts): the fill and the unsure band on a
// square worked out by hand, extra class names, the stamp that says when a rebuild is due, bad trace
// files named in the error; and the benchmark's configuration names (scripts/lib/labelConfigs.ts).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { readIndexPng } from '../../src/engine/image/png';
import { buildPhotoTruth, readTruthFile, truthIsCurrent } from '../../scripts/lib/photoTruth';
import { DEFAULT_BACKBONE, parseConfigs } from '../../scripts/lib/labelConfigs';

describe('bench truth (traced masks)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-benchtruth-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('fills a traced square, bands its edge, names extra classes and stamps the build', async () => {
    await sharp(Buffer.alloc(8 * 6 * 3, 90), { raw: { width: 8, height: 6, channels: 3 } }).png().toFile(path.join(tmp, 'photo.png'));
    const trace = path.join(tmp, 'cup.json');
    // the square (2,1)–(6,5) holds the pixel centres x 2..5, y 1..4 (16 pixels). A 1-px band makes 255 of
    // every pixel with a 4-neighbour of the other label (diagonals are √2 away): the square's 12 edge
    // pixels and the 16 outside pixels touching it; its inner 2×2 stays the class, 48 − 16 − 16 = 16 background
    fs.writeFileSync(trace, JSON.stringify({ band: 1, names: { 21: 'cup' }, images: [{ id: 'sq', file: 'photo.png', polygons: [{ label: 21, points: [2, 1, 6, 1, 6, 5, 2, 5] }] }] }));
    const out = path.join(tmp, 'out');
    await buildPhotoTruth({ files: [trace], images: tmp, out });
    const m = await readIndexPng(path.join(out, 'SegmentationClassPNG', 'sq.png'));
    const count = (v: number) => m.data.filter((x) => x === v).length;
    assert.deepStrictEqual([count(21), count(255), count(0)], [4, 28, 16]);
    assert.deepStrictEqual([m.data[2 * 8 + 3], m.data[1 * 8 + 2], m.data[0 * 8 + 2], m.data[0]], [21, 255, 255, 0]);
    const names = fs.readFileSync(path.join(out, 'class_names.txt'), 'utf8').trim().split('\n');
    assert.deepStrictEqual([names[0], names[15], names[21], names.length], ['_background_', 'person', 'cup', 22]);
    assert.ok(fs.existsSync(path.join(out, 'JPEGImages', 'sq.png')));
    // current until the trace changes
    assert.strictEqual(truthIsCurrent(out, [trace]), true);
    fs.writeFileSync(trace, fs.readFileSync(trace, 'utf8').replace('"band":1', '"band":2'));
    assert.strictEqual(truthIsCurrent(out, [trace]), false);
  });

  it('a bad trace file is an error naming the file and the field', () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ band: 3, images: [{ id: 'x', file: 'x.png', polygons: [{ label: 15, points: [0, 0, 1, 1] }] }] }));
    assert.throws(() => readTruthFile(bad), (e: Error) => e.message.includes(bad) && /polygon 0: points/.test(e.message));
    fs.writeFileSync(bad, JSON.stringify({ band: 3, names: { 5: 'cup' }, images: [{ id: 'x', file: 'x.png', polygons: [] }] }));
    // ordinal 5 is VOC's bottle: a trace may add names, never rename
    return assert.rejects(buildPhotoTruth({ files: [bad], images: tmp, out: path.join(tmp, 'o2') }), (e: Error) => e.message.includes(bad) && /ordinal 5 is already "bottle"/.test(e.message));
  });

  it('configurations: method[:variant][@backbone], the default backbone otherwise', () => {
    const methods = [{ id: 'quality', variants: [{ name: 'quality', options: {} }, { name: 'quality-refine', options: { refine: false } }] }, { id: 'baseline', variants: [{ name: 'baseline', options: {} }] }];
    assert.deepStrictEqual(parseConfigs(undefined, methods).map((c) => `${c.name} ${c.backbone}`), [`quality ${DEFAULT_BACKBONE}`, `quality:quality-refine ${DEFAULT_BACKBONE}`, `baseline ${DEFAULT_BACKBONE}`]);
    const got = parseConfigs('quality@nanodet, quality:quality-refine@centernet,baseline', methods);
    assert.deepStrictEqual(got.map((c) => [c.name, c.method, c.backbone, c.options]), [
      ['quality@nanodet', 'quality', 'nanodet', {}],
      ['quality:quality-refine@centernet', 'quality', 'centernet', { refine: false }],
      ['baseline', 'baseline', DEFAULT_BACKBONE, {}],
    ]);
    assert.throws(() => parseConfigs('fancy@nanodet', methods), /unknown configuration fancy; known: quality, quality:quality-refine, baseline/);
    assert.throws(() => parseConfigs('quality@', methods), /no backbone after @/);
  });
});
