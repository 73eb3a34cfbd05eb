// One writer per labeling folder. Two processes saving one state.json would each overwrite the other's
// work (every save is atomic, but the last one wins), so the service takes `<state dir>/lock` first:
// a file created exclusively (O_EXCL) holding { pid, host, tool, startedAt }. A lock is stale, and is
// taken over, when its holder is on this host and its pid is gone, or when its heartbeat (the file's
// mtime, refreshed every HEARTBEAT_MS while held) is older than STALE_MS — the only test possible for a
// holder on another host (a shared network folder). Otherwise opening fails with a message naming the
// holder. Two processes that find the same stale lock at the same instant could both take it over; the
// window is one unlink + create, accepted here.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError } from '../errors';

export const LOCK_FILE = 'lock';
export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 5 * 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  tool: string;
  startedAt: string;
}

export interface FolderLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readHolder(file: string): { holder?: LockHolder; mtimeMs: number; text: string } | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const mtimeMs = fs.statSync(file).mtimeMs;
    try {
      return { holder: JSON.parse(text) as LockHolder, mtimeMs, text };
    } catch {
      return { mtimeMs, text }; // torn or foreign: judged by age alone
    }
  } catch {
    return undefined;
  }
}

/** Why an existing lock is stale, or undefined when its holder may still be alive. */
export function staleReason(holder: LockHolder | undefined, mtimeMs: number, now = Date.now()): string | undefined {
  if (holder && holder.host === os.hostname() && Number.isInteger(holder.pid) && !pidAlive(holder.pid)) return `process ${holder.pid} on this host is gone`;
  if (now - mtimeMs > STALE_MS) return `no heartbeat for ${Math.round((now - mtimeMs) / 1000)} s`;
  return undefined;
}

/** Take the lock of a state folder or throw a DataError naming who holds it. */
export function acquireLock(stateDir: string, tool: string): FolderLock {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), tool, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, JSON.stringify(holder) + '\n');
      } finally {
        fs.closeSync(fd);
      }
      const beat = setInterval(() => {
        const now = new Date();
        try {
          fs.utimesSync(file, now, now);
        } catch {
          // removed under us: the next save still works; another process may take the folder
        }
      }, HEARTBEAT_MS);
      beat.unref();
      let released = false;
      return {
        file,
        holder,
        release() {
          if (released) return;
          released = true;
          clearInterval(beat);
          const cur = readHolder(file);
          if (cur?.holder && cur.holder.pid === holder.pid && cur.holder.host === holder.host && cur.holder.startedAt === holder.startedAt) fs.rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataError(file, `cannot create the lock (${(e as Error).message})`);
    }
    const cur = readHolder(file);
    if (!cur) continue; // released between our create and our read: try again
    const why = staleReason(cur.holder, cur.mtimeMs);
    if (!why) {
      const h = cur.holder;
      const who = h ? `${h.tool} (pid ${h.pid} on ${h.host}, since ${h.startedAt})` : 'an unknown process';
      throw new DataError(file, `this folder's labeling state is in use by ${who}. Close it there first; if that process is gone, delete ${file}`);
    }
    // take over a stale lock: remove it only if it is still the one we judged
    const again = readHolder(file);
    if (again && again.text === cur.text) fs.rmSync(file, { force: true });
  }
  throw new DataError(file, 'could not take the lock after 3 attempts (another process keeps taking it)');
}
