// A lock file for a folder several processes may write at once (a training run: two VS Code windows, or a
// CLI and the extension, resuming the same run would interleave checkpoints, latest.json and metrics).
// Created with O_EXCL ('wx'), so exactly one process makes it; it holds {pid, host, since, purpose}.
// A lock whose process is gone (same host, pid not alive: a crash, a SIGKILL) is stale and taken over —
// by renaming it aside first, an atomic step only one taker can win. A lock from another host cannot be
// checked: it is honoured, and the message says which file to delete if that process is gone.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError } from './errors';
import { storageError } from './storageError';

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  purpose: string;
}

export interface FileLock {
  readonly file: string;
  release(): void;
}

/** A file lock is held by another live process. */
export class LockedError extends DataError {
  constructor(file: string, readonly holder: LockHolder | undefined, what: string) {
    super(file, holder
      ? `${what} is in use: ${holder.purpose} by process ${holder.pid} on ${holder.host} since ${holder.since}` +
        (holder.pid === process.pid && holder.host === os.hostname() ? ' (this very process)' : '') +
        `; wait for it to finish or stop it (if no such process runs any more, delete ${file})`
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

function readHolder(file: string): LockHolder | undefined | 'gone' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined; // created, not yet written (or torn by a crash)
  }
}

/** Take the lock `file` (e.g. RUNDIR/.lock) for `purpose`, or throw LockedError naming its holder. */
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
      return { file, release: () => releaseIfMine(file, me) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder === 'gone') continue; // released meanwhile: try again
    let stale: boolean;
    if (holder === undefined) {
      // Unreadable: a holder between open and write (fresh), or one that crashed there (old).
      const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      stale = age > 10_000;
      if (!stale) throw new LockedError(file, undefined, what);
    } else {
      stale = holder.host === os.hostname() && !alive(holder.pid);
      if (!stale) throw new LockedError(file, holder, what);
    }
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
    const same = moved === holder || (typeof moved === 'object' && typeof holder === 'object' && moved.pid === holder.pid && moved.since === holder.since);
    if (!same) {
      try {
        fs.linkSync(aside, file);
      } catch {
        /* someone holds it already */
      }
      fs.rmSync(aside, { force: true });
      throw new LockedError(file, typeof moved === 'object' ? moved : undefined, what);
    }
    fs.rmSync(aside, { force: true });
  }
  throw new LockedError(file, undefined, what);
}

function releaseIfMine(file: string, me: LockHolder): void {
  const h = readHolder(file);
  if (h && h !== 'gone' && h.pid === me.pid && h.host === me.host && h.since === me.since) fs.rmSync(file, { force: true });
}
