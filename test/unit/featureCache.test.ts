import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureCache, featureKey, fileContentHash } from '../../src/engine/eval/featureCache';

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
    await new FeatureCache(1e6, dir).get('abcd', async () => (computed++, entry(0)));
    assert.strictEqual(computed, 1);
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
