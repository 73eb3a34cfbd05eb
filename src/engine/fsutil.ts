// Atomic writes (DESIGN.md: labels, checkpoints and reports go to a temp file, then rename). The temp
// name is unique to its writer (host, pid, random) because several processes, on several machines of a
// cluster, may write the same file of a shared folder at once (the feature cache): each renames its own
// complete temp file, so the file is always one writer's whole version. A write that fails (disk full,
// read-only folder, permission) removes its temp file and throws a StorageError naming the file and the
// reason: nothing half-written is left under any name, and the message says what to do.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { storageError } from './storageError';

function tempName(file: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
  return path.join(path.dirname(file), `.${path.basename(file)}.${host}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw storageError(e, file);
  }
}

export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(file);
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw storageError(e, file);
  }
}

/** A file written line by line (episode records, …) that appears under its name only when complete:
 *  lines go to a temp file; commit() renames it into place, abort() removes it. */
export interface AtomicLineFile {
  readonly file: string;
  write(line: string): void;
  commit(): void;
  abort(): void;
}

export function openAtomicLineFile(file: string): AtomicLineFile {
  const tmp = tempName(file);
  let fd: number | undefined;
  const fail = (e: unknown): never => {
    if (fd !== undefined) fs.closeSync(fd);
    fd = undefined;
    fs.rmSync(tmp, { force: true });
    throw storageError(e, file);
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    fail(e);
  }
  return {
    file,
    write(line: string) {
      if (fd === undefined) throw new Error(`${file}: written after commit or abort`);
      try {
        fs.writeSync(fd, line);
      } catch (e) {
        fail(e);
      }
    },
    commit() {
      if (fd === undefined) return;
      try {
        fs.closeSync(fd);
        fd = undefined;
        fs.renameSync(tmp, file);
      } catch (e) {
        fail(e);
      }
    },
    abort() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      fs.rmSync(tmp, { force: true });
    },
  };
}

/** Append one line (a metrics row) to a log file; a failure is a StorageError naming it. A torn last
 *  line (a crash mid-append) is the readers' to drop. */
export function appendLine(file: string, line: string): void {
  try {
    fs.appendFileSync(file, line);
  } catch (e) {
    throw storageError(e, file);
  }
}
