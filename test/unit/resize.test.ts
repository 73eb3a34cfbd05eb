import * as assert from 'assert';
import { resizeMaskNearest, resizeRgb } from '../../src/engine/image/resize';

describe('resize', () => {
  it('nearest mask resize follows PIL sampling and keeps labels', () => {
    // 4x1 -> 2x1: sources floor(0.5*2)=1, floor(1.5*2)=3
    const m = { width: 4, height: 1, data: Uint8Array.from([1, 2, 3, 255]) };
    assert.deepStrictEqual(Array.from(resizeMaskNearest(m, 2, 1).data), [2, 255]);
    // 2x2 -> 4x4 upsampling repeats each label in a 2x2 block
    const up = resizeMaskNearest({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]) }, 4, 4);
    assert.deepStrictEqual(Array.from(up.data), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('bilinear RGB resize keeps a constant image constant and has the right size', async () => {
    const img = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(77) };
    const out = await resizeRgb(img, 11, 3);
    assert.strictEqual(out.length, 11 * 3 * 3);
    assert.ok(out.every((v) => v === 77));
  });
});
