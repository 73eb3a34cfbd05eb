import * as assert from 'assert';
import type { ImageClasses } from '../../src/engine/data/dataset';
import { EpisodeSampler, EpisodeSpec } from '../../src/engine/data/episodes';
import { Rng } from '../../src/engine/prng';

function fakeIndex(n: number, seed: number): ImageClasses[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const pixels: Record<number, number> = {};
    for (const c of rng.sample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1 + rng.int(3))) pixels[c] = 1 + rng.int(500);
    return { id: `img${i}`, pixels };
  });
}

const spec = (over: Partial<EpisodeSpec> = {}): EpisodeSpec => ({
  fold: 0, classes: [1, 2, 3, 4, 5], ways: 2, shots: 3, queriesPerClass: 1, seed: 1234, list: 'val', minPixels: 1, ...over,
});

describe('EpisodeSampler', () => {
  const index = fakeIndex(300, 5);

  it('same seed gives the same episodes; another seed differs', () => {
    const a = new EpisodeSampler(spec(), index), b = new EpisodeSampler(spec(), index), c = new EpisodeSampler(spec({ seed: 99 }), index);
    const ea = Array.from({ length: 20 }, (_, i) => a.episode(0, i));
    assert.deepStrictEqual(ea, Array.from({ length: 20 }, (_, i) => b.episode(0, i)));
    assert.notDeepStrictEqual(ea.map((e) => e.key), Array.from({ length: 20 }, (_, i) => c.episode(0, i).key));
  });

  it('episode i does not depend on the episodes drawn before it (random access by id)', () => {
    const s = new EpisodeSampler(spec(), index);
    const direct = s.episode(2, 500);
    for (let i = 0; i < 10; i++) s.episode(2, i);
    assert.deepStrictEqual(s.episode(2, 500), direct);
    assert.deepStrictEqual(EpisodeSampler.parseId(direct.id), { run: 2, index: 500 });
    assert.notStrictEqual(s.episode(3, 500).key, direct.key, 'runs use different seeds (seed + run)');
  });

  it('queries and supports contain their class, and no image is used twice in an episode', () => {
    const s = new EpisodeSampler(spec({ ways: 3, shots: 5 }), index);
    const has = new Map(index.map((im) => [im.id, im.pixels]));
    for (let i = 0; i < 200; i++) {
      const e = s.episode(0, i);
      assert.strictEqual(new Set(e.classes).size, 3);
      e.classes.forEach((c) => assert.ok([1, 2, 3, 4, 5].includes(c)));
      const all = [...e.queries, ...e.supports.flat()];
      assert.strictEqual(new Set(all).size, all.length, `episode ${e.id} reuses an image`);
      e.supports.forEach((shots, j) => {
        assert.strictEqual(shots.length, 5);
        shots.forEach((id) => assert.ok(has.get(id)![e.classes[j]] > 0));
      });
      e.queries.forEach((q, k) => assert.ok(has.get(q)![e.classes[e.queryWay[k]]] > 0));
    }
  });

  it('minPixels filters small objects and a fold that cannot fill an episode is a clear error', () => {
    const tiny: ImageClasses[] = [
      { id: 'a', pixels: { 1: 5 } }, { id: 'b', pixels: { 1: 500 } }, { id: 'c', pixels: { 1: 600 } },
    ];
    assert.throws(() => new EpisodeSampler(spec({ ways: 1, shots: 2, minPixels: 100 }), tiny), /only 0 classes with at least 3 images/);
    const s = new EpisodeSampler(spec({ ways: 1, shots: 1, minPixels: 100 }), tiny);
    assert.deepStrictEqual(s.imagesOf(1), ['b', 'c']);
  });
});
