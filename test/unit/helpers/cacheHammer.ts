// A child process for the feature cache's concurrency test (featureCache.test.ts): several of these share
// one cache folder, as the shards of an evaluation share one on a cluster's filesystem.
//   node cacheHammer.js rw DIR KEYS ROUNDS SEED START_MS   reads/writes every key ROUNDS times through a
//       FeatureCache with no memory budget (every get goes to disk), sometimes deleting a key's file first
//       so writes keep happening while others read; checks every entry it gets, bit for bit;
//   node cacheHammer.js tear DIR KEYS ROUNDS SEED START_MS writes broken files straight onto the cache's
//       paths (no temp + rename): cut short, one flipped bit, garbage — what a crashed copy or a bad disk leaves.
// Prints one JSON line: { gets, wrong, computed, diskHits, damaged, problems }.
import * as fs from 'fs';
import * as path from 'path';
import { crc32 } from 'zlib';
import { FeatureCache, type FeatureEntry } from '../../../src/engine/features/featureCache';
import { Rng } from '../../../src/engine/prng';

/** The entry every process computes for key k: 16×16×C floats, C = 1024…2047 (1–2 MB files: node writes files in 512 kB pieces, so a file written in place would be seen half-written). */
export function expectedEntry(k: number): FeatureEntry {
  let e = memo.get(k);
  if (!e) {
    const c = 1024 + ((k * 37) % 1024);
    e = { shape: [16, 16, c], data: Float32Array.from({ length: 16 * 16 * c }, (_, i) => Math.sin(k * 1000 + i) * (k + 1)) };
    memo.set(k, e);
  }
  // a copy: the cache keeps what compute returns, and a caller must not be able to change the reference
  return { shape: [...e.shape] as [number, number, number], data: e.data.slice() };
}
const memo = new Map<number, FeatureEntry>();

export const keyName = (k: number): string => `k${String(k).padStart(4, '0')}abcdef`;

/** Where FeatureCache keeps key `key` under `dir` (its layout: <dir>/<first 2 chars>/<key>.feat). */
export const cachePath = (dir: string, key: string): string => path.join(dir, key.slice(0, 2), `${key}.feat`);

/** Same shape and the same bytes (bit for bit, NaN patterns included). */
export function same(a: FeatureEntry, b: FeatureEntry): boolean {
  const bytes = (x: FeatureEntry) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
  return a.shape.join() === b.shape.join() && bytes(a).equals(bytes(b));
}

async function main(): Promise<void> {
  const [role, dir, keysS, roundsS, seedS, startS] = process.argv.slice(2);
  const keys = Number(keysS), rounds = Number(roundsS), rng = new Rng(Number(seedS));
  while (Date.now() < Number(startS)) await new Promise((r) => setTimeout(r, 5)); // start together
  const out = { gets: 0, wrong: 0, computed: 0, diskHits: 0, damaged: 0, problems: [] as string[] };
  if (role === 'tear') {
    const good = new Map<number, Buffer>();
    for (let k = 0; k < keys; k++) good.set(k, Buffer.from(expectedEntry(k).data.buffer));
    for (let r = 0; r < rounds; r++) {
      for (const k of rng.shuffle(Array.from({ length: keys }, (_, i) => i))) {
        const body = good.get(k)!;
        const head = Buffer.alloc(20);
        head.writeUInt32LE(0x32464c50, 0);
        expectedEntry(k).shape.forEach((v, i) => head.writeUInt32LE(v, 4 + 4 * i));
        head.writeUInt32LE(crc32(body), 16);
        const full = Buffer.concat([head, body]); // a valid file, broken below
        const kind = r % 3;
        const flipped = Buffer.from(full);
        flipped[100 + (r % 50)] ^= 0x10; // same length, header intact: only the checksum can tell
        const bad = kind === 0 ? full.subarray(0, Math.floor(full.length / 2)) // cut short
          : kind === 1 ? flipped
            : Buffer.from('not a feature file at all');
        fs.mkdirSync(path.dirname(cachePath(dir, keyName(k))), { recursive: true });
        fs.writeFileSync(cachePath(dir, keyName(k)), bad); // in place: exactly what the cache itself never does
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } else {
    for (let r = 0; r < rounds; r++) {
      for (const k of rng.shuffle(Array.from({ length: keys }, (_, i) => i))) {
        if (rng.next() < 0.2) fs.rmSync(cachePath(dir, keyName(k)), { force: true });
        const cache = new FeatureCache(0, dir, { onDamaged: (_f, p) => out.problems.length < 20 && out.problems.push(p) });
        const got = await cache.get(keyName(k), async () => (out.computed++, expectedEntry(k)));
        out.gets++;
        if (!same(got, expectedEntry(k))) out.wrong++;
        out.diskHits += cache.stats.diskHits;
        out.damaged += cache.stats.damaged;
      }
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
