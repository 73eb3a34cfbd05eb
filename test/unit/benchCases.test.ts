// The real-photo benchmark's case set (scripts/lib/realCases.ts) on fixture folders made here: which
// pairs it makes and of which kind, which classes they score, the `small` flag (worked out by hand from
// the pixel counts), the singles; class names unified across sources (photoSources.ts); and a missing
// source or unbuilt trace as an error naming what to run (realPhotos.ts).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { encodeIndexPng } from '../../src/engine/image/png';
import { photoPaths, readLabelmeShapes, readVocFolder, unifyClassName, type AnnotatedPhoto } from '../../scripts/lib/photoSources';
import { buildCases, caseMask } from '../../scripts/lib/realCases';
import { ensureRealPhotos, FETCH_COMMAND, loadRealPhotos, missingDownloads, MissingSourceError, TRUTH_COMMAND } from '../../scripts/lib/realPhotos';

const W = 10, H = 10; // 100 pixels: a count of pixels is its percentage

/** A 10×10 mask: `n` pixels of each value in turn, in row order from pixel 0, the rest 0. */
function mask(runs: Array<[value: number, n: number]>): Uint8Array {
  const m = new Uint8Array(W * H);
  let i = 0;
  for (const [v, n] of runs) for (let k = 0; k < n; k++) m[i++] = v;
  return m;
}

async function writeFolder(dir: string, names: string[], masks: Record<string, Uint8Array>): Promise<void> {
  fs.mkdirSync(path.join(dir, 'JPEGImages'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'SegmentationClassPNG'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'class_names.txt'), names.join('\n') + '\n');
  for (const [id, m] of Object.entries(masks)) {
    await sharp(Buffer.alloc(W * H * 3, 128), { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(dir, 'JPEGImages', `${id}.png`));
    fs.writeFileSync(path.join(dir, 'SegmentationClassPNG', `${id}.png`), encodeIndexPng({ width: W, height: H, data: m }));
  }
}

describe('bench cases (real-photo benchmark)', () => {
  let tmp: string;
  let photos: AnnotatedPhoto[];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-benchcases-'));
    // photos: ordinals 1 cat, 2 dog (absent everywhere), 3 'track' (a truck, as labelme's video calls it), 4 bird
    await writeFolder(path.join(tmp, 'photos'), ['_background_', 'cat', 'dog', 'track', 'bird'], {
      a: mask([[1, 30], [3, 4]]), // cat 30 %, truck 4 %
      b: mask([[1, 3], [255, 7], [3, 20]]), // cat 3 %, 7 ignored pixels, truck 20 %
      c: mask([[4, 10]]), // bird 10 %: shares nothing
    });
    // a sequence: frame f0 labelled, f1 and f2 later frames
    await writeFolder(path.join(tmp, 'frames'), ['_background_', 'truck'], {
      f0: mask([[1, 10]]),
      f1: mask([[1, 12]]),
      f2: mask([[1, 2]]),
    });
    const frames = (await readVocFolder(path.join(tmp, 'frames'), 'frames')).map((f) => ({ ...f, sequence: { name: 'clip', support: f.id === 'frames/f0' } }));
    photos = [...(await readVocFolder(path.join(tmp, 'photos'), 'photos')), ...frames];
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads a VOC export with unified class names (track → truck), re-indexed 1..n per photo', () => {
    const a = photos.find((p) => p.id === 'photos/a')!;
    assert.deepStrictEqual(a.classes, ['cat', 'truck']);
    assert.deepStrictEqual([a.truth.data[0], a.truth.data[30], a.truth.data[34]], [1, 2, 0]);
    const b = photos.find((p) => p.id === 'photos/b')!;
    assert.deepStrictEqual([b.truth.data[3], b.truth.data[10]], [255, 2]); // 255 kept
    assert.strictEqual(unifyClassName(' Track '), 'truck');
    assert.strictEqual(unifyClassName('tv/monitor'), 'tvmonitor');
    assert.strictEqual(unifyClassName('potted plant'), 'pottedplant');
  });

  it('pairs: photo → photo across scenes, labelled frame → later frames, the small flag below 5 %', () => {
    const { oneShot, singles } = buildCases(photos);
    const got = oneShot.map((c) => `${c.kind} ${c.id}: ${c.classes.map((k) => `${k.label}=${k.name}${k.small ? '(small)' : ''}`).join(' ')}`).sort();
    // a→b: cat is 3 % of b (small), truck 20 %; b→a: cat 30 %, truck 4 % (small); the frames enter
    // photo cases through f0 alone (truck 10 % of f0; 4 % of a, 20 % of b); f0 → f1 (12 %), f0 → f2 (2 %)
    assert.deepStrictEqual(got, [
      'photo frames/f0 → photos/a: 1=truck(small)',
      'photo frames/f0 → photos/b: 1=truck',
      'photo photos/a → frames/f0: 1=truck',
      'photo photos/a → photos/b: 1=cat(small) 2=truck',
      'photo photos/b → frames/f0: 1=truck',
      'photo photos/b → photos/a: 1=cat 2=truck(small)',
      'video frames/f0 → frames/f1: 1=truck',
      'video frames/f0 → frames/f2: 1=truck(small)',
    ]);
    // coverage counts every pixel of the query, ignored ones too: cat in b is 3 / 100
    const ab = oneShot.find((c) => c.id === 'photos/a → photos/b')!;
    assert.strictEqual(ab.classes[0].coverage, 0.03);
    assert.strictEqual(ab.support?.id, 'photos/a');
    // every (photo, class) some 1-shot case scores is not a single: what is left is c's bird
    assert.deepStrictEqual(singles.map((c) => `${c.kind} ${c.id}: ${c.classes.map((k) => k.name).join(' ')}`), ['single photos/c: bird']);
    assert.strictEqual(singles[0].support, undefined);
  });

  it("a photo's truth in a case's labels: its classes mapped, others background, 255 kept", () => {
    const { oneShot } = buildCases(photos);
    const f0a = oneShot.find((c) => c.id === 'frames/f0 → photos/a')!;
    const a = caseMask(f0a.query, f0a);
    // a: cat (not a class of this case) → 0, truck → 1
    assert.deepStrictEqual([a.data[0], a.data[30], a.data[34]], [0, 1, 0]);
    const ba = oneShot.find((c) => c.id === 'photos/b → photos/a')!;
    const b = caseMask(ba.support!, ba);
    assert.deepStrictEqual([b.data[0], b.data[3], b.data[10], b.data[40]], [1, 255, 2, 0]);
  });

  it('labelme JSON shapes: rectangles, circles and polygons become regions, lines and points do not', async () => {
    const dir = path.join(tmp, 'shapes');
    fs.mkdirSync(dir);
    await sharp(Buffer.alloc(20 * 10 * 3, 200), { raw: { width: 20, height: 10, channels: 3 } }).jpeg().toFile(path.join(dir, 'p.jpg'));
    fs.writeFileSync(path.join(dir, 'p.json'), JSON.stringify({
      imageWidth: 20, imageHeight: 10, shapes: [
        // pixel centres inside x 1..3 × y 1..2: 3 × 2 = 6 pixels
        { label: 'rectangle', shape_type: 'rectangle', points: [[1, 1], [4, 3]] },
        { label: 'line', shape_type: 'line', points: [[0, 0], [19, 9]] },
        { label: 'point', shape_type: 'point', points: [[15, 5]] },
        // triangle: centres (x + .5, y + .5) with x ≥ 10, y ≥ 5 and (x + .5 − 10) + (y + .5 − 5) < 4 → 6 pixels
        { label: 'polygon', shape_type: 'polygon', points: [[10, 5], [14, 5], [10, 9]] },
      ],
    }));
    const p = await readLabelmeShapes(path.join(dir, 'p.json'), path.join(dir, 'p.jpg'), 'primitives', 'p', 0);
    assert.deepStrictEqual(p.classes, ['rectangle', 'polygon']);
    const count = (v: number) => p.truth.data.filter((x) => x === v).length;
    assert.deepStrictEqual([count(1), count(2), count(0)], [6, 6, 200 - 12]);
    assert.strictEqual(p.truth.data[2 * 20 + 3], 1);
    assert.strictEqual(p.truth.data[5 * 20 + 10], 2);
  });

  it('a mask of another size than its photo is an error naming the mask', async () => {
    const dir = path.join(tmp, 'bad');
    await writeFolder(dir, ['_background_', 'cat'], { x: mask([[1, 5]]) });
    fs.writeFileSync(path.join(dir, 'SegmentationClassPNG', 'x.png'), encodeIndexPng({ width: 4, height: 4, data: new Uint8Array(16) }));
    await assert.rejects(readVocFolder(dir, 'bad'), (e: Error) => e.message.includes(path.join(dir, 'SegmentationClassPNG', 'x.png')) && /4×4/.test(e.message));
  });

  it('a missing source is an error that names each missing path and the command to run', async () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    const paths = photoPaths({ PROTOLAB_LABELME_DIR: path.join(empty, 'labelme'), PROTOLAB_SKIMAGE_DIR: path.join(empty, 'skimage'), PROTOLAB_PHOTO_TRUTH_DIR: path.join(empty, 'truth') });
    await assert.rejects(loadRealPhotos(paths), (e: Error) => {
      assert.ok(e instanceof MissingSourceError, String(e));
      assert.ok(e.message.includes(FETCH_COMMAND), e.message);
      assert.ok(e.message.includes(path.join(paths.labelmeExamples, 'video_annotation', 'data_dataset_voc', 'SegmentationClassPNG', '00000104.png')), e.message);
      assert.ok(e.message.includes(paths.skimageData), e.message);
      return true;
    });
  });

  it('downloads present but the traces not built: the error names make-photo-truth', async () => {
    // every file the sources are checked for exists (empty), the truth folder does not
    const root = path.join(tmp, 'present');
    const paths = photoPaths({ PROTOLAB_LABELME_DIR: path.join(root, 'labelme'), PROTOLAB_SKIMAGE_DIR: path.join(root, 'skimage'), PROTOLAB_PHOTO_TRUTH_DIR: path.join(root, 'truth') });
    const ex = paths.labelmeExamples;
    const files = [
      ...['2011_000003', '2011_000006', '2011_000025'].map((id) => path.join(ex, 'semantic_segmentation', 'data_dataset_voc', 'SegmentationClassPNG', `${id}.png`)),
      ...[100, 101, 102, 103, 104].map((n) => path.join(ex, 'video_annotation', 'data_dataset_voc', 'SegmentationClassPNG', `00000${n}.png`)),
      path.join(ex, 'tutorial', 'apc2016_obj3_json', 'label.png'),
      path.join(ex, 'primitives', 'primitives.json'),
    ];
    for (const f of files) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, '');
    }
    fs.mkdirSync(paths.skimageData, { recursive: true });
    await assert.rejects(loadRealPhotos(paths), (e: Error) => e instanceof MissingSourceError && e.message.includes(TRUTH_COMMAND) && e.message.includes('not built') && !e.message.includes(FETCH_COMMAND));
  });
});

// The real set itself, when its sources are there (scripts/fetch-photos.sh; CI fetches them, and there a
// missing source fails). The traced masks are built into a temporary folder. Expected values come from
// the sources' own masks: the video's car covers 1.59 % of every frame, its truck 9.6–11.8 %; VOC
// 2011_000025's car 3.9 %, its bus 63 %.
describe('bench cases on the real photos', function () {
  let tmp: string;
  let set: ReturnType<typeof buildCases>;
  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-realcases-'));
    const paths = photoPaths({ ...process.env, PROTOLAB_PHOTO_TRUTH_DIR: tmp });
    const missing = missingDownloads(paths);
    if (missing.length) {
      const msg = `real photos not fetched (${missing[0]}…): run ${FETCH_COMMAND}`;
      if (process.env.CI === 'true') throw new Error(msg);
      console.log(`      skipped: ${msg}`);
      this.skip();
    }
    await ensureRealPhotos(paths);
    set = buildCases(await loadRealPhotos(paths));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('every source takes part: 14 photo and 6 video/stereo cases, 14 singles, 4 classes scored 1-shot', () => {
    const ids = (k: string) => set.oneShot.filter((c) => c.kind === k).map((c) => c.id);
    assert.deepStrictEqual(ids('video'), [
      'video/00000100 → video/00000101', 'video/00000100 → video/00000102', 'video/00000100 → video/00000103', 'video/00000100 → video/00000104',
      'skimage/motorcycle_left → skimage/motorcycle_right', 'skimage/motorcycle_right → skimage/motorcycle_left',
    ]);
    // persons: 4 photos (2 VOC, 2 traced) → 12 ordered pairs; car: VOC 2011_000025 ↔ the video's labelled frame
    assert.strictEqual(ids('photo').length, 14);
    assert.ok(ids('photo').includes('voc/2011_000025 → video/00000100'));
    assert.deepStrictEqual([...new Set(set.oneShot.flatMap((c) => c.classes.map((k) => k.name)))].sort(), ['car', 'motorbike', 'person', 'truck']);
    const v1 = set.oneShot.find((c) => c.id === 'video/00000100 → video/00000101')!;
    assert.deepStrictEqual(v1.classes.map((k) => `${k.name}${k.small ? ' small' : ''}`), ['car small', 'truck']);
    assert.ok(Math.abs(v1.classes[0].coverage - 0.0159) < 0.0005, String(v1.classes[0].coverage));
    const car = set.oneShot.find((c) => c.id === 'video/00000100 → voc/2011_000025')!;
    assert.deepStrictEqual(car.classes.map((k) => `${k.name}${k.small ? ' small' : ''}`), ['car small']);
    assert.deepStrictEqual(set.singles.map((c) => `${c.id}: ${c.classes[0].name}`).sort(), [
      'primitives/primitives: circle', 'primitives/primitives: polygon', 'primitives/primitives: rectangle',
      'skimage/chelsea: cat', 'skimage/coffee: cup',
      'tutorial/apc2016_obj3: highland_6539_self_stick_notes', 'tutorial/apc2016_obj3: kong_air_dog_squeakair_tennis_ball',
      'tutorial/apc2016_obj3: mead_index_cards', 'tutorial/apc2016_obj3: shelf',
      'video/00000100: truck', 'voc/2011_000003: bottle', 'voc/2011_000006: chair', 'voc/2011_000006: sofa', 'voc/2011_000025: bus',
    ]);
  });
});
