// Real photos with ground truth for measuring the labeling predictor: folders in labelme's VOC export
// layout (JPEGImages/<id>.jpg|png + SegmentationClassPNG/<id>.png, or VOC's SegmentationClass/), masks
// as index or VOC-palette PNGs (0 background, class ordinals, 255 ignore). Every ordered pair of images
// sharing a class is one 1-shot, 1-way case: the support's mask for that class (others → background,
// 255 → unsure) predicts the query, scored by the IoU of that class (255 ignored) at the working size.
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../../src/engine/errors';
import { readRgb } from '../../src/engine/image/decode';
import { readIndexPng } from '../../src/engine/image/png';
import { resizeMaskNearest, resizeRgb, roundBytes } from '../../src/engine/image/resize';
import type { IndexMask, RawImage } from '../../src/engine/types';
import { IGNORE } from '../../src/engine/types';

export interface PhotoImage {
  /** `<folder name>/<id>` */
  id: string;
  file: string;
  /** RGB at S×S */
  rgb: RawImage;
  /** ground truth at S×S (nearest) */
  gt: IndexMask;
  classes: number[];
}

export interface PhotoPair {
  support: PhotoImage;
  query: PhotoImage;
  cls: number;
}

const MASK_DIRS = ['SegmentationClassPNG', 'SegmentationClass'];
const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

/** Load every image of a labelme/VOC-style folder that has a PNG mask, resized to size×size. */
export async function loadPhotoFolder(dir: string, size: number): Promise<PhotoImage[]> {
  const maskDir = MASK_DIRS.map((d) => path.join(dir, d)).find((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.png')));
  if (!maskDir) throw new DataError(dir, `no ${MASK_DIRS.join(' or ')} folder with PNG masks`);
  const out: PhotoImage[] = [];
  for (const f of fs.readdirSync(maskDir).filter((x) => x.endsWith('.png')).sort()) {
    const id = path.basename(f, '.png');
    const file = IMAGE_EXTS.map((e) => path.join(dir, 'JPEGImages', id + e)).find((p) => fs.existsSync(p));
    if (!file) throw new DataError(path.join(maskDir, f), `no image JPEGImages/${id}.{jpg,png} for this mask`);
    const img = await readRgb(file);
    const mask = await readIndexPng(path.join(maskDir, f));
    if (mask.width !== img.width || mask.height !== img.height) throw new DataError(path.join(maskDir, f), `mask is ${mask.width}×${mask.height}, image ${img.width}×${img.height}`);
    out.push(await photoImage(`${path.basename(dir)}/${id}`, file, img, mask, size));
  }
  return out;
}

export async function photoImage(id: string, file: string, img: RawImage, mask: IndexMask, size: number): Promise<PhotoImage> {
  const rgb: RawImage = { width: size, height: size, data: roundBytes(await resizeRgb(img, size, size)) };
  const gt = resizeMaskNearest(mask, size, size);
  const classes = [...new Set(gt.data)].filter((c) => c !== 0 && c !== IGNORE).sort((a, b) => a - b);
  return { id, file, rgb, gt, classes };
}

/** Every ordered (support, query) pair of distinct images that share a class, once per shared class. */
export function photoPairs(images: PhotoImage[]): PhotoPair[] {
  const pairs: PhotoPair[] = [];
  for (const s of images) for (const q of images) {
    if (s === q) continue;
    for (const c of s.classes) if (q.classes.includes(c)) pairs.push({ support: s, query: q, cls: c });
  }
  return pairs;
}

/** 1-way raster of a ground truth: class `cls` → 1, 255 → 255 (unsure), anything else → 0. */
export function oneWayRaster(gt: IndexMask, cls: number): Uint8Array {
  const out = new Uint8Array(gt.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = gt.data[i];
    out[i] = v === cls ? 1 : v === IGNORE ? IGNORE : 0;
  }
  return out;
}

/** IoU of predicted label 1 against gt == cls, pixels where gt is 255 ignored. null when both are empty. */
export function iouOf(pred: Uint8Array, gt: IndexMask, cls: number): number | null {
  let inter = 0, union = 0;
  for (let i = 0; i < pred.length; i++) {
    const g = gt.data[i];
    if (g === IGNORE) continue;
    const a = pred[i] === 1, b = g === cls;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union ? inter / union : null;
}
