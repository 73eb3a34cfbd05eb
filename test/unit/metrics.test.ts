import * as assert from 'assert';
import { ConfusionMatrix, FewShotRunMetric, meanStd, summariseRuns } from '../../src/engine/eval/metrics';

const u8 = (xs: number[]): Uint8Array => Uint8Array.from(xs);
const close = (a: number | null, b: number, msg?: string): void => {
  assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${msg ?? ''} got ${a}, want ${b}`);
};

// Episode A (1-way, class 1): gt [0,0,1,1,255,2], pred [0,1,1,0,1,1] (episode-local)
//   px0 bg→bg TP(bg); px1 bg→1 FP(1) FN(bg); px2 1→1 TP(1); px3 1→bg FN(1) FP(bg); px4 ignored;
//   px5 class 2 (not in episode ⇒ bg) →1: FP(1) FN(bg).  class1: TP1 FP2 FN1 ⇒ 1/4.
const episodeA = { id: 'A', classes: [1], gt: u8([0, 0, 1, 1, 255, 2]), pred: u8([0, 1, 1, 0, 1, 1]) };
// Episode B (1-way, class 2): gt [2,2,2,0], pred [1,1,0,0]: class2 TP2 FN1 ⇒ 2/3; bg TP1 FP1 ⇒ 1/2.
const episodeB = { id: 'B', classes: [2], gt: u8([2, 2, 2, 0]), pred: u8([1, 1, 0, 0]) };

describe('FewShotRunMetric', () => {
  it('sums TP/FP/FN over episodes before taking IoU (hand-computed)', () => {
    const m = new FewShotRunMetric([1, 2], 3);
    const ra = m.addEpisode(episodeA);
    m.addEpisode(episodeB);
    assert.deepStrictEqual(m.counts[1], { tp: 1, fp: 2, fn: 1 });
    assert.deepStrictEqual(m.counts[2], { tp: 2, fp: 0, fn: 1 });
    close(m.mIoU(), (1 / 4 + 2 / 3) / 2, 'mIoU');
    // binary: fg tp 1+2, fp 2+0, fn 1+1 ⇒ 3/7; bg tp 1+1, fp 1+1, fn 2+0 ⇒ 2/6
    close(m.fbIoU(), (3 / 7 + 1 / 3) / 2, 'FB-IoU');
    close(ra.classIoU[0], 1 / 4);
    close(ra.fgIoU, 1 / 4);
    assert.strictEqual(ra.pixels, 5);
    // wrong pixels by (true dataset ordinal → predicted ordinal)
    assert.deepStrictEqual(ra.confusions, [
      { trueClass: 0, predClass: 1, pixels: 1 },
      { trueClass: 1, predClass: 0, pixels: 1 },
      { trueClass: 2, predClass: 1, pixels: 1 },
    ]);
    // run confusion: true ordinal × predicted ordinal, 255 ignored (4 rows of 4)
    const c = (t: number, p: number): number => m.confusion[t * 4 + p];
    assert.strictEqual(c(0, 0), 2); // A px0, B px3
    assert.strictEqual(c(0, 1), 1);
    assert.strictEqual(c(1, 1), 1);
    assert.strictEqual(c(1, 0), 1);
    assert.strictEqual(c(2, 1), 1); // A px5: class 2 (bg in A) predicted as class 1
    assert.strictEqual(c(2, 2), 2); // B
    assert.strictEqual(c(2, 0), 1);
    assert.strictEqual(m.confusion.reduce((a, b) => a + b, 0), 9);
  });

  it('2-way: merged FB-IoU vs PANet summed-class FB-IoU (hand-computed)', () => {
    // classes [1,2]; gt [1,1,2,0], pred [2,1,1,0] (local 1 ⇔ class 1, 2 ⇔ class 2)
    const m = new FewShotRunMetric([1, 2], 2);
    m.addEpisode({ id: 'x', classes: [1, 2], gt: u8([1, 1, 2, 0]), pred: u8([2, 1, 1, 0]) });
    close(m.classIoU()[0].iou, 1 / 3); // TP1 FP1 FN1
    close(m.classIoU()[1].iou, 0); // TP0 FP1 FN1
    close(m.fbIoU(), 1); // every fg pixel predicted fg, bg pixel bg
    close(m.fbIoUPanet(), (1 + 1 / 5) / 2); // fg: TP1 FP2 FN2
  });

  it("'skip' drops a class's counts in episodes whose truth lacks it (PANet's metric.record)", () => {
    const ep = { id: 'y', classes: [1, 2], gt: u8([1, 1, 0, 0]), pred: u8([1, 2, 2, 0]) };
    const counted = new FewShotRunMetric([1, 2], 2), skipped = new FewShotRunMetric([1, 2], 2, { absentClasses: 'skip' });
    counted.addEpisode(ep);
    skipped.addEpisode(ep);
    close(counted.classIoU()[1].iou, 0);
    assert.strictEqual(skipped.classIoU()[1].iou, null);
    close(counted.classIoU()[0].iou, 1 / 2);
    close(skipped.classIoU()[0].iou, 1 / 2);
  });

  it('rejects mismatched sizes and labels outside the episode', () => {
    const m = new FewShotRunMetric([1], 2);
    assert.throws(() => m.addEpisode({ id: 'z', classes: [1], gt: u8([0, 1]), pred: u8([0]) }), /episode z/);
    assert.throws(() => m.addEpisode({ id: 'z', classes: [1], gt: u8([0, 1]), pred: u8([0, 2]) }), /predicted label 2/);
  });
});

describe('meanStd / summariseRuns', () => {
  it('population std (divide by n)', () => {
    const s = meanStd([1, 2, 3, 4]);
    close(s.mean, 2.5);
    close(s.std, Math.sqrt(1.25));
  });
  it('mean ± std of per-run mIoU', () => {
    const r1 = new FewShotRunMetric([1, 2], 3), r2 = new FewShotRunMetric([1, 2], 3);
    r1.addEpisode(episodeA); // class 1: 1/4, class 2 never seen ⇒ mIoU 1/4
    r2.addEpisode(episodeB); // class 2: 2/3 ⇒ mIoU 2/3
    const s = summariseRuns([r1, r2]);
    close(s.mIoU.mean, (1 / 4 + 2 / 3) / 2);
    close(s.mIoU.std, (2 / 3 - 1 / 4) / 2);
    assert.strictEqual(s.classIoU[0].n, 1);
  });
});

describe('ConfusionMatrix (protolab score)', () => {
  it('per-class IoU, mIoU over present classes incl. background, FB-IoU (hand-computed)', () => {
    // gt [0,0,1,1,2,255,2], pred [0,1,1,1,0,2,2]
    // class0 TP1 FP1 FN1 ⇒ 1/3; class1 TP2 FP1 FN0 ⇒ 2/3; class2 TP1 FP0 FN1 ⇒ 1/2; class3 absent ⇒ null
    const cm = new ConfusionMatrix(4);
    cm.add(u8([0, 0, 1, 1]), u8([0, 1, 1, 1]));
    cm.add(u8([2, 255, 2]), u8([0, 2, 2]));
    const ious = cm.classIoU();
    close(ious[0], 1 / 3); close(ious[1], 2 / 3); close(ious[2], 1 / 2);
    assert.strictEqual(ious[3], null);
    close(cm.mIoU(), 0.5);
    // fg merged: TP 3 (1→1 ×2, 2→2), FP 1 (0→1), FN 1 (2→0) ⇒ 3/5
    close(cm.fbIoU(), (1 / 3 + 3 / 5) / 2);
    close(cm.pixelAccuracy(), 4 / 6);
  });
  it('names the image on a bad label', () => {
    const cm = new ConfusionMatrix(3);
    assert.throws(() => cm.add(u8([0, 7]), u8([0, 0]), 'a.png'), /a\.png: label 7/);
  });
});
