// What a failed file-system call means to the user, from its errno code: "not found", "permission
// denied", "file name too long for the file system", "the disk is full" … instead of a bare code.
// Readers use it to name the problem in a DataError; fsutil uses it for write failures.

export type FsError = NodeJS.ErrnoException;

const MEANING: Record<string, string> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the file name is too long for the file system (255 bytes per name on most)',
  ELOOP: 'too many symbolic links (a link loop?)',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this system',
  ENOSPC: 'no space left on the device (the disk is full)',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EIO: 'input/output error (a failing disk or network mount?)',
  EBUSY: 'the file is busy (locked by another program?)',
  EILSEQ: 'the file name is not valid in this file system\'s encoding',
};

/** "<meaning> (<CODE>)" for a Node file-system error; the plain message for anything else. */
export function describeFsError(e: unknown): string {
  const err = e as FsError;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code && MEANING[code]) return `${MEANING[code]} (${code})`;
  return code ? `${(err as Error).message}` : String((e as Error)?.message ?? e);
}

/** True for a name that went through a lossy UTF-8 decode (invalid bytes became U+FFFD). */
export function hasReplacementChar(s: string): boolean {
  return s.includes('\uFFFD');
}
