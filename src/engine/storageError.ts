// A write that cannot succeed where it was asked to happen: the disk is full, the folder is read-only,
// permission is denied. It names the file and the reason, and extends DataError so every command and the
// engine process report it as they report a bad input file ("error: FILE: problem", kind 'data') instead
// of as an internal error. Batches that skip a bad input and go on (evaluate, masks) must NOT skip this
// one: the next write would fail the same way, so they stop (see `isStorageError`).
import { DataError } from './errors';
import { describeFsError } from './fsProblem';

export class StorageError extends DataError {
  constructor(file: string, readonly code: string | undefined, problem: string) {
    super(file, problem);
    this.name = 'StorageError';
  }
}

/** Wrap a failed write of `file` (an fs error) as a StorageError; anything else is returned as it is. */
export function storageError(e: unknown, file: string, what = 'cannot write'): unknown {
  if (e instanceof DataError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return e;
  return new StorageError(file, code, `${what}: ${describeFsError(e)}`);
}

export function isStorageError(e: unknown): e is StorageError {
  return e instanceof StorageError;
}
