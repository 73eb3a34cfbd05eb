// Image-aware refinement of class probabilities (src/engine/label/quality): the box filter and the
// guided filter against naive O(r²) references written here, and both refinements (guided filter,
// bilateral-grid CRF) moving a blurry probability boundary onto a sharp colour edge.
import * as assert from 'assert';
import { boxMean } from '../../src/engine/label/quality/boxFilter';
import { crfFromLogits, crfRefine, denseCrf } from '../../src/engine/label/quality/crf';
import { colourGuide, guidedFilterPlane, guidedFilterProbs, guidedFromLogits } from '../../src/engine/label/quality/guidedFilter';
import { argmaxRows, renormaliseRows, upsampleSoftmax } from '../../src/engine/label/quality/probabilities';
import { Rng } from '../../src/engine/prng';
import type { RawImage } from '../../src/engine/types';

/** Mean over the clipped (2r+1)² window, by brute force. */
function naiveBox(src: ArrayLike<number>, h: number, w: number, r: number, y: number, x: number): number {
  let s = 0, n = 0;
  for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) { s += src[yy * w + xx]; n++; }
  return s / n;
}

/** 3×3 solve by Gaussian elimination with partial pivoting (float64). */
function solve3(a: number[][], b: number[]): number[] {
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < 3; r++) if (r !== c) { const f = m[r][c] / m[c][c]; for (let j = c; j < 4; j++) m[r][j] -= f * m[c][j]; }
  }
  return m.map((row, i) => row[3] / m[i][i]);
}

/** He et al.'s colour guided filter (eq. 14–16) with clipped windows, straight from the definitions. */
function naiveGuided(img: RawImage, p: Float32Array, r: number, eps: number): Float64Array {
  const { width: w, height: h } = img, n = w * h;
  const I = [0, 1, 2].map((c) => Float64Array.from({ length: n }, (_, i) => img.data[i * 3 + c] / 255));
  const a = [new Float64Array(n), new Float64Array(n), new Float64Array(n)], b = new Float64Array(n);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const win: number[] = [];
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) win.push(yy * w + xx);
    const mu = [0, 1, 2].map((c) => win.reduce((s, i) => s + I[c][i], 0) / win.length);
    const pm = win.reduce((s, i) => s + p[i], 0) / win.length;
    const cov = [0, 1, 2].map((c) => [0, 1, 2].map((d) => win.reduce((s, i) => s + I[c][i] * I[d][i], 0) / win.length - mu[c] * mu[d] + (c === d ? eps : 0)));
    const cip = [0, 1, 2].map((c) => win.reduce((s, i) => s + I[c][i] * p[i], 0) / win.length - mu[c] * pm);
    const ak = solve3(cov, cip), k = y * w + x;
    ak.forEach((v, c) => { a[c][k] = v; });
    b[k] = pm - ak[0] * mu[0] - ak[1] * mu[1] - ak[2] * mu[2];
  }
  const q = new Float64Array(n);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    q[i] = naiveBox(a[0], h, w, r, y, x) * I[0][i] + naiveBox(a[1], h, w, r, y, x) * I[1][i] + naiveBox(a[2], h, w, r, y, x) * I[2][i] + naiveBox(b, h, w, r, y, x);
  }
  return q;
}

function randomImage(size: number, seed: number): RawImage {
  const rng = new Rng(seed);
  return { width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng.next() * 256)) };
}

/** A sharp vertical colour edge at x = edge: red left, blue right; probabilities of class 1 rise smoothly around x = centre. */
function edgeCase(size: number, edge: number, centre: number, softness: number): { img: RawImage; probs: Float32Array } {
  const img: RawImage = { width: size, height: size, data: new Uint8Array(size * size * 3) };
  const probs = new Float32Array(size * size * 2);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = y * size + x;
    img.data.set(x < edge ? [200, 40, 30] : [30, 40, 200], i * 3);
    const p1 = 1 / (1 + Math.exp(-(x + 0.5 - centre) / softness));
    probs[i * 2] = 1 - p1;
    probs[i * 2 + 1] = p1;
  }
  return { img, probs };
}

/** Columns where row `y` of a label map switches from 0 to 1 (expects exactly one switch). */
function boundaryColumn(labels: Uint8Array, size: number, y: number): number {
  const row = Array.from(labels.subarray(y * size, (y + 1) * size));
  const first = row.indexOf(1);
  assert.ok(first > 0 && row.slice(first).every((v) => v === 1) && row.slice(0, first).every((v) => v === 0), `row ${y} is not one 0→1 step: ${row.join('')}`);
  return first;
}

describe('label refinement: box and guided filters', () => {
  it('box mean equals the brute-force clipped-window mean (radius 0, 1, 3, larger than the image)', () => {
    const h = 9, w = 13, rng = new Rng(3), src = Float32Array.from({ length: h * w }, () => rng.next());
    for (const r of [0, 1, 3, 20]) {
      const got = boxMean(src, h, w, r);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        assert.ok(Math.abs(got[y * w + x] - naiveBox(src, h, w, r, y, x)) < 1e-5, `r=${r} at (${x},${y})`);
      }
    }
  });

  it('the exact guided filter (subsample 1) equals a naive O(r²) implementation of He et al. eq. 14–16', () => {
    const size = 20, img = randomImage(size, 11), rng = new Rng(5);
    const p = Float32Array.from({ length: size * size }, () => rng.next());
    for (const [r, eps] of [[2, 0.01], [4, 0.1]] as const) {
      const got = guidedFilterPlane(colourGuide(img, { radius: r, eps, subsample: 1 }), p);
      const want = naiveGuided(img, p, r, eps);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst < 2e-4, `r=${r} eps=${eps}: max difference ${worst}`);
    }
  });

  it('filtering a constant probability map leaves it unchanged', () => {
    const size = 24, img = randomImage(size, 2), p = new Float32Array(size * size).fill(0.3);
    const q = guidedFilterPlane(colourGuide(img, { radius: 5, eps: 0.01, subsample: 2 }), p);
    assert.ok(q.every((v) => Math.abs(v - 0.3) < 1e-4));
  });

  for (const subsample of [1, 4]) {
    it(`guided filter (subsample ${subsample}) moves a blurry boundary 6 px off onto the colour edge; rows sum to 1`, () => {
      const size = 64, { img, probs } = edgeCase(size, 32, 26, 3);
      assert.strictEqual(boundaryColumn(argmaxRows(probs, 2), size, 10), 26);
      guidedFilterProbs(colourGuide(img, { radius: 12, eps: 1e-3, subsample }), probs, 2);
      renormaliseRows(probs, 2);
      for (let i = 0; i < size * size; i++) assert.ok(Math.abs(probs[2 * i] + probs[2 * i + 1] - 1) < 1e-5);
      const labels = argmaxRows(probs, 2);
      for (const y of [0, 10, 32, 63]) assert.ok(Math.abs(boundaryColumn(labels, size, y) - 32) <= 1, `row ${y}: boundary at ${boundaryColumn(labels, size, y)}`);
    });
  }
});

describe('label refinement: bilateral-grid dense CRF', () => {
  for (const subsample of [1, 2]) {
    it(`moves a blurry boundary 6 px off onto the colour edge (iterating on every ${subsample === 1 ? '' : '2nd '}pixel); rows sum to 1`, () => {
      const size = 64, { img, probs } = edgeCase(size, 32, 26, 3);
      denseCrf(img, probs, 2, { sigmaXY: 16, sigmaLuma: 16, weight: 4, iterations: 5, subsample });
      for (let i = 0; i < size * size; i++) assert.ok(Math.abs(probs[2 * i] + probs[2 * i + 1] - 1) < 1e-5);
      const labels = argmaxRows(probs, 2);
      for (const y of [0, 10, 32, 63]) assert.ok(Math.abs(boundaryColumn(labels, size, y) - 32) <= 1, `row ${y}: boundary at ${boundaryColumn(labels, size, y)}`);
    });
  }

  it('with 3 classes: keeps rows summing to 1 and a uniform image leaves a confident map as it was', () => {
    const size = 32, img: RawImage = { width: size, height: size, data: new Uint8Array(size * size * 3).fill(128) };
    const probs = new Float32Array(size * size * 3);
    for (let i = 0; i < size * size; i++) probs.set(i % size < 10 ? [0.9, 0.05, 0.05] : i % size < 20 ? [0.05, 0.9, 0.05] : [0.05, 0.05, 0.9], i * 3);
    const before = argmaxRows(probs, 3);
    denseCrf(img, probs, 3, { sigmaXY: 4, sigmaLuma: 16, weight: 1, iterations: 3, subsample: 1 });
    for (let i = 0; i < size * size; i++) assert.ok(Math.abs(probs[3 * i] + probs[3 * i + 1] + probs[3 * i + 2] - 1) < 1e-5);
    const after = argmaxRows(probs, 3);
    let changed = 0;
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed++;
    assert.strictEqual(changed, 0);
  });
});

describe('label refinement straight from feature-grid logits', () => {
  // An 8×8 logit grid over a 64×64 image (8-px cells): class 1 wins right of x = `cross` once
  // upsampled, while the colour edge is at x = 32. The own strokes (a column of class 0 at x = 40)
  // must be kept. The guided filter only moves a boundary within the band where the input is unsure
  // (a soft 8-px offset leaves it at x = 29: a windowed linear fit, not a decision), so it gets a
  // 4-px offset with a steeper ramp; the CRF gets 8 px.
  const size = 64, h = 8;
  const gridLogits = (cross: number, slope: number) => {
    const l = new Float32Array(h * h * 2);
    for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) l[(y * h + x) * 2 + 1] = ((x + 0.5) * 8 - cross) / slope;
    return l;
  };
  const { img } = edgeCase(size, 32, 0, 1);
  const own = new Uint8Array(size * size).fill(254);
  for (let y = 0; y < size; y++) own[y * size + 40] = 0;

  it('the plain upsampling puts the boundary 4 and 8 px off the edge (the cases are real tests)', () => {
    assert.strictEqual(boundaryColumn(argmaxRows(upsampleSoftmax(gridLogits(28, 3), h, h, 2, size), 2), size, 5), 28);
    assert.strictEqual(boundaryColumn(argmaxRows(upsampleSoftmax(gridLogits(24, 6), h, h, 2, size), 2), size, 5), 24);
  });

  for (const [name, refine] of [
    ['guided filter', () => guidedFromLogits(colourGuide(img, { radius: 12, eps: 1e-3, subsample: 4 }), gridLogits(28, 3), h, h, 2, own)],
    ['CRF', () => crfFromLogits(img, gridLogits(24, 6), h, h, 2, { sigmaXY: 16, sigmaLuma: 16, weight: 4, iterations: 5, subsample: 2 }, own)],
  ] as const) {
    it(`${name}: the boundary lands on the colour edge, rows sum to 1, strokes keep their label`, () => {
      const probs = refine();
      for (let i = 0; i < size * size; i++) assert.ok(Math.abs(probs[2 * i] + probs[2 * i + 1] - 1) < 1e-5);
      const labels = argmaxRows(probs, 2);
      for (let y = 0; y < size; y++) assert.strictEqual(labels[y * size + 40], 0, `stroke pixel (40, ${y})`);
      for (const y of [3, 30, 60]) {
        const row = Array.from(labels.subarray(y * size, (y + 1) * size));
        assert.strictEqual(row.indexOf(1), 32, `row ${y}: ${row.join('')}`);
      }
    });
  }

  it('CRF labels without probabilities (the stroke path) are the argmax of the probabilities it computes when asked', () => {
    const rng = new Rng(9), S = 64, k1 = 3;
    const img: RawImage = { width: S, height: S, data: Uint8Array.from({ length: S * S * 3 }, (_, i) => (Math.floor(i / 3) % S < 30 ? 40 : 200) + rng.int(30)) };
    const logits = Float32Array.from({ length: 8 * 8 * k1 }, () => (rng.next() - 0.5) * 6);
    const own = new Uint8Array(S * S).fill(254);
    for (let x = 5; x < 20; x++) own[10 * S + x] = 2;
    for (const subsample of [1, 4]) {
      const o = { sigmaXY: 8, sigmaLuma: 16, weight: 4, iterations: 5, subsample };
      const r = crfRefine(img, logits, 8, 8, k1, o, own);
      const probs = r.probs();
      assert.deepStrictEqual(Array.from(probs), Array.from(crfFromLogits(img, logits, 8, 8, k1, o, own)), 'the same probabilities as crfFromLogits');
      assert.strictEqual(r.probs(), probs, 'computed once');
      const arg = argmaxRows(probs, k1);
      let differ = 0;
      for (let i = 0; i < S * S; i++) {
        if (r.labels[i] === arg[i]) continue;
        const p = Array.from(probs.subarray(i * k1, (i + 1) * k1)).sort((a, b) => b - a);
        assert.ok(p[0] - p[1] < 1e-6, `pixel ${i}: label ${r.labels[i]} but probabilities ${Array.from(probs.subarray(i * k1, (i + 1) * k1))}`);
        differ++;
      }
      assert.ok(differ <= 2, `${differ} near-ties differ`);
      assert.strictEqual(r.labels[10 * S + 7], 2, 'a stroke pixel keeps its label');
    }
  });
});
