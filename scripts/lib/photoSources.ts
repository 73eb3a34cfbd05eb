// Annotated real photos, read from the formats their sources ship, with one naming of classes across
// sources: where each source lives (the caches scripts/fetch-photos.sh fills), and readers for
//   - a labelme/VOC export folder: JPEGImages/<id>.jpg|png + SegmentationClassPNG/<id>.png (index or VOC
//     palette; 255 = ignore) + class_names.txt (`_background_` then one name per ordinal; VOC's 20 if absent);
//   - a labelme label.png beside its label_names.txt (labelme_json_to_dataset's output);
//   - a labelme JSON's region shapes (rectangle, circle, polygon) rasterised; line and point shapes are
//     not regions and are left out.
// Every photo comes back at its own full size with its truth re-indexed 1..n in the order of `classes`
// (unified names: VOC's spelling for VOC classes, aliases folded: labelme's video 'track' is a truck).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VOC_CLASSES } from '../../src/engine/data/classes';
import { DataError } from '../../src/engine/errors';
import { probePhoto } from '../../src/engine/image/photo';
import { readIndexPng } from '../../src/engine/image/png';
import { IGNORE, type IndexMask } from '../../src/engine/types';
import { fillPolygon, unsureBand } from './photoTruth';

export interface AnnotatedPhoto {
  /** unique across sources: `<source>/<stem>` */
  id: string;
  source: string;
  /** the photo file */
  file: string;
  /** truth at the photo's size: 0 background, v = classes[v - 1], 255 ignored */
  truth: IndexMask;
  classes: string[];
  /** frames of one scene (a video, a stereo pair): `support` frames are the ones labelled by hand */
  sequence?: { name: string; support: boolean };
}

/** Where the sources live. Each folder can be moved by an environment variable. */
export interface PhotoPaths {
  /** where fetch-photos.sh keeps and extracts each .deb (PROTOLAB_LABELME_DIR, PROTOLAB_SKIMAGE_DIR) */
  labelmeDir: string;
  skimageDir: string;
  /** labelme-examples' `examples` folder inside the extracted .deb */
  labelmeExamples: string;
  /** scikit-image's data folder inside the extracted python3-skimage .deb */
  skimageData: string;
  /** the masks built from the traces (make-photo-truth) */
  truth: string;
  /** the committed trace files */
  traces: string;
}

export function photoPaths(env: NodeJS.ProcessEnv = process.env): PhotoPaths {
  const cache = path.join(os.homedir(), '.cache', 'protolab-test');
  const labelme = env.PROTOLAB_LABELME_DIR ?? path.join(cache, 'labelme');
  const skimage = env.PROTOLAB_SKIMAGE_DIR ?? path.join(cache, 'skimage');
  return {
    labelmeDir: labelme,
    skimageDir: skimage,
    labelmeExamples: path.join(labelme, 'root', 'usr', 'share', 'doc', 'labelme-examples', 'examples'),
    skimageData: path.join(skimage, 'root', 'usr', 'lib', 'python3', 'dist-packages', 'skimage', 'data'),
    truth: env.PROTOLAB_PHOTO_TRUTH_DIR ?? path.join(cache, 'photo-truth'),
    // compiled to out/scripts/lib: the repository's scripts/photo-truth
    traces: path.resolve(__dirname, '..', '..', '..', 'scripts', 'photo-truth'),
  };
}

const ALIASES: Record<string, string> = {
  track: 'truck', // labelme-examples' video names its truck 'track'
  'tv/monitor': 'tvmonitor', 'tv monitor': 'tvmonitor', tv: 'tvmonitor',
  'potted plant': 'pottedplant', 'dining table': 'diningtable', motorcycle: 'motorbike', airplane: 'aeroplane', couch: 'sofa',
  background: '_background_',
};

/** One spelling per class: lower case, VOC's names for VOC's classes, known aliases folded. */
export function unifyClassName(raw: string): string {
  const k = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  return ALIASES[k] ?? k;
}

/** Re-index a mask of source ordinals (names[v] names ordinal v; 0 background, 255 ignored) to 1..n of
 *  the unified names present, in order of first ordinal. */
export function namedTruth(mask: IndexMask, names: readonly string[], where: string): { truth: IndexMask; classes: string[] } {
  const present = new Set<number>();
  for (const v of mask.data) if (v !== 0 && v !== IGNORE) present.add(v);
  const classes: string[] = [];
  const local = new Uint8Array(256);
  local[IGNORE] = IGNORE;
  for (const v of [...present].sort((a, b) => a - b)) {
    const raw = names[v];
    if (raw === undefined) throw new DataError(where, `mask value ${v} has no class name`);
    const name = unifyClassName(raw);
    if (name === '_background_') continue; // a second background ordinal stays background
    if (!classes.includes(name)) classes.push(name);
    local[v] = classes.indexOf(name) + 1;
  }
  return { truth: { width: mask.width, height: mask.height, data: mask.data.map((v) => local[v]) }, classes };
}

async function checkSize(file: string, mask: IndexMask, maskFile: string): Promise<void> {
  const info = await probePhoto(file);
  if (info.width !== mask.width || info.height !== mask.height) throw new DataError(maskFile, `mask is ${mask.width}×${mask.height}, the photo ${file} ${info.width}×${info.height}`);
}

function readNames(file: string): string[] {
  const names = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length < 2 || unifyClassName(names[0]) !== '_background_') throw new DataError(file, 'expected `_background_` on the first line and at least one class');
  return names;
}

const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

/** Every photo of a labelme/VOC export folder that has a mask (sorted by id). */
export async function readVocFolder(dir: string, source: string): Promise<AnnotatedPhoto[]> {
  const maskDir = path.join(dir, 'SegmentationClassPNG');
  if (!fs.existsSync(maskDir)) throw new DataError(dir, 'no SegmentationClassPNG folder');
  const namesFile = path.join(dir, 'class_names.txt');
  const names = fs.existsSync(namesFile) ? readNames(namesFile) : ['_background_', ...VOC_CLASSES.slice(1)];
  const out: AnnotatedPhoto[] = [];
  for (const f of fs.readdirSync(maskDir).filter((x) => x.endsWith('.png')).sort()) {
    const stem = f.slice(0, -4);
    const file = IMAGE_EXTS.map((e) => path.join(dir, 'JPEGImages', stem + e)).find((p) => fs.existsSync(p));
    if (!file) throw new DataError(path.join(maskDir, f), `no photo JPEGImages/${stem}.{jpg,png} for this mask`);
    const mask = await readIndexPng(path.join(maskDir, f));
    await checkSize(file, mask, path.join(maskDir, f));
    out.push({ id: `${source}/${stem}`, source, file, ...namedTruth(mask, names, path.join(maskDir, f)) });
  }
  if (!out.length) throw new DataError(maskDir, 'no masks');
  return out;
}

/** A labelme label.png (index PNG) with its label_names.txt. */
export async function readLabelPng(photo: string, labelPng: string, namesFile: string, source: string, stem: string): Promise<AnnotatedPhoto> {
  const mask = await readIndexPng(labelPng);
  await checkSize(photo, mask, labelPng);
  return { id: `${source}/${stem}`, source, file: photo, ...namedTruth(mask, readNames(namesFile), labelPng) };
}

interface LabelmeShape { label: string; shape_type?: string; points: number[][] }

/** The region shapes of a labelme JSON (rectangle, circle, polygon; others skipped) filled at pixel
 *  centres in file order, then a band of `band` px unsure around every boundary (labelme's own raster
 *  and this one differ by up to a pixel along edges). */
export async function readLabelmeShapes(json: string, photo: string, source: string, stem: string, band: number): Promise<AnnotatedPhoto> {
  const j = JSON.parse(fs.readFileSync(json, 'utf8')) as { shapes?: LabelmeShape[]; imageWidth?: number; imageHeight?: number };
  const info = await probePhoto(photo);
  const w = info.width, h = info.height;
  if ((j.imageWidth !== undefined && j.imageWidth !== w) || (j.imageHeight !== undefined && j.imageHeight !== h)) {
    throw new DataError(json, `shapes drawn on a ${j.imageWidth}×${j.imageHeight} image, the photo ${photo} is ${w}×${h}`);
  }
  const names = ['_background_'];
  const mask = new Uint8Array(w * h);
  for (const s of j.shapes ?? []) {
    const type = s.shape_type ?? 'polygon';
    let pts: number[];
    if (type === 'rectangle' && s.points.length === 2) {
      const [[x0, y0], [x1, y1]] = s.points;
      pts = [x0, y0, x1, y0, x1, y1, x0, y1];
    } else if (type === 'circle' && s.points.length === 2) {
      const [[cx, cy], [px, py]] = s.points, r = Math.hypot(px - cx, py - cy);
      pts = Array.from({ length: 128 }, (_, k) => [cx + r * Math.cos((2 * Math.PI * k) / 128), cy + r * Math.sin((2 * Math.PI * k) / 128)]).flat();
    } else if (type === 'polygon' && s.points.length >= 3) {
      pts = s.points.flat();
    } else {
      continue; // line, linestrip, point: marks, not regions
    }
    if (!names.includes(s.label)) names.push(s.label);
    fillPolygon(mask, w, h, pts, names.indexOf(s.label));
  }
  if (names.length === 1) throw new DataError(json, 'no region shape (rectangle, circle or polygon)');
  const data = band > 0 ? unsureBand(mask, w, h, band) : mask;
  return { id: `${source}/${stem}`, source, file: photo, ...namedTruth({ width: w, height: h, data }, names, json) };
}
