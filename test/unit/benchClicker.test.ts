// The benchmark's simulated clicker (scripts/lib/clicker.ts) on hand-made masks: where the next click
// must go (the distances worked out by hand in the comments), the image edge as boundary, ignored
// pixels, FN/FP ties, and NoC counting over a click loop with a stand-in model.
import * as assert from 'assert';
import { binaryIoU, distanceInside, nextClick, nocOf, runClicks, type Click } from '../../scripts/lib/clicker';

/** w×h mask with 1 inside the rectangle x0..x1, y0..y1 (inclusive), `v` elsewhere given by `base`. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number, value = 1, base?: Uint8Array): Uint8Array {
  const m = base ? base.slice() : new Uint8Array(w * h);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = value;
  return m;
}

describe('bench clicker', () => {
  it('distances: Euclidean to the nearest outside pixel, the edge counting as outside', () => {
    // 3 columns fully inside a 6×5 image: column 0 is 1 from the virtual column -1, column 1 is 2 from
    // both sides, column 2 is 1 from column 3; the top and bottom rows are 1 from the virtual rows
    const d = distanceInside(rect(6, 5, 0, 0, 2, 4), 6, 5);
    assert.deepStrictEqual([d[2 * 6 + 0], d[2 * 6 + 1], d[2 * 6 + 2], d[2 * 6 + 3]], [1, 2, 1, 0]);
    assert.strictEqual(d[0 * 6 + 1], 1);
    assert.strictEqual(d[1 * 6 + 1], 2);
    // a diagonal: a single outside pixel at (0,0) of an otherwise full 3×3 image; (2,2) is √8 from it
    // but 1 from the edge
    const full = new Uint8Array(9).fill(1);
    full[0] = 0;
    const e = distanceInside(full, 3, 3);
    assert.strictEqual(e[1 * 3 + 1], Math.SQRT2); // the centre: (0,0) is √2 away, the edge 2
    assert.strictEqual(e[2 * 3 + 2], 1);
  });

  it('a false negative block: the click goes to its deepest point, first in row order', () => {
    // gt: x 2..6, y 1..3 in a 9×6 image, nothing predicted. Row 2 is 2 from rows 0 and 4; x 3..5 are
    // ≥ 2 from columns 1 and 7, so the maximum 2 is at (3,2), (4,2), (5,2): the first is (3,2)
    const gt = rect(9, 6, 2, 1, 6, 3);
    assert.deepStrictEqual(nextClick(new Uint8Array(54), gt, 9, 6), { x: 3, y: 2, positive: true });
  });

  it('the image edge bounds a region: a region along the left edge is clicked one pixel in', () => {
    // FN = x 0..2 of a 6×5 image: the deepest points (distance 2) are x = 1, y = 1..3 → (1,1).
    // Without the padding the edge column would be 3 from the boundary and win at (0,0).
    const gt = rect(6, 5, 0, 0, 2, 4);
    assert.deepStrictEqual(nextClick(new Uint8Array(30), gt, 6, 5), { x: 1, y: 1, positive: true });
  });

  it('the deeper of the false negatives and false positives wins (a negative click on a larger FP)', () => {
    // 12×8: FN block x 1..3, y 1..3 (3×3, depth 2 at (2,2)); FP block x 6..10, y 1..5 (5×5, depth 3 at (8,3))
    const gt = rect(12, 8, 1, 1, 3, 3);
    const pred = rect(12, 8, 6, 1, 10, 5);
    assert.deepStrictEqual(nextClick(pred, gt, 12, 8), { x: 8, y: 3, positive: false });
    // the other way round: the FN block 5×5, the FP block 3×3 → a positive click at the FN's centre
    assert.deepStrictEqual(nextClick(rect(12, 8, 1, 1, 3, 3), rect(12, 8, 6, 1, 10, 5), 12, 8), { x: 8, y: 3, positive: true });
  });

  it('a tie goes to the false positive (RITM: positive only when the FN is strictly deeper)', () => {
    // two 3×3 blocks, FN at x 1..3 and FP at x 6..8 (y 1..3): both depth 2 → the FP's centre (7,2)
    const gt = rect(12, 6, 1, 1, 3, 3), pred = rect(12, 6, 6, 1, 8, 3);
    assert.deepStrictEqual(nextClick(pred, gt, 12, 6), { x: 7, y: 2, positive: false });
  });

  it('ignored pixels are no error and bound the regions around them', () => {
    // 7×9 image, gt = x 0..6, y 2..6 with column 3 ignored (255): two FN blocks 3×5 at x 0..2 and 4..6.
    // In the left block x = 1 is 2 from the edge (x = -1) and from the ignored column; rows 3..5 are
    // ≥ 2 from rows 1 and 7 → the first of the depth-2 points is (1,3). Were the ignored column an
    // error, (3,4) would be deeper (3); were it background but not a boundary, the same.
    const gt = rect(7, 9, 3, 2, 3, 6, 255, rect(7, 9, 0, 2, 6, 6));
    const c = nextClick(new Uint8Array(63), gt, 7, 9);
    assert.deepStrictEqual(c, { x: 1, y: 3, positive: true });
    // and a prediction that covers only ignored pixels has no error at all
    assert.strictEqual(nextClick(rect(7, 9, 3, 2, 3, 6), rect(7, 9, 3, 2, 3, 6, 255), 7, 9), undefined);
  });

  it('IoU ignores 255 and NoC counts clicks to the threshold (0 when already there, the cap when never)', () => {
    // gt 4 pixels of class, 1 ignored; pred covers 3 of them + the ignored one + 1 false positive → 3 / 5
    const gt = Uint8Array.from([1, 1, 1, 1, 255, 0, 0, 0]);
    const pred = Uint8Array.from([1, 1, 1, 0, 1, 1, 0, 0]);
    assert.strictEqual(binaryIoU(pred, gt), 3 / 5);
    assert.strictEqual(nocOf([0.9, 0.95], 0.85), 0);
    assert.strictEqual(nocOf([0.1, 0.5, 0.86, 0.8, 0.91], 0.85), 2);
    assert.strictEqual(nocOf([0.1, 0.5, 0.86, 0.8, 0.91], 0.9), 4);
    assert.strictEqual(nocOf([0.1, 0.2], 0.85), 20);
    assert.strictEqual(nocOf([0.1, 0.2], 0.85, 5), 5);
  });

  it('the click loop: a model that completes the clicked object reaches IoU 1 in two clicks', async () => {
    // 16×6, two objects: A = x 1..3, y 1..3 (3×3) and B = x 10..14, y 1..3 (5×3), 24 pixels. Starting
    // from nothing both are false negatives of depth 2 (row 2 is 2 from rows 0 and 4): A's deepest point
    // is (2,2), B's (11,2)…(13,2); row order picks (2,2). The stand-in model fills the whole object under
    // each positive click: IoU 9 / 24; then B is the only error, clicked at (11,2): IoU 1, so
    // NoC@85 = NoC@90 = 2.
    const w = 16, h = 6;
    const A = rect(w, h, 1, 1, 3, 3), B = rect(w, h, 10, 1, 14, 3);
    const gt = A.map((v, i) => v | B[i]);
    const seen: Click[][] = [];
    const run = await runClicks({
      start: new Uint8Array(w * h), gt, w, h,
      apply: async (clicks) => {
        seen.push(clicks);
        const out = new Uint8Array(w * h);
        for (const c of clicks) for (const obj of [A, B]) if (c.positive && obj[c.y * w + c.x]) obj.forEach((v, i) => { if (v) out[i] = 1; });
        return out;
      },
    });
    assert.deepStrictEqual(run.clicks, [{ x: 2, y: 2, positive: true }, { x: 11, y: 2, positive: true }]);
    assert.deepStrictEqual(run.ious, [0, 9 / 24, 1]);
    assert.strictEqual(seen.length, 2);
    assert.strictEqual(nocOf(run.ious, 0.85), 2);
  });

  it('the click loop stops at the cap when the model never gets there', async () => {
    const w = 8, h = 8, gt = rect(w, h, 1, 1, 6, 6);
    const run = await runClicks({ start: new Uint8Array(w * h), gt, w, h, max: 5, apply: async () => new Uint8Array(w * h) });
    assert.strictEqual(run.clicks.length, 5);
    assert.deepStrictEqual(run.ious, [0, 0, 0, 0, 0, 0]);
    assert.strictEqual(nocOf(run.ious, 0.85, 5), 5);
  });
});
