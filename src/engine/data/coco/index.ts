// A compact, cached index of a COCO annotation JSON, so only the first open pays for parsing it.
// instances_train2014.json is ~450 MB. Indexing takes ≈3.5× the file's size in JS heap (measured: a
// 105 MB synthetic COCO JSON of polygons indexes with --max-old-space-size=400 and fails at 300), so
// ≈1.6 GB for train2014; a heap too small for a file is refused before parsing with the flag to set,
// instead of a V8 out-of-memory crash. V8 caps one string at ~512 MB, the limit of this reader.
// The cache is two files, both keyed by the JSON's size+mtime:
//   <name>-<pathhash>.<key>.protolab-anns.jsonl   one line per image: JSON array of CompactAnn
//   <name>-<pathhash>.<key>.protolab-index.json   per image: id, file, size, class areas, byte range
// The anns file is written first and the index last (both atomically), so an index on disk always
// points at a complete anns file.
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import { DataError } from '../../errors';
import { writeFileAtomicAsync } from '../../fsutil';
import { storageError } from '../../storageError';
import { shortHash, statKey } from '../cachedir';
import { imageIdsFor, parseCocoJson, type CompactAnn } from './json';

const VERSION = 2;
/** V8's maximum string length (chars); larger JSON files cannot go through JSON.parse in one piece. */
const MAX_JSON_CHARS = (1 << 29) - 24;
/** JS heap needed to index a COCO JSON, per byte of file (3.5 measured, see the header; with margin). */
const HEAP_PER_JSON_BYTE = 4;

export interface CocoIndexEntry {
  id: string;
  cocoId: number;
  file: string;
  width: number;
  height: number;
  /** ordinal -> summed annotation `area` (non-crowd) */
  pixels: Record<number, number>;
  /** ordinal -> summed annotation `area` of crowd regions */
  crowd: Record<number, number>;
  /** byte range of this image's line in the anns file */
  off: number;
  len: number;
}

export interface CocoIndex {
  version: number;
  json: string;
  key: string;
  classNames: string[];
  catIds: number[];
  annsFile: string;
  annsSize: number;
  images: CocoIndexEntry[];
  /** What parsing repaired (parseCocoJson's warnings). */
  warnings: string[];
}

/** How many times a COCO JSON was parsed in this process (lets tests prove the cache is used). */
export const cocoIndexStats = { parses: 0 };

function cacheNames(jsonFile: string, cacheDir: string, key: string): { index: string; anns: string; prefix: string } {
  const base = path.basename(jsonFile, '.json');
  const prefix = `${base}-${shortHash(path.resolve(jsonFile), 8)}.`;
  return {
    prefix,
    index: path.join(cacheDir, `${prefix}${key}.protolab-index.json`),
    anns: path.join(cacheDir, `${prefix}${key}.protolab-anns.jsonl`),
  };
}

async function tryLoad(indexFile: string, key: string, json: string): Promise<CocoIndex | null> {
  let idx: CocoIndex;
  try {
    idx = JSON.parse(await fs.promises.readFile(indexFile, 'utf8')) as CocoIndex;
  } catch {
    return null; // absent or damaged: rebuild
  }
  if (idx.version !== VERSION || idx.key !== key || idx.json !== json || !Array.isArray(idx.images)) return null;
  try {
    if ((await fs.promises.stat(idx.annsFile)).size !== idx.annsSize) return null;
  } catch {
    return null;
  }
  return idx;
}

/** Load the cached index of `jsonFile`, building it (one full parse) when absent or stale. */
export async function loadOrBuildCocoIndex(
  jsonFile: string,
  cacheDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<CocoIndex> {
  const json = path.resolve(jsonFile);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(json);
  } catch {
    throw new DataError(json, 'annotation file not found');
  }
  const key = statKey(json);
  const names = cacheNames(json, cacheDir, key);
  const cached = await tryLoad(names.index, key, json);
  if (cached) return cached;

  if (!st.isFile()) throw new DataError(json, 'not a regular file');
  if (st.size > MAX_JSON_CHARS) {
    throw new DataError(json, `${(st.size / 2 ** 20).toFixed(0)} MB is over the ${(MAX_JSON_CHARS / 2 ** 20).toFixed(0)} MB a single JSON.parse can take`);
  }
  const heapLimit = v8.getHeapStatistics().heap_size_limit;
  if (st.size * HEAP_PER_JSON_BYTE > heapLimit) {
    const needMB = Math.ceil((st.size * HEAP_PER_JSON_BYTE) / 2 ** 20 / 1024) * 1024;
    throw new DataError(json, `indexing this ${(st.size / 2 ** 20).toFixed(0)} MB file needs about ${(st.size * HEAP_PER_JSON_BYTE / 2 ** 30).toFixed(1)} GB ` +
      `of JS heap and this process may use ${(heapLimit / 2 ** 30).toFixed(1)} GB; run once with NODE_OPTIONS=--max-old-space-size=${needMB} ` +
      '(in VS Code: the protolab.engine.maxMemoryMB setting). The index is cached, so later opens need little');
  }
  let text: string;
  try {
    text = await fs.promises.readFile(json, 'utf8');
  } catch (e) {
    throw new DataError(json, `cannot read (${(e as Error).message})`);
  }
  cocoIndexStats.parses++;
  const parsed = parseCocoJson(text, json);
  text = '';
  const ids = imageIdsFor(parsed.images);
  const total = parsed.images.length;

  // anns file: written in ~1 MB chunks to a temp file, then renamed. A failed write (disk full, read-only
  // cache folder) removes the temp file and names the cache file (StorageError).
  const tmp = `${names.anns}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fh: fs.promises.FileHandle;
  try {
    await fs.promises.mkdir(cacheDir, { recursive: true });
    fh = await fs.promises.open(tmp, 'w');
  } catch (e) {
    throw storageError(e, names.anns);
  }
  const entries: CocoIndexEntry[] = [];
  let off = 0;
  try {
    let chunk = '';
    for (let i = 0; i < total; i++) {
      const im = parsed.images[i];
      const line = JSON.stringify(im.anns) + '\n';
      const len = Buffer.byteLength(line);
      entries.push({ id: ids[i], cocoId: im.cocoId, file: im.file, width: im.width, height: im.height, pixels: im.pixels, crowd: im.crowd, off, len });
      off += len;
      chunk += line;
      if (chunk.length > 1 << 20) {
        await fh.write(chunk);
        chunk = '';
      }
      if (onProgress && (i % 1000 === 999 || i === total - 1)) onProgress(i + 1, total);
    }
    if (chunk) await fh.write(chunk);
    await fh.close();
    await fs.promises.rename(tmp, names.anns);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw storageError(e, names.anns);
  }
  const idx: CocoIndex = {
    version: VERSION, json, key, classNames: parsed.classNames, catIds: parsed.catIds,
    annsFile: names.anns, annsSize: off, images: entries, warnings: parsed.warnings,
  };
  await writeFileAtomicAsync(names.index, JSON.stringify(idx));
  // Drop caches of older versions of the same JSON (same prefix, other key).
  for (const f of await fs.promises.readdir(cacheDir)) {
    if (f.startsWith(names.prefix) && !f.startsWith(`${names.prefix}${key}.`) && /\.protolab-(index\.json|anns\.jsonl)$/.test(f)) {
      await fs.promises.rm(path.join(cacheDir, f), { force: true });
    }
  }
  if (total === 0 && onProgress) onProgress(0, 0);
  return idx;
}

/** The annotations of one image, read from its byte range of the anns file (one small read). */
export async function readImageAnns(idx: CocoIndex, e: CocoIndexEntry): Promise<CompactAnn[]> {
  const buf = Buffer.alloc(e.len);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(idx.annsFile, 'r');
  } catch (err) {
    throw new DataError(idx.annsFile, `annotation cache of ${idx.json} is missing (${(err as Error).message}); reopen the dataset to rebuild it`);
  }
  try {
    const { bytesRead } = await fh.read(buf, 0, e.len, e.off);
    if (bytesRead !== e.len) throw new DataError(idx.annsFile, `truncated annotation cache; delete it to rebuild`);
  } finally {
    await fh.close();
  }
  try {
    return JSON.parse(buf.toString('utf8')) as CompactAnn[];
  } catch {
    throw new DataError(idx.annsFile, `damaged annotation cache at byte ${e.off}; delete it to rebuild`);
  }
}
