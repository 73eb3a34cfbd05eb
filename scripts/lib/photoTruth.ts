// Hand-traced ground truth (scripts/photo-truth/*.json) turned into masks: the polygons filled, a band of
// unsure pixels around every boundary, written as a labelme/VOC-style folder that the real-photo
// benchmark (realCases.ts) and scripts/eval-photos.ts read:
//   OUT/JPEGImages/<id>.png            the photo (RGB)
//   OUT/SegmentationClassPNG/<id>.png  index PNG: 0 background, class ordinals, 255 unsure
//   OUT/class_names.txt                `_background_` then the name of every ordinal (labelme's layout)
//   OUT/.truth-stamp                   sha256 of the trace files it was built from (stale → rebuild)
//
// A trace file: { band, names?, images: [{ id, file, band?, polygons: [{ label, points }] }] }. Labels
// are VOC ordinals (15 = person, 14 = motorbike, 8 = cat); `names` adds classes VOC lacks ("21": "cup").
// Filling: polygons in order, even-odd rule at pixel centres, a later polygon over an earlier one (label 0
// cuts a hole, 255 marks a region nobody can call); then every pixel within `band` pixels (Euclidean)
// of a pixel of another label becomes 255, like VOC's borders, so a trace need only be right to within
// its band.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { VOC_CLASSES } from '../../src/engine/data/classes';
import { DataError } from '../../src/engine/errors';
import { writeFileAtomic } from '../../src/engine/fsutil';
import { encodeIndexPng } from '../../src/engine/image/png';

export interface TracedImage { id: string; file: string; band?: number; polygons: Array<{ label: number; points: number[] }> }
export interface TruthFile { about?: string; band: number; names?: Record<string, string>; images: TracedImage[] }

export const STAMP_FILE = '.truth-stamp';

/** Even-odd fill of a polygon at pixel centres. */
export function fillPolygon(mask: Uint8Array, w: number, h: number, pts: number[], value: number): void {
  const n = pts.length / 2;
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5, xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const x0 = pts[2 * i], y0 = pts[2 * i + 1], x1 = pts[2 * ((i + 1) % n)], y1 = pts[2 * ((i + 1) % n) + 1];
      if ((y0 <= yc) !== (y1 <= yc)) xs.push(x0 + ((yc - y0) * (x1 - x0)) / (y1 - y0));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x < Math.min(w, Math.ceil(xs[k + 1] - 0.5)); x++) mask[y * w + x] = value;
    }
  }
}

/** Pixels within `band` of a pixel of another label → 255. */
export function unsureBand(mask: Uint8Array, w: number, h: number, band: number): Uint8Array {
  const out = mask.slice();
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = mask[y * w + x];
    search: for (let dy = -band; dy <= band; dy++) for (let dx = -band; dx <= band; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= h || xx >= w || dx * dx + dy * dy > band * band) continue;
      if (mask[yy * w + xx] !== v) { out[y * w + x] = 255; break search; }
    }
  }
  return out;
}

/** A trace file, checked: every field that is wrong is named with the file. */
export function readTruthFile(file: string): TruthFile {
  let j: TruthFile;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as TruthFile;
  } catch (e) {
    throw new DataError(file, `not a readable trace file: ${(e as Error).message}`);
  }
  if (!Number.isInteger(j.band) || j.band < 0) throw new DataError(file, `band must be an integer ≥ 0 (got ${JSON.stringify(j.band)})`);
  if (!Array.isArray(j.images) || !j.images.length) throw new DataError(file, 'images must be a non-empty array');
  for (const [k, v] of Object.entries(j.names ?? {})) {
    if (!/^\d+$/.test(k) || Number(k) < 1 || Number(k) > 254 || typeof v !== 'string' || !v) throw new DataError(file, `names: "${k}": ${JSON.stringify(v)} is not ordinal (1..254) → name`);
  }
  for (const im of j.images) {
    if (typeof im.id !== 'string' || !/^[\w.-]+$/.test(im.id)) throw new DataError(file, `image id ${JSON.stringify(im.id)}: letters, digits, _ . - only`);
    if (typeof im.file !== 'string' || !im.file) throw new DataError(file, `${im.id}: file missing`);
    if (im.band !== undefined && (!Number.isInteger(im.band) || im.band < 0)) throw new DataError(file, `${im.id}: band must be an integer ≥ 0`);
    for (const [i, p] of (im.polygons ?? []).entries()) {
      if (!Number.isInteger(p.label) || p.label < 0 || p.label > 255) throw new DataError(file, `${im.id}, polygon ${i}: label ${JSON.stringify(p.label)} is not 0..255`);
      if (!Array.isArray(p.points) || p.points.length < 6 || p.points.length % 2 || p.points.some((x) => !Number.isFinite(x))) {
        throw new DataError(file, `${im.id}, polygon ${i}: points must be ≥ 3 x,y pairs of numbers`);
      }
    }
  }
  return j;
}

/** Names of the ordinals: VOC's, then the trace files' own (a clash is an error). Index 0 = `_background_`. */
export function truthClassNames(files: Array<{ file: string; truth: TruthFile }>): string[] {
  const names = ['_background_', ...VOC_CLASSES.slice(1)];
  for (const { file, truth } of files) {
    for (const [k, v] of Object.entries(truth.names ?? {})) {
      const i = Number(k);
      if (i < VOC_CLASSES.length || (names[i] !== undefined && !names[i].startsWith('_unused_') && names[i] !== v)) {
        throw new DataError(file, `names: ordinal ${i} is already "${names[i]}"`);
      }
      while (names.length < i) names.push(`_unused_${names.length}`);
      names[i] = v;
    }
  }
  return names;
}

/** sha256 over the trace files' names and contents, in order: what OUT/.truth-stamp records. */
export function truthStamp(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${path.basename(f)}\n`).update(fs.readFileSync(f)).update('\n');
  return h.digest('hex');
}

/** Whether `out` was built from exactly these trace files (and holds every image they trace). */
export function truthIsCurrent(out: string, files: string[]): boolean {
  const stamp = path.join(out, STAMP_FILE);
  return fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === truthStamp(files);
}

/** The trace files of a folder (*.json, sorted). */
export function traceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new DataError(dir, 'no such folder of trace files');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

export interface BuildTruthOptions {
  /** trace files (*.json) */
  files: string[];
  /** folder the traced photos' `file` names are relative to (the extracted skimage data) */
  images: string;
  out: string;
  /** also write OUT/<id>.overlay.png: class tinted green, 255 yellow, to look at */
  overlays?: boolean;
  log?: (line: string) => void;
}

/** Fill every trace, write the folder described in the header; the stamp is written last. */
export async function buildPhotoTruth(o: BuildTruthOptions): Promise<void> {
  const parsed = o.files.map((file) => ({ file, truth: readTruthFile(file) }));
  const names = truthClassNames(parsed);
  // a rebuild starts empty: an image whose trace was removed must not linger
  for (const f of [STAMP_FILE, 'class_names.txt']) fs.rmSync(path.join(o.out, f), { force: true });
  for (const d of ['JPEGImages', 'SegmentationClassPNG']) fs.rmSync(path.join(o.out, d), { recursive: true, force: true });
  const seen = new Set<string>();
  for (const { file, truth } of parsed) {
    for (const im of truth.images) {
      if (seen.has(im.id)) throw new DataError(file, `image id ${im.id} is traced twice`);
      seen.add(im.id);
      const src = path.join(o.images, im.file);
      if (!fs.existsSync(src)) throw new DataError(src, `not found (traced in ${file}): run scripts/fetch-photos.sh, or give the folder of the photos`);
      const { data, info } = await sharp(src).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const { width: w, height: h } = info;
      const mask = new Uint8Array(w * h);
      for (const p of im.polygons) {
        if (p.label !== 0 && p.label !== 255 && names[p.label] === undefined) throw new DataError(file, `${im.id}: label ${p.label} has no name (VOC's 1..20, or the file's "names")`);
        fillPolygon(mask, w, h, p.points, p.label);
      }
      const gt = unsureBand(mask, w, h, im.band ?? truth.band);
      writeFileAtomic(path.join(o.out, 'SegmentationClassPNG', `${im.id}.png`), encodeIndexPng({ width: w, height: h, data: gt }));
      writeFileAtomic(path.join(o.out, 'JPEGImages', `${im.id}.png`), await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
      if (o.overlays) {
        const ov = Buffer.from(data);
        for (let i = 0; i < w * h; i++) {
          if (gt[i] === 255) ov.set([255, 255, 0], 3 * i);
          else if (gt[i]) ov.set([Math.round(ov[3 * i] * 0.6), Math.round(ov[3 * i + 1] * 0.6 + 102), Math.round(ov[3 * i + 2] * 0.6)], 3 * i);
        }
        writeFileAtomic(path.join(o.out, `${im.id}.overlay.png`), await sharp(ov, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
      }
      const counts: Record<number, number> = {};
      for (const v of gt) counts[v] = (counts[v] ?? 0) + 1;
      o.log?.(`${im.id}: ${w}×${h}, pixels per label ${JSON.stringify(counts)}`);
    }
  }
  writeFileAtomic(path.join(o.out, 'class_names.txt'), names.join('\n') + '\n');
  writeFileAtomic(path.join(o.out, STAMP_FILE), truthStamp(o.files) + '\n');
}
