import * as assert from 'assert';
import { tf, useTestBackend } from './helpers/tf';
import { ensureGradients } from '../../src/engine/gradients';
import { ridgeRegression, solveSpd } from '../../src/engine/fewshot/metasegnet/ridge';
import { Rng } from '../../src/engine/prng';

// ---- independent float64 references: Gaussian elimination with partial pivoting, ridge from (R1) ----
type Mat = number[][];
function jsSolve(a: Mat, b: Mat): Mat {
  const n = a.length, k = b[0].length;
  const m = a.map((row, i) => [...row, ...b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let j = c; j < n + k; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row, i) => row.slice(n).map((v) => v / m[i][i]));
}
/** (R1) directly: weighted means, centred normal equations Σ ω̂ x̃x̃ᵀ + λ_eff I, b = t̄ − x̄W. */
function jsRidge(x: Mat, t: Mat, omega: number[], lambda: number, relative: boolean): { w: Mat; b: number[] } {
  const n = x.length, d = x[0].length, k = t[0].length;
  const sum = omega.reduce((s, v) => s + v, 0), wh = omega.map((v) => v / sum);
  const xBar = Array.from({ length: d }, (_, j) => x.reduce((s, row, i) => s + wh[i] * row[j], 0));
  const tBar = Array.from({ length: k }, (_, j) => t.reduce((s, row, i) => s + wh[i] * row[j], 0));
  const xc = x.map((row) => row.map((v, j) => v - xBar[j])), tc = t.map((row) => row.map((v, j) => v - tBar[j]));
  let trace = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) trace += wh[i] * xc[i][j] ** 2;
  const lam = relative ? lambda * Math.max(trace / d, 1e-8) : lambda;
  const a: Mat = Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => {
    let s = p === q ? lam : 0;
    for (let i = 0; i < n; i++) s += wh[i] * xc[i][p] * xc[i][q];
    return s;
  }));
  const bb: Mat = Array.from({ length: d }, (_, p) => Array.from({ length: k }, (_, q) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += wh[i] * xc[i][p] * tc[i][q];
    return s;
  }));
  const w = jsSolve(a, bb);
  const b = tBar.map((v, q) => v - xBar.reduce((s, xv, p) => s + xv * w[p][q], 0));
  return { w, b };
}
const randMat = (rng: Rng, r: number, c: number): Mat => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
const t2 = (m: Mat) => tf.tensor2d(m);
function maxRelDiff(got: ArrayLike<number>, want: number[]): number {
  assert.strictEqual(got.length, want.length);
  const scale = Math.max(1e-3, ...want.map(Math.abs));
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
  return d / scale;
}
/** One-hot targets of random labels in 0..k−1. */
function oneHot(rng: Rng, n: number, k: number): Mat {
  return Array.from({ length: n }, () => { const r = new Array(k).fill(0); r[rng.int(k)] = 1; return r; });
}
function numericGrad(f: (x: Mat) => number, x: Mat, eps = 1e-5): number[] {
  const g: number[] = [];
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x[0].length; j++) {
    const p = x.map((r) => r.slice()), m = x.map((r) => r.slice());
    p[i][j] += eps; m[i][j] -= eps;
    g.push((f(p) - f(m)) / (2 * eps));
  }
  return g;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`MetaSegNet ridge base learner (${backend})`, () => {
    before(async () => { await useTestBackend(backend); ensureGradients(); });

    it('solveSpd matches a float64 pivoted elimination', () => {
      const rng = new Rng(1);
      const m = randMat(rng, 9, 7), b = randMat(rng, 7, 3);
      // A = MᵀM + I is SPD
      const a = Array.from({ length: 7 }, (_, p) => Array.from({ length: 7 }, (_, q) => m.reduce((s, r) => s + r[p] * r[q], p === q ? 1 : 0)));
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => solveSpd(t2(a), t2(b)).dataSync());
      assert.ok(maxRelDiff(got, jsSolve(a, b).flat()) < 1e-4);
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it('solveSpd gradients w.r.t. A and B match central differences of the float64 solve', () => {
      const rng = new Rng(2);
      const m = randMat(rng, 8, 5), b = randMat(rng, 5, 2), r = randMat(rng, 5, 2);
      const a = Array.from({ length: 5 }, (_, p) => Array.from({ length: 5 }, (_, q) => m.reduce((s, row) => s + row[p] * row[q], p === q ? 0.5 : 0)));
      const f = (aa: Mat, bb: Mat) => jsSolve(aa, bb).flat().reduce((s, v, i) => s + v * r.flat()[i], 0);
      const before = tf.memory().numTensors;
      const [ga, gb] = tf.tidy(() => {
        const g = tf.grads((A: tf.Tensor, B: tf.Tensor) => tf.sum(tf.mul(solveSpd(A as tf.Tensor2D, B as tf.Tensor2D), t2(r))))([t2(a), t2(b)]);
        return g.map((x) => x.dataSync());
      });
      assert.strictEqual(tf.memory().numTensors, before);
      assert.ok(maxRelDiff(ga, numericGrad((aa) => f(aa, b), a)) < 2e-3, 'dL/dA');
      assert.ok(maxRelDiff(gb, numericGrad((bb) => f(a, bb), b)) < 2e-3, 'dL/dB');
    });

    const cases = [
      { name: 'primal (n ≥ D)', n: 40, d: 6, zeros: [3, 17], want: 'primal' },
      { name: 'dual (active n < D)', n: 9, d: 12, zeros: [0, 4, 8], want: 'dual' },
    ];
    for (const c of cases) {
      for (const relative of [true, false]) {
        it(`${c.name}, ${relative ? 'relative' : 'absolute'} λ: auto picks ${c.want}; both forms equal the float64 ridge`, () => {
          const rng = new Rng(c.n * 7 + (relative ? 1 : 0));
          const x = randMat(rng, c.n, c.d).map((row) => row.map((v) => 3 * v + 1)), t = oneHot(rng, c.n, 3);
          const omega = Array.from({ length: c.n }, (_, i) => (c.zeros.includes(i) ? 0 : 0.5 + rng.next()));
          const want = jsRidge(x, t, omega, 0.3, relative);
          const before = tf.memory().numTensors;
          for (const form of ['auto', 'primal', 'dual'] as const) {
            const got = tf.tidy(() => {
              const fit = ridgeRegression(t2(x), t2(t), omega, { lambda: 0.3, relative, form });
              return { w: fit.w.dataSync(), b: fit.b.dataSync(), form: fit.form };
            });
            if (form === 'auto') assert.strictEqual(got.form, c.want);
            assert.ok(maxRelDiff(got.w, want.w.flat()) < 2e-4, `${form} W`);
            assert.ok(maxRelDiff(got.b, want.b) < 2e-4, `${form} b`);
          }
          assert.strictEqual(tf.memory().numTensors, before);
        });
      }
    }

    for (const c of cases) {
      it(`gradient of ${c.name} w.r.t. the embeddings matches central differences`, () => {
        const rng = new Rng(100 + c.n);
        const x = randMat(rng, c.n, c.d), t = oneHot(rng, c.n, 3);
        const omega = Array.from({ length: c.n }, (_, i) => (c.zeros.includes(i) ? 0 : 0.5 + rng.next()));
        const rw = randMat(rng, c.d, 3), rb = randMat(rng, 1, 3)[0];
        const f = (xx: Mat) => {
          const { w, b } = jsRidge(xx, t, omega, 0.3, true);
          return w.flat().reduce((s, v, i) => s + v * rw.flat()[i], 0) + b.reduce((s, v, i) => s + v * rb[i], 0);
        };
        const before = tf.memory().numTensors;
        const g = tf.tidy(() => tf.grad((X: tf.Tensor) => {
          const fit = ridgeRegression(X as tf.Tensor2D, t2(t), omega, { lambda: 0.3 });
          return tf.add(tf.sum(tf.mul(fit.w, t2(rw))), tf.sum(tf.mul(fit.b, tf.tensor2d([rb]))));
        })(t2(x)).dataSync());
        assert.strictEqual(tf.memory().numTensors, before);
        const want = numericGrad(f, x);
        assert.ok(maxRelDiff(g, want) < 3e-3, `max rel diff ${maxRelDiff(g, want)}`);
        // zero-weight samples do not take part: their rows get no gradient
        for (const i of c.zeros) for (let j = 0; j < c.d; j++) assert.ok(Math.abs(g[i * c.d + j]) < 1e-6);
      });
    }

    it('rejects a support with no positive weight', () => {
      const before = tf.memory().numTensors;
      assert.throws(() => tf.tidy(() => { ridgeRegression(tf.ones([3, 2]), tf.ones([3, 2]), [0, 0, 0], { lambda: 1 }); }), /no sample/);
      assert.strictEqual(tf.memory().numTensors, before);
    });
  });
}
