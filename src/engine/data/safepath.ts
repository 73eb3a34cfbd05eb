// Paths named inside annotation files (COCO file_name, VOC list ids) are data, not trusted: a
// file_name of "../../etc/passwd" must not make the engine read outside the dataset.
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';

/** `rel` (a path.relative result) names something inside its base: not the base itself, not above it. */
function isBelow(rel: string): boolean {
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Join `rel` (forward or back slashes) onto `base`; DataError naming `source` if the result leaves `base`. */
export function resolveInside(base: string, rel: string, source: string): string {
  const norm = rel.replace(/\\/g, '/');
  if (norm === '' || path.isAbsolute(norm) || /^[A-Za-z]:/.test(norm)) {
    throw new DataError(source, `path "${rel}" must be relative to the dataset folder`);
  }
  const absBase = path.resolve(base);
  const out = path.resolve(absBase, norm);
  const relOut = path.relative(absBase, out);
  if (!isBelow(relOut)) {
    throw new DataError(source, `path "${rel}" points outside ${absBase}`);
  }
  return out;
}

/** A plain file-name-like id (VOC list entries): no separators, not "." or "..". */
export function checkPlainId(id: string, source: string): string {
  if (id === '' || id === '.' || id === '..' || /[\\/\0]/.test(id)) {
    throw new DataError(source, `image id "${id}" is not a plain file name`);
  }
  return id;
}

const realBases = new Map<string, string | null>();
function realBase(dir: string): string | null {
  let r = realBases.get(dir);
  if (r === undefined) {
    try {
      r = fs.realpathSync(dir);
    } catch {
      r = null;
    }
    realBases.set(dir, r);
  }
  return r;
}

/**
 * Refuse a file reached through a symbolic link that leaves the dataset. `bases` are the folders it may
 * live in (the dataset root and the file's own folder); each is taken by its real path, so a dataset
 * that keeps a whole folder elsewhere through a folder link (SegmentationClassAug → /shared/SBD/…) is
 * fine, while JPEGImages/x.jpg → /home/me/.ssh/id_rsa is not. A missing file passes: the reader reports it.
 */
export function checkRealInside(file: string, bases: readonly string[]): void {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return;
  }
  for (const b of bases) {
    const rb = realBase(path.resolve(b));
    if (rb !== null && isBelow(path.relative(rb, real))) return;
  }
  throw new DataError(file, `is a symbolic link to ${real}, outside the dataset (${bases.map((b) => path.resolve(b)).join(', ')}); a link may not lead out of the dataset folder`);
}
