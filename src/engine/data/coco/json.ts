// The parts of a COCO instances JSON the reader uses, checked once when the index is built so that
// every later error can name the JSON file and the offending entry.
import * as path from 'path';
import { DataError } from '../../errors';
import { isBackgroundName } from '../classes';
import { polygonsToMask } from './polygon';
import { rleArea, rleFromString } from './rle';

/** polygons [[x1,y1,...], ...] or RLE {counts: number[] | string, size: [h, w]} */
export type CocoSegmentation = number[][] | { counts: number[] | string; size: [number, number] };

/** One annotation as stored in the per-image annotation file: [class ordinal, iscrowd 0/1, segmentation]. */
export type CompactAnn = [number, number, CocoSegmentation];

export interface ParsedImage {
  cocoId: number;
  file: string;
  width: number;
  height: number;
  anns: CompactAnn[];
  /** ordinal -> summed `area` of non-crowd annotations */
  pixels: Record<number, number>;
  /** ordinal -> summed `area` of crowd annotations */
  crowd: Record<number, number>;
}

export interface ParsedCoco {
  classNames: string[];
  /** category id of ordinal c at index c-1 */
  catIds: number[];
  images: ParsedImage[];
  /** What was repaired while reading (degenerate polygons dropped, …), one line each, for the user. */
  warnings: string[];
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A checked segmentation, or null when nothing of it is left. Polygons with fewer than 3 points (or an
 * odd number of coordinates) enclose no area and crash some readers; exporting tools do write them, so,
 * as detectron2 does, they are dropped and counted (`dropped`), not fatal. An RLE must describe exactly
 * its image: size [h, w] and runs summing to h·w (else it paints pixels of another image, or misses some).
 */
function checkSegmentation(seg: unknown, where: string, file: string, im: { width: number; height: number }, dropped: string[]): CocoSegmentation | null {
  if (Array.isArray(seg)) {
    const keep: number[][] = [];
    seg.forEach((poly, k) => {
      if (!Array.isArray(poly) || poly.some((n) => typeof n !== 'number' || !Number.isFinite(n))) {
        throw new DataError(file, `${where}: segmentation polygon ${k} is not a list of numbers`);
      }
      if (poly.length < 6 || poly.length % 2 !== 0) dropped.push(`${where} polygon ${k} (${poly.length} coordinates)`);
      else keep.push(poly as number[]);
    });
    return keep.length ? keep : null;
  }
  if (isObj(seg)) {
    const { counts, size } = seg;
    const sizeOk = Array.isArray(size) && size.length === 2 && size.every((n) => Number.isInteger(n) && (n as number) >= 0);
    const countsOk = typeof counts === 'string' || (Array.isArray(counts) && counts.every((n) => Number.isInteger(n) && (n as number) >= 0));
    if (!sizeOk || !countsOk) throw new DataError(file, `${where}: RLE segmentation needs counts (numbers or string) and size [h, w]`);
    const [h, w] = size as [number, number];
    if (h !== im.height || w !== im.width) throw new DataError(file, `${where}: RLE size [${h}, ${w}] differs from its image's [${im.height}, ${im.width}]`);
    let runs: number[];
    try {
      runs = typeof counts === 'string' ? rleFromString(counts) : (counts as number[]);
    } catch (e) {
      throw new DataError(file, `${where}: bad compressed RLE (${(e as Error).message})`);
    }
    const sum = runs.reduce((a, b) => a + b, 0);
    if (sum !== h * w) throw new DataError(file, `${where}: RLE runs sum to ${sum}, expected ${h}×${w} = ${h * w}`);
    return { counts: counts as number[] | string, size: [h, w] };
  }
  throw new DataError(file, `${where}: segmentation is neither polygons nor RLE`);
}

/** JSON.parse's message, plus the likely cause when the text holds NaN or Infinity (Python's json.dump
 *  writes them for missing numbers; JSON has no such literals). */
function jsonProblem(text: string, e: Error): string {
  const bad = /(?<![\w"])-?(NaN|Infinity)(?![\w"])/.exec(text);
  const hint = bad ? `; it contains ${bad[0]} at character ${bad.index}, which JSON does not allow (Python's json.dump writes it for a missing number)` : '';
  return `not valid JSON (${e.message})${hint}`;
}

/** Pixel count of a segmentation, for exports that leave `area` out (COCO 2014 always has it). */
function areaOf(seg: CocoSegmentation, im: { width: number; height: number }, where: string, file: string): number {
  if (Array.isArray(seg)) {
    const m = polygonsToMask(seg, im.height, im.width);
    let n = 0;
    for (let i = 0; i < m.length; i++) n += m[i];
    return n;
  }
  try {
    return rleArea(typeof seg.counts === 'string' ? rleFromString(seg.counts) : seg.counts);
  } catch (e) {
    throw new DataError(file, `${where}: ${(e as Error).message}`);
  }
}

/** Parse and check a COCO JSON text. Annotations keep file order within each image (later wins when painting). */
export function parseCocoJson(text: string, file: string): ParsedCoco {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, jsonProblem(text, e as Error));
  }
  if (!isObj(doc)) throw new DataError(file, 'not a COCO annotation file (top level is not an object)');
  const { images, annotations, categories } = doc;
  if (!Array.isArray(images)) throw new DataError(file, 'not a COCO annotation file: no "images" list');
  if (!Array.isArray(categories)) throw new DataError(file, 'not a COCO annotation file: no "categories" list');
  if (annotations !== undefined && !Array.isArray(annotations)) throw new DataError(file, '"annotations" is not a list');

  // Category ordinals follow the file's category order; a background category (labelme's
  // `_background_`, id 0) is not a class: it is what 0 in the mask already means.
  const classNames = ['background'];
  const catIds: number[] = [];
  const ordOf = new Map<number, number>();
  const backgroundIds = new Set<number>();
  categories.forEach((c, i) => {
    if (!isObj(c) || typeof c.id !== 'number' || typeof c.name !== 'string') {
      throw new DataError(file, `categories[${i}] needs a numeric id and a name`);
    }
    if (ordOf.has(c.id) || backgroundIds.has(c.id)) throw new DataError(file, `categories[${i}]: duplicate category id ${c.id}`);
    if (isBackgroundName(c.name)) {
      backgroundIds.add(c.id);
      return;
    }
    catIds.push(c.id);
    classNames.push(c.name);
    ordOf.set(c.id, catIds.length);
  });
  if (catIds.length > 254) throw new DataError(file, `${catIds.length} categories: at most 254 fit an 8-bit mask with 255 = ignore`);

  const out: ParsedImage[] = [];
  const byId = new Map<number, ParsedImage>();
  const byFile = new Map<string, number>();
  images.forEach((im, i) => {
    if (!isObj(im) || typeof im.id !== 'number' || typeof im.file_name !== 'string' || im.file_name === '') {
      throw new DataError(file, `images[${i}] needs a numeric id and a file_name`);
    }
    const { width, height } = im;
    if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0) {
      throw new DataError(file, `images[${i}] (${im.file_name}): width and height must be positive integers`);
    }
    if (byId.has(im.id)) throw new DataError(file, `images[${i}]: duplicate image id ${im.id}`);
    const same = byFile.get(im.file_name);
    if (same !== undefined) throw new DataError(file, `images[${i}]: file_name "${im.file_name}" is also images[${same}]'s; each image may appear once`);
    byFile.set(im.file_name, i);
    const p: ParsedImage = { cocoId: im.id, file: im.file_name, width: width as number, height: height as number, anns: [], pixels: {}, crowd: {} };
    byId.set(im.id, p);
    out.push(p);
  });

  const dropped: string[] = [];
  const annIds = new Map<unknown, number>();
  let dupAnnIds = 0;
  (annotations ?? []).forEach((a: unknown, i: number) => {
    const where = `annotations[${i}]`;
    if (!isObj(a) || typeof a.image_id !== 'number' || typeof a.category_id !== 'number') {
      throw new DataError(file, `${where} needs a numeric image_id and category_id`);
    }
    const im = byId.get(a.image_id);
    if (!im) throw new DataError(file, `${where}: image_id ${a.image_id} is not in "images"`);
    if (backgroundIds.has(a.category_id)) return; // a painted background adds nothing to a 0-filled mask
    const ord = ordOf.get(a.category_id);
    if (ord === undefined) throw new DataError(file, `${where}: category_id ${a.category_id} is not in "categories"`);
    if (a.id !== undefined) {
      if (annIds.has(a.id)) dupAnnIds++;
      else annIds.set(a.id, i);
    }
    const seg = checkSegmentation(a.segmentation, `${where} (image ${im.file})`, file, im, dropped);
    if (!seg) return; // nothing left to paint
    const crowd = a.iscrowd === 1 || a.iscrowd === true ? 1 : 0;
    im.anns.push([ord, crowd, seg]);
    const area = typeof a.area === 'number' && Number.isFinite(a.area) && a.area > 0 ? a.area : areaOf(seg, im, where, file);
    const acc = crowd ? im.crowd : im.pixels;
    if (area > 0) acc[ord] = (acc[ord] ?? 0) + area;
  });
  const warnings: string[] = [];
  // Allowed (an export of images only), but then every mask is background: said, so an empty fold is explained.
  if (annotations === undefined) warnings.push('no "annotations" list: every image is all background');
  if (dropped.length) {
    warnings.push(`${dropped.length} polygon(s) with fewer than 3 points or an odd number of coordinates were dropped: ` +
      `${dropped.slice(0, 3).join('; ')}${dropped.length > 3 ? '; …' : ''}`);
  }
  if (dupAnnIds) warnings.push(`${dupAnnIds} annotation(s) repeat the id of an earlier one (pycocotools would keep only the last; ProtoLab paints every one)`);
  return { classNames, catIds, images: out, warnings };
}

/** Image ids: the file stem (COCO_val2014_000000000042) when stems are unique within the file, else
 *  file_name without its extension (sub/x vs other/x). Stable for a given file. */
export function imageIdsFor(images: readonly { file: string }[]): string[] {
  const norm = images.map((im) => im.file.replace(/\\/g, '/'));
  const stems = norm.map((f) => path.posix.basename(f, path.posix.extname(f)));
  if (new Set(stems).size === stems.length) return stems;
  return norm.map((f) => f.slice(0, f.length - path.posix.extname(f).length));
}
