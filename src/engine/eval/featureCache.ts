// Backbone features keyed by (image content hash, input size, backbone id, weights hash): an evaluation
// of 5 runs × 1000 episodes computes each image's features once. Entries live in JS memory as plain
// Float32Arrays (not tensors: the wasm heap is small and tensors would have to be disposed by whoever
// evicts), bounded by a byte budget with least-recently-used eviction, and optionally on disk.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicAsync } from '../fsutil';

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

const MAGIC = 0x31464c50; // 'PLF1' little-endian

export interface FeatureCacheStats {
  hits: number;
  diskHits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

export class FeatureCache {
  /** Map iteration order is insertion order: re-inserting on use makes the first key the LRU one. */
  private readonly mem = new Map<string, FeatureEntry>();
  private diskWritesOff = false;
  private readonly pending = new Map<string, Promise<FeatureEntry>>();
  readonly stats: FeatureCacheStats = { hits: 0, diskHits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0 };

  constructor(readonly maxBytes: number, readonly diskDir?: string) {}

  async get(key: string, compute: () => Promise<FeatureEntry>): Promise<FeatureEntry> {
    const hit = this.mem.get(key);
    if (hit) {
      this.stats.hits++;
      this.mem.delete(key);
      this.mem.set(key, hit);
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
    while (this.stats.bytes + size > this.maxBytes && this.mem.size > 0) {
      const [oldKey, old] = this.mem.entries().next().value as [string, FeatureEntry];
      this.mem.delete(oldKey);
      this.stats.bytes -= old.data.byteLength;
      this.stats.evictions++;
    }
    this.mem.set(key, e);
    this.stats.bytes += size;
    this.stats.entries = this.mem.size;
  }

  private diskPath(key: string): string {
    return path.join(this.diskDir!, key.slice(0, 2), `${key}.feat`);
  }

  private async readDisk(key: string): Promise<FeatureEntry | undefined> {
    if (!this.diskDir) return undefined;
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(this.diskPath(key));
    } catch {
      return undefined;
    }
    // A torn or foreign file is treated as a miss (and overwritten), never trusted.
    if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC) return undefined;
    const shape: [number, number, number] = [buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)];
    const n = shape[0] * shape[1] * shape[2];
    if (buf.length !== 16 + 4 * n) return undefined;
    const data = new Float32Array(n);
    Buffer.from(data.buffer).set(buf.subarray(16));
    return { shape, data };
  }

  private async writeDisk(key: string, e: FeatureEntry): Promise<void> {
    if (!this.diskDir) return;
    const head = Buffer.alloc(16);
    head.writeUInt32LE(MAGIC, 0);
    e.shape.forEach((v, i) => head.writeUInt32LE(v, 4 + 4 * i));
    await writeFileAtomicAsync(this.diskPath(key), Buffer.concat([head, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)]));
  }
}
