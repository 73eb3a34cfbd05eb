// COCO instance annotations (instances_{train,val}2014.json, or one JSON from any exporting tool)
// read as semantic segmentation. Class ordinals 1..C follow the file's category order minus any
// background category; masks are painted annotation by annotation in file order, so where objects
// overlap the LATER annotation wins. Crowd regions (iscrowd = 1) are 255 (ignore) by default, or their
// class with crowd: 'class'; the choice is part of the fingerprint.
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { readRgb } from '../image/decode';
import { IGNORE, type IndexMask, type RawImage } from '../types';
import { resolveCacheDir, shortHash } from './cachedir';
import { loadOrBuildCocoIndex, readImageAnns, type CocoIndex, type CocoIndexEntry } from './coco/index';
import type { CocoSegmentation } from './coco/json';
import { paintRuns, polygonToRle } from './coco/polygon';
import { rleFromString } from './coco/rle';
import type { DataProblem, ImageClasses, ListName, SegDataset } from './dataset';
import { checkRealInside, resolveInside } from './safepath';

export type CrowdMode = 'ignore' | 'class';

export interface CocoOptions {
  /** Where the annotation index is cached (default `<root>/.protolab-cache`, else the OS temp folder). */
  cacheDir?: string;
  crowd?: CrowdMode;
  /** Progress of building an index (only on the first open of a JSON). */
  onProgress?: (file: string, done: number, total: number) => void;
}

/** One list's annotation file and the folders its file_names are resolved against, in order. */
export interface CocoSource {
  list: 'train' | 'val';
  json: string;
  imageBases: string[];
}

interface Loaded extends CocoSource {
  idx: CocoIndex;
}

export class CocoDataset implements SegDataset {
  readonly kind = 'coco' as const;
  readonly classNames: readonly string[];
  readonly fingerprint: string;
  private readonly byId = new Map<string, { src: Loaded; e: CocoIndexEntry }>();

  private constructor(readonly root: string, private readonly sources: Loaded[], readonly crowd: CrowdMode) {
    this.classNames = sources[0].idx.classNames;
    for (const s of sources.slice(1)) {
      if (s.idx.classNames.join('\n') !== this.classNames.join('\n')) {
        throw new DataError(s.json, `categories differ from ${sources[0].json}; both lists must share one category list`);
      }
    }
    for (const s of sources) for (const e of s.idx.images) if (!this.byId.has(e.id)) this.byId.set(e.id, { src: s, e });
    const keys = sources.map((s) => `${s.list}:${s.json}:${s.idx.key}`).join('|');
    this.fingerprint = `coco-${shortHash(keys)}-crowd=${crowd}`;
  }

  /** Open with the given sources; builds each JSON's index on first use (one parse), later opens read the cache. */
  static async open(root: string, sources: CocoSource[], opts: CocoOptions = {}): Promise<CocoDataset> {
    if (sources.length === 0) throw new DataError(root, 'no COCO annotation file found');
    const cacheDir = resolveCacheDir(opts.cacheDir, path.join(root, '.protolab-cache'));
    const loaded: Loaded[] = [];
    const byJson = new Map<string, CocoIndex>();
    for (const s of sources) {
      const json = path.resolve(s.json);
      let idx = byJson.get(json);
      if (!idx) {
        idx = await loadOrBuildCocoIndex(json, cacheDir, opts.onProgress && ((d, t) => opts.onProgress?.(json, d, t)));
        byJson.set(json, idx);
      }
      loaded.push({ ...s, json, idx });
    }
    return new CocoDataset(path.resolve(root), loaded, opts.crowd ?? 'ignore');
  }

  lists(): ListName[] {
    return this.sources.map((s) => s.list);
  }

  private source(list: ListName): Loaded {
    if (list === 'trainaug') throw new UsageError("list 'trainaug' exists only for PASCAL VOC (SBD); COCO has 'train' and 'val'");
    const s = this.sources.find((x) => x.list === list);
    if (!s) throw new DataError(this.root, `no annotation file for list '${list}' (expected annotations/instances_${list}2014.json)`);
    return s;
  }

  async imageIds(list: ListName): Promise<string[]> {
    return this.source(list).idx.images.map((e) => e.id);
  }

  /** What reading the list's annotation file repaired (dropped polygons, repeated ids), naming the file. */
  indexProblems(list: ListName): readonly DataProblem[] {
    const s = this.source(list);
    return (s.idx.warnings ?? []).map((problem) => ({ file: s.json, problem }));
  }

  /** Pixel counts come from the annotations' `area` (summed per class; computed from the segmentation
   *  where an export leaves it out), clamped to the image size: approximate where objects of one class
   *  overlap. Crowd areas count only with crowd: 'class'. */
  async index(list: ListName, onProgress?: (done: number, total: number) => void): Promise<ImageClasses[]> {
    const s = this.source(list);
    // Plain for-in loops: this runs over every image on every open (82k for train2014), and it was most
    // of the time of opening a cached index (npm run bench -- --only coco-index).
    const withCrowd = this.crowd === 'class';
    const out = s.idx.images.map((e) => {
      const pixels: Record<string, number> = {};
      for (const k in e.pixels) pixels[k] = e.pixels[k as unknown as number];
      if (withCrowd) for (const k in e.crowd) pixels[k] = (pixels[k] ?? 0) + e.crowd[k as unknown as number];
      const cap = e.width * e.height;
      for (const k in pixels) pixels[k] = Math.min(cap, Math.max(1, Math.round(pixels[k])));
      return { id: e.id, pixels: pixels as Record<number, number> };
    });
    onProgress?.(out.length, out.length);
    return out;
  }

  private entry(id: string): { src: Loaded; e: CocoIndexEntry } {
    const hit = this.byId.get(id);
    if (!hit) throw new DataError(this.sources.map((s) => s.json).join(', '), `no image with id "${id}"`);
    return hit;
  }

  /** file_name resolved against the images folder, then the JSON's folder; must stay inside it. */
  imagePath(id: string): string {
    const { src, e } = this.entry(id);
    const candidates = src.imageBases.map((b) => resolveInside(b, e.file, src.json));
    return candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
  }

  async loadImage(id: string): Promise<RawImage> {
    const { src, e } = this.entry(id);
    const file = this.imagePath(id);
    if (!fs.existsSync(file)) {
      const tried = src.imageBases.map((b) => resolveInside(b, e.file, src.json)).join(', ');
      throw new DataError(file, `image file not found (tried ${tried})`);
    }
    checkRealInside(file, [this.root, ...src.imageBases]);
    const img = await readRgb(file);
    if (img.width !== e.width || img.height !== e.height) {
      throw new DataError(file, `image is ${img.width}×${img.height} but ${src.json} says ${e.width}×${e.height}`);
    }
    return img;
  }

  private paint(src: Loaded, e: CocoIndexEntry, seg: CocoSegmentation, value: number, out: Uint8Array): void {
    const h = e.height, w = e.width;
    if (Array.isArray(seg)) {
      for (const poly of seg) paintRuns(polygonToRle(poly, h, w), h, w, out, value);
      return;
    }
    if (seg.size[0] !== h || seg.size[1] !== w) {
      throw new DataError(src.json, `image ${e.file}: RLE size [${seg.size}] differs from the image's [${h}, ${w}]`);
    }
    let counts: number[];
    try {
      counts = typeof seg.counts === 'string' ? rleFromString(seg.counts) : seg.counts;
    } catch (err) {
      throw new DataError(src.json, `image ${e.file}: bad compressed RLE (${(err as Error).message})`);
    }
    const sum = counts.reduce((a, b) => a + b, 0);
    if (sum !== h * w) throw new DataError(src.json, `image ${e.file}: RLE runs sum to ${sum}, expected ${h}×${w} = ${h * w}`);
    paintRuns(counts, h, w, out, value);
  }

  async loadMask(id: string): Promise<IndexMask> {
    const { src, e } = this.entry(id);
    const data = new Uint8Array(e.width * e.height);
    for (const [ord, crowd, seg] of await readImageAnns(src.idx, e)) {
      this.paint(src, e, seg, crowd && this.crowd === 'ignore' ? IGNORE : ord, data);
    }
    return { width: e.width, height: e.height, data };
  }

  /** Each non-crowd annotation gets 1, 2, ... in file order (later wins on overlap); crowd regions and
   *  annotations past the 254th are 255 (ignore). */
  async loadInstances(id: string): Promise<IndexMask | null> {
    const { src, e } = this.entry(id);
    const data = new Uint8Array(e.width * e.height);
    let k = 0;
    for (const [, crowd, seg] of await readImageAnns(src.idx, e)) {
      let v = IGNORE;
      if (!crowd && k < 254) v = ++k;
      this.paint(src, e, seg, v, data);
    }
    return { width: e.width, height: e.height, data };
  }
}

/** COCO 2014 layout: `<root>/annotations/instances_{train,val}2014.json`, images in
 *  `<images ?? root>/{train,val}2014/` (file_names are also tried relative to annotations/). */
export async function openCoco2014(root: string, opts: CocoOptions & { images?: string } = {}): Promise<CocoDataset> {
  const sources: CocoSource[] = [];
  for (const list of ['train', 'val'] as const) {
    const json = path.join(root, 'annotations', `instances_${list}2014.json`);
    if (!fs.existsSync(json)) continue;
    const base = opts.images ?? root;
    const sub = path.join(base, `${list}2014`);
    sources.push({ list, json, imageBases: [fs.existsSync(sub) ? sub : base, path.dirname(json)] });
  }
  if (sources.length === 0) {
    throw new DataError(root, `no COCO annotations found (tried ${path.join(root, 'annotations', 'instances_{train,val}2014.json')})`);
  }
  return CocoDataset.open(root, sources, opts);
}

/** One COCO JSON exported by any tool. Its single file serves as BOTH the 'train' and the 'val' list
 *  (there is no split in it). file_names resolve against `images` (if given), then the JSON's folder. */
export async function openCocoJson(jsonFile: string, opts: CocoOptions & { images?: string } = {}): Promise<CocoDataset> {
  const json = path.resolve(jsonFile);
  if (!fs.existsSync(json)) throw new DataError(json, 'annotation file not found');
  const root = path.dirname(json);
  const imageBases = opts.images ? [path.resolve(opts.images), root] : [root];
  return CocoDataset.open(root, [
    { list: 'train', json, imageBases },
    { list: 'val', json, imageBases },
  ], opts);
}
