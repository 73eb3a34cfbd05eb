// Where dataset readers keep what they compute once (VOC class-presence index, COCO annotation index).
// Next to the data by default, so a dataset moved with its cache keeps it; a read-only dataset (a shared
// mount, a Debian package tree) falls back to the OS temp folder.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError } from '../errors';

function writable(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    // access(W_OK) is not enough on some mounts (read-only bind mounts report W_OK for root): probe.
    const probe = path.join(dir, `.probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** The cache folder to use. An explicit `preferred` folder must be writable (the user asked for it);
 *  otherwise `defaultDir` if writable, else `<tmp>/protolab-cache`. */
export function resolveCacheDir(preferred: string | undefined, defaultDir: string): string {
  if (preferred !== undefined) {
    const dir = path.resolve(preferred);
    if (!writable(dir)) throw new DataError(dir, 'cache folder is not writable');
    return dir;
  }
  if (writable(defaultDir)) return defaultDir;
  const fallback = path.join(os.tmpdir(), 'protolab-cache');
  if (!writable(fallback)) throw new DataError(fallback, `neither ${defaultDir} nor this fallback cache folder is writable`);
  return fallback;
}

/** The engine's own cache (ONNX models built from weights, …), not tied to a dataset: the folder the user
 *  set (--cache-dir, PROTOLAB_CACHE_DIR), else $XDG_CACHE_HOME/protolab (~/.cache/protolab), else the
 *  OS temp fallback. */
export function engineCacheDir(preferred?: string): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return resolveCacheDir(preferred, path.join(base, 'protolab'));
}

/** Short stable hash (hex) for cache keys and fingerprints. */
export function shortHash(text: string, chars = 12): string {
  return crypto.createHash('sha1').update(text).digest('hex').slice(0, chars);
}

/** "size-mtime" of a file or folder, or "missing"; a changed file changes its key. */
export function statKey(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.size}-${Math.floor(st.mtimeMs)}`;
  } catch {
    return 'missing';
  }
}
