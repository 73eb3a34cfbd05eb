// safetensors reader/writer and ProtoLab checkpoints. Expected bytes are built by hand in the test
// (DataView, known IEEE bit patterns), not by the writer under test.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useTestBackend, tf } from './helpers/tf';
import { SafetensorsFile, encodeSafetensors } from '../../src/engine/nets/safetensors';
import { loadCheckpoint, saveCheckpoint, sha256File, weightsHashOfFile, loadVgg16Arrays } from '../../src/engine/nets/weights';
import { createBackbone } from '../../src/engine/nets/backbone';
import { DataError } from '../../src/engine/errors';

/** A safetensors file from a header object and raw data bytes, assembled by hand. */
function handmade(header: unknown, data: Uint8Array, lengthOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

describe('safetensors and checkpoints', () => {
  let dir: string;
  before(async () => {
    await useTestBackend('wasm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const put = (name: string, bytes: Uint8Array) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    return f;
  };

  it('reads F32, F16 and BF16 (little-endian) to float32, with metadata', () => {
    const data = new Uint8Array(8 + 6 + 4);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.5, true); dv.setFloat32(4, -0.25, true);
    dv.setUint16(8, 0x3c00, true);  // f16 1.0
    dv.setUint16(10, 0xc000, true); // f16 -2.0
    dv.setUint16(12, 0x0001, true); // f16 smallest subnormal 2^-24
    dv.setUint16(14, 0x3f80, true); // bf16 1.0
    dv.setUint16(16, 0xc0a0, true); // bf16 -5.0
    const f = put('kinds.safetensors', handmade({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      h: { dtype: 'F16', shape: [3, 1], data_offsets: [8, 14] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [14, 18] },
    }, data));
    const st = SafetensorsFile.open(f);
    assert.deepStrictEqual(st.metadata, { format: 'pt' });
    assert.deepStrictEqual(Array.from(st.read('a').data), [1.5, -0.25]);
    const h = st.read('h');
    assert.deepStrictEqual(h.shape, [3, 1]);
    assert.deepStrictEqual(Array.from(h.data), [1, -2, 2 ** -24]);
    assert.deepStrictEqual(Array.from(st.read('b').data), [1, -5]);
  });

  it('malformed files are DataErrors naming the file', () => {
    const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const cases: [string, Uint8Array, RegExp][] = [
      ['short', new Uint8Array(5), /shorter than/],
      ['hugelen', handmade(ok, new Uint8Array(8), 1n << 40n), /header length/],
      ['badjson', handmade('{"t": {', new Uint8Array(8)), /not valid JSON/],
      ['array', handmade([1, 2], new Uint8Array(8)), /not a JSON object/],
      ['offsets', handmade({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(8)), /outside/],
      ['reversed', handmade({ t: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, new Uint8Array(8)), /outside/],
      ['size', handmade({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12/],
      ['dtype', handmade({ t: { dtype: 'F99', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /unknown dtype/],
      ['shape', handmade({ t: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)), /shape/],
      ['meta', handmade({ __metadata__: { step: 3 }, ...ok }, new Uint8Array(8)), /__metadata__/],
    ];
    for (const [name, bytes, re] of cases) {
      const f = put(`${name}.safetensors`, bytes);
      assert.throws(() => SafetensorsFile.open(f), (e: unknown) => e instanceof DataError && e.file === f && re.test(e.message), name);
    }
    const i64 = put('i64.safetensors', handmade({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)));
    assert.throws(() => SafetensorsFile.open(i64).read('t'), (e: unknown) => e instanceof DataError && /I64/.test(e.message));
    assert.throws(() => loadVgg16Arrays(path.join(dir, 'absent.safetensors')), DataError);
  });

  it('writer: 8-byte header length, space-padded aligned JSON header, little-endian data', () => {
    const bytes = encodeSafetensors({ x: { shape: [2], data: new Float32Array([1, -2]) }, n: { shape: [1], data: new Int32Array([-7]) } }, { k: 'v' });
    const buf = Buffer.from(bytes);
    const n = Number(buf.readBigUInt64LE(0));
    assert.strictEqual((8 + n) % 8, 0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    assert.deepStrictEqual(header, {
      __metadata__: { k: 'v' },
      x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      n: { dtype: 'I32', shape: [1], data_offsets: [8, 12] },
    });
    assert.strictEqual(buf.readFloatLE(8 + n), 1);
    assert.strictEqual(buf.readFloatLE(8 + n + 4), -2);
    assert.strictEqual(buf.readInt32LE(8 + n + 8), -7);
  });

  it('checkpoint round trip is bit-exact (NaN payload, -0, subnormal, int32) and leaks no tensors', async () => {
    const bits = new Uint32Array([0x7fc01234, 0x80000000, 0x00000001, 0x3f800000, 0xff800000, 0x12345678]);
    const f32 = new Float32Array(bits.buffer);
    const before = tf.memory().numTensors;
    const a = tf.tensor(f32, [2, 3], 'float32');
    const b = tf.tensor([5, -6, 2147483647], [3], 'int32');
    const file = path.join(dir, 'sub', 'ck.safetensors');
    const meta = { backbone: 'vgg16', method: 'panet', step: 1200, lr: 1e-3, note: 'ünïcode' };
    await saveCheckpoint(file, { tensors: { 'backbone.conv1_1.bias': a, 'opt.count': b }, meta });
    assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['ck.safetensors'], 'no temp file left behind');
    const ck = loadCheckpoint(file);
    assert.deepStrictEqual(ck.meta, meta);
    assert.deepStrictEqual(Object.keys(ck.tensors).sort(), ['backbone.conv1_1.bias', 'opt.count']);
    const ra = ck.tensors['backbone.conv1_1.bias'];
    assert.deepStrictEqual(ra.shape, [2, 3]);
    assert.deepStrictEqual(Array.from(new Uint32Array((await ra.data() as Float32Array).slice().buffer)), Array.from(bits));
    assert.strictEqual(ck.tensors['opt.count'].dtype, 'int32');
    assert.deepStrictEqual(Array.from(await ck.tensors['opt.count'].data()), [5, -6, 2147483647]);
    tf.dispose([a, b, ...Object.values(ck.tensors)]);
    assert.strictEqual(tf.memory().numTensors, before);
    // a plain safetensors file is not a checkpoint
    const plain = put('plain.safetensors', encodeSafetensors({ x: { shape: [1], data: new Float32Array(1) } }));
    assert.throws(() => loadCheckpoint(plain), (e: unknown) => e instanceof DataError && e.file === plain && /not a ProtoLab checkpoint/.test(e.message));
  });

  it('a ProtoLab checkpoint of a vgg16 backbone loads back into the encoder; other backbones are refused', async () => {
    const bb = await createBackbone({ id: 'vgg16', seed: 8 });
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(bb.params!)) tensors[`backbone.${k}`] = v;
    const file = path.join(dir, 'vggck.safetensors');
    await saveCheckpoint(file, { tensors, meta: { backbone: 'vgg16', method: 'panet', step: 3 } });
    const bb2 = await createBackbone({ id: 'vgg16', weights: file });
    for (const k of ['conv1_1.weight', 'conv5_3.bias']) {
      assert.deepStrictEqual(await bb2.params![k].data(), await bb.params![k].data(), k);
    }
    assert.strictEqual(bb2.weightsHash, (await sha256File(file)).slice(0, 12));
    bb.dispose();
    bb2.dispose();
    const other = path.join(dir, 'mbck.safetensors');
    const t = tf.zeros([1]);
    await saveCheckpoint(other, { tensors: { x: t }, meta: { backbone: 'mobilenetv2' } });
    t.dispose();
    assert.throws(() => loadVgg16Arrays(other), (e: unknown) => e instanceof DataError && /mobilenetv2/.test(e.message));
  });

  it('weights hash is the first 12 hex chars of the file sha256 (known vector)', async () => {
    const f = put('abc.bin', Buffer.from('abc'));
    assert.strictEqual(await weightsHashOfFile(f), 'ba7816bf8f01');
  });
});
