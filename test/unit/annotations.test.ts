import * as assert from 'assert';
import { ANN_BG, ANN_FG, ANN_UNLABELED, boxAnnotation, connectedComponents, denseAnnotation, foregroundMap, scribbleAnnotation } from '../../src/engine/fewshot/annotations';
import { openDisk, squaredDistance, thin } from '../../src/engine/fewshot/scribble';
import { Rng } from '../../src/engine/prng';
import { IndexMask } from '../../src/engine/types';

const F = ANN_FG, B = ANN_BG, U = ANN_UNLABELED;
const mask = (width: number, rows: number[][]): IndexMask => ({ width, height: rows.length, data: Uint8Array.from(rows.flat()) });

describe('denseAnnotation', () => {
  it('fg = class, bg = not an episode class, 255 and other episode classes unlabeled', () => {
    const m = mask(3, [[0, 1, 2], [3, 255, 1]]);
    assert.deepStrictEqual([...denseAnnotation(m, 1, [1, 2]).data], [B, F, U, B, U, F]);
  });
});

describe('foregroundMap', () => {
  it('value where the annotation says foreground (soft: fg weight above bg), 0 for background and unlabeled', () => {
    assert.deepStrictEqual([...foregroundMap({ width: 2, height: 2, data: Uint8Array.from([F, B, U, F]) }, 7)], [7, 0, 0, 7]);
    const soft = { width: 3, height: 1, fg: Float32Array.from([0.6, 0.5, 0.1]), bg: Float32Array.from([0.4, 0.5, 0.2]) };
    assert.deepStrictEqual([...foregroundMap(soft)], [1, 0, 0]);
  });
});

describe('boxAnnotation', () => {
  // class 1 has two instances (ids 1: 2×2 at top-left, 2: 1 pixel at bottom-right); class 2 elsewhere
  const m = mask(5, [
    [1, 1, 0, 0, 0],
    [1, 255, 0, 2, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
  ]);
  const inst = mask(5, [
    [1, 1, 0, 0, 0],
    [1, 255, 0, 3, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 2],
  ]);
  it("'largest' boxes the biggest instance; other boxes unlabeled; 255 stays unlabeled", () => {
    const a = boxAnnotation(m, inst, 1, new Rng(1), { pick: 'largest' });
    assert.deepStrictEqual([...a.data], [
      F, F, B, B, B,
      F, U, B, B, B,
      B, B, B, B, B,
      B, B, B, B, U,
    ]);
  });
  it("'random' draws each instance for some seed, the same one for the same seed", () => {
    const fgAt = (seed: number): number => boxAnnotation(m, inst, 1, new Rng(seed)).data.indexOf(F);
    const seen = new Set(Array.from({ length: 40 }, (_, s) => fgAt(s)));
    assert.deepStrictEqual([...seen].sort((a, b) => a - b), [0, 19]);
    assert.strictEqual(fgAt(7), fgAt(7));
  });
  it('without instances uses 8-connected components (diagonal pixels join)', () => {
    const diag = mask(4, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]);
    const a = boxAnnotation(diag, null, 1, new Rng(3), { pick: 'largest' });
    assert.deepStrictEqual([...a.data], [F, F, B, B, F, F, B, B, B, B, B, U]);
    assert.strictEqual(connectedComponents(Uint8Array.from([1, 0, 0, 1]), 2, 2).count, 1);
  });
  it('a class absent from the mask gives no fg', () => {
    assert.ok(!boxAnnotation(m, null, 9, new Rng(1)).data.includes(F));
  });
});

describe('scribble robot pieces', () => {
  it('squaredDistance matches brute force', () => {
    const r = new Rng(5), w = 9, h = 7, src = Uint8Array.from({ length: w * h }, () => (r.next() < 0.15 ? 1 : 0));
    src[0] = 1;
    const d = squaredDistance(src, w, h);
    for (let p = 0; p < w * h; p++) {
      let best = Infinity;
      for (let q = 0; q < w * h; q++) if (src[q]) best = Math.min(best, (p % w - q % w) ** 2 + (Math.floor(p / w) - Math.floor(q / w)) ** 2);
      assert.strictEqual(d[p], best, `pixel ${p}`);
    }
  });
  it('openDisk matches brute-force erosion then dilation with the disk', () => {
    const r = new Rng(8), w = 14, h = 12, region = Uint8Array.from({ length: w * h }, () => (r.next() < 0.8 ? 1 : 0));
    const rad = 2.3, disk: Array<[number, number]> = [];
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) if (dx * dx + dy * dy <= rad * rad) disk.push([dx, dy]);
    const at = (img: Uint8Array, x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : img[y * w + x]);
    const er = new Uint8Array(w * h), op = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) er[y * w + x] = disk.every(([dx, dy]) => at(region, x + dx, y + dy)) ? 1 : 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) op[y * w + x] = disk.some(([dx, dy]) => at(er, x + dx, y + dy)) ? 1 : 0;
    assert.deepStrictEqual([...openDisk(region, w, h, rad)], [...op]);
  });
  it('thinning a bar leaves a one-pixel line inside it', () => {
    const w = 20, h = 7, bar = new Uint8Array(w * h);
    for (let y = 1; y <= 5; y++) for (let x = 2; x <= 17; x++) bar[y * w + x] = 1;
    const s = thin(bar, w, h);
    let n = 0;
    for (let i = 0; i < s.length; i++) if (s[i]) { n++; assert.ok(bar[i]); }
    assert.ok(n >= 8 && n <= 16, `skeleton pixels ${n}`);
    for (let x = 0; x < w; x++) assert.ok([0, 1, 2, 3, 4, 5, 6].filter((y) => s[y * w + x]).length <= 1, `column ${x} thicker than 1`);
  });
});

describe('scribbleAnnotation', () => {
  const W = 60, H = 40;
  const m: IndexMask = { width: W, height: H, data: new Uint8Array(W * H) };
  for (let y = 10; y < 30; y++) for (let x = 15; x < 45; x++) m.data[y * W + x] = 1; // object
  for (let x = 0; x < W; x++) m.data[x] = 255; // an ignore row
  it('thin fg strokes inside the object, bg strokes inside the background, the rest unlabeled', () => {
    const a = scribbleAnnotation(m, 1, new Rng(2));
    let fg = 0, bg = 0;
    for (let i = 0; i < a.data.length; i++) {
      if (a.data[i] === F) { fg++; assert.strictEqual(m.data[i], 1); }
      if (a.data[i] === B) { bg++; assert.strictEqual(m.data[i], 0); }
    }
    assert.ok(fg > 5 && fg < 0.2 * 600, `fg stroke pixels ${fg}`);
    assert.ok(bg > 5 && bg < 0.2 * (W * H - 600), `bg stroke pixels ${bg}`);
    assert.deepStrictEqual(scribbleAnnotation(m, 1, new Rng(2)).data, a.data);
  });
  it('keeps ONE fg stroke when the class has several parts', () => {
    const two: IndexMask = { width: W, height: H, data: new Uint8Array(W * H) };
    for (let y = 5; y < 35; y++) for (let x = 5; x < 20; x++) two.data[y * W + x] = 1;
    for (let y = 5; y < 35; y++) for (let x = 38; x < 55; x++) two.data[y * W + x] = 1;
    const sides = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const a = scribbleAnnotation(two, 1, new Rng(s));
      let left = 0, right = 0;
      a.data.forEach((v, i) => { if (v === F) { if (i % W < 30) left++; else right++; } });
      assert.ok((left > 0) !== (right > 0), 'exactly one object scribbled');
      sides.add(left ? 'L' : 'R');
    }
    assert.strictEqual(sides.size, 2);
  });
});
