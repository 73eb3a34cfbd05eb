// The safetensors format (huggingface/safetensors): [u64 LE header length N][N bytes JSON header][data].
// Header: { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } },
// offsets relative to the start of the data section. Users bring torchvision/timm VGG-16 weights in
// this format, and ProtoLab writes its own checkpoints in it (tensors + JSON config in __metadata__).
//
// The reader only parses the header up front and reads each tensor's byte range on demand, so a
// 528 MB timm VGG-16 file (mostly classifier weights we ignore) costs only the 59 MB of conv weights.
import * as fs from 'fs';
import * as os from 'os';
import { DataError } from '../errors';
import { writeFileAtomic } from '../fsutil';

const BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};
/** Header JSON larger than this is treated as corrupt (real headers are kilobytes). */
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

export interface TensorData {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>> | undefined,
    private readonly dataStart: number,
  ) {}

  /** Parse and validate the header; throws DataError naming the file on any inconsistency. */
  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new DataError(file, `cannot open safetensors file (${(e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw new DataError(file, `not a safetensors file: ${size} bytes, shorter than the 8-byte header length`);
      const lenBuf = Buffer.alloc(8);
      fs.readSync(fd, lenBuf, 0, 8, 0);
      const n = lenBuf.readBigUInt64LE(0);
      if (n === 0n || n > BigInt(Math.min(MAX_HEADER, size - 8))) {
        throw new DataError(file, `safetensors header length ${n} does not fit in the file (${size} bytes)`);
      }
      const headerLen = Number(n);
      const hb = Buffer.alloc(headerLen);
      fs.readSync(fd, hb, 0, headerLen, 8);
      let header: unknown;
      try {
        header = JSON.parse(hb.toString('utf8'));
      } catch (e) {
        throw new DataError(file, `safetensors header is not valid JSON (${(e as Error).message})`);
      }
      if (!header || typeof header !== 'object' || Array.isArray(header)) {
        throw new DataError(file, 'safetensors header is not a JSON object');
      }
      const dataStart = 8 + headerLen;
      const dataLen = size - dataStart;
      const entries = new Map<string, SafetensorsEntry>();
      let metadata: Record<string, string> | undefined;
      for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
        if (name === '__metadata__') {
          if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new DataError(file, '__metadata__ is not an object');
          metadata = {};
          for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
            if (typeof v !== 'string') throw new DataError(file, `__metadata__.${k} is not a string`);
            metadata[k] = v;
          }
          continue;
        }
        entries.set(name, parseEntry(file, name, raw, dataLen));
      }
      checkLayout(file, entries, dataLen);
      return new SafetensorsFile(file, entries, metadata, dataStart);
    } finally {
      fs.closeSync(fd);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Read one tensor; F32/F16/BF16 → float32, I32 → int32. Other dtypes are refused with a DataError. */
  read(name: string): TensorData {
    const e = this.entries.get(name);
    if (!e) throw new DataError(this.file, `no tensor named '${name}'`);
    const bytes = new Uint8Array(e.end - e.begin); // fresh buffer: offset 0, so typed views are aligned
    const fd = fs.openSync(this.file, 'r');
    try {
      let got = 0;
      while (got < bytes.length) {
        const k = fs.readSync(fd, bytes, got, bytes.length - got, this.dataStart + e.begin + got);
        if (k <= 0) throw new DataError(this.file, `tensor '${name}' is truncated`);
        got += k;
      }
    } finally {
      fs.closeSync(fd);
    }
    const count = bytes.length / BYTES[e.dtype];
    const dv = new DataView(bytes.buffer);
    switch (e.dtype) {
      case 'F32': {
        if (os.endianness() === 'LE') return { shape: e.shape, dtype: 'float32', data: new Float32Array(bytes.buffer) };
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
        return { shape: e.shape, dtype: 'float32', data: out };
      }
      case 'F16': {
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
        return { shape: e.shape, dtype: 'float32', data: out };
      }
      case 'BF16': {
        // bfloat16 is the top half of a float32's bits.
        const out = new Float32Array(count);
        const u = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16;
        return { shape: e.shape, dtype: 'float32', data: out };
      }
      case 'I32': {
        const out = new Int32Array(count);
        for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
        return { shape: e.shape, dtype: 'int32', data: out };
      }
      default:
        throw new DataError(this.file, `tensor '${name}' has dtype ${e.dtype}; only F32, F16, BF16 and I32 are supported`);
    }
  }
}

function parseEntry(file: string, name: string, raw: unknown, dataLen: number): SafetensorsEntry {
  const bad = (what: string) => new DataError(file, `safetensors entry '${name}': ${what}`);
  if (!raw || typeof raw !== 'object') throw bad('is not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.dtype !== 'string' || !(r.dtype in BYTES)) throw bad(`unknown dtype ${JSON.stringify(r.dtype)}`);
  if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape is not a list of non-negative integers');
  const off = r.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw bad('data_offsets is not [begin, end]');
  }
  const [begin, end] = off as [number, number];
  if (begin > end || end > dataLen) throw bad(`data_offsets [${begin}, ${end}] fall outside the ${dataLen}-byte data section`);
  const shape = r.shape as number[];
  const want = shape.reduce((a, b) => a * b, 1) * BYTES[r.dtype];
  if (end - begin !== want) throw bad(`data_offsets span ${end - begin} bytes, but ${r.dtype}${JSON.stringify(shape)} needs ${want}`);
  return { dtype: r.dtype, shape, begin, end };
}

/**
 * The format requires the tensors to tile the data section exactly: no two share a byte, no byte is left
 * unindexed (the reference implementation refuses both). A header that lies about its offsets would
 * otherwise hand one tensor another's bytes, or hide what the rest of the file holds.
 */
function checkLayout(file: string, entries: ReadonlyMap<string, SafetensorsEntry>, dataLen: number): void {
  const byStart = [...entries].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  let prev = '';
  for (const [name, e] of byStart) {
    if (e.begin < at) throw new DataError(file, `safetensors entries '${prev}' and '${name}' overlap (bytes ${e.begin}–${Math.min(at, e.end)}): the header's data_offsets are corrupt`);
    if (e.begin > at) throw new DataError(file, `safetensors data bytes ${at}–${e.begin} belong to no tensor (before '${name}'): the header's data_offsets are corrupt`);
    at = e.end;
    prev = name;
  }
  if (at !== dataLen) throw new DataError(file, `safetensors data section has ${dataLen - at} byte(s) after its last tensor: the file was cut or appended to, or the header is corrupt`);
}

/** IEEE 754 binary16 → number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24; // subnormal
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/** Serialise tensors (F32 / I32, little-endian) and string metadata into safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`encodeSafetensors: '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const nbytes = t.data.length * 4;
    header[name] = { dtype: t.data instanceof Float32Array ? 'F32' : 'I32', shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // The format pads the header with spaces so the data section starts 8-byte aligned.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const name of names) {
    const d = tensors[name].data;
    // Copy raw bytes where the host is little-endian: bit-exact (NaN payloads included).
    if (os.endianness() === 'LE') {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
      p += d.byteLength;
    } else if (d instanceof Float32Array) for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i], true);
    else for (let i = 0; i < d.length; i++, p += 4) dv.setInt32(p, d[i], true);
  }
  return out;
}

/** Write a safetensors file atomically (temp file + rename). */
export function writeSafetensors(file: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
