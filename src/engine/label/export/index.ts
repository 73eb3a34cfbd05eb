// Export of a labelled folder as datasets ProtoLab (and the usual tools) read back:
//   OUT/JPEGImages/<name>.jpg                 the images: copies of JPEGs without EXIF rotation (images:
//                                             'link': hard links where the file system allows); PNG/WebP/…
//                                             and EXIF-rotated JPEGs are re-encoded upright (quality 95), so
//                                             every image matches its mask pixel for pixel
//   OUT/SegmentationClass/<name>.png          palette PNG (VOC colours) at the image's full, oriented size:
//                                             0 background, 1..K classes, 255 unsure
//   OUT/ImageSets/Segmentation/{train,val,trainval}.txt   split by hash of the name (names.ts)
//   OUT/class_names.txt                       `_background_` then the K class names (labelme's layout)
//   OUT/annotations.json                      COCO instances: compressed RLE per region (a connected
//                                             component of a class by default, or one per class and image),
//                                             iscrowd 0, area and bbox of the pixels; file_name
//                                             JPEGImages/<name>.jpg. Unsure (255) pixels are in no annotation
//                                             (COCO has no "unknown" label; the VOC PNGs keep them)
//   OUT/manifest.json                         what made every mask (manifest fields below)
// The whole tree is written into a temporary folder beside OUT and renamed into place at the end, so
// OUT is either the previous export or the new one, never half of each; an existing OUT is replaced only
// with `force`.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { rleToString } from '../../data/coco/rle';
import { DataError, throwIfAborted, UsageError } from '../../errors';
import { writeUprightJpeg } from '../../image/photo';
import { encodeIndexPng } from '../../image/png';
import type { ExportSource } from '../exportSource';
import { EXPORT_TOOL } from '../scan';
import { maskRegions } from './instances';
import { exportNames, splitNames } from './names';

export type ExportFormat = 'voc' | 'coco';

export interface ExportOptions {
  formats?: ExportFormat[];
  force?: boolean;
  /** COCO annotations per connected component of a class ('instance', default) or per class per image. */
  cocoMode?: 'instance' | 'class';
  /** 'copy' (default): the export owns its images; 'link': hard links where possible (no extra disk, but
   *  editing either file edits both), else copies. */
  images?: 'link' | 'copy';
  /** Fraction of images in val (default 0.2). */
  valFraction?: number;
  /** Extra fields for the manifest (e.g. the command line, the tags file). */
  manifest?: Record<string, unknown>;
  onProgress?: (done: number, total: number, id: string) => void;
  /** Stops the export between images (CancelledError; the temporary folder is removed, OUT is untouched). */
  signal?: AbortSignal;
}

export interface ManifestImage {
  id: string;
  name: string;
  source: string;
  sha256_16: string;
  width: number;
  height: number;
  exifOrientation: number;
  mask: 'human' | 'accepted-prediction' | 'prediction' | 'pseudo';
  status: string;
  support: boolean;
  confidence: number | null;
  split: 'train' | 'val';
  image: 'hardlink' | 'copy' | 're-encoded';
  cocoAnnotations: number;
  unsurePixels: number;
}

export interface ExportResult {
  out: string;
  exported: number;
  broken: Array<{ id: string; reason: string }>;
  skipped: Array<{ id: string; status: string; reason: string }>;
  manifest: Record<string, unknown>;
}

const hash32 = (s: string) => parseInt(createHash('sha1').update(s).digest('hex').slice(0, 8), 16) / 2 ** 32;

function placeImage(src: string, dst: string, mode: 'link' | 'copy'): 'hardlink' | 'copy' {
  if (mode === 'link') {
    try {
      fs.linkSync(src, dst);
      return 'hardlink';
    } catch {
      // another file system, or links not allowed: copy
    }
  }
  fs.copyFileSync(src, dst);
  return 'copy';
}

export async function exportLabels(src: ExportSource, out: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const target = path.resolve(out);
  const formats = opts.formats ?? ['voc', 'coco'];
  if (!formats.length) throw new UsageError('choose at least one export format (voc, coco)');
  if (fs.existsSync(target) && !opts.force) throw new UsageError(`${target} exists; choose another --out or replace it with --force`);
  const rel = path.relative(src.folder, target);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0] === '.protolab')) {
    throw new UsageError(`cannot export into ${target}: it is the labelled folder or its .protolab state`);
  }
  const K = src.classes.length;
  const valFraction = opts.valFraction ?? 0.2;
  const cocoMode = opts.cocoMode ?? 'instance';
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const jpegDir = path.join(tmp, 'JPEGImages'), segDir = path.join(tmp, 'SegmentationClass'), setsDir = path.join(tmp, 'ImageSets', 'Segmentation');
  const names = exportNames(src.items.map((i) => i.id));
  const split = splitNames([...names.values()], valFraction, hash32);
  const isVal = new Set(split.val);
  const images: ManifestImage[] = [];
  const broken: ExportResult['broken'] = [];
  const coco = { images: [] as unknown[], annotations: [] as unknown[] };
  let annId = 0;
  try {
    for (const d of [jpegDir, segDir, setsDir]) fs.mkdirSync(d, { recursive: true });
    for (const [i, item] of src.items.entries()) {
      throwIfAborted(opts.signal);
      const name = names.get(item.id)!;
      let mask;
      try {
        mask = await item.mask();
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        broken.push({ id: item.id, reason: e.problem });
        continue;
      }
      if (mask.width !== item.width || mask.height !== item.height) throw new Error(`${item.id}: mask ${mask.width}×${mask.height} but image ${item.width}×${item.height}`);
      const jpg = path.join(jpegDir, `${name}.jpg`);
      let how: ManifestImage['image'];
      if (item.format === 'jpeg' && item.orientation === 1) how = placeImage(item.file, jpg, opts.images ?? 'copy');
      else {
        await writeUprightJpeg(item.file, jpg);
        how = 're-encoded';
      }
      if (formats.includes('voc')) fs.writeFileSync(path.join(segDir, `${name}.png`), encodeIndexPng(mask));
      let unsure = 0;
      for (const v of mask.data) if (v > K) unsure++;
      let nAnn = 0;
      if (formats.includes('coco')) {
        const imageId = i + 1;
        coco.images.push({ id: imageId, file_name: `JPEGImages/${name}.jpg`, width: item.width, height: item.height });
        for (const r of maskRegions(mask, K, cocoMode)) {
          coco.annotations.push({
            id: ++annId, image_id: imageId, category_id: r.cls,
            segmentation: { size: [item.height, item.width], counts: rleToString(r.counts) },
            area: r.area, bbox: r.bbox, iscrowd: 0,
          });
          nAnn++;
        }
      }
      images.push({
        id: item.id, name, source: item.file, sha256_16: item.hash, width: item.width, height: item.height, exifOrientation: item.orientation,
        mask: item.kind, status: item.status, support: item.support, confidence: item.confidence ?? null,
        split: isVal.has(name) ? 'val' : 'train', image: how, cocoAnnotations: nAnn, unsurePixels: unsure,
      });
      opts.onProgress?.(i + 1, src.items.length, item.id);
    }
    const exportedNames = new Set(images.map((m) => m.name));
    const train = split.train.filter((n) => exportedNames.has(n)), val = split.val.filter((n) => exportedNames.has(n));
    if (!formats.includes('voc')) fs.rmSync(segDir, { recursive: true, force: true });
    const lines = (xs: string[]) => (xs.length ? xs.join('\n') + '\n' : '');
    if (formats.includes('voc')) {
      fs.writeFileSync(path.join(setsDir, 'train.txt'), lines(train));
      fs.writeFileSync(path.join(setsDir, 'val.txt'), lines(val));
      fs.writeFileSync(path.join(setsDir, 'trainval.txt'), lines([...train, ...val].sort()));
      fs.writeFileSync(path.join(tmp, 'class_names.txt'), ['_background_', ...src.classes.map((c) => c.name)].join('\n') + '\n');
    } else {
      fs.rmSync(path.join(tmp, 'ImageSets'), { recursive: true, force: true });
    }
    if (formats.includes('coco')) {
      const json = {
        info: { description: `ProtoLab labels of ${src.folder}`, date_created: new Date().toISOString() },
        images: coco.images,
        annotations: coco.annotations,
        categories: src.classes.map((c, k) => ({ id: k + 1, name: c.name, supercategory: 'object' })),
      };
      fs.writeFileSync(path.join(tmp, 'annotations.json'), JSON.stringify(json));
    }
    const count = (kind: string) => images.filter((m) => m.mask === kind).length;
    const manifest: Record<string, unknown> = {
      tool: EXPORT_TOOL,
      version: 1,
      createdAt: new Date().toISOString(),
      source: src.folder,
      formats,
      classes: [{ id: 0, name: '_background_' }, ...src.classes.map((c, k) => ({ id: k + 1, name: c.name, color: c.color }))],
      labels: { background: 0, classes: `1..${K}`, unsure: 255, note: 'unsure pixels are 255 in SegmentationClass/ and in no COCO annotation' },
      orientation: 'EXIF orientation applied: masks and JPEGImages are in the orientation the user saw; re-encoded images carry no orientation tag',
      images: { link: opts.images ?? 'copy', note: 'hardlink = the same file as the source (edit one, both change); copy; re-encoded = PNG/WebP/… or EXIF-rotated JPEG written upright as JPEG quality 95' },
      split: { method: 'val if sha1(name)[0:8] / 2^32 < valFraction (stable when images come and go); at least one image in each list when there are two or more', valFraction, train: train.length, val: val.length },
      coco: formats.includes('coco') ? { file: 'annotations.json', annotations: cocoMode === 'instance' ? 'one per connected component (8-connected) of a class' : 'one per class per image', rle: 'compressed (maskApi string)', iscrowd: 0 } : undefined,
      model: { ...src.model, modelKey: src.modelKey, supports: src.supports },
      counts: { exported: images.length, human: count('human'), acceptedPrediction: count('accepted-prediction'), prediction: count('prediction'), pseudo: count('pseudo'), broken: broken.length, skipped: src.skipped.length },
      broken,
      skipped: src.skipped,
      ...opts.manifest,
      perImage: images,
    };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    // swap into place: the old export (if any) is moved aside first and removed only after the rename
    let old: string | undefined;
    if (fs.existsSync(target)) {
      old = path.join(path.dirname(target), `.${path.basename(target)}.old-${process.pid}-${Date.now().toString(36)}`);
      fs.renameSync(target, old);
    }
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      if (old) fs.renameSync(old, target);
      throw e;
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
    return { out: target, exported: images.length, broken, skipped: src.skipped, manifest };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
