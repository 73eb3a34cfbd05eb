// The engine's one lock file, for a folder several processes may write at once: a training run (two
// VS Code windows, or a CLI and the extension, resuming the same run would interleave checkpoints,
// latest.json and metrics) and a labeling folder (two processes saving one state.json would each
// overwrite the other's work: every save is atomic, but the last one wins).
//
// Created with O_EXCL ('wx'), so exactly one process makes it; it holds {pid, host, since, purpose}, and
// its holder refreshes its mtime every HEARTBEAT_MS while it holds it (the heartbeat).
//
// The takeover rule: a live holder is never taken over; a dead or stale one is.
//   - holder on this host: alive is its pid (a crash or SIGKILL leaves the file behind with a dead pid).
//     A live pid is never taken over, however late its heartbeat (a long synchronous step may hold the
//     event loop that beats it).
//   - holder on another host (a shared network folder, a cluster filesystem): its pid cannot be
//     checked, so its heartbeat is the test: stale after STALE_MS without one.
//   - a file that cannot be read (created, not yet written; or torn by a crash there): stale after
//     UNREADABLE_MS, as the holder writes it right after creating it.
// A stale lock is taken over by renaming it aside first, an atomic step only one taker can win; a taker
// that moved a fresh lock aside (another taker was quicker) puts it back and yields. A refusal names
// the holder, and which file to delete if that process is gone.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError } from './errors';
import { storageError } from './storageError';

export const HEARTBEAT_MS = 30_000;
/** A holder on another host without a heartbeat for this long is stale. */
export const STALE_MS = 5 * 60_000;
/** An unreadable lock file this old is one whose writer crashed between creating and writing it. */
const UNREADABLE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  purpose: string;
}

export interface FileLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Stops the heartbeat and removes the file if it is still this holder's. Idempotent. */
  release(): void;
}

/** A file lock is held by another live process. */
export class LockedError extends DataError {
  constructor(file: string, readonly holder: LockHolder | undefined, what: string) {
    super(file, holder
      ? `${what} is in use by ${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` +
        (holder.pid === process.pid && holder.host === os.hostname() ? ' (this very process)' : '') +
        `. Close it there or wait for it to finish; if that process is gone, delete ${file}`
      : `${what} is in use (its lock file is being written by another process); try again in a moment`);
    this.name = 'LockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, belongs to someone else
  }
}

interface Found {
  /** undefined: the file is there but cannot be read as a holder */
  holder?: LockHolder;
  mtimeMs: number;
}

function readHolder(file: string): Found | 'gone' {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  try {
    // Also read: the labeling lock's former field names (tool, startedAt).
    const h = JSON.parse(text) as Partial<LockHolder> & { tool?: string; startedAt?: string };
    if (!Number.isInteger(h.pid) || typeof h.host !== 'string') return { mtimeMs };
    return { holder: { pid: h.pid!, host: h.host, since: String(h.since ?? h.startedAt ?? '?'), purpose: String(h.purpose ?? h.tool ?? 'another process') }, mtimeMs };
  } catch {
    return { mtimeMs }; // created, not yet written (or torn by a crash)
  }
}

/** Why an existing lock is stale, or undefined when its holder may still be alive (the takeover rule). */
export function staleReason(found: Found, now = Date.now()): string | undefined {
  const age = now - found.mtimeMs;
  const h = found.holder;
  if (!h) return age > UNREADABLE_MS ? `unreadable for ${Math.round(age / 1000)} s` : undefined;
  if (h.host === os.hostname()) return alive(h.pid) ? undefined : `process ${h.pid} on this host is gone`;
  return age > STALE_MS ? `no heartbeat from ${h.host} for ${Math.round(age / 1000)} s` : undefined;
}

/** Take the lock `file` (e.g. RUNDIR/.lock) for `purpose`, or throw LockedError naming its holder.
 *  `what` names what the lock guards in the message (default: the file's folder). */
export function acquireLock(file: string, purpose: string, what = path.dirname(file)): FileLock {
  try {
    return tryAcquire(file, purpose, what);
  } catch (e) {
    // A folder that cannot take the lock file (read-only, full) says so, naming it.
    throw storageError(e, file, 'cannot create the lock file');
  }
}

function tryAcquire(file: string, purpose: string, what: string): FileLock {
  const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), purpose };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, JSON.stringify(me));
      } finally {
        fs.closeSync(fd);
      }
      return held(file, me);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const found = readHolder(file);
    if (found === 'gone') continue; // released meanwhile: try again
    if (!staleReason(found)) throw new LockedError(file, found.holder, what);
    const aside = `${file}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      fs.renameSync(file, aside); // only one taker wins this
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      continue;
    }
    // Two takers may both have judged the old lock stale; the slower one may just have moved the
    // faster one's fresh lock aside. Then it puts it back (link fails if a third made one) and yields.
    const moved = readHolder(aside);
    const movedHolder = moved === 'gone' ? undefined : moved.holder;
    const same = movedHolder === found.holder || (movedHolder !== undefined && found.holder !== undefined && movedHolder.pid === found.holder.pid && movedHolder.since === found.holder.since);
    if (!same) {
      try {
        fs.linkSync(aside, file);
      } catch {
        /* someone holds it already */
      }
      fs.rmSync(aside, { force: true });
      throw new LockedError(file, movedHolder, what);
    }
    fs.rmSync(aside, { force: true });
  }
  throw new LockedError(file, undefined, what);
}

function held(file: string, me: LockHolder): FileLock {
  const beat = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
    } catch {
      // removed under us: the next write still works; another process may take the folder
    }
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return {
    file,
    holder: me,
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const h = readHolder(file);
      if (h !== 'gone' && h.holder && h.holder.pid === me.pid && h.holder.host === me.host && h.holder.since === me.since) fs.rmSync(file, { force: true });
    },
  };
}
