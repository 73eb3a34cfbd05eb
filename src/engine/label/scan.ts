// Which images a labeling folder holds, merged into its state without losing work:
//   - a file whose size or mtime changed is re-hashed; new bytes under the same name drop its
//     prediction and accepted mask (they describe other pixels) but keep its annotation, with a note;
//   - a file that moved (same bytes, new path) takes its record along;
//   - a file that disappeared leaves its work (annotation, accepted mask, support) in `orphans`, keyed
//     by content, until the same bytes come back under any name; records without work are dropped;
//   - new files start unlabeled.
// Listed: every file with a photo extension (image/photo.ts) below the folder, except hidden entries
// (names starting with '.', so `.protolab/` itself), folders holding a ProtoLab label export
// (manifest.json with "tool": "protolab-label"), and the folders in `exclude`.
import * as fs from 'fs';
import * as path from 'path';
import { fileContentHash } from '../features/featureCache';
import { isPhotoFile } from '../image/photo';
import { emptyRecord, type ImageRecord, type LabelStateData } from './state';

export interface ListedFile {
  /** Path relative to the folder, '/' separators: the image's id. */
  rel: string;
  abs: string;
  bytes: number;
  mtimeMs: number;
}

export const EXPORT_TOOL = 'protolab-label';

function isLabelExport(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { tool?: string };
    return m.tool === EXPORT_TOOL;
  } catch {
    return false;
  }
}

/** Photos below `folder`, sorted by relative path. Symlinked folders are not followed (no cycles). */
export function listPhotos(folder: string, exclude: readonly string[] = []): ListedFile[] {
  const root = path.resolve(folder);
  const skip = new Set(exclude.map((e) => path.resolve(e)));
  const out: ListedFile[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing to list there
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skip.has(abs) && !isLabelExport(abs)) walk(abs);
        continue;
      }
      if (!(e.isFile() || e.isSymbolicLink()) || !isPhotoFile(e.name)) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(abs);
      } catch {
        continue; // dangling link
      }
      if (!st.isFile()) continue;
      out.push({ rel: path.relative(root, abs).split(path.sep).join('/'), abs, bytes: st.size, mtimeMs: st.mtimeMs });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export interface ScanChanges {
  added: string[];
  /** Gone from the folder (their work, if any, is kept in orphans). */
  removed: string[];
  renamed: Array<{ from: string; to: string }>;
  /** Same path, new bytes. */
  changed: string[];
}

/** A record holds work worth keeping when its file goes away. */
export function hasWork(r: ImageRecord): boolean {
  return r.shapes.length > 0 || (r.redo?.length ?? 0) > 0 || r.accepted !== undefined || r.support || r.tags !== undefined;
}

function contentChanged(r: ImageRecord, hash: string, f: ListedFile, now: string): ImageRecord {
  const out: ImageRecord = { ...r, hash, bytes: f.bytes, mtimeMs: f.mtimeMs, status: 'unlabeled' };
  for (const k of ['prediction', 'accepted', 'width', 'height', 'orientation', 'format', 'reason'] as const) delete out[k];
  if (r.shapes.length) out.note = `the file changed on disk (${now}); its annotation was kept — check that it still fits`;
  else delete out.note;
  return out;
}

/** Merge the folder's current files into `data` (in place); `hash` reads a file's content hash. */
export async function mergeScan(
  data: LabelStateData,
  files: readonly ListedFile[],
  hash: (abs: string) => Promise<string> = fileContentHash,
  now = new Date().toISOString(),
): Promise<ScanChanges> {
  const changes: ScanChanges = { added: [], removed: [], renamed: [], changed: [] };
  const present = new Map(files.map((f) => [f.rel, f]));
  const gone = new Map<string, { rel: string; rec: ImageRecord }>();
  for (const rel of Object.keys(data.images)) {
    if (present.has(rel)) continue;
    gone.set(data.images[rel].hash, { rel, rec: data.images[rel] });
    delete data.images[rel];
  }
  for (const f of files) {
    const rec = data.images[f.rel];
    if (rec) {
      if (rec.bytes === f.bytes && rec.mtimeMs === f.mtimeMs) continue;
      const h = await hash(f.abs);
      if (h === rec.hash) {
        data.images[f.rel] = { ...rec, bytes: f.bytes, mtimeMs: f.mtimeMs };
        if (rec.status === 'broken') data.images[f.rel].status = 'unlabeled'; // touched: probe it again
      } else {
        data.images[f.rel] = contentChanged(rec, h, f, now);
        changes.changed.push(f.rel);
      }
      continue;
    }
    const h = await hash(f.abs);
    const moved = gone.get(h);
    const orphan = data.orphans[h];
    if (moved) {
      gone.delete(h);
      data.images[f.rel] = { ...moved.rec, bytes: f.bytes, mtimeMs: f.mtimeMs, note: `renamed from ${moved.rel}` };
      changes.renamed.push({ from: moved.rel, to: f.rel });
    } else if (orphan) {
      const { path: was, missingSince, ...rec } = orphan;
      delete data.orphans[h];
      data.images[f.rel] = { ...rec, bytes: f.bytes, mtimeMs: f.mtimeMs, note: was === f.rel ? `back after missing since ${missingSince}` : `renamed from ${was}` };
      if (was !== f.rel) changes.renamed.push({ from: was, to: f.rel });
      else changes.added.push(f.rel);
    } else {
      data.images[f.rel] = emptyRecord(h, f.bytes, f.mtimeMs);
      changes.added.push(f.rel);
    }
  }
  for (const { rel, rec } of gone.values()) {
    changes.removed.push(rel);
    if (hasWork(rec)) data.orphans[rec.hash] = { ...rec, path: rel, missingSince: now };
  }
  return changes;
}
