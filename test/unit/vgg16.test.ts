// PANet's VGG-16 encoder against independent computations: a naive float64 re-implementation of the
// whole network written from the paper's description (not from vgg16.ts), a naive torch-style max-pool,
// and hand-placed torchvision/PANet state-dict values.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useTestBackend, tf } from './helpers/tf';
import { Vgg16, vgg16OutSize } from '../../src/engine/nets/vgg16';
import { maxPool3x3 } from '../../src/engine/nets/pool';
import { createBackbone } from '../../src/engine/nets/backbone';
import { encodeSafetensors, type TensorToWrite } from '../../src/engine/nets/safetensors';
import { DataError } from '../../src/engine/errors';
import { Rng } from '../../src/engine/prng';

interface Map3 { h: number; w: number; c: number; v: Float64Array } // HWC

/** torch MaxPool2d(3, stride, padding=1): padding never wins a max. */
function naivePool(x: Map3, s: number): Map3 {
  const h = Math.floor((x.h + 2 - 3) / s) + 1, w = Math.floor((x.w + 2 - 3) / s) + 1;
  const v = new Float64Array(h * w * x.c);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let c = 0; c < x.c; c++) {
        let m = -Infinity;
        for (let a = i * s - 1; a <= i * s + 1; a++)
          for (let b = j * s - 1; b <= j * s + 1; b++)
            if (a >= 0 && a < x.h && b >= 0 && b < x.w) m = Math.max(m, x.v[(a * x.w + b) * x.c + c]);
        v[(i * w + j) * x.c + c] = m;
      }
  return { h, w, c: x.c, v };
}

/** torch Conv2d(k=3, padding=d, dilation=d), weight given in tfjs layout [kh][kw][cin][cout]. */
function naiveConv(x: Map3, wt: Float32Array, bias: Float32Array, cout: number, d: number, relu: boolean): Map3 {
  const v = new Float64Array(x.h * x.w * cout);
  for (let i = 0; i < x.h; i++)
    for (let j = 0; j < x.w; j++) {
      const acc = new Float64Array(cout);
      for (let o = 0; o < cout; o++) acc[o] = bias[o];
      for (let kh = 0; kh < 3; kh++) {
        const a = i + (kh - 1) * d;
        if (a < 0 || a >= x.h) continue;
        for (let kw = 0; kw < 3; kw++) {
          const b = j + (kw - 1) * d;
          if (b < 0 || b >= x.w) continue;
          for (let c = 0; c < x.c; c++) {
            const xv = x.v[(a * x.w + b) * x.c + c];
            const base = ((kh * 3 + kw) * x.c + c) * cout;
            for (let o = 0; o < cout; o++) acc[o] += xv * wt[base + o];
          }
        }
      }
      for (let o = 0; o < cout; o++) v[(i * x.w + j) * cout + o] = relu ? Math.max(0, acc[o]) : acc[o];
    }
  return { h: x.h, w: x.w, c: cout, v };
}

/** The encoder as papers.md describes it, spelled out independently of vgg16.ts. */
function naivePanetVgg(img: Map3, p: Record<string, { data: Float32Array | Int32Array }>): Map3 {
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  let x: Map3 = { ...img, v: img.v.map((val, k) => (val / 255 - mean[k % 3]) / std[k % 3]) };
  const conv = (name: string, cout: number, d = 1, relu = true) => {
    x = naiveConv(x, p[`${name}.weight`].data as Float32Array, p[`${name}.bias`].data as Float32Array, cout, d, relu);
  };
  conv('conv1_1', 64); conv('conv1_2', 64); x = naivePool(x, 2);
  conv('conv2_1', 128); conv('conv2_2', 128); x = naivePool(x, 2);
  conv('conv3_1', 256); conv('conv3_2', 256); conv('conv3_3', 256); x = naivePool(x, 2);
  conv('conv4_1', 512); conv('conv4_2', 512); conv('conv4_3', 512); x = naivePool(x, 1);
  conv('conv5_1', 512, 2); conv('conv5_2', 512, 2); conv('conv5_3', 512, 2, false);
  return x;
}

const TV_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
const CONVS: [string, number, number][] = [
  ['conv1_1', 3, 64], ['conv1_2', 64, 64], ['conv2_1', 64, 128], ['conv2_2', 128, 128],
  ['conv3_1', 128, 256], ['conv3_2', 256, 256], ['conv3_3', 256, 256],
  ['conv4_1', 256, 512], ['conv4_2', 512, 512], ['conv4_3', 512, 512],
  ['conv5_1', 512, 512], ['conv5_2', 512, 512], ['conv5_3', 512, 512],
];

describe('PANet VGG-16 encoder', function () {
  this.timeout(300000);
  before(() => useTestBackend('wasm'));

  it('maxPool3x3 equals torch MaxPool2d(3, s, padding=1) on odd and even sizes, negative values', async () => {
    const rng = new Rng(5);
    for (const [h, w] of [[7, 6], [8, 9], [5, 5], [4, 4]]) {
      for (const s of [1, 2] as const) {
        // all-negative inputs would expose zero padding (a 0 would win the max at borders)
        const v = Float64Array.from({ length: h * w * 2 }, () => rng.uniform(-5, -1));
        const want = naivePool({ h, w, c: 2, v }, s);
        const got = tf.tidy(() => maxPool3x3(tf.tensor4d(Float32Array.from(v), [1, h, w, 2]), s));
        assert.deepStrictEqual(got.shape, [1, want.h, want.w, 2], `shape ${h}x${w} s${s}`);
        const g = await got.data();
        got.dispose();
        for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - want.v[i]) < 1e-6, `${h}x${w} s${s} at ${i}`);
      }
    }
  });

  it('whole encoder matches a naive float64 implementation (18×13 input, random init)', async () => {
    const arrays = Vgg16.randomArrays(11);
    const net = new Vgg16(arrays);
    const rng = new Rng(3);
    const H = 18, W = 13;
    const img = Float64Array.from({ length: H * W * 3 }, () => rng.uniform(0, 255));
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(Float32Array.from(img), [1, H, W, 3]);
    const y = net.features(x);
    const got = await y.data();
    assert.deepStrictEqual(y.shape, [1, 3, 2, 512]); // ceil(18/8), ceil(13/8)
    tf.dispose([x, y]);
    assert.strictEqual(tf.memory().numTensors, before, 'features() leaks no tensors');
    const want = naivePanetVgg({ h: H, w: W, c: 3, v: img }, arrays);
    let maxErr = 0, maxRef = 0, negatives = 0;
    for (let i = 0; i < got.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i] - want.v[i]));
      maxRef = Math.max(maxRef, Math.abs(want.v[i]));
      if (want.v[i] < 0) negatives++;
    }
    assert.ok(maxErr < 1e-4 * Math.max(1, maxRef), `max error ${maxErr} (max |ref| ${maxRef})`);
    assert.ok(negatives > 0, 'no ReLU after conv5_3: some outputs are negative');
    net.dispose();
  });

  it('output shape: 417² → 53², 321² → 41² (ceil(n/8)); no tensors leak', async () => {
    assert.strictEqual(vgg16OutSize(417), 53);
    assert.strictEqual(vgg16OutSize(321), 41);
    const bb = await createBackbone({ id: 'vgg16', seed: 2 });
    assert.match(bb.weightsSource, /random-init\(seed=2\)/);
    assert.match(bb.weightsHash, /^[0-9a-f]{12}$/);
    for (const n of [417, 321]) {
      const before = tf.memory().numTensors;
      const x = tf.zeros([1, n, n, 3]) as tf.Tensor4D;
      const y = bb.features(x);
      assert.deepStrictEqual(y.shape, [1, Math.ceil(n / 8), Math.ceil(n / 8), 512]);
      tf.dispose([x, y]);
      assert.strictEqual(tf.memory().numTensors, before);
    }
    bb.dispose();
  });

  it('random init is seeded (same seed same values, other seed other values); Kaiming std per layer', async () => {
    const a = Vgg16.randomArrays(4), b = Vgg16.randomArrays(4), c = Vgg16.randomArrays(5);
    assert.deepStrictEqual(a['conv3_2.weight'].data.slice(0, 50), b['conv3_2.weight'].data.slice(0, 50));
    assert.notDeepStrictEqual(a['conv3_2.weight'].data.slice(0, 50), c['conv3_2.weight'].data.slice(0, 50));
    const w = a['conv2_1.weight'].data as Float32Array;
    const sd = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(sd - Math.sqrt(2 / (9 * 64))) < 0.01 * Math.sqrt(2 / (9 * 64)) * 5, `std ${sd}`);
  });

  describe('loading torch state dicts from safetensors', () => {
    let dir: string;
    // Torch-layout weights [out, in, 3, 3] with known values: element (o,i,kh,kw) of layer k is a
    // deterministic function, and every bias of layer k equals k + 1 (so a wrong index shows at once).
    const torchVal = (k: number, o: number, i: number, kh: number, kw: number) => Math.sin(1 + k * 7 + o * 0.31 + i * 0.17 + kh * 0.7 + kw * 0.05) * 0.05;
    const torchTensors = (key: (k: number) => string, drop?: string, badShape?: string): Record<string, TensorToWrite> => {
      const t: Record<string, TensorToWrite> = {};
      CONVS.forEach(([, cin, cout], k) => {
        const w = new Float32Array(cout * cin * 9);
        for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) w[((o * cin + i) * 3 + kh) * 3 + kw] = torchVal(k, o, i, kh, kw);
        t[`${key(k)}.weight`] = { shape: [cout, cin, 3, 3], data: w };
        t[`${key(k)}.bias`] = { shape: [cout], data: new Float32Array(cout).fill(k + 1) };
      });
      t['classifier.6.bias'] = { shape: [3], data: new Float32Array(3) }; // unrelated keys are ignored
      if (drop) delete t[drop];
      if (badShape) t[badShape] = { shape: [7], data: new Float32Array(7) };
      return t;
    };
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vgg16-test-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const [label, key] of [
      ['torchvision/timm features.N', (k: number) => `features.${TV_INDEX[k]}`],
      ['PANet module.encoder.backbone.features.B.I', (k: number) => {
        const sizes = [2, 2, 3, 3, 3];
        let b = 0, i = k;
        while (i >= sizes[b]) i -= sizes[b++];
        return `module.encoder.backbone.features.${2 * b}.${2 * i}`;
      }],
    ] as const) {
      it(`maps ${label} onto conv1_1..conv5_3 and conv1_1 computes the hand convolution`, async () => {
        const file = path.join(dir, `${label.split(' ')[0].replace('/', '_')}.safetensors`);
        const bytes = encodeSafetensors(torchTensors(key));
        fs.writeFileSync(file, bytes);
        const bb = await createBackbone({ id: 'vgg16', weights: file });
        assert.strictEqual(bb.weightsSource, file);
        const params = bb.params!;
        for (const [k, [name]] of CONVS.entries()) {
          const b = await params[`${name}.bias`].data();
          assert.ok(b.every((v) => v === k + 1), `${name}.bias should be layer ${k}'s`);
        }
        // conv1_1 on a small image: tfjs conv with the loaded kernel vs a hand loop over torch indices
        const rng = new Rng(9);
        const H = 5, W = 4;
        const img = Float32Array.from({ length: H * W * 3 }, () => rng.uniform(-1, 1));
        const y = tf.tidy(() => tf.add(tf.conv2d(tf.tensor4d(img, [1, H, W, 3]), params['conv1_1.weight'] as tf.Tensor4D, 1, 'same'), params['conv1_1.bias']));
        const got = await y.data();
        y.dispose();
        for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let o = 0; o < 64; o += 9) {
          let s = 1; // bias of layer 0
          for (let c = 0; c < 3; c++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
            const a = i + kh - 1, b = j + kw - 1;
            if (a >= 0 && a < H && b >= 0 && b < W) s += img[(a * W + b) * 3 + c] * torchVal(0, o, c, kh, kw);
          }
          assert.ok(Math.abs(got[(i * W + j) * 64 + o] - s) < 1e-5, `conv1_1 out (${i},${j},${o})`);
        }
        // and one element deep in the net: torch (o=5, i=300, kh=2, kw=0) of conv5_2 → tfjs [2,0,300,5]
        const w52 = params['conv5_2.weight'];
        const one = tf.slice(w52, [2, 0, 300, 5], [1, 1, 1, 1]);
        const v = (await one.data())[0];
        one.dispose();
        assert.ok(Math.abs(v - torchVal(11, 5, 300, 2, 0)) < 1e-7);
        bb.dispose();
      });
    }

    it('a missing key or a wrong shape is a DataError naming the file and the key', async () => {
      const missing = path.join(dir, 'missing.safetensors');
      fs.writeFileSync(missing, encodeSafetensors(torchTensors((k) => `features.${TV_INDEX[k]}`, 'features.19.weight')));
      await assert.rejects(createBackbone({ id: 'vgg16', weights: missing }), (e: unknown) =>
        e instanceof DataError && e.file === missing && /features\.19\.weight/.test(e.message));
      const shaped = path.join(dir, 'shape.safetensors');
      fs.writeFileSync(shaped, encodeSafetensors(torchTensors((k) => `features.${TV_INDEX[k]}`, undefined, 'features.28.bias')));
      await assert.rejects(createBackbone({ id: 'vgg16', weights: shaped }), (e: unknown) =>
        e instanceof DataError && e.file === shaped && /features\.28\.bias/.test(e.message) && /\[7\]/.test(e.message));
      const none = path.join(dir, 'none.safetensors');
      fs.writeFileSync(none, encodeSafetensors({ 'fc.weight': { shape: [2], data: new Float32Array(2) } }));
      await assert.rejects(createBackbone({ id: 'vgg16', weights: none }), (e: unknown) => e instanceof DataError && e.file === none);
    });
  });
});
