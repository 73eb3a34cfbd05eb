// COCO RLE and polygon rasterisation against vectors computed by hand (see the comments for the arithmetic).
import * as assert from 'assert';
import { rleArea, rleDecode, rleEncode, rleFromString, rleToString } from '../../src/engine/data/coco/rle';
import { polygonToRle, polygonsToMask } from '../../src/engine/data/coco/polygon';

const u8 = (a: number[]) => Uint8Array.from(a);

describe('coco/rle', () => {
  it('encodes column-major, zeros first', () => {
    // h=2, w=3, rows [0 1 1] / [0 1 0]; columns read top-down: 0 0 | 1 1 | 1 0 -> runs 2 zeros, 3 ones, 1 zero
    assert.deepStrictEqual(rleEncode(u8([0, 1, 1, 0, 1, 0]), 2, 3), { counts: [2, 3, 1], size: [2, 3] });
    // a mask starting with 1 begins with an empty zero run
    assert.deepStrictEqual(rleEncode(u8([1, 0]), 1, 2).counts, [0, 1, 1]);
    assert.deepStrictEqual(rleEncode(u8([0, 0, 0, 0]), 2, 2).counts, [4]);
    assert.deepStrictEqual(rleEncode(u8([1, 1, 1, 1]), 2, 2).counts, [0, 4]);
  });

  it('decodes back to row-major', () => {
    assert.deepStrictEqual(rleDecode({ counts: [2, 3, 1] }, 2, 3), u8([0, 1, 1, 0, 1, 0]));
    assert.deepStrictEqual(rleDecode({ counts: [0, 1, 1] }, 1, 2), u8([1, 0]));
  });

  it('rejects runs that do not add up to h*w', () => {
    assert.throws(() => rleDecode({ counts: [2, 3] }, 2, 3), RangeError);
    assert.throws(() => rleDecode({ counts: [2, 3, 5] }, 2, 3), RangeError);
  });

  it('string codec matches hand-made vectors', () => {
    assert.strictEqual(rleToString([0]), '0');
    assert.strictEqual(rleToString([5]), '5');
    // 16 has the sign bit (0x10) of its 5-bit group set, so a second group (0) must follow: '`' = 0x30+0x30
    assert.strictEqual(rleToString([16]), '`0');
    // 100 = 3*32 + 4 -> groups 4 (+0x20 more) and 3: chars 'T' (84) and '3'
    assert.strictEqual(rleToString([100]), 'T3');
    // from the 4th count on, the difference to counts[i-2] is written: 6-4 = 2
    assert.strictEqual(rleToString([3, 4, 5, 6]), '3452');
    // 2-10 = -8 -> low group 24 (sign bit set), rest -1: one char 24+48 = 'H'
    assert.strictEqual(rleToString([1, 10, 1, 2]), '1:1H');
    // 25 = 0x19 has the sign bit: needs a second group -> 'i0'
    assert.strictEqual(rleToString([4, 1, 25]), '41i0');
    assert.deepStrictEqual(rleFromString('`0'), [16]);
    assert.deepStrictEqual(rleFromString('T3'), [100]);
    assert.deepStrictEqual(rleFromString('3452'), [3, 4, 5, 6]);
    assert.deepStrictEqual(rleFromString('1:1H'), [1, 10, 1, 2]);
    assert.deepStrictEqual(rleFromString('41i0'), [4, 1, 25]);
  });

  it('string codec round-trips large and alternating counts', () => {
    const counts = [0, 1, 123456, 7, 2 ** 31 + 5, 3, 1, 999999, 0, 2];
    assert.deepStrictEqual(rleFromString(rleToString(counts)), counts);
    assert.throws(() => rleFromString('`'), RangeError); // ends inside a number
  });

  it('compressed and uncompressed forms decode to the same mask', () => {
    const h = 7, w = 9;
    const m = new Uint8Array(h * w);
    for (let i = 0; i < m.length; i++) m[i] = (i * 7919) % 5 < 2 ? 1 : 0;
    const { counts } = rleEncode(m, h, w);
    assert.deepStrictEqual(rleDecode({ counts: rleToString(counts) }, h, w), m);
    assert.deepStrictEqual(rleDecode({ counts }, h, w), m);
    assert.strictEqual(rleArea(counts), m.reduce((a, b) => a + b, 0));
  });
});

describe('coco/polygon (maskApi rasterisation)', () => {
  it('2x2 square: pixels whose centres lie inside', () => {
    // square [0,2]^2: centres 0.5 and 1.5 inside in both axes, 2.5 outside
    assert.deepStrictEqual(polygonToRle([0, 0, 2, 0, 2, 2, 0, 2], 3, 3), [0, 2, 1, 2, 4]);
    assert.deepStrictEqual(polygonsToMask([[0, 0, 2, 0, 2, 2, 0, 2]], 3, 3), u8([1, 1, 0, 1, 1, 0, 0, 0, 0]));
  });

  it('right triangle (0,0),(4,0),(0,4): centre x+y+1 < 4', () => {
    // columns top-down: 3 ones, 2 ones, 1 one, then nothing
    assert.deepStrictEqual(polygonToRle([0, 0, 4, 0, 0, 4], 5, 5), [0, 3, 2, 2, 3, 1, 14]);
    assert.deepStrictEqual(polygonsToMask([[0, 0, 4, 0, 0, 4]], 5, 5), u8([
      1, 1, 1, 0, 0,
      1, 1, 0, 0, 0,
      1, 0, 0, 0, 0,
      0, 0, 0, 0, 0,
      0, 0, 0, 0, 0,
    ]));
  });

  it('fractional rectangle covers only the centre it encloses', () => {
    // [0.6, 2.4]^2 encloses centre 1.5 only -> pixel (1,1) of a 4x4 grid
    const m = polygonsToMask([[0.6, 0.6, 2.4, 0.6, 2.4, 2.4, 0.6, 2.4]], 4, 4);
    const want = new Uint8Array(16);
    want[1 * 4 + 1] = 1;
    assert.deepStrictEqual(m, want);
  });

  it('clips a polygon reaching outside the image', () => {
    // [-1,2]^2 on 3x3: centres 0.5, 1.5 inside
    assert.deepStrictEqual(polygonsToMask([[-1, -1, 2, -1, 2, 2, -1, 2]], 3, 3), u8([1, 1, 0, 1, 1, 0, 0, 0, 0]));
  });

  it('parts of one annotation are united', () => {
    const m = polygonsToMask([[0, 0, 1, 0, 1, 1, 0, 1], [2, 2, 3, 2, 3, 3, 2, 3]], 3, 3);
    assert.deepStrictEqual(m, u8([1, 0, 0, 0, 0, 0, 0, 0, 1]));
  });
});
