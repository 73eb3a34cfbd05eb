// `npm run bench`: the numbers the engine issues ask for, measured on this machine. Parts (all by
// default; `--only a,b` runs some):
//  encoders    PANet VGG-16 encoder (random init) and the MobileNetV2 backbone: ms per image at --size
//              (417²), in-process (min / median after a warm-up), and images/s through the encoder pool.
//  eval        one evaluation, 1-way 1-shot PANet on the built-in sample set (VOC format, fold 0, val
//              list): episodes/s cold (every image encoded once, through the pool) and warm (features
//              cached: the cost of the few-shot head and the metric alone).
//  coco-index  a generated COCO instances JSON of realistic size (80 categories, ≥ 100k annotations,
//              20k images): first open (index build) vs second open (cached index), fresh processes.
//  voc-scale   a PASCAL-size evaluation (generated VOC, 1,449 images at 500×375; 1,000 episodes):
//              peak RSS and tf.memory().numTensors at start and end (bench/vocScale.ts).
// Flags: --only PARTS --size 417 --runs 3 --episodes 200 --backend wasm|cpu|… --workers N --data DIR (an
// existing sample/VOC root for `eval`; default: a fresh sample in a temp folder) --skip-vgg
// coco-index: --coco-images 20000 --coco-annotations 120000
// voc-scale: --scale-images 1449 --scale-episodes 1000 --scale-size 417 --scale-backbone mobilenetv2
//   --scale-cache-mb 2048 (protolab eval's --cache-mb default) --scale-data DIR (default ~/.cache/protolab-bench/…)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { openDataset } from '../src/engine/data/open';
import { writeSampleDataset } from '../src/engine/data/sample';
import { EncoderPool } from '../src/engine/features/encoderPool';
import { FeatureCache } from '../src/engine/features/featureCache';
import { evaluate, type EvalSettings } from '../src/engine/eval/evaluate';
import { panetMethod } from '../src/engine/fewshot/method';
import { createBackbone, type BackboneId } from '../src/engine/nets/backbone';
import { benchCocoIndex } from './bench/cocoIndex';
import { benchVocScale } from './bench/vocScale';

const PARTS = ['encoders', 'eval', 'coco-index', 'voc-scale'] as const;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '417' },
    runs: { type: 'string', default: '3' },
    episodes: { type: 'string', default: '200' },
    backend: { type: 'string' },
    workers: { type: 'string' },
    data: { type: 'string' },
    'skip-vgg': { type: 'boolean', default: false },
    only: { type: 'string' },
    'coco-images': { type: 'string', default: '20000' },
    'coco-annotations': { type: 'string', default: '120000' },
    'scale-images': { type: 'string', default: '1449' },
    'scale-episodes': { type: 'string', default: '1000' },
    'scale-size': { type: 'string', default: '417' },
    'scale-backbone': { type: 'string', default: 'mobilenetv2' },
    'scale-cache-mb': { type: 'string', default: '2048' },
    'scale-workers': { type: 'string' },
    'scale-data': { type: 'string' },
  },
});
const only = new Set(values.only ? values.only.split(',').map((p) => p.trim()) : PARTS);
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part '${p}' (parts: ${PARTS.join(', ')})`);
const size = Number(values.size);
const runs = Number(values.runs);

async function timeInProcess(id: BackboneId): Promise<{ min: number; median: number }> {
  const backbone = await createBackbone({ id, seed: 1 });
  const x = tf.randomUniform([1, size, size, 3], 0, 255) as tf.Tensor4D;
  const once = async () => {
    const t0 = performance.now();
    const y = backbone.features(x);
    await y.data(); // wait for the backend to finish, not only to enqueue
    y.dispose();
    return performance.now() - t0;
  };
  await once();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) ts.push(await once());
  x.dispose();
  backbone.dispose();
  ts.sort((a, b) => a - b);
  return { min: ts[0], median: ts[Math.floor((ts.length - 1) / 2)] };
}

async function poolThroughput(id: BackboneId, workers: number, backend: 'wasm' | 'cpu'): Promise<number> {
  const pool = await EncoderPool.create(workers, { id, seed: 1 }, backend);
  try {
    const img = () => Float32Array.from({ length: size * size * 3 }, (_, i) => (i * 37) % 255);
    await Promise.all(Array.from({ length: workers }, () => pool.encode(img(), size))); // warm-up
    const n = 2 * workers;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => pool.encode(img(), size)));
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: (l) => console.log(l) });
  const cpuLike = be.name === 'wasm' || be.name === 'cpu';
  const workers = values.workers ? Number(values.workers) : cpuLike ? Math.min(4, os.availableParallelism()) : 0;
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}, backend ${be.name}\n`);

  const ids: BackboneId[] = values['skip-vgg'] ? ['mobilenetv2'] : ['vgg16', 'mobilenetv2'];
  if (only.has('encoders')) await encoders(ids, be.name, workers, cpuLike);
  if (only.has('eval')) await sampleEval(ids, be.name, workers, cpuLike);
  if (only.has('coco-index')) {
    await benchCocoIndex({ images: Number(values['coco-images']), annotations: Number(values['coco-annotations']), seed: 1 });
  }
  if (only.has('voc-scale')) {
    await benchVocScale({
      images: Number(values['scale-images']), episodes: Number(values['scale-episodes']), size: Number(values['scale-size']),
      backbone: values['scale-backbone'] as BackboneId, cacheMb: Number(values['scale-cache-mb']),
      workers: values['scale-workers'] === undefined ? undefined : Number(values['scale-workers']), dataDir: values['scale-data'],
    });
  }
}

async function encoders(ids: BackboneId[], backend: string, workers: number, cpuLike: boolean): Promise<void> {
  for (const id of ids) {
    const t = await timeInProcess(id);
    let line = `encoder ${id} ${size}²: ${t.min.toFixed(0)} ms/image min, ${t.median.toFixed(0)} ms median (in-process, ${runs} runs)`;
    if (workers > 1 && cpuLike) line += `; pool of ${workers} workers: ${(await poolThroughput(id, workers, backend as 'wasm' | 'cpu')).toFixed(2)} images/s`;
    console.log(line);
  }
}

async function sampleEval(ids: BackboneId[], backend: string, workers: number, cpuLike: boolean): Promise<void> {

  const root = values.data ?? fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-bench-'));
  if (!values.data) await writeSampleDataset({ out: root, seed: 1 });
  const ds = await openDataset({ data: root, dataset: 'voc' });
  const settings: EvalSettings = {
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes: Number(values.episodes), runs: 1,
    seed: 1234, size, list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
  };
  for (const id of ids) {
    const backbone = await createBackbone({ id, seed: 1 });
    const pool = workers > 1 && cpuLike ? await EncoderPool.create(workers, { id, seed: 1 }, backend as 'wasm' | 'cpu') : undefined;
    try {
      const featureCache = new FeatureCache(4 * 1024 ** 3);
      const encode = pool ? (px: Float32Array, s: number) => pool.encode(px, s) : undefined;
      const cold = await evaluate(ds, backbone, panetMethod, settings, backend, { encode, featureCache });
      // Same episodes again with every feature already cached: what the head + metric cost per episode.
      const warm = await evaluate(ds, backbone, panetMethod, settings, backend, { encode, featureCache });
      console.log(
        `eval ${id} 1-way 1-shot, ${settings.episodes} episodes at ${size}²: cold ${cold.timing.episodesPerSecond.toFixed(2)} episodes/s ` +
          `(${cold.timing.featureCache.misses} images encoded in ${cold.timing.seconds.toFixed(1)} s), mIoU ${(100 * cold.miou).toFixed(1)}` +
          `; warm (features cached) ${warm.timing.episodesPerSecond.toFixed(2)} episodes/s`,
      );
    } finally {
      backbone.dispose();
      await pool?.close();
    }
  }
  if (!values.data) fs.rmSync(root, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
