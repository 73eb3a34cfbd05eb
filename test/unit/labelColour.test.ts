// The image's own colour model in the CRF's unary (src/engine/label/quality/colourModel.ts): which
// pixels it learns from, that it is off when asked, and that it separates two regions of EQUAL luma —
// the case the luma-only CRF kernel cannot tell apart — from a stroke in each.
import * as assert from 'assert';
import { colourBin, colourTerm, type ColourModelOptions } from '../../src/engine/label/quality/colourModel';
import { crfFromLogits } from '../../src/engine/label/quality/crf';
import type { RawImage } from '../../src/engine/types';

const S = 48;
// equal luma (0.299 R + 0.587 G + 0.114 B): 94.9 and 94.8
const RED: [number, number, number] = [200, 50, 50];
const GREEN: [number, number, number] = [40, 133, 70];
const OPTS: ColourModelOptions = { weight: 2, levels: 16, sure: 0.8, strokeWeight: 16, prior: 1, minPixels: 10, step: 1, strokesOnly: true };
const CRF = { sigmaXY: 24, sigmaLuma: 16, weight: 4, iterations: 5, subsample: 3 };

/** Left half red, right half green. */
function halves(): RawImage {
  const data = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) data.set(x < S / 2 ? RED : GREEN, (y * S + x) * 3);
  return { width: S, height: S, data };
}

/** A 6×6 stroke of class 1 in the top-left corner and of background (0) in the top-right; 254 elsewhere. */
function strokes(): Uint8Array {
  const own = new Uint8Array(S * S).fill(254);
  for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) {
    own[y * S + x] = 1;
    own[y * S + S - 1 - x] = 0;
  }
  return own;
}

const flat = (h: number, w: number, k1: number) => new Float32Array(h * w * k1); // the classifier knows nothing

describe('colour model of the image being labelled', () => {
  it('is off at weight 0, and with strokesOnly for an image without strokes', () => {
    assert.strictEqual(colourTerm(halves(), flat(3, 3, 2), 3, 3, 2, { ...OPTS, weight: 0 }, strokes()), undefined);
    assert.strictEqual(colourTerm(halves(), flat(3, 3, 2), 3, 3, 2, OPTS), undefined);
  });

  it('learns each class\'s colours from the strokes when the classifier is sure of nothing', () => {
    const t = colourTerm(halves(), flat(3, 3, 2), 3, 3, 2, OPTS, strokes())!;
    assert.ok(t, 'a colour term');
    const red = colourBin(t, ...RED) * 2, green = colourBin(t, ...GREEN) * 2;
    assert.ok(t.table[red + 1] > t.table[red] + 1, `red favours class 1: ${t.table[red + 1]} vs ${t.table[red]}`);
    assert.ok(t.table[green] > t.table[green + 1] + 1, `green favours background: ${t.table[green]} vs ${t.table[green + 1]}`);
  });

  it('learns from the classifier\'s sure pixels too, and gives a class with too few a neutral column', () => {
    // logits: class 1 sure on the left grid column, nothing else sure; no strokes (strokesOnly off)
    const lg = flat(3, 3, 2);
    for (let y = 0; y < 3; y++) lg[(y * 3) * 2 + 1] = 8;
    const t = colourTerm(halves(), lg, 3, 3, 2, { ...OPTS, strokesOnly: false })!;
    const red = colourBin(t, ...RED) * 2;
    // background has no sure pixel: its column is the mean of the others' (here: class 1's), so neutral
    assert.strictEqual(t.table[red], t.table[red + 1]);
  });

  it('separates two regions of equal luma that the luma-only CRF cannot', () => {
    const img = halves(), own = strokes(), lg = flat(3, 3, 2);
    const withColour = crfFromLogits(img, lg, 3, 3, 2, CRF, own, colourTerm(img, lg, 3, 3, 2, OPTS, own));
    const without = crfFromLogits(img, lg, 3, 3, 2, CRF, own);
    const p1 = (q: Float32Array, x: number, y: number) => q[(y * S + x) * 2 + 1];
    // the bottom corners, far from both strokes
    const bl = [p1(withColour, 4, S - 4), p1(without, 4, S - 4)], br = [p1(withColour, S - 4, S - 4), p1(without, S - 4, S - 4)];
    assert.ok(bl[0] > 0.9 && br[0] < 0.1, `with the colour model: red corner ${bl[0].toFixed(3)}, green corner ${br[0].toFixed(3)}`);
    assert.ok(Math.abs(bl[1] - br[1]) < 0.2, `without it the two are alike: ${bl[1].toFixed(3)} vs ${br[1].toFixed(3)}`);
  });
});
