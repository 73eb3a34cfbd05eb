// Paths named inside annotation files (COCO file_name, VOC list ids) are data, not trusted: a
// file_name of "../../etc/passwd" must not make the engine read outside the dataset.
import * as path from 'path';
import { DataError } from '../errors';

/** Join `rel` (forward or back slashes) onto `base`; DataError naming `source` if the result leaves `base`. */
export function resolveInside(base: string, rel: string, source: string): string {
  const norm = rel.replace(/\\/g, '/');
  if (norm === '' || path.isAbsolute(norm) || /^[A-Za-z]:/.test(norm)) {
    throw new DataError(source, `path "${rel}" must be relative to the dataset folder`);
  }
  const absBase = path.resolve(base);
  const out = path.resolve(absBase, norm);
  const relOut = path.relative(absBase, out);
  if (relOut === '' || relOut.startsWith('..') || path.isAbsolute(relOut)) {
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
