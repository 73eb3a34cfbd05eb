// PASCAL VOC 2012 segmentation, read in its on-disk layout:
//   VOC2012/JPEGImages/<id>.jpg
//   VOC2012/SegmentationClass/<id>.png      palette PNG, index = class (0 bg, 1..20, 255 border/ignore)
//   VOC2012/SegmentationClassAug/<id>.png   SBD-augmented masks (grayscale), preferred when present
//   VOC2012/SegmentationObject/<id>.png     instance numbers (255 ignore)
//   VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt, ImageSets/SegmentationAug/trainaug.txt
// labelme's VOC export differs: SegmentationClassPNG/ and SegmentationObjectPNG/ (SegmentationClass/
// holds .npy there), class_names.txt, and no ImageSets. Without ImageSets every JPEG that has a mask
// is in EVERY list (train = val): such a folder is for looking at and labelling, not for benchmarks.
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';
import { describeFsError, hasReplacementChar } from '../fsProblem';
import { writeFileAtomic } from '../fsutil';
import { readRgb } from '../image/decode';
import { fitsImage, imageHeaderSize } from '../image/header';
import { pixelLimitProblem } from '../image/limits';
import { readIndexPng } from '../image/png';
import { IGNORE, type IndexMask, type RawImage } from '../types';
import { resolveCacheDir, shortHash, statKey } from './cachedir';
import { isBackgroundName, VOC_CLASSES } from './classes';
import type { DataProblem, ImageClasses, ListName, SegDataset } from './dataset';
import { checkPlainId, checkRealInside } from './safepath';

export interface VocOptions {
  /** Class-presence index cache (default `<VOC2012>/.protolab-cache`, else `<tmp>/protolab-cache`). */
  cacheDir?: string;
}

/** Mask folders in the order a mask is looked for. */
const CLASS_DIRS = ['SegmentationClassAug', 'SegmentationClass', 'SegmentationClassPNG'];
const OBJECT_DIRS = ['SegmentationObject', 'SegmentationObjectPNG'];
const INDEX_VERSION = 2;
/** How a file name that was not valid UTF-8 reads after decoding (node turns bad bytes into U+FFFD). */
const NOT_UTF8 = 'its name is not valid UTF-8, so it cannot be opened by name; rename it';

function pngStems(dir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.png')).map((f) => f.slice(0, -4)));
  } catch {
    return new Set();
  }
}

export class VocDataset implements SegDataset {
  readonly kind = 'voc' as const;
  readonly root: string;
  readonly classNames: readonly string[];
  readonly fingerprint: string;
  private readonly classDirs: { dir: string; stems: Set<string> }[];
  private readonly objectDirs: { dir: string; stems: Set<string> }[];
  private readonly hasImageSets: boolean;
  private readonly augDir: string;
  private cacheDirResolved: string | undefined;
  /** What index() left out, per list (see indexProblems). */
  private readonly problems = new Map<ListName, DataProblem[]>();

  constructor(root: string, private readonly opts: VocOptions = {}) {
    this.root = path.resolve(root);
    const jpeg = path.join(this.root, 'JPEGImages');
    if (!fs.existsSync(jpeg)) throw new DataError(jpeg, 'not a VOC2012 folder: JPEGImages/ is missing');
    // Folder listings once: a stat per mask per call would cost more than the masks on slow disks.
    this.classDirs = CLASS_DIRS.map((d) => path.join(this.root, d)).map((dir) => ({ dir, stems: pngStems(dir) })).filter((d) => d.stems.size > 0);
    this.objectDirs = OBJECT_DIRS.map((d) => path.join(this.root, d)).map((dir) => ({ dir, stems: pngStems(dir) })).filter((d) => d.stems.size > 0);
    if (this.classDirs.length === 0) {
      throw new DataError(this.root, `no class masks: none of ${CLASS_DIRS.join(', ')} holds PNG files`);
    }
    this.augDir = path.join(this.root, 'SegmentationClassAug');
    this.hasImageSets = fs.existsSync(path.join(this.root, 'ImageSets', 'Segmentation'));
    this.classNames = this.readClassNames();
    const keys = [
      ...['train', 'val', 'trainval'].map((l) => statKey(path.join(this.root, 'ImageSets', 'Segmentation', `${l}.txt`))),
      statKey(path.join(this.root, 'ImageSets', 'SegmentationAug', 'trainaug.txt')),
      ...this.classDirs.map((d) => `${d.dir}:${statKey(d.dir)}:${d.stems.size}`),
    ];
    this.fingerprint = `voc-${shortHash(keys.join('|'))}`;
  }

  /** labelme writes class_names.txt (first line `_background_`); mask values index it. Else VOC's 20. */
  private readClassNames(): string[] {
    const f = path.join(this.root, 'class_names.txt');
    if (!fs.existsSync(f)) return [...VOC_CLASSES];
    const names = fs.readFileSync(f, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
    if (names.length < 2 || !isBackgroundName(names[0])) throw new DataError(f, 'expected a background class on the first line and at least one class');
    if (names.length > 255) throw new DataError(f, `${names.length - 1} classes do not fit an 8-bit mask with 255 = ignore`);
    return ['background', ...names.slice(1)];
  }

  private listFile(list: ListName): string {
    return list === 'trainaug'
      ? path.join(this.root, 'ImageSets', 'SegmentationAug', 'trainaug.txt')
      : path.join(this.root, 'ImageSets', 'Segmentation', `${list}.txt`);
  }

  lists(): ListName[] {
    if (!this.hasImageSets) return ['train', 'val'];
    const out = (['train', 'val'] as const).filter((l) => fs.existsSync(this.listFile(l))) as ListName[];
    if (fs.existsSync(this.listFile('trainaug')) || (fs.existsSync(this.augDir) && out.includes('val'))) out.push('trainaug');
    return out;
  }

  private readList(file: string): string[] {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new DataError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'image list not found' : `cannot read the image list: ${describeFsError(e)}`);
    }
    // Segmentation lists hold one id a line; take the first token so "id label" lines also work.
    const ids: string[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      const id = line.trim().split(/\s+/)[0];
      if (id === '') return;
      if (hasReplacementChar(id)) throw new DataError(file, `line ${i + 1} is not valid UTF-8 text (the list must name images in UTF-8)`);
      ids.push(checkPlainId(id, file));
    });
    if (!ids.length) throw new DataError(file, 'the image list is empty: it names no image');
    return ids;
  }

  async imageIds(list: ListName): Promise<string[]> {
    if (!this.hasImageSets) {
      const jpegs = fs.readdirSync(path.join(this.root, 'JPEGImages')).filter((f) => /\.jpe?g$/i.test(f)).map((f) => f.replace(/\.jpe?g$/i, ''));
      return jpegs.filter((id) => !hasReplacementChar(id) && this.classDirs.some((d) => d.stems.has(id))).sort();
    }
    if (list !== 'trainaug') return this.readList(this.listFile(list));
    const augList = this.listFile('trainaug');
    if (fs.existsSync(augList)) return this.readList(augList);
    const aug = this.classDirs.find((d) => d.dir === this.augDir);
    if (!aug) throw new DataError(augList, "no 'trainaug' list: neither this file nor SegmentationClassAug/ exists");
    // SBD-augmented train = every id with an Aug mask that is not in val (the usual 10,582 ids).
    const val = new Set(this.readList(this.listFile('val')));
    return [...aug.stems].filter((id) => !val.has(id)).sort();
  }

  imagePath(id: string): string {
    checkPlainId(id, this.root);
    const jpg = path.join(this.root, 'JPEGImages', `${id}.jpg`);
    if (fs.existsSync(jpg)) return jpg;
    const jpeg = path.join(this.root, 'JPEGImages', `${id}.jpeg`);
    return fs.existsSync(jpeg) ? jpeg : jpg;
  }

  async loadImage(id: string): Promise<RawImage> {
    const file = this.imagePath(id);
    checkRealInside(file, [this.root, path.dirname(file)]);
    return readRgb(file);
  }

  /** The mask file of an id: SegmentationClassAug first, then SegmentationClass, then labelme's SegmentationClassPNG. */
  maskPath(id: string): string {
    checkPlainId(id, this.root);
    const d = this.classDirs.find((x) => x.stems.has(id));
    return path.join(d ? d.dir : path.join(this.root, 'SegmentationClass'), `${id}.png`);
  }

  private check(mask: IndexMask, file: string): IndexMask {
    const c = this.classNames.length;
    for (let i = 0; i < mask.data.length; i++) {
      const v = mask.data[i];
      if (v >= c && v !== IGNORE) {
        throw new DataError(file, `value ${v} at (${i % mask.width},${Math.floor(i / mask.width)}) is not a class (0..${c - 1}) or 255`);
      }
    }
    return mask;
  }

  /** The mask file decoded and checked (values, links); what index() needs. */
  private async readMask(file: string): Promise<IndexMask> {
    checkRealInside(file, [this.root, path.dirname(file)]);
    return this.check(await readIndexPng(file), file);
  }

  /** The mask, which must fit its image (checked from the image's header: a 375×500 mask on a 500×375
   *  photo would otherwise be resized to the input size along with it and scored, silently wrong). */
  async loadMask(id: string): Promise<IndexMask> {
    const file = this.maskPath(id);
    const mask = await this.readMask(file);
    const image = this.imagePath(id);
    const size = await imageHeaderSize(image);
    // An image over the size limit is refused by its own reader, with that reason (not as a size mismatch).
    if (size && !pixelLimitProblem(size.width, size.height) && !fitsImage(mask, size)) {
      throw new DataError(file, `mask is ${mask.width}×${mask.height} but its image ${image} is ${size.width}×${size.height}`);
    }
    return mask;
  }

  async loadInstances(id: string): Promise<IndexMask | null> {
    checkPlainId(id, this.root);
    const d = this.objectDirs.find((x) => x.stems.has(id));
    if (!d) return null;
    const file = path.join(d.dir, `${id}.png`);
    checkRealInside(file, [this.root, d.dir]);
    return readIndexPng(file);
  }

  /** Masks index(list) could not read (the images are left out of the episodes), and image files whose
   *  names cannot be opened. Each names the file and the problem. */
  indexProblems(list: ListName): readonly DataProblem[] {
    return this.problems.get(list) ?? [];
  }

  private cacheDir(): string {
    this.cacheDirResolved ??= resolveCacheDir(this.opts.cacheDir, path.join(this.root, '.protolab-cache'));
    return this.cacheDirResolved;
  }

  /** Pixel counts per class of every mask of a list, read once and cached as JSON keyed by the list
   *  file's and mask folders' size/mtime. A missing or unreadable mask stops it with a DataError naming the file. */
  async index(list: ListName, onProgress?: (done: number, total: number) => void): Promise<ImageClasses[]> {
    const ids = await this.imageIds(list);
    const key = [
      INDEX_VERSION,
      this.hasImageSets ? statKey(this.listFile(list)) : 'no-imagesets',
      ...this.classDirs.map((d) => `${d.dir}:${statKey(d.dir)}`),
      shortHash(ids.join('\n')),
    ].join('|');
    const file = path.join(this.cacheDir(), `voc-index-${list}-${shortHash(this.root, 8)}.json`);
    try {
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { key: string; entries: ImageClasses[]; problems: Array<DataProblem & { stat: string }> };
      // A mask fixed in place does not change its folder's stamp: a cached problem holds only while its file is unchanged.
      if (cached.key === key && Array.isArray(cached.entries) && Array.isArray(cached.problems) && cached.problems.every((p) => statKey(p.file) === p.stat)) {
        onProgress?.(cached.entries.length, cached.entries.length);
        this.problems.set(list, cached.problems.map(({ file: f, problem }) => ({ file: f, problem })));
        return cached.entries;
      }
    } catch {
      // absent or damaged: recompute
    }
    const found: Array<ImageClasses | undefined> = new Array(ids.length);
    const problems: Array<DataProblem & { stat: string }> = [];
    let done = 0;
    let next = 0;
    // A few masks in flight: PNG decode is CPU, the reads overlap with it.
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const i = next++;
        const maskFile = this.maskPath(ids[i]);
        try {
          const mask = await this.readMask(maskFile);
          const counts = new Array<number>(256).fill(0);
          for (let p = 0; p < mask.data.length; p++) counts[mask.data[p]]++;
          const pixels: Record<number, number> = {};
          for (let c = 1; c < this.classNames.length; c++) if (counts[c] > 0) pixels[c] = counts[c];
          found[i] = { id: ids[i], pixels };
        } catch (e) {
          // One bad mask leaves its image out of the episodes, said out loud (indexProblems), not the whole list.
          if (!(e instanceof DataError)) throw e;
          problems.push({ file: e.file, problem: e.problem, stat: statKey(e.file) });
        }
        done++;
        if (onProgress && (done % 100 === 0 || done === ids.length)) onProgress(done, ids.length);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    if (!this.hasImageSets) {
      for (const f of fs.readdirSync(path.join(this.root, 'JPEGImages'))) {
        const p = path.join(this.root, 'JPEGImages', f);
        if (hasReplacementChar(f)) problems.push({ file: p, problem: NOT_UTF8, stat: 'missing' });
      }
    }
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const entries = found.filter((e): e is ImageClasses => e !== undefined);
    this.problems.set(list, problems.map(({ file: f, problem }) => ({ file: f, problem })));
    try {
      writeFileAtomic(file, JSON.stringify({ key, entries, problems }));
    } catch (e) {
      // The index is only a cache: without it the next open reads the masks again. Say so, go on.
      if (!(e instanceof DataError)) throw e;
      process.stderr.write(`note: the class index could not be cached (${e.message}); it is rebuilt on the next open\n`);
    }
    return entries;
  }
}
