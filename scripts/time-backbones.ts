// Speed of the graph-model backbones (NanoDet, bundled; CenterNet, when installed) as labeling encoders:
// ms per image in process at each set of feature levels (min of --repeat after a warm-up), images/s
// through an EncoderPool of --workers worker threads, and two checks of the graph executor: that it runs
// only what the requested taps need (a stride-16 forward against the whole detector at the converted
// input size) and that repeated forwards leave no tensor behind. --profile adds, for each model's
// stride-16 forward, the kernels that take the most time (tf.profile) and the convolutions' multiply-adds.
// The shipped MobileNetV2 (strides 16 + 32) is timed beside them as the baseline. NanoDet also runs on
// onnxruntime (nets/onnx/nanodetGraph.ts; skipped with a reason when it does not load): ms per image in
// process with 1 and with all intra-op threads, and images/s through EncoderPool.onnx with --workers
// sessions of 1 thread and of 2 threads each, and with one session of all threads.
//
//   node out/scripts/time-backbones.js [--backend wasm] [--size 417] [--repeat 5] [--workers 2]
//     [--pool-images 16] [--profile] [--no-tfjs]
import * as os from 'os';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { EncoderPool } from '../src/engine/features/encoderPool';
import type { GraphBackboneId } from '../src/engine/nets/graphBackbone';
import { loadGraphBackbone } from '../src/engine/nets/graphModels';
import { MOBILENET_TAPS, MobileNetV2Features } from '../src/engine/nets/mobilenetv2';
import { cachedOnnxModel } from '../src/engine/nets/onnx/modelCache';
import { nanodetOnnxSource, nanodetOutput } from '../src/engine/nets/onnx/nanodetGraph';
import { loadOrt } from '../src/engine/nets/onnx/runtime';
import { engineCacheDir } from '../src/engine/data/cachedir';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '417' },
    repeat: { type: 'string', default: '5' },
    workers: { type: 'string', default: '2' },
    'pool-images': { type: 'string', default: '16' },
    profile: { type: 'boolean', default: false },
    'no-tfjs': { type: 'boolean', default: false },
  },
});

const CASES: Array<{ id: GraphBackboneId; levels: number[] }> = [
  { id: 'nanodet', levels: [16] },
  { id: 'nanodet', levels: [8, 16] },
  { id: 'nanodet', levels: [16, 32] },
  { id: 'centernet', levels: [16] },
  { id: 'centernet', levels: [16, 32] },
];

/** A fixed test image, RGB 0..255 (speed does not depend on the content). */
function image(size: number): Float32Array {
  const px = new Float32Array(size * size * 3);
  let s = 12345;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[i] = (s >>> 16) % 256;
  }
  return px;
}

/** Minimum over `repeat` runs of f (after one warm-up run), ms. */
async function minMs(repeat: number, f: () => Promise<void>): Promise<number> {
  await f();
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference, log: () => undefined });
  const size = Number(values.size), repeat = Number(values.repeat), workers = Number(values.workers), poolImages = Number(values['pool-images']);
  console.log(`backend ${be.name}; ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; input ${size}²`);
  const px = image(size);
  const x = tf.tensor4d(px, [1, size, size, 3]);
  const available = new Set<GraphBackboneId>();
  for (const c of values['no-tfjs'] ? [] : CASES) {
    let loaded;
    try {
      loaded = await loadGraphBackbone(c.id, c.levels);
    } catch (e) {
      console.log(`${c.id} L${c.levels.join('+')}: not available (${(e as Error).message.split('. ')[0]})`);
      continue;
    }
    available.add(c.id);
    const { net } = loaded;
    const run = async () => {
      const outs = net.featuresAll(x);
      await Promise.all(outs.map((o) => o.data()));
      tf.dispose(outs);
    };
    const ms = await minMs(repeat, run);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await run();
    const shapes = tf.tidy(() => net.featuresAll(x).map((o) => o.shape.slice(1).join('×')));
    console.log(`${c.id} strides ${c.levels.join('+')}: ${ms.toFixed(1)} ms/image in process (min of ${repeat}); levels ${shapes.join(', ')}; tensors after 3 more forwards ${tf.memory().numTensors - before >= 0 ? '+' : ''}${tf.memory().numTensors - before}`);
    net.dispose();
  }

  // Baseline on the same machine at the same moment: the shipped MobileNetV2 (layers model), strides 16 + 32.
  if (!values['no-tfjs']) {
    const mnv2 = await MobileNetV2Features.load(undefined, [MOBILENET_TAPS[16].layer, MOBILENET_TAPS[32].layer]);
    const ms = await minMs(repeat, async () => { const o = mnv2.featuresAll(x); await Promise.all(o.map((t) => t.data())); tf.dispose(o); });
    console.log(`mobilenetv2 (nsfwjs, baseline) strides 16+32: ${ms.toFixed(1)} ms/image in process (min of ${repeat})`);
    mnv2.dispose();
  }

  // Pruning: the stride-16 tap alone against the whole detector, at the input size each was converted for.
  for (const [id, side] of [['nanodet', 416], ['centernet', 512]] as Array<[GraphBackboneId, number]>) {
    if (!available.has(id)) continue;
    const { net } = await loadGraphBackbone(id, [16]);
    const y = tf.tensor4d(image(side), [1, side, side, 3]);
    const tap = await minMs(repeat, async () => { const o = net.featuresAll(y); await Promise.all(o.map((t) => t.data())); tf.dispose(o); });
    const full = await minMs(repeat, async () => { const o = net.executeNodes(y); await Promise.all(o.map((t) => t.data())); tf.dispose(o); });
    console.log(`${id} at ${side}²: stride-16 tap ${tap.toFixed(1)} ms, whole detector ${full.toFixed(1)} ms (the executor runs only what the tap needs when the first is clearly smaller)`);
    y.dispose();
    net.dispose();
  }

  if (values.profile) {
    for (const id of ['nanodet', 'centernet'] as GraphBackboneId[]) {
      if (!available.has(id)) continue;
      const { net } = await loadGraphBackbone(id, [16]);
      tf.dispose(net.featuresAll(x)); // warm-up
      const info = await tf.profile(() => net.featuresAll(x));
      const byKernel = new Map<string, { ms: number; n: number }>();
      let macs = 0;
      for (const k of info.kernels) {
        if (k.name.endsWith('__op')) continue; // an op's wrapper around its kernel: counted once, as the kernel
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
        e.ms += ms;
        e.n++;
        byKernel.set(k.name, e);
        // multiply-adds of the convolutions: filter [kh, kw, cin, cout | multiplier] × output cells
        const f = k.inputShapes[1], o = k.outputShapes[0];
        if (/Conv2D|Conv2d|DepthwiseConv/.test(k.name) && f?.length === 4 && o?.length === 4) macs += f[0] * f[1] * f[2] * f[3] * o[1] * o[2];
      }
      const total = [...byKernel.values()].reduce((t, e) => t + e.ms, 0);
      console.log(`${id} stride 16, tf.profile: ${info.kernels.length} kernels, ${total.toFixed(1)} ms in kernels, convolutions ${(macs / 1e9).toFixed(2)} G multiply-adds`);
      for (const [name, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)) {
        console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(7)} ms  ${String(e.n).padStart(4)} calls  ${((100 * e.ms) / total).toFixed(0).padStart(3)} %`);
      }
      tf.dispose(info.result as tf.Tensor[]);
      net.dispose();
    }
  }
  x.dispose();

  await timeOnnx(px, size, repeat, workers, poolImages);

  // Throughput through worker threads, each with its own wasm backend and copy of the network.
  if (!values['no-tfjs'] && (be.name === 'wasm' || be.name === 'cpu')) {
    for (const c of CASES.filter((k) => available.has(k.id) && k.levels.length === 2)) {
      const pool = await EncoderPool.create(workers, { id: c.id }, be.name, undefined, c.levels);
      try {
        await Promise.all(Array.from({ length: workers }, () => pool.encode(px.slice(), size))); // warm-up (px.slice(): encode transfers the buffer)
        const t0 = performance.now();
        await Promise.all(Array.from({ length: poolImages }, () => pool.encode(px.slice(), size)));
        const s = (performance.now() - t0) / 1000;
        console.log(`${c.id} strides ${c.levels.join('+')}: ${(poolImages / s).toFixed(2)} images/s through ${workers} workers (${poolImages} images)`);
      } finally {
        await pool.close();
      }
    }
  }
}

/** NanoDet on onnxruntime: in process (1 thread, all threads) and through EncoderPool.onnx. */
async function timeOnnx(px: Float32Array, size: number, repeat: number, workers: number, poolImages: number): Promise<void> {
  const o = loadOrt();
  if (!o.ok) {
    console.log(`onnxruntime: not available (${o.reason})`);
    return;
  }
  const cores = os.availableParallelism();
  const cacheDir = engineCacheDir(process.env.PROTOLAB_CACHE_DIR || undefined);
  for (const levels of CASES.filter((c) => c.id === 'nanodet').map((c) => c.levels)) {
    const { file } = await cachedOnnxModel(cacheDir, nanodetOnnxSource(levels));
    const bytes = Uint8Array.from(px); // the model takes the pixels as bytes
    const outputs = levels.map(nanodetOutput);
    const parts: string[] = [];
    for (const threads of [...new Set([1, cores])]) {
      const session = await o.ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      const ms = await minMs(repeat, async () => {
        const r = await session.run({ x: new o.ort.Tensor('uint8', bytes, [1, size, size, 3]) }, outputs);
        for (const k of outputs) r[k].dispose();
      });
      parts.push(`${ms.toFixed(1)} ms/image with ${threads} thread${threads > 1 ? 's' : ''}`);
      await session.release();
    }
    console.log(`nanodet strides ${levels.join('+')} on onnxruntime ${o.version}, in process: ${parts.join(', ')} (min of ${repeat})`);
    if (levels.length < 2) continue;
    const shapes: Array<[number, number]> = [[workers, 1], [workers, 2], [1, cores]];
    for (const [w, threads] of shapes.filter(([w, t], i) => shapes.findIndex(([w2, t2]) => w2 === w && t2 === t) === i)) {
      const pool = await EncoderPool.onnx(w, { modelFile: file, threads, outputs });
      try {
        await Promise.all(Array.from({ length: w }, () => pool.encode(bytes.slice(), size))); // warm-up
        const t0 = performance.now();
        await Promise.all(Array.from({ length: poolImages }, () => pool.encode(bytes.slice(), size)));
        const s = (performance.now() - t0) / 1000;
        console.log(`nanodet strides ${levels.join('+')} on onnxruntime: ${(poolImages / s).toFixed(2)} images/s through ${w} worker${w > 1 ? 's' : ''} × ${threads} thread${threads > 1 ? 's' : ''} (${poolImages} images)`);
      } finally {
        await pool.close();
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
