// Annotation shapes → rasters, on small canvases whose expected pixels are worked out by hand in the
// comments (pixel (x, y) has its centre at (x + 0.5, y + 0.5)).
import * as assert from 'assert';
import { encodeIndexPng } from '../../src/engine/image/png';
import { resizeMaskNearest } from '../../src/engine/image/resize';
import { UNLABELED } from '../../src/engine/label/predictor';
import { maskShape, rasterizeShapes, ShapeError, validateShape, validateShapes, type Shape } from '../../src/engine/label/shapes';

const U = UNLABELED;

/** Rows of a raster as arrays, for readable failures. */
function rows(r: Uint8Array, w: number): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < r.length / w; y++) out.push([...r.subarray(y * w, (y + 1) * w)]);
  return out;
}

function pngB64(width: number, height: number, data: number[]): string {
  return Buffer.from(encodeIndexPng({ width, height, data: Uint8Array.from(data) })).toString('base64');
}

describe('label shapes: rasterisation', () => {
  it('a dot of radius 1 marks the centres at distance ≤ 1: a plus of 5 pixels', () => {
    // centre (2.5, 2.5); its 4 neighbours' centres are at distance exactly 1, the diagonals at √2
    const r = rasterizeShapes([{ kind: 'stroke', label: 1, radius: 1, points: [2.5, 2.5] }], 5, 5);
    assert.deepStrictEqual(rows(r, 5), [
      [U, U, U, U, U],
      [U, U, 1, U, U],
      [U, 1, 1, 1, U],
      [U, U, 1, U, U],
      [U, U, U, U, U],
    ]);
  });

  it('a horizontal stroke of radius 0.5 covers its row between the end points only', () => {
    // y = 1.5 is row 1's centre line; rows 0 and 2 are 1 away; (5.5, 1.5) is 1 past the end point
    const r = rasterizeShapes([{ kind: 'stroke', label: 2, radius: 0.5, points: [0.5, 1.5, 4.5, 1.5] }], 6, 3);
    assert.deepStrictEqual(rows(r, 6), [
      [U, U, U, U, U, U],
      [2, 2, 2, 2, 2, U],
      [U, U, U, U, U, U],
    ]);
  });

  it('a brush thinner than a pixel still marks every pixel its line passes through', () => {
    // y = 0.2 is 0.3 from row 0's centres (> radius 0.05), but the line runs through pixels (0..2, 0)
    const r = rasterizeShapes([{ kind: 'stroke', label: 1, radius: 0.05, points: [0.1, 0.2, 2.9, 0.2] }], 3, 2);
    assert.deepStrictEqual(rows(r, 3), [[1, 1, 1], [U, U, U]]);
  });

  it('a box fills the pixels whose centres lie in the closed rectangle, whatever corner comes first', () => {
    // x ∈ [1, 3] holds centres 1.5, 2.5; y ∈ [1, 2] holds 1.5 only
    const expected = [
      [U, U, U, U, U],
      [U, 3, 3, U, U],
      [U, U, U, U, U],
      [U, U, U, U, U],
    ];
    assert.deepStrictEqual(rows(rasterizeShapes([{ kind: 'box', label: 3, x0: 1, y0: 1, x1: 3, y1: 2 }], 5, 4), 5), expected);
    assert.deepStrictEqual(rows(rasterizeShapes([{ kind: 'box', label: 3, x0: 3, y0: 2, x1: 1, y1: 1 }], 5, 4), 5), expected);
  });

  it('a polygon fills by the even-odd rule: an inner ring joined by a bridge is a hole', () => {
    // outer square [0,6]², bridge (0,0)→(2,2), inner square [2,4]² traversed, back over the bridge:
    // the inner square is crossed twice → outside; centres 2.5 and 3.5 make the 2×2 hole
    const points = [0, 0, 6, 0, 6, 6, 0, 6, 0, 0, 2, 2, 2, 4, 4, 4, 4, 2, 2, 2];
    const r = rasterizeShapes([{ kind: 'polygon', label: 1, points }], 6, 6);
    assert.deepStrictEqual(rows(r, 6), [
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, U, U, 1, 1],
      [1, 1, U, U, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ]);
  });

  it('a triangle: centres strictly below the diagonal', () => {
    // (0,0), (0,4), (4,4): on the row through centre y the span is [0, y); centres on the diagonal
    // (x = y) are at the span's open end, so they are out
    const r = rasterizeShapes([{ kind: 'polygon', label: 5, points: [0, 0, 0, 4, 4, 4] }], 4, 4);
    assert.deepStrictEqual(rows(r, 4), [
      [U, U, U, U],
      [5, U, U, U],
      [5, 5, U, U],
      [5, 5, 5, U],
    ]);
  });

  it('shapes paint in order: later over earlier; erase goes back to unlabeled; unsure is 255', () => {
    const shapes: Shape[] = [
      { kind: 'box', label: 1, x0: 0, y0: 0, x1: 4, y1: 1 },
      { kind: 'erase', radius: 0.5, points: [1.5, 0.5] }, // centre distance 0 → pixel 1 only (0.5 and 2.5 are 1 away)
      { kind: 'stroke', label: 255, radius: 0.5, points: [3.5, 0.5] },
    ];
    assert.deepStrictEqual([...rasterizeShapes(shapes, 4, 1)], [1, U, 1, 255]);
  });

  it('a mask shape sets 0..K and 255 and leaves 254 alone', () => {
    const png = pngB64(3, 2, [0, 1, 254, 255, 2, 254]);
    const r = rasterizeShapes([{ kind: 'box', label: 3, x0: 0, y0: 0, x1: 3, y1: 2 }, { kind: 'mask', png }], 3, 2);
    assert.deepStrictEqual([...r], [0, 1, 3, 255, 2, 3]);
    // maskShape builds the same kind of shape from an index mask
    const m = maskShape({ width: 3, height: 2, data: Uint8Array.from([0, 1, 254, 255, 2, 254]) });
    assert.deepStrictEqual([...rasterizeShapes([m], 3, 2)], [0, 1, U, 255, 2, U]);
  });

  it('on a coarser grid, shapes larger than a cell equal the nearest-resized full raster', () => {
    const W = 40, H = 30, shapes: Shape[] = [
      { kind: 'box', label: 1, x0: 3.2, y0: 2.7, x1: 30.1, y1: 20.6 },
      { kind: 'polygon', label: 2, points: [5, 25, 35, 5, 38, 28] },
      { kind: 'stroke', label: 3, radius: 6, points: [2, 2, 20, 25, 39, 3] }, // radius ≥ 1.5 cells (cell = 4×3 px)
      { kind: 'erase', radius: 7, points: [10, 15] },
      { kind: 'mask', png: pngB64(W, H, Array.from({ length: W * H }, (_, i) => (i % W < 6 ? 255 : 254))) },
    ];
    const full = rasterizeShapes(shapes, W, H);
    const coarse = rasterizeShapes(shapes, W, H, { width: 10, height: 10 });
    const expected = resizeMaskNearest({ width: W, height: H, data: full }, 10, 10).data;
    assert.deepStrictEqual(rows(coarse, 10), rows(expected, 10));
    assert.ok(new Set(coarse).size >= 5, 'the test shapes must leave several values on the grid');
  });

  it('on a coarser grid, a scribble thinner than a cell still marks the cells it crosses', () => {
    // 100×100 photo drawn on a 10×10 grid (cells of 10 px): the line y = 50 runs through row 5; row 5's
    // sample centre is y = 55.5, 5.5 px from the line, so nearest resizing alone would lose it
    const shapes: Shape[] = [{ kind: 'stroke', label: 1, radius: 1, points: [5, 50, 95, 50] }];
    const coarse = rasterizeShapes(shapes, 100, 100, { width: 10, height: 10 });
    const nearest = resizeMaskNearest({ width: 100, height: 100, data: rasterizeShapes(shapes, 100, 100) }, 10, 10).data;
    assert.ok(nearest.every((v) => v === U), 'nearest resizing loses the thin line');
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) assert.strictEqual(coarse[y * 10 + x], y === 5 ? 1 : U, `cell (${x},${y})`);
  });

  it('shapes outside the image are clipped, not an error', () => {
    const r = rasterizeShapes([{ kind: 'box', label: 1, x0: -10, y0: -10, x1: 1, y1: 1 }, { kind: 'stroke', label: 2, radius: 1, points: [-50, -50] }], 2, 2);
    assert.deepStrictEqual([...r], [1, U, U, U]);
  });
});

describe('label shapes: validation', () => {
  const bad = (s: unknown, re: RegExp, ctx?: Parameters<typeof validateShape>[1]) =>
    assert.throws(() => validateShape(s, ctx), (e: Error) => e instanceof ShapeError && re.test(e.message), `expected ${re} for ${JSON.stringify(s)}`);

  it('accepts the contract shapes and keeps only their fields', () => {
    const s = validateShape({ kind: 'stroke', label: 1, radius: 2, points: [1, 2], extra: 'x' });
    assert.deepStrictEqual(s, { kind: 'stroke', label: 1, radius: 2, points: [1, 2] });
    assert.deepStrictEqual(validateShape({ kind: 'box', label: 255, x0: 0, y0: 0, x1: 1, y1: 1 }).kind, 'box');
  });

  it('names what is wrong', () => {
    bad(null, /must be an object/);
    bad({ kind: 'blob' }, /unknown shape kind "blob"/);
    bad({ kind: 'stroke', label: 1, radius: 0, points: [1, 1] }, /radius must be > 0/);
    bad({ kind: 'stroke', label: 1.5, radius: 1, points: [1, 1] }, /label must be an integer/);
    bad({ kind: 'stroke', label: 254, radius: 1, points: [1, 1] }, /label 254 is not/);
    bad({ kind: 'stroke', label: 3, radius: 1, points: [1, 1] }, /label 3 is not a class \(there are 2/, { classes: 2 });
    bad({ kind: 'stroke', label: 1, radius: 1, points: [1, 2, 3] }, /odd number of coordinates/);
    bad({ kind: 'stroke', label: 1, radius: 1, points: [1, NaN] }, /points\[1\] must be a finite number/);
    bad({ kind: 'polygon', label: 1, points: [0, 0, 1, 1] }, /at least 3 points \(got 2\)/);
    bad({ kind: 'box', label: 1, x0: 0, y0: 0, x1: '3', y1: 1 }, /box: x1 must be a finite number/);
    bad({ kind: 'mask', png: 'bm90IGEgcG5n' }, /not a base64-encoded PNG/);
    bad({ kind: 'mask', png: pngB64(2, 2, [0, 0, 0, 0]) }, /PNG is 2×2 but the image is 3×2/, { width: 3, height: 2 });
    bad({ kind: 'mask', png: pngB64(2, 1, [0, 7]) }, /value 7 at \(1,0\) is not 0\.\.2/, { classes: 2 });
  });

  it('validateShapes names the shape by position', () => {
    assert.throws(() => validateShapes([{ kind: 'box', label: 1, x0: 0, y0: 0, x1: 1, y1: 1 }, { kind: 'erase', radius: -1, points: [0, 0] }], { where: 'a.jpg' }),
      /a\.jpg, shape 1: erase: radius must be > 0/);
  });
});
