// The custom-gradient dilated conv against numeric central differences (an independent computation):
// the forward value is checked against a naive loop, and both gradients against finite differences of
// that same naive loop in float64, so neither side uses the code under test.
import * as assert from 'assert';
import { useTestBackend, tf } from './helpers/tf';
import { conv3x3 } from '../../src/engine/nets/conv';
import { Rng } from '../../src/engine/prng';
import { ensureGradients } from '../../src/engine/gradients';

const B = 1, H = 6, W = 5, CI = 3, CO = 2;

/** Naive 'same' dilated correlation in float64: y[b,i,j,o] = Σ x[b, i+(kh-1)d, j+(kw-1)d, c] w[kh,kw,c,o]. */
function naiveConv(x: Float64Array, w: Float64Array, d: number): Float64Array {
  const y = new Float64Array(B * H * W * CO);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let o = 0; o < CO; o++) {
          let s = 0;
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++) {
              const ii = i + (kh - 1) * d, jj = j + (kw - 1) * d;
              if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
              for (let c = 0; c < CI; c++) s += x[((b * H + ii) * W + jj) * CI + c] * w[((kh * 3 + kw) * CI + c) * CO + o];
            }
          y[((b * H + i) * W + j) * CO + o] = s;
        }
  return y;
}

/** Loss = Σ r ⊙ y with a fixed random r, so every output element contributes a different weight. */
function loss(x: Float64Array, w: Float64Array, r: Float64Array, d: number): number {
  const y = naiveConv(x, w, d);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += r[i] * y[i];
  return s;
}

function numericGrad(f: (v: Float64Array) => number, v: Float64Array, eps = 1e-4): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + eps; const fp = f(v);
    v[i] = keep - eps; const fm = f(v);
    v[i] = keep;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

function rand(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`conv3x3 with custom gradient (${backend})`, () => {
    before(async () => {
      ensureGradients(); // tfjs-core's Node build registers no gradients for Sum, Mul, ReLU...
      await useTestBackend(backend);
    });

    for (const d of [1, 2]) {
      it(`dilation ${d}: value matches a naive loop, dx and dW match numeric central differences`, async () => {
        const rng = new Rng(100 + d);
        const x = rand(B * H * W * CI, rng), w = rand(9 * CI * CO, rng), r = rand(B * H * W * CO, rng);
        const before = tf.memory().numTensors;
        const xt = tf.tensor4d(Float32Array.from(x), [B, H, W, CI]);
        const wt = tf.tensor4d(Float32Array.from(w), [3, 3, CI, CO]);
        const rt = tf.tensor4d(Float32Array.from(r), [B, H, W, CO]);
        const y = conv3x3(xt, wt, d);
        const yv = await y.data();
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv3x3(a as tf.Tensor4D, b as tf.Tensor4D, d), rt)))([xt, wt]);
        const [dx, dw] = await Promise.all(grads.map((g) => g.data()));
        const lv = (await value.data())[0];
        tf.dispose([xt, wt, rt, y, value, ...grads]);
        assert.strictEqual(tf.memory().numTensors, before, 'no tensors leak');

        assert.ok(maxAbsDiff(yv, naiveConv(x, w, d)) < 1e-4, 'forward value');
        assert.ok(Math.abs(lv - loss(x, w, r, d)) < 1e-3, 'loss value');
        const ndx = numericGrad((v) => loss(v, w, r, d), x);
        const ndw = numericGrad((v) => loss(x, v, r, d), w);
        // loss is linear in each argument, so central differences are exact up to float64 rounding;
        // the float32 analytic gradient is what limits agreement.
        assert.ok(maxAbsDiff(dx, ndx) < 1e-4, `dx max diff ${maxAbsDiff(dx, ndx)}`);
        assert.ok(maxAbsDiff(dw, ndw) < 1e-4, `dW max diff ${maxAbsDiff(dw, ndw)}`);
        // Guard against a vacuous pass: the gradients are not all zero.
        assert.ok(ndw.some((g) => Math.abs(g) > 0.1) && ndx.some((g) => Math.abs(g) > 0.1));
      });
    }

    it('dilation 2 gradient through a nonlinearity (ReLU², batch 2) matches numeric differences', async () => {
      // A nonlinear loss checks that the custom gradient composes with other ops' gradients.
      const rng = new Rng(7);
      const shape: [number, number, number, number] = [2, 5, 4, 2];
      const x = Float32Array.from({ length: 2 * 5 * 4 * 2 }, () => rng.uniform(-1, 1));
      const w = Float32Array.from({ length: 9 * 2 * 3 }, () => rng.uniform(-1, 1));
      const f = (xa: tf.Tensor, wa: tf.Tensor) => tf.sum(tf.square(tf.relu(conv3x3(xa as tf.Tensor4D, wa as tf.Tensor4D, 2))));
      const xt = tf.tensor4d(x, shape), wt = tf.tensor4d(w, [3, 3, 2, 3]);
      const g = tf.grads(f)([xt, wt]);
      const dw = await g[1].data();
      tf.dispose(g);
      // numeric: finite differences of the forward value (itself checked against the naive loop above)
      const L = (wv: Float32Array) => tf.tidy(() => f(xt, tf.tensor4d(wv, [3, 3, 2, 3])).dataSync()[0]);
      const eps = 1e-2;
      for (const i of [0, 7, 20, 53]) {
        const wp = Float32Array.from(w); wp[i] += eps;
        const wm = Float32Array.from(w); wm[i] -= eps;
        const num = (L(wp) - L(wm)) / (2 * eps);
        assert.ok(Math.abs(num - dw[i]) < 2e-2 * Math.max(1, Math.abs(num)), `dW[${i}] numeric ${num} vs ${dw[i]}`);
      }
      tf.dispose([xt, wt]);
    });
  });
}
