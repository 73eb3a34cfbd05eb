// The hand-written protobuf/ONNX writer (src/engine/nets/onnx/{protobuf,model}.ts): bytes against the
// worked examples of the protocol-buffers encoding guide, and small ONNX graphs that onnxruntime must
// load and evaluate to values worked out by hand here.
import * as assert from 'assert';
import { PbMessage, varint } from '../../src/engine/nets/onnx/protobuf';
import { OnnxGraphBuilder } from '../../src/engine/nets/onnx/model';
import { loadOrt } from '../../src/engine/nets/onnx/runtime';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf writer (encoding guide examples)', () => {
  it('varints: 1, 150, 300 and a value past 2^32', () => {
    assert.strictEqual(hex(varint(1)), '01');
    assert.strictEqual(hex(varint(150)), '9601');
    assert.strictEqual(hex(varint(300)), 'ac02');
    // 2^35 = 7 groups of zeros… : 0x80 0x80 0x80 0x80 0x80 0x01 after 35 bits → bytes 80 80 80 80 80 01
    assert.strictEqual(hex(varint(2 ** 35)), '808080808001');
    assert.throws(() => varint(-1), RangeError);
  });

  it('Test1 {a = 150}, Test2 {b = "testing"}, Test3 {c = Test1}, packed [3, 270, 86942]', () => {
    assert.strictEqual(hex(new PbMessage().int(1, 150).finish()), '089601');
    assert.strictEqual(hex(new PbMessage().string(2, 'testing').finish()), '120774657374696e67');
    assert.strictEqual(hex(new PbMessage().message(3, new PbMessage().int(1, 150)).finish()), '1a03089601');
    assert.strictEqual(hex(new PbMessage().packedInts(4, [3, 270, 86942]).finish()), '2206038e029ea705');
  });

  it('floats: fixed 32-bit little-endian (wire type 5) and packed', () => {
    // 1.0f = 0x3f800000 → LE 00 00 80 3f; tag of field 2, wire 5 = 0x15
    assert.strictEqual(hex(new PbMessage().float(2, 1).finish()), '150000803f');
    assert.strictEqual(hex(new PbMessage().packedFloats(7, [1, -2]).finish()), '3a080000803f000000c0');
  });

  it('nested lengths count every chunk (a large bytes field inside two levels)', () => {
    const payload = new Uint8Array(300).fill(7);
    const out = new PbMessage().message(1, new PbMessage().message(2, new PbMessage().bytes(3, payload))).finish();
    // inner: 1a ac02 + 300 = 303 bytes; middle: 12 af02 + 303 = 306; outer: 0a b202 + 306
    assert.strictEqual(hex(out.subarray(0, 9)), '0ab202' + '12af02' + '1aac02');
    assert.strictEqual(out.length, 3 + 3 + 3 + 300);
  });
});

describe('ONNX models written here run in onnxruntime', function () {
  this.timeout(60000);
  const o = loadOrt();
  before(function () {
    // onnxruntime-node is a dependency of the project: on the platforms CI runs, it must load.
    assert.ok(o.ok, `onnxruntime-node did not load: ${o.ok ? '' : o.reason}`);
  });

  async function run(g: OnnxGraphBuilder, feeds: Record<string, { data: Float32Array; dims: number[] }>, out: string) {
    if (!o.ok) throw new Error('unreachable');
    const s = await o.ort.InferenceSession.create(g.toModel({ producer: 'test', producerVersion: '0' }));
    const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new o.ort.Tensor('float32', v.data, v.dims)]));
    const r = await s.run(inputs);
    await s.release();
    return { data: Array.from(r[out].data as Float32Array), dims: r[out].dims };
  }

  it('Conv (3×3 ones, pad 1) + bias + Relu on a 3×3 ramp: each output is the sum of its neighbourhood', async () => {
    const g = new OnnxGraphBuilder('t');
    const x = g.input('x', [1, 1, 3, 3]);
    const w = g.floats('w', [1, 1, 3, 3], new Float32Array(9).fill(1));
    const b = g.floats('b', [1], Float32Array.of(-20));
    g.node('Relu', [g.node('Conv', [x, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })], undefined, 'y');
    g.output('y', [1, 1, 3, 3]);
    // x = 1..9 row-major; neighbourhood sums: corners 1+2+4+5=12, …, centre 45; minus 20, then ReLU
    const r = await run(g, { x: { data: Float32Array.from({ length: 9 }, (_, i) => i + 1), dims: [1, 1, 3, 3] } }, 'y');
    assert.deepStrictEqual(r.data, [12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => Math.max(0, v - 20)));
  });

  it('symbolic dims, MaxPool (3, stride 2, pad 1), Transpose, Pad (int64 pads), Clip, Add and a float attribute', async () => {
    const g = new OnnxGraphBuilder('t');
    const x = g.input('x', ['N', 1, 'H', 'W']);
    const pooled = g.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    const padded = g.node('Pad', [pooled, g.int64s('pads', [0, 0, 0, 0, 0, 0, 1, 1])], { mode: 'constant' });
    const clipped = g.node('Clip', [padded, g.floats('lo', [], Float32Array.of(0)), g.floats('hi', [], Float32Array.of(6))]);
    // BatchNormalization with ε = 0.25 on one channel: (v − 1) / sqrt(3 + 0.25) · 2 + 0.5
    const bn = g.node('BatchNormalization', [clipped, g.floats('s', [1], Float32Array.of(2)), g.floats('b', [1], Float32Array.of(0.5)),
      g.floats('m', [1], Float32Array.of(1)), g.floats('v', [1], Float32Array.of(3))], { epsilon: { float: 0.25 } });
    g.node('Transpose', [g.node('Add', [bn, bn])], { perm: [0, 2, 3, 1] }, 'y');
    g.output('y', ['N', 'h', 'w', 1]);
    // 4×4 input 0..15: pooled windows (rows/cols {0,1}, {1,2,3}) → [[5, 7], [13, 15]]; padded to 3×3 with zeros
    // at the end; clipped to ≤ 6 → [[5, 6, 0], [6, 6, 0], [0, 0, 0]]
    const r = await run(g, { x: { data: Float32Array.from({ length: 16 }, (_, i) => i), dims: [1, 1, 4, 4] } }, 'y');
    assert.deepStrictEqual(r.dims, [1, 3, 3, 1]);
    const bnOf = (v: number) => 2 * ((v - 1) / Math.sqrt(3.25) * 2 + 0.5);
    [5, 6, 0, 6, 6, 0, 0, 0, 0].forEach((v, i) => assert.ok(Math.abs(r.data[i] - bnOf(v)) < 1e-5, `y[${i}] = ${r.data[i]}, expected ${bnOf(v)}`));
  });

  it('a grouped convolution with auto_pad SAME_UPPER and stride 2 (TF "same": the odd pixel at the end)', async () => {
    const g = new OnnxGraphBuilder('t');
    const x = g.input('x', [1, 2, 4, 4]);
    // group = 2: channel 0 convolved with a kernel picking its centre ×1, channel 1 with its centre ×10
    const k = new Float32Array(18);
    k[4] = 1; k[9 + 4] = 10;
    g.node('Conv', [x, g.floats('w', [2, 1, 3, 3], k)], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER', group: 2 }, 'y');
    g.output('y', [1, 2, 2, 2]);
    const data = Float32Array.from({ length: 32 }, (_, i) => i);
    const r = await run(g, { x: { data, dims: [1, 2, 4, 4] } }, 'y');
    // SAME_UPPER, n = 4, stride 2: total pad 1, all at the end → windows start at 0 and 2, centres at 1 and 3
    assert.deepStrictEqual(r.data, [5, 7, 13, 15, 210, 230, 290, 310]);
  });
});
