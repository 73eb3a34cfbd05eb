// The labeling state of one folder, on disk under `<folder>/.protolab/label/`:
//   state.json        { version, classes, images, orphans, settings } (this file's types), written
//                     atomically (temp + rename) on every save;
//   masks/<sha>.png   index PNGs referenced from state.json by content hash: predictions (S×S),
//                     accepted masks (full size) and the PNGs of `mask` shapes (full size, kept out of
//                     the JSON so it stays small and diffable);
//   features/         the feature cache (label/featureStore.ts);
//   lock              who holds the folder (lock.ts).
// Images are keyed by their path relative to the folder ('/' separators) and carry the hash of their
// bytes, so a rescan notices renamed and edited files (label/scan.ts). Reading a state written by an
// older version migrates it (label/stateMigrate.ts); a newer version is refused, never overwritten.
// The round trip is exact: parse(serialize(s)) deep-equals s.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { VOC_COLORMAP } from '../../shared/palette';
import { LABEL_STATUSES, type LabelClassDef, type LabelMode, type LabelStatus } from '../../shared/labelVocabulary';
import { MAX_CLASSES, validateShapes, type Shape } from './shapes';
import { migrateState } from './stateMigrate';

export const STATE_VERSION = 2;
export const STATE_FILE = 'state.json';
export const MASKS_DIR = 'masks';
/** The folder's lock (../lock.ts): one writer per labeling folder. */
export const LOCK_FILE = 'lock';

/** An image's status, a class and the folder's mode are the labeling vocabulary the engine, the host and
 *  the webview share (shared/labelVocabulary.ts). */
export type ImageStatus = LabelStatus;
export const IMAGE_STATUSES = LABEL_STATUSES;

/** Where an image's shapes came from: drawn by a person, a pseudo mask from image tags, or an accepted prediction turned into a support. */
export type ShapesOrigin = 'human' | 'pseudo' | 'accepted-prediction';

export type ClassDef = LabelClassDef;

export interface PredictionRecord {
  /** masks/<file>: S×S index PNG of the prediction with the image's own marks painted over it. */
  mask: string;
  size: number;
  confidence: number;
  /** Which model made it (label/service.ts modelKey): a different key means the prediction is stale. */
  model: string;
  at: string;
}

export interface AcceptedRecord {
  /** masks/<file>: the accepted mask at the image's full (oriented) size. */
  mask: string;
  at: string;
  confidence?: number;
  model?: string;
}

export interface ImageRecord {
  /** sha256 of the file's bytes (16 hex). */
  hash: string;
  /** File size and mtime when hashed: a rescan rehashes only files whose stamp changed. */
  bytes: number;
  mtimeMs: number;
  /** Size as the user sees it (EXIF orientation applied); absent until the file was probed. */
  width?: number;
  height?: number;
  orientation?: number;
  format?: string;
  status: ImageStatus;
  /** Why the image is broken. */
  reason?: string;
  shapes: Shape[];
  /** Shapes undone in the workbench (newest last): a reload brings redo back with the annotation. */
  redo?: Shape[];
  origin?: ShapesOrigin;
  /** Image tags (labeling from image tags only): the class names the image shows; [] = background only. */
  tags?: string[];
  /** Its annotation teaches the model (a support). */
  support: boolean;
  prediction?: PredictionRecord;
  accepted?: AcceptedRecord;
  /** Something the user should know: renamed from …, changed on disk since annotated. */
  note?: string;
}

/** Work on a file that disappeared, kept by content hash until the file comes back (renamed or restored). */
export interface OrphanRecord extends ImageRecord {
  path: string;
  missingSince: string;
}

export type { LabelMode };

export interface LabelSettings {
  method?: string;
  backbone?: string;
  weights?: string;
  size?: number;
  /** The workbench's mode: drawing, or labels from image tags only (folderTags: one sub-folder per class). */
  mode?: LabelMode;
  folderTags?: boolean;
}

export interface LabelStateData {
  version: typeof STATE_VERSION;
  /** Class k = classes[k − 1]; 0 is background. */
  classes: ClassDef[];
  images: Record<string, ImageRecord>;
  orphans: Record<string, OrphanRecord>;
  settings: LabelSettings;
}

/** The VOC palette colour of index k as '#rrggbb' (the exported PNGs use the same palette). */
export function defaultColor(k: number): string {
  const [r, g, b] = VOC_COLORMAP[k % 256];
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function classDefs(names: readonly string[]): ClassDef[] {
  return names.map((name, i) => ({ name, color: defaultColor(i + 1) }));
}

export function emptyState(classes: ClassDef[] = []): LabelStateData {
  return { version: STATE_VERSION, classes: classes.map((c) => ({ ...c })), images: {}, orphans: {}, settings: {} };
}

export function emptyRecord(hash: string, bytes: number, mtimeMs: number): ImageRecord {
  return { hash, bytes, mtimeMs, status: 'unlabeled', shapes: [], support: false };
}

/** Checks class definitions (names unique and non-empty, colours #rrggbb, at most 253). */
export function validateClasses(classes: unknown, file: string): ClassDef[] {
  if (!Array.isArray(classes)) throw new DataError(file, 'classes must be an array');
  if (classes.length > MAX_CLASSES) throw new DataError(file, `${classes.length} classes do not fit an 8-bit mask (at most ${MAX_CLASSES})`);
  const seen = new Set<string>();
  return classes.map((c, i) => {
    const o = c as Partial<ClassDef>;
    if (typeof o?.name !== 'string' || o.name.trim() === '') throw new DataError(file, `class ${i + 1} has no name`);
    if (/[\r\n]/.test(o.name)) throw new DataError(file, `class ${i + 1}: a name cannot contain a line break`);
    if (seen.has(o.name)) throw new DataError(file, `class name "${o.name}" appears twice`);
    seen.add(o.name);
    const color = o.color ?? defaultColor(i + 1);
    if (typeof color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(color)) throw new DataError(file, `class "${o.name}": colour ${JSON.stringify(color)} is not #rrggbb`);
    return { name: o.name, color };
  });
}

// ---- mask files (content-addressed) ----

export function maskFileName(png: Uint8Array): string {
  return `${createHash('sha256').update(png).digest('hex').slice(0, 24)}.png`;
}

/** Store PNG bytes under masks/ by content; returns the file name (an existing identical file is kept). */
export function storeMask(stateDir: string, png: Uint8Array): string {
  const name = maskFileName(png);
  const file = path.join(stateDir, MASKS_DIR, name);
  if (!fs.existsSync(file)) writeFileAtomic(file, png);
  return name;
}

export function readMask(stateDir: string, name: string): Buffer {
  if (!/^[0-9a-f]{24}\.png$/.test(name)) throw new DataError(path.join(stateDir, STATE_FILE), `mask reference "${name}" is not a masks/ file name`);
  const file = path.join(stateDir, MASKS_DIR, name);
  try {
    return fs.readFileSync(file);
  } catch {
    throw new DataError(file, 'mask file referenced by state.json is missing');
  }
}

/** Delete masks/ files no record references any more (content-addressed files are never rewritten, only dropped). */
export function collectMaskGarbage(stateDir: string, data: LabelStateData): number {
  const dir = path.join(stateDir, MASKS_DIR);
  if (!fs.existsSync(dir)) return 0;
  const keep = new Set<string>();
  const refs = (r: ImageRecord) => {
    if (r.prediction) keep.add(r.prediction.mask);
    if (r.accepted) keep.add(r.accepted.mask);
    for (const s of [...r.shapes, ...(r.redo ?? [])]) if (s.kind === 'mask') keep.add(maskFileName(Buffer.from(s.png, 'base64')));
  };
  Object.values(data.images).forEach(refs);
  Object.values(data.orphans).forEach(refs);
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.png') && !keep.has(f)) {
      fs.rmSync(path.join(dir, f), { force: true });
      n++;
    }
  }
  return n;
}

// ---- serialisation ----

type DiskShape = Exclude<Shape, { kind: 'mask' }> | { kind: 'mask'; file: string };

function shapesToDisk(shapes: Shape[], stateDir: string): DiskShape[] {
  return shapes.map((s) => (s.kind === 'mask' ? { kind: 'mask', file: storeMask(stateDir, Buffer.from(s.png, 'base64')) } : s));
}

function shapesFromDisk(shapes: unknown, stateDir: string, where: string): Shape[] {
  if (!Array.isArray(shapes)) throw new DataError(path.join(stateDir, STATE_FILE), `${where}: shapes must be an array`);
  const inlined = shapes.map((s) => {
    const o = s as { kind?: unknown; file?: unknown };
    if (o && o.kind === 'mask' && typeof o.file === 'string') return { kind: 'mask', png: readMask(stateDir, o.file).toString('base64') };
    return s;
  });
  try {
    return validateShapes(inlined, { where });
  } catch (e) {
    throw new DataError(path.join(stateDir, STATE_FILE), (e as Error).message);
  }
}

function recordToDisk(r: ImageRecord, stateDir: string): unknown {
  return { ...r, shapes: shapesToDisk(r.shapes, stateDir), ...(r.redo ? { redo: shapesToDisk(r.redo, stateDir) } : {}) };
}

/** The JSON text of a state; mask shapes' PNGs are written to masks/ as a side effect. */
export function serializeState(data: LabelStateData, stateDir: string): string {
  const images: Record<string, unknown> = {};
  for (const k of Object.keys(data.images).sort()) images[k] = recordToDisk(data.images[k], stateDir);
  const orphans: Record<string, unknown> = {};
  for (const k of Object.keys(data.orphans).sort()) orphans[k] = recordToDisk(data.orphans[k], stateDir);
  return JSON.stringify({ version: STATE_VERSION, classes: data.classes, settings: data.settings, images, orphans }, null, 1) + '\n';
}

function checkRecord(o: unknown, file: string, where: string, stateDir: string): ImageRecord {
  const r = o as Partial<ImageRecord>;
  if (typeof r !== 'object' || r === null) throw new DataError(file, `${where}: not an object`);
  if (typeof r.hash !== 'string' || typeof r.bytes !== 'number' || typeof r.mtimeMs !== 'number') throw new DataError(file, `${where}: hash, bytes and mtimeMs are required`);
  if (!IMAGE_STATUSES.includes(r.status as ImageStatus)) throw new DataError(file, `${where}: status ${JSON.stringify(r.status)} is not one of ${IMAGE_STATUSES.join(', ')}`);
  if (typeof r.support !== 'boolean') throw new DataError(file, `${where}: support must be true or false`);
  const out = { ...r, shapes: shapesFromDisk(r.shapes, stateDir, where) } as ImageRecord;
  if (r.redo !== undefined) out.redo = shapesFromDisk(r.redo, stateDir, `${where} (redo)`);
  if (r.tags !== undefined && !(Array.isArray(r.tags) && r.tags.every((t) => typeof t === 'string' && t.trim() !== ''))) {
    throw new DataError(file, `${where}: tags must be a list of class names`);
  }
  for (const k of ['prediction', 'accepted'] as const) {
    const m = out[k];
    if (m !== undefined && (typeof m !== 'object' || typeof m.mask !== 'string')) throw new DataError(file, `${where}: ${k} has no mask`);
  }
  return out;
}

/** Parse state.json text (any supported version) into the current shape. */
export function parseState(text: string, stateDir: string): LabelStateData {
  const file = path.join(stateDir, STATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `labeling state is not valid JSON (${(e as Error).message}); it was not modified — repair it or move it away to start over`);
  }
  const o = migrateState(raw, file) as Partial<LabelStateData> & { images?: unknown; orphans?: unknown };
  const classes = validateClasses(o.classes, file);
  if (typeof o.images !== 'object' || o.images === null || Array.isArray(o.images)) throw new DataError(file, 'images must be an object keyed by relative path');
  const images: Record<string, ImageRecord> = {};
  for (const [k, v] of Object.entries(o.images as Record<string, unknown>)) images[k] = checkRecord(v, file, `image ${k}`, stateDir);
  const orphans: Record<string, OrphanRecord> = {};
  for (const [k, v] of Object.entries((o.orphans ?? {}) as Record<string, unknown>)) {
    const rec = checkRecord(v, file, `orphan ${k}`, stateDir) as OrphanRecord;
    if (typeof rec.path !== 'string') throw new DataError(file, `orphan ${k}: path is required`);
    orphans[k] = rec;
  }
  const settings = (typeof o.settings === 'object' && o.settings !== null ? o.settings : {}) as LabelSettings;
  return { version: STATE_VERSION, classes, images, orphans, settings };
}

/** The state in `stateDir`, or undefined when there is none yet. */
export function loadState(stateDir: string): LabelStateData | undefined {
  const file = path.join(stateDir, STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataError(file, `cannot read the labeling state (${(e as Error).message})`);
  }
  return parseState(text, stateDir);
}

/** Write state.json atomically (mask shapes' PNGs first, so the JSON never references a missing file). */
export function saveState(stateDir: string, data: LabelStateData): void {
  writeFileAtomic(path.join(stateDir, STATE_FILE), serializeState(data, stateDir));
}
