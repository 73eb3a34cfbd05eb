import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureCache, featureKey, fileContentHash } from '../../src/engine/features/featureCache';
import { cachePath, expectedEntry, keyName, same } from './helpers/cacheHammer';

const entry = (v: number, n = 10) => ({ shape: [1, n, 1] as [number, number, number], data: new Float32Array(n).fill(v) });

describe('FeatureCache', () => {
  it('computes once per key and evicts the least recently used entry past the budget', async () => {
    const c = new FeatureCache(3 * 40); // room for three 10-float entries
    let computed = 0;
    const get = (k: string) => c.get(k, async () => (computed++, entry(k.charCodeAt(0))));
    await get('a'); await get('b'); await get('c');
    await get('a'); // a becomes most recent; b is now the LRU
    await get('d'); // evicts b
    assert.strictEqual(computed, 4);
    await get('a'); await get('c'); await get('d');
    assert.strictEqual(computed, 4, 'a, c, d still cached');
    await get('b');
    assert.strictEqual(computed, 5, 'b was evicted');
    assert.ok(c.stats.bytes <= 120);
    assert.strictEqual(c.stats.evictions, 2);
  });
  it('concurrent requests for one key share one computation', async () => {
    const c = new FeatureCache(1e6);
    let computed = 0;
    const slow = () => new Promise<ReturnType<typeof entry>>((r) => setTimeout(() => (computed++, r(entry(1))), 20));
    await Promise.all([c.get('k', slow), c.get('k', slow), c.get('k', slow)]);
    assert.strictEqual(computed, 1);
  });
  it('persists to disk, reads back bit-exact, and ignores a torn file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-'));
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3);
    await new FeatureCache(1e6, dir).get('abcd', async () => ({ shape: [2, 3, 4], data }));
    let computed = 0;
    const again = await new FeatureCache(1e6, dir).get('abcd', async () => (computed++, entry(0)));
    assert.strictEqual(computed, 0);
    assert.deepStrictEqual(again.shape, [2, 3, 4]);
    assert.deepStrictEqual(Array.from(again.data), Array.from(data));
    fs.writeFileSync(path.join(dir, 'ab', 'abcd.feat'), Buffer.from([1, 2, 3]));
    const reported: string[] = [];
    const c = new FeatureCache(1e6, dir, { onDamaged: (f, p) => reported.push(`${f}: ${p}`) });
    await c.get('abcd', async () => (computed++, entry(0)));
    assert.strictEqual(computed, 1);
    assert.strictEqual(c.stats.damaged, 1);
    assert.match(reported[0], /ab\/abcd\.feat: 3 bytes, shorter than the header/);
    // One flipped bit in the data, length and header intact: the checksum catches it.
    const file = path.join(dir, 'ab', 'abcd.feat');
    const bytes = fs.readFileSync(file);
    bytes[30] ^= 1;
    fs.writeFileSync(file, bytes);
    const d = new FeatureCache(1e6, dir, { onDamaged: (f, p) => reported.push(p) });
    await d.get('abcd', async () => (computed++, entry(0)));
    assert.strictEqual(computed, 2);
    assert.deepStrictEqual([d.stats.damaged, reported[1]], [1, 'checksum mismatch (damaged)']);
  });
  it('keys differ by content, size, backbone and weights; content hash follows the bytes', async () => {
    const base = { imageHash: 'h', size: 417, backbone: 'vgg16', weightsHash: 'w' };
    const keys = new Set([base, { ...base, imageHash: 'h2' }, { ...base, size: 321 }, { ...base, backbone: 'mobilenetv2' }, { ...base, weightsHash: 'x' }].map(featureKey));
    assert.strictEqual(keys.size, 5);
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fh-')), 'a.bin');
    fs.writeFileSync(f, 'one');
    const h1 = await fileContentHash(f);
    fs.writeFileSync(f, 'two');
    fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));
    assert.notStrictEqual(await fileContentHash(f), h1);
  });
});

describe('FeatureCache shared by several processes at once (a cluster\'s shared cache folder)', function () {
  this.timeout(120000);
  const hammer = path.resolve(__dirname, 'helpers', 'cacheHammer.js');
  type Report = { gets: number; wrong: number; computed: number; diskHits: number; damaged: number; problems: string[] };
  const run = (args: string[]): Promise<Report> => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hammer, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`cacheHammer ${args[0]} exited ${code}: ${err}`))));
  });
  const KEYS = 12, ROUNDS = 10;
  const leftovers = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));
  /** Every key's file, read by a fresh cache: present, intact and bit-exact (no compute needed). */
  const allIntact = async (dir: string) => {
    for (let k = 0; k < KEYS; k++) {
      let computed = false;
      const got = await new FeatureCache(0, dir, { onDamaged: () => undefined }).get(keyName(k), async () => ((computed = true), expectedEntry(k)));
      assert.ok(!computed, `key ${k}: no valid file after the run`);
      assert.ok(same(got, expectedEntry(k)), `key ${k}: the file on disk holds other features`);
    }
  };

  it('4 processes reading, writing and deleting the same 12 keys: every read bit-exact, no torn file ever seen, no temp file left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-many-'));
    const start = String(Date.now() + 1500);
    const reports = await Promise.all([1, 2, 3, 4].map((seed) => run(['rw', dir, String(KEYS), String(ROUNDS), String(seed), start])));
    const sum = (k: 'gets' | 'wrong' | 'computed' | 'diskHits' | 'damaged') => reports.reduce((s, r) => s + r[k], 0);
    assert.strictEqual(sum('gets'), 4 * KEYS * ROUNDS);
    assert.strictEqual(sum('wrong'), 0);
    assert.strictEqual(sum('damaged'), 0, `readers saw damaged files: ${reports.flatMap((r) => r.problems).join('; ')}`);
    // they really shared the folder: most gets were answered from files another process (or round) wrote
    assert.ok(sum('diskHits') > sum('gets') / 2, `disk hits ${sum('diskHits')} of ${sum('gets')}`);
    assert.ok(sum('computed') >= KEYS);
    assert.deepStrictEqual(leftovers(dir), []);
    await allIntact(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('files broken in place (cut short, a flipped bit, garbage) while 3 processes work: reported as damaged, recomputed, never returned, never a crash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-torn-'));
    // Every key starts broken, so the first read of each is a damaged file; a tearing process keeps breaking them.
    for (let k = 0; k < KEYS; k++) {
      fs.mkdirSync(path.dirname(cachePath(dir, keyName(k))), { recursive: true });
      fs.writeFileSync(cachePath(dir, keyName(k)), Buffer.alloc(1000, 7));
    }
    const start = String(Date.now() + 1500);
    const [tear, ...reports] = await Promise.all([
      run(['tear', dir, String(KEYS), String(ROUNDS), '9', start]),
      ...[1, 2, 3].map((seed) => run(['rw', dir, String(KEYS), String(ROUNDS), String(seed), start])),
    ]);
    assert.strictEqual(tear.gets, 0);
    const sum = (k: 'gets' | 'wrong' | 'damaged') => reports.reduce((s, r) => s + r[k], 0);
    assert.strictEqual(sum('gets'), 3 * KEYS * ROUNDS);
    assert.strictEqual(sum('wrong'), 0, 'a broken file was returned as features');
    assert.ok(sum('damaged') >= KEYS, `damaged files reported: ${sum('damaged')}`);
    const problems = new Set(reports.flatMap((r) => r.problems).map((p) => p.replace(/\d+/g, 'N')));
    assert.ok([...problems].some((p) => /magic differs|shorter than the header|torn|checksum/.test(p)), [...problems].join('; '));
    // once the tearing stops, one pass through the cache repairs every key
    for (let k = 0; k < KEYS; k++) await new FeatureCache(0, dir, { onDamaged: () => undefined }).get(keyName(k), async () => expectedEntry(k));
    await allIntact(dir);
    assert.deepStrictEqual(leftovers(dir), []);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
