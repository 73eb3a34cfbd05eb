// A write-fault injector for tests only: while active it wraps node's `fs` (sync, promises and
// FileHandle writes) so that writes under one folder fail the way a full disk (ENOSPC: the bytes that
// still fit are written, then the write fails) or a read-only mount (EROFS: nothing may be created,
// written or renamed there) fails. The product has no hook for it: the engine's own fs calls go through
// the patched module functions, so what is tested is exactly the code that runs for users.
import * as fs from 'fs';
import * as path from 'path';

export interface Fault {
  code: 'ENOSPC' | 'EROFS';
  /** the folder whose files fail */
  under: string;
  /** only files whose path matches (default: every file under `under`) */
  match?: RegExp;
  /** ENOSPC: bytes that still fit before the disk is full (default 0) */
  room?: number;
}

export interface FaultReport {
  /** failed calls, as "syscall path" */
  hits: string[];
}

const ERRNO: Record<Fault['code'], number> = { ENOSPC: -28, EROFS: -30 };

function errnoError(code: Fault['code'], syscall: string, p: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'read-only file system';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${p}'`), { code, errno: ERRNO[code], syscall, path: p });
}

const asPath = (p: unknown): string | undefined => (typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString() : p instanceof URL ? p.pathname : undefined);
const writes = (flags: unknown): boolean => typeof flags === 'string' && /[wa+]/.test(flags);
const bytesOf = (data: unknown, enc?: unknown): Buffer =>
  typeof data === 'string' ? Buffer.from(data, (typeof enc === 'string' ? enc : 'utf8') as BufferEncoding)
    : Buffer.from((data as ArrayBufferView).buffer, (data as ArrayBufferView).byteOffset, (data as ArrayBufferView).byteLength);

let active = false;

/** Run `fn` with the fault in force; the fs functions are restored afterwards, whatever happens. */
export async function withFault<T>(fault: Fault, fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; report: FaultReport }> {
  if (active) throw new Error('withFault is not re-entrant');
  active = true;
  const under = path.resolve(fault.under);
  const report: FaultReport = { hits: [] };
  let room = fault.room ?? 0;
  const inScope = (p: unknown): string | undefined => {
    const s = asPath(p);
    if (s === undefined) return undefined;
    const abs = path.resolve(s);
    return (abs === under || abs.startsWith(under + path.sep)) && (!fault.match || fault.match.test(abs)) ? abs : undefined;
  };
  const fail = (syscall: string, p: string): never => {
    report.hits.push(`${syscall} ${p}`);
    throw errnoError(fault.code, syscall, p);
  };
  /** ENOSPC: how many of n bytes fit; throws after a partial write is done by the caller. */
  const take = (n: number): number => {
    const k = Math.min(n, room);
    room -= k;
    return k;
  };
  const trackedFds = new Map<number, string>();

  // The module object itself (an `import * as fs` binding is a read-only view of it; the engine's own
  // bindings read through to it at call time, so patching it reaches every caller).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const f = require('fs') as Record<string, any>;
  const pr = f.promises as Record<string, any>;
  const probe = await fs.promises.open(__filename, 'r');
  const fhProto = Object.getPrototypeOf(probe) as Record<string, any>;
  await probe.close();
  const saved = {
    writeFileSync: f.writeFileSync, appendFileSync: f.appendFileSync, openSync: f.openSync, writeSync: f.writeSync, closeSync: f.closeSync,
    mkdirSync: f.mkdirSync, renameSync: f.renameSync, linkSync: f.linkSync,
    pWriteFile: pr.writeFile, pAppendFile: pr.appendFile, pOpen: pr.open, pMkdir: pr.mkdir, pRename: pr.rename, fhWrite: fhProto.write, fhClose: fhProto.close,
  };

  f.writeFileSync = (file: unknown, data: unknown, opts?: unknown) => {
    const p = inScope(file);
    if (p === undefined) return saved.writeFileSync(file, data, opts);
    if (fault.code === 'EROFS') fail('open', p);
    const b = bytesOf(data, typeof opts === 'object' && opts ? (opts as { encoding?: unknown }).encoding : opts);
    const k = take(b.length);
    saved.writeFileSync(file, b.subarray(0, k));
    if (k < b.length) fail('write', p);
  };
  f.appendFileSync = (file: unknown, data: unknown, opts?: unknown) => {
    const p = inScope(file);
    if (p === undefined) return saved.appendFileSync(file, data, opts);
    if (fault.code === 'EROFS') fail('open', p);
    const b = bytesOf(data);
    const k = take(b.length);
    saved.appendFileSync(file, b.subarray(0, k));
    if (k < b.length) fail('write', p);
  };
  f.openSync = (file: unknown, flags?: unknown, mode?: unknown) => {
    const p = inScope(file);
    if (p !== undefined && writes(flags ?? 'r')) {
      if (fault.code === 'EROFS') fail('open', p);
      const fd = saved.openSync(file, flags, mode);
      trackedFds.set(fd, p);
      return fd;
    }
    return saved.openSync(file, flags, mode);
  };
  f.writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    const p = trackedFds.get(fd);
    if (p === undefined) return saved.writeSync(fd, data, ...rest);
    const b = typeof data === 'string' ? Buffer.from(data) : bytesOf(data);
    const k = take(b.length);
    if (k > 0) saved.writeSync(fd, b.subarray(0, k));
    if (k < b.length) fail('write', p);
    return k;
  };
  f.closeSync = (fd: number) => {
    trackedFds.delete(fd);
    return saved.closeSync(fd);
  };
  f.mkdirSync = (dir: unknown, opts?: unknown) => {
    const p = inScope(dir);
    if (p !== undefined && fault.code === 'EROFS' && !fs.existsSync(p)) fail('mkdir', p);
    return saved.mkdirSync(dir, opts);
  };
  f.renameSync = (from: unknown, to: unknown) => {
    const p = inScope(to);
    if (p !== undefined && fault.code === 'EROFS') fail('rename', p);
    return saved.renameSync(from, to);
  };
  f.linkSync = (from: unknown, to: unknown) => {
    const p = inScope(to);
    if (p !== undefined && fault.code === 'EROFS') fail('link', p);
    return saved.linkSync(from, to);
  };
  pr.writeFile = async (file: unknown, data: unknown, opts?: unknown) => {
    const p = inScope(file);
    if (p === undefined) return saved.pWriteFile(file, data, opts);
    if (fault.code === 'EROFS') fail('open', p);
    const b = bytesOf(data);
    const k = take(b.length);
    await saved.pWriteFile(file, b.subarray(0, k));
    if (k < b.length) fail('write', p);
  };
  pr.appendFile = async (file: unknown, data: unknown, opts?: unknown) => {
    const p = inScope(file);
    if (p === undefined) return saved.pAppendFile(file, data, opts);
    if (fault.code === 'EROFS') fail('open', p);
    const b = bytesOf(data);
    const k = take(b.length);
    await saved.pAppendFile(file, b.subarray(0, k));
    if (k < b.length) fail('write', p);
  };
  pr.open = async (file: unknown, flags?: unknown, mode?: unknown) => {
    const p = inScope(file);
    if (p !== undefined && writes(flags ?? 'r') && fault.code === 'EROFS') fail('open', p);
    const h = await saved.pOpen(file, flags, mode);
    if (p !== undefined && writes(flags ?? 'r')) trackedFds.set(h.fd, p);
    return h;
  };
  pr.mkdir = async (dir: unknown, opts?: unknown) => {
    const p = inScope(dir);
    if (p !== undefined && fault.code === 'EROFS' && !fs.existsSync(p)) fail('mkdir', p);
    return saved.pMkdir(dir, opts);
  };
  pr.rename = async (from: unknown, to: unknown) => {
    const p = inScope(to);
    if (p !== undefined && fault.code === 'EROFS') fail('rename', p);
    return saved.pRename(from, to);
  };
  fhProto.write = async function (this: { fd: number }, data: unknown, ...rest: unknown[]) {
    const p = trackedFds.get(this.fd);
    if (p === undefined) return saved.fhWrite.call(this, data, ...rest);
    const b = typeof data === 'string' ? Buffer.from(data) : bytesOf(data);
    const k = take(b.length);
    if (k > 0) await saved.fhWrite.call(this, b.subarray(0, k));
    if (k < b.length) fail('write', p);
    return { bytesWritten: k, buffer: data };
  };
  fhProto.close = async function (this: { fd: number }) {
    trackedFds.delete(this.fd);
    return saved.fhClose.call(this);
  };

  try {
    return { value: await fn(), report };
  } catch (error) {
    return { error, report };
  } finally {
    Object.assign(f, {
      writeFileSync: saved.writeFileSync, appendFileSync: saved.appendFileSync, openSync: saved.openSync, writeSync: saved.writeSync,
      closeSync: saved.closeSync, mkdirSync: saved.mkdirSync, renameSync: saved.renameSync, linkSync: saved.linkSync,
    });
    Object.assign(pr, { writeFile: saved.pWriteFile, appendFile: saved.pAppendFile, open: saved.pOpen, mkdir: saved.pMkdir, rename: saved.pRename });
    fhProto.write = saved.fhWrite;
    fhProto.close = saved.fhClose;
    active = false;
  }
}
