// Backbone features keyed by (image content hash, input size, backbone id, weights hash): an evaluation
// of 5 runs × 1000 episodes computes each image's features once. Entries live in JS memory as plain
// Float32Arrays (not tensors: the wasm heap is small and tensors would have to be disposed by whoever
// evicts), bounded by a byte budget with least-recently-used eviction, and optionally on disk.
//
// The disk folder may be shared by many processes at once (the shards of an evaluation on a cluster's
// shared filesystem, shard.ts): a file is written under a name unique to its writer (host, pid, random)
// and renamed into place, so a reader sees the old file, the new file or none, never half of one; two
// writers of one key write the same features and the last rename wins. A file that is nevertheless
// damaged (a copy cut short, a disk error, a foreign file) fails the length or CRC-32 check: it counts as
// a miss, is reported through onDamaged and stats.damaged, and is replaced by the recomputed features.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { crc32 } from 'zlib';
import { writeFileAtomicAsync } from '../fsutil';
import { LruMap } from './lruMap';

export interface FeatureEntry {
  /** [h, w, c] */
  shape: [number, number, number];
  data: Float32Array;
}

export interface FeatureKeyParts {
  imageHash: string;
  size: number;
  backbone: string;
  weightsHash: string;
  /** Variant of the input (e.g. 'flip'); '' for the plain image. */
  variant?: string;
}

export function featureKey(p: FeatureKeyParts): string {
  return createHash('sha256')
    .update([p.imageHash, p.size, p.backbone, p.weightsHash, p.variant ?? ''].join('|'))
    .digest('hex')
    .slice(0, 32);
}

const hashMemo = new Map<string, { stamp: string; hash: string }>();

/** sha256 of a file's bytes (first 16 hex), remembered per (path, size, mtime) so it is read once. */
export async function fileContentHash(file: string): Promise<string> {
  const st = await fs.promises.stat(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const m = hashMemo.get(file);
  if (m && m.stamp === stamp) return m.hash;
  const hash = createHash('sha256').update(await fs.promises.readFile(file)).digest('hex').slice(0, 16);
  hashMemo.set(file, { stamp, hash });
  return hash;
}

// File layout: 'PLF2' | h | w | c | crc32(data) (uint32 LE each) | h·w·c float32 LE. ('PLF1' files, without
// the checksum, are read as misses and rewritten.)
const MAGIC = 0x32464c50; // 'PLF2' little-endian
const HEADER = 20;

export interface FeatureCacheStats {
  hits: number;
  diskHits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
  /** Damaged files found on disk (treated as misses and rewritten). */
  damaged: number;
}

export interface FeatureCacheOptions {
  /** A damaged cache file was found (default: one line on stderr). */
  onDamaged?: (file: string, problem: string) => void;
}

export class FeatureCache {
  private readonly mem: LruMap<string, FeatureEntry>;
  private diskWritesOff = false;
  private readonly pending = new Map<string, Promise<FeatureEntry>>();
  readonly stats: FeatureCacheStats = { hits: 0, diskHits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0, damaged: 0 };

  constructor(readonly maxBytes: number, readonly diskDir?: string, private readonly opts: FeatureCacheOptions = {}) {
    this.mem = new LruMap({ maxBytes });
  }

  async get(key: string, compute: () => Promise<FeatureEntry>): Promise<FeatureEntry> {
    const hit = this.mem.get(key);
    if (hit) {
      this.stats.hits++;
      return hit;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const p = (async () => {
      let entry = await this.readDisk(key);
      if (entry) this.stats.diskHits++;
      else {
        this.stats.misses++;
        entry = await compute();
        if (!this.diskWritesOff) await this.writeDisk(key, entry).catch((e) => this.diskWriteFailed(e));
      }
      this.put(key, entry);
      return entry;
    })();
    this.pending.set(key, p);
    try {
      return await p;
    } finally {
      this.pending.delete(key);
    }
  }

  /** The disk copy is a cache: a failed write (disk full, read-only folder) turns the disk cache off for
   *  this process with one line on stderr, and the evaluation goes on from memory. */
  private diskWriteFailed(e: unknown): void {
    if (this.diskWritesOff) return;
    this.diskWritesOff = true;
    process.stderr.write(`note: feature cache folder ${this.diskDir} is no longer written to (${(e as Error).message}); going on from memory\n`);
  }

  clear(): void {
    this.mem.clear();
    this.stats.bytes = 0;
    this.stats.entries = 0;
  }

  private put(key: string, e: FeatureEntry): void {
    const size = e.data.byteLength;
    if (size > this.maxBytes) return; // larger than the whole budget: do not keep it
    this.mem.set(key, e, size);
    this.stats.evictions = this.mem.evictions;
    this.stats.bytes = this.mem.bytes;
    this.stats.entries = this.mem.size;
  }

  private diskPath(key: string): string {
    return path.join(this.diskDir!, key.slice(0, 2), `${key}.feat`);
  }

  private async readDisk(key: string): Promise<FeatureEntry | undefined> {
    if (!this.diskDir) return undefined;
    const file = this.diskPath(key);
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(file);
    } catch {
      return undefined; // absent (or unreadable): compute
    }
    const problem = checkFile(buf);
    if (problem) {
      // Never trusted, never fatal: a miss, said out loud, and overwritten by the recomputed entry.
      this.stats.damaged++;
      (this.opts.onDamaged ?? ((f, p) => process.stderr.write(`feature cache: ${f}: ${p}; recomputing it\n`)))(file, problem);
      return undefined;
    }
    const shape: [number, number, number] = [buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)];
    const data = new Float32Array(shape[0] * shape[1] * shape[2]);
    Buffer.from(data.buffer).set(buf.subarray(HEADER));
    return { shape, data };
  }

  private async writeDisk(key: string, e: FeatureEntry): Promise<void> {
    if (!this.diskDir) return;
    const body = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(MAGIC, 0);
    e.shape.forEach((v, i) => head.writeUInt32LE(v, 4 + 4 * i));
    head.writeUInt32LE(crc32(body), 16);
    await writeFileAtomicAsync(this.diskPath(key), Buffer.concat([head, body]));
  }
}

/** Why a cache file's bytes cannot be trusted, or undefined when they can. */
function checkFile(buf: Buffer): string | undefined {
  if (buf.length < HEADER) return `${buf.length} bytes, shorter than the header (torn or not a feature file)`;
  if (buf.readUInt32LE(0) !== MAGIC) return 'not a ProtoLab feature file of this version (magic differs)';
  const n = buf.readUInt32LE(4) * buf.readUInt32LE(8) * buf.readUInt32LE(12);
  if (buf.length !== HEADER + 4 * n) return `${buf.length} bytes where its header promises ${HEADER + 4 * n} (torn)`;
  if (crc32(buf.subarray(HEADER)) !== buf.readUInt32LE(16)) return 'checksum mismatch (damaged)';
  return undefined;
}
