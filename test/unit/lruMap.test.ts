import * as assert from 'assert';
import { LruMap } from '../../src/engine/features/lruMap';

describe('LruMap', () => {
  it('drops the least recently used entry past its entry count; get refreshes, peek does not', () => {
    const m = new LruMap<string, number>({ maxEntries: 2 });
    m.set('a', 1).set('b', 2);
    assert.strictEqual(m.get('a'), 1); // a is now newer than b
    m.set('c', 3);
    assert.deepStrictEqual([...m.keys()], ['a', 'c']);
    assert.strictEqual(m.peek('a'), 1);
    m.set('d', 4); // peek left a the oldest
    assert.deepStrictEqual([...m.keys()], ['c', 'd']);
    assert.strictEqual(m.evictions, 2);
  });

  it('keeps a byte budget; an entry larger than the budget evicts the others and stays', () => {
    const m = new LruMap<string, string>({ maxBytes: 10 });
    m.set('a', 'a', 4).set('b', 'b', 4);
    m.set('c', 'c', 4);
    assert.deepStrictEqual([...m.keys()], ['b', 'c']);
    assert.strictEqual(m.bytes, 8);
    m.set('b', 'b2', 6); // rewriting an entry replaces its size
    assert.deepStrictEqual([...m.keys()], ['c', 'b']);
    assert.strictEqual(m.bytes, 10);
    m.set('big', 'big', 50);
    assert.deepStrictEqual([...m.keys()], ['big']);
    assert.strictEqual(m.bytes, 50);
    m.delete('big');
    assert.strictEqual(m.bytes, 0);
  });

  it('resize counts a size learnt later, never evicting that entry or newer ones', () => {
    const m = new LruMap<string, string>({ maxBytes: 10 });
    m.set('a', 'a', 6).set('p', 'pending').set('q', 'q', 3);
    m.resize('p', 4); // 13 > 10: a goes, p and q (newer) stay
    assert.deepStrictEqual([...m.keys()], ['p', 'q']);
    assert.strictEqual(m.bytes, 7);
    m.resize('gone', 100); // absent: nothing
    assert.strictEqual(m.bytes, 7);
    m.resize('q', 20); // over, but p is older than q: p goes, q stays
    assert.deepStrictEqual([...m.keys()], ['q']);
  });
});
