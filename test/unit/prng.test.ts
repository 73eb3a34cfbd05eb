import * as assert from 'assert';
import { Rng } from '../../src/engine/prng';

describe('Rng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Rng(1234), b = new Rng(1234), c = new Rng(1235);
    const sa = Array.from({ length: 50 }, () => a.nextU32());
    const sb = Array.from({ length: 50 }, () => b.nextU32());
    const sc = Array.from({ length: 50 }, () => c.nextU32());
    assert.deepStrictEqual(sa, sb);
    assert.notDeepStrictEqual(sa, sc);
  });
  it('forks independent streams by label', () => {
    const r = new Rng(7);
    assert.strictEqual(r.fork('run1').nextU32(), new Rng(7).fork('run1').nextU32());
    assert.notStrictEqual(r.fork('run1').nextU32(), r.fork('run2').nextU32());
  });
  it('int() is uniform enough and in range', () => {
    const r = new Rng(99), counts = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) counts[r.int(10)]++;
    for (const c of counts) assert.ok(c > 9500 && c < 10500, `bucket count ${c}`);
  });
  it('sample() returns k distinct items', () => {
    const r = new Rng(3), s = r.sample([1, 2, 3, 4, 5, 6], 4);
    assert.strictEqual(new Set(s).size, 4);
    assert.throws(() => r.sample([1, 2], 3));
  });
});
