// Writes the built-in sample dataset in BOTH real on-disk formats from the same scenes:
//   OUT/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,SegmentationObject,ImageSets/Segmentation}
//   OUT/coco/{annotations/instances_{train,val}2014.json, train2014/, val2014/}
// VOC masks are the rasterised scene polygons (255 borders, crowds 255); COCO gets the same polygons
// (back to front, the order that reproduces the VOC mask when painted) and crowds as iscrowd=1 RLE.
// Everything random comes from one seed, and nothing else (no time, no file order) reaches the bytes,
// so the same seed writes byte-identical files.
import * as path from 'path';
import sharp from 'sharp';
import { writeFileAtomicAsync } from '../../fsutil';
import { encodeIndexPng } from '../../image/png';
import { Rng } from '../../prng';
import { rleEncode } from '../coco/rle';
import { SAMPLE_CLASS_NAMES, SAMPLE_CLASSES, SAMPLE_COCO_IDS } from './classes';
import { renderScene } from './scene';
import type { Scene, SceneSpec } from './scene';

export interface SampleOptions {
  /** output folder; VOCdevkit/ and coco/ are created inside */
  out: string;
  seed?: number;
  images?: { train: number; val: number };
  /** image side range in pixels (each side drawn independently); a number = square images;
   *  { width, height } = every image exactly that size (e.g. PASCAL's typical 500×375) */
  size?: number | [number, number] | { width: number; height: number };
  /** also write the COCO copy (default true); false = the VOC tree alone (half the files, for scale tests) */
  coco?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SampleCounts {
  train: number;
  val: number;
  /** class objects (crowds not included) */
  objects: { train: number; val: number };
  crowds: { train: number; val: number };
  /** imagesWithClass[split][c] = images of that split whose VOC mask has class c (c = 1..20; [0] unused) */
  imagesWithClass: { train: number[]; val: number[] };
}

export interface SampleResult {
  /** .../VOCdevkit/VOC2012 */
  vocRoot: string;
  /** .../coco (holds annotations/, train2014/, val2014/) */
  cocoRoot: string;
  counts: SampleCounts;
}

type Split = 'train' | 'val';

interface Planned {
  split: Split;
  /** global scene number: VOC id 2008_<n>, COCO image id derived from it */
  n: number;
  spec: SceneSpec;
}

const JPEG_QUALITY = 90;
/** every CROWD_EVERY-th image of a split (offset 7) has a crowd region: "a few" as in COCO */
const CROWD_EVERY = 20;

export function vocId(n: number): string {
  return `2008_${String(n).padStart(6, '0')}`;
}

/** COCO image ids are not 0..N-1 in the real files either. */
export function cocoImageId(n: number): number {
  return 100000 + 37 * n;
}

export function cocoFileName(split: Split, imageId: number): string {
  return `COCO_${split}2014_${String(imageId).padStart(12, '0')}.jpg`;
}

/** Object count per image: 2-4, mostly 2-3 (VOC averages ~2.3 objects; fewer than before because
 *  objects are now PASCAL-sized, and 2+ keeps every class in >= 10 of the 100 default val images). */
function objectCount(rng: Rng): number {
  const u = rng.next();
  return u < 0.45 ? 2 : u < 0.85 ? 3 : 4;
}

/** Which classes each image of a split shows. A shuffled deck of all classes, refilled when empty,
 *  keeps every class about equally frequent in every split, so episodes can be drawn for any fold. */
function planSplit(split: Split, numbers: number[], rng: Rng, sizeRange: SideRanges): Planned[] {
  const C = SAMPLE_CLASSES.length;
  let deck: number[] = [];
  const draw = (exclude: Set<number>): number => {
    for (let tries = 0; tries < 2 * C; tries++) {
      if (deck.length === 0) deck = rng.shuffle(Array.from({ length: C }, (_, i) => i + 1));
      const c = deck.pop() as number;
      if (!exclude.has(c)) return c;
      deck.unshift(c); // keep it for a later image
    }
    return 1 + rng.int(C);
  };
  return numbers.map((n, idx) => {
    const k = objectCount(rng);
    const ordinals: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < k; i++) {
      // sometimes a second instance of a class already there (two people, two chairs)
      if (ordinals.length > 0 && rng.next() < 0.15) ordinals.push(rng.pick(ordinals));
      else {
        const c = draw(seen);
        seen.add(c);
        ordinals.push(c);
      }
    }
    const crowd = idx % CROWD_EVERY === 7 ? 1 + rng.int(C) : 0;
    const width = sizeRange.w[0] + rng.int(sizeRange.w[1] - sizeRange.w[0] + 1);
    const height = sizeRange.h[0] + rng.int(sizeRange.h[1] - sizeRange.h[0] + 1);
    return { split, n, spec: { width, height, ordinals, crowd } };
  });
}

interface CocoParts {
  images: object[];
  annotations: object[];
}

function cocoEntries(p: Planned, scene: Scene, nextAnnId: () => number, parts: CocoParts): void {
  const imageId = cocoImageId(p.n);
  parts.images.push({ id: imageId, file_name: cocoFileName(p.split, imageId), width: scene.width, height: scene.height, license: 1, date_captured: '2014-01-01 00:00:00' });
  // crowd first: it lies behind every object, and painting annotations in file order rebuilds the scene
  if (scene.crowd) {
    parts.annotations.push({
      id: nextAnnId(),
      image_id: imageId,
      category_id: SAMPLE_COCO_IDS[scene.crowd.ordinal - 1],
      segmentation: rleEncode(scene.crowd.mask, scene.height, scene.width),
      area: scene.crowd.area,
      bbox: scene.crowd.bbox,
      iscrowd: 1,
    });
  }
  for (const o of scene.objects) {
    parts.annotations.push({
      id: nextAnnId(),
      image_id: imageId,
      category_id: SAMPLE_COCO_IDS[o.ordinal - 1],
      segmentation: [o.polygon],
      area: o.area,
      bbox: o.bbox,
      iscrowd: 0,
    });
  }
}

function cocoJson(split: Split, parts: CocoParts): string {
  return JSON.stringify({
    info: { description: `ProtoLab sample dataset (${split}), synthetic stand-in for COCO-20i`, url: '', version: '1.0', year: 2014, contributor: 'ProtoLab', date_created: '2014-01-01' },
    licenses: [{ id: 1, name: 'CC0 1.0 (generated data)', url: 'https://creativecommons.org/publicdomain/zero/1.0/' }],
    images: parts.images,
    annotations: parts.annotations,
    categories: SAMPLE_CLASSES.map((k) => ({ id: SAMPLE_COCO_IDS[k.ordinal - 1], name: k.name, supercategory: k.supercategory })),
  });
}

/** Width and height ranges (inclusive) images are drawn from. */
interface SideRanges { w: [number, number]; h: [number, number] }

function normSize(size: SampleOptions['size']): SideRanges {
  const check = (r: [number, number]): [number, number] => {
    if (!(r[0] >= 16 && r[1] >= r[0] && r[1] <= 4096)) throw new RangeError(`sample: size must lie in 16..4096 with min <= max, got ${JSON.stringify(size)}`);
    return [Math.round(r[0]), Math.round(r[1])];
  };
  if (size === undefined) return { w: [160, 240], h: [160, 240] };
  if (typeof size === 'object' && !Array.isArray(size)) return { w: check([size.width, size.width]), h: check([size.height, size.height]) };
  const r = check(typeof size === 'number' ? [size, size] : [size[0], size[1]]);
  return { w: r, h: r };
}

export async function writeSampleDataset(opts: SampleOptions): Promise<SampleResult> {
  const seed = opts.seed ?? 1;
  const want = opts.images ?? { train: 200, val: 100 };
  if (!(Number.isInteger(want.train) && Number.isInteger(want.val) && want.train >= 1 && want.val >= 1)) {
    throw new RangeError(`sample: images.train and images.val must be integers >= 1, got ${JSON.stringify(want)}`);
  }
  const sizeRange = normSize(opts.size);
  const root = new Rng(seed);
  const vocRoot = path.join(opts.out, 'VOCdevkit', 'VOC2012');
  const cocoRoot = path.join(opts.out, 'coco');

  // interleave train and val numbers like VOC's ids do (not "first N train, then val")
  const total = want.train + want.val;
  const numbers = root.fork('split').shuffle(Array.from({ length: total }, (_, i) => i + 1));
  const trainNums = numbers.slice(0, want.train).sort((a, b) => a - b);
  const valNums = numbers.slice(want.train).sort((a, b) => a - b);
  const plans = [
    ...planSplit('train', trainNums, root.fork('plan:train'), sizeRange),
    ...planSplit('val', valNums, root.fork('plan:val'), sizeRange),
  ];

  const counts: SampleCounts = {
    train: want.train,
    val: want.val,
    objects: { train: 0, val: 0 },
    crowds: { train: 0, val: 0 },
    imagesWithClass: { train: new Array(SAMPLE_CLASSES.length + 1).fill(0), val: new Array(SAMPLE_CLASSES.length + 1).fill(0) },
  };
  const coco: Record<Split, CocoParts> = { train: { images: [], annotations: [] }, val: { images: [], annotations: [] } };
  let annId = 0;
  const nextAnnId = (): number => ++annId;

  // Render on this thread; JPEG encoding and file writes overlap with the next scenes (bounded).
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for (const p of plans) {
    const scene = renderScene(p.spec, root.fork(`scene:${p.n}`));
    counts.objects[p.split] += scene.objects.length;
    if (scene.crowd) counts.crowds[p.split]++;
    const present = new Set(scene.cls);
    for (let c = 1; c <= SAMPLE_CLASSES.length; c++) if (present.has(c)) counts.imagesWithClass[p.split][c]++;
    cocoEntries(p, scene, nextAnnId, coco[p.split]);

    const job = writeScene(p, scene, vocRoot, opts.coco === false ? undefined : cocoRoot).then(() => {
      inFlight.delete(job);
      opts.onProgress?.(++done, total);
    });
    inFlight.add(job);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  const ids = (nums: number[]): string => nums.map((n) => vocId(n) + '\n').join('');
  const sets = path.join(vocRoot, 'ImageSets', 'Segmentation');
  await Promise.all([
    writeFileAtomicAsync(path.join(sets, 'train.txt'), ids(trainNums)),
    writeFileAtomicAsync(path.join(sets, 'val.txt'), ids(valNums)),
    writeFileAtomicAsync(path.join(sets, 'trainval.txt'), ids([...trainNums, ...valNums].sort((a, b) => a - b))),
    // labelme's convention (the VOC reader honours it): the classes' own names instead of VOC's, so
    // tables and the UI say "stripes-trapezoid", not "chair", for class 9.
    writeFileAtomicAsync(path.join(vocRoot, 'class_names.txt'), ['_background_', ...SAMPLE_CLASS_NAMES.slice(1)].join('\n') + '\n'),
    ...(opts.coco === false ? [] : [
      writeFileAtomicAsync(path.join(cocoRoot, 'annotations', 'instances_train2014.json'), cocoJson('train', coco.train)),
      writeFileAtomicAsync(path.join(cocoRoot, 'annotations', 'instances_val2014.json'), cocoJson('val', coco.val)),
    ]),
  ]);
  return { vocRoot, cocoRoot, counts };
}

async function writeScene(p: Planned, s: Scene, vocRoot: string, cocoRoot: string | undefined): Promise<void> {
  const jpeg = await sharp(Buffer.from(s.rgb.buffer, s.rgb.byteOffset, s.rgb.byteLength), { raw: { width: s.width, height: s.height, channels: 3 } })
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer();
  const id = vocId(p.n);
  await Promise.all([
    writeFileAtomicAsync(path.join(vocRoot, 'JPEGImages', `${id}.jpg`), jpeg),
    writeFileAtomicAsync(path.join(vocRoot, 'SegmentationClass', `${id}.png`), encodeIndexPng({ width: s.width, height: s.height, data: s.cls })),
    writeFileAtomicAsync(path.join(vocRoot, 'SegmentationObject', `${id}.png`), encodeIndexPng({ width: s.width, height: s.height, data: s.obj })),
    ...(cocoRoot ? [writeFileAtomicAsync(path.join(cocoRoot, `${p.split}2014`, cocoFileName(p.split, cocoImageId(p.n))), jpeg)] : []),
  ]);
}
