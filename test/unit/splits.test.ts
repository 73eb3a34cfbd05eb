import * as assert from 'assert';
import { baseClasses, foldClasses } from '../../src/engine/data/splits';

describe('few-shot splits', () => {
  it('PASCAL-5i folds are the papers.md class blocks', () => {
    assert.deepStrictEqual(foldClasses('voc', 20, 0), [1, 2, 3, 4, 5]); // aeroplane … bottle
    assert.deepStrictEqual(foldClasses('voc', 20, 1), [6, 7, 8, 9, 10]); // bus … cow (chair = 9)
    assert.deepStrictEqual(foldClasses('voc', 20, 2), [11, 12, 13, 14, 15]); // diningtable … person
    assert.deepStrictEqual(foldClasses('voc', 20, 3), [16, 17, 18, 19, 20]);
    assert.ok(!foldClasses('voc', 20, 1).includes(11), 'chair and diningtable fall in different folds');
  });
  it('COCO-20i panet (contiguous) and fwb (interleaved) conventions', () => {
    assert.deepStrictEqual(foldClasses('coco', 80, 1, 'panet'), Array.from({ length: 20 }, (_, i) => 21 + i));
    const fwb1 = foldClasses('coco', 80, 1, 'fwb');
    assert.strictEqual(fwb1.length, 20);
    assert.deepStrictEqual(fwb1.slice(0, 4), [2, 6, 10, 14]);
    assert.strictEqual(fwb1[19], 78);
    for (const c of fwb1) assert.strictEqual((c - 1) % 4, 1);
  });
  it('a COCO file with fewer categories (multiple of 4) splits the same way', () => {
    assert.deepStrictEqual(foldClasses('coco', 8, 3, 'panet'), [7, 8]);
    assert.deepStrictEqual(foldClasses('coco', 8, 3, 'fwb'), [4, 8]);
    assert.throws(() => foldClasses('coco', 10, 0), /multiple of 4/);
    assert.throws(() => foldClasses('voc', 20, 4), /--fold/);
  });
  it('base classes are the complement of the fold', () => {
    const b = baseClasses('coco', 80, 2, 'fwb');
    assert.strictEqual(b.length, 60);
    const all = new Set([...b, ...foldClasses('coco', 80, 2, 'fwb')]);
    assert.strictEqual(all.size, 80);
  });
});
