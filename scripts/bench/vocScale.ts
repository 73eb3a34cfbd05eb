// `npm run bench -- --only voc-scale`: a PASCAL-size evaluation on one machine. A generated VOC of 1,449
// val images (VOC2012 val's count) at 500×375, in the real on-disk format (JPEG + palette PNG + instance
// PNG + ImageSets), then the papers' protocol as `protolab eval` runs it (evaluate() with the encoder
// worker pool and the default feature-cache budget): 1,000 episodes of 1-way 1-shot PANet on fold 0 with
// MobileNetV2 at 417² (the nsfwjs backbone: ~25× cheaper than VGG-16 on CPU, so the run fits in minutes;
// `--scale-backbone vgg16` for PANet's own). Measured in a fresh process: peak RSS (the kernel's high-water
// mark, worker threads included) against the 2 GB target, and tf.memory().numTensors before and after.
// The dataset is generated once into a cache folder (~/.cache/protolab-bench/, never the repo) and reused.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/engine/backend';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { EncoderPool } from '../../src/engine/features/encoderPool';
import { evaluate, type EvalSettings } from '../../src/engine/eval/evaluate';
import { panetMethod } from '../../src/engine/fewshot/method';
import { createBackbone, type BackboneId } from '../../src/engine/nets/backbone';

export interface VocScaleOptions {
  /** val images (train gets a few more so the train list exists) */
  images: number;
  episodes: number;
  size: number;
  backbone: BackboneId;
  /** feature-cache budget, MB (protolab eval's --cache-mb; its default 2048) */
  cacheMb: number;
  workers?: number;
  /** where the generated dataset is kept (default ~/.cache/protolab-bench/…) */
  dataDir?: string;
}

const GENERATOR_VERSION = 1;

/** The generated VOC for these options, made once (a marker file says it is complete). */
export async function ensureScaleVoc(images: number, dataDir?: string): Promise<{ root: string; seconds: number | null }> {
  const root = dataDir ?? path.join(os.homedir(), '.cache', 'protolab-bench', `voc-500x375-val${images}-seed1-v${GENERATOR_VERSION}`);
  const marker = path.join(root, '.complete');
  if (fs.existsSync(marker)) return { root, seconds: null };
  fs.rmSync(root, { recursive: true, force: true });
  const t0 = performance.now();
  let last = 0;
  await writeSampleDataset({
    out: root, seed: 1, images: { train: 20, val: images }, size: { width: 500, height: 375 }, coco: false,
    onProgress: (done, total) => {
      if (done === total || performance.now() - last > 30000) {
        last = performance.now();
        console.log(`voc-scale: generating ${done}/${total} images (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
    },
  });
  fs.writeFileSync(marker, new Date().toISOString() + '\n');
  return { root, seconds: (performance.now() - t0) / 1000 };
}

interface ChildReport {
  episodes: number;
  seconds: number;
  episodesPerSecond: number;
  imagesEncoded: number;
  cacheHits: number;
  evictions: number;
  cacheMB: number;
  miou: number;
  numTensorsStart: number;
  numTensorsEnd: number;
  peakRssMB: number;
  rssAfterMB: number;
  backend: string;
  workers: number;
}

export async function benchVocScale(o: VocScaleOptions): Promise<void> {
  const data = await ensureScaleVoc(o.images, o.dataDir);
  console.log(`voc-scale: dataset ${data.root} (${o.images} val images at 500×375, JPEG + palette PNG)` +
    (data.seconds === null ? ', reused' : `, generated in ${data.seconds.toFixed(0)} s`));
  const args = [__filename, '--child', data.root, String(o.episodes), String(o.size), o.backbone, String(o.cacheMb), String(o.workers ?? -1)];
  const r = await new Promise<ChildReport>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`voc-scale child exited ${code}`))));
  });
  console.log(`voc-scale: ${r.episodes} episodes 1-way 1-shot, fold 0, ${o.backbone} at ${o.size}², backend ${r.backend}, ${r.workers} encoder workers, ` +
    `feature cache ${o.cacheMb} MB: ${r.seconds.toFixed(0)} s (${r.episodesPerSecond.toFixed(2)} episodes/s), ${r.imagesEncoded} images encoded, ` +
    `${r.cacheHits} cache hits, ${r.evictions} evictions, cache held ${r.cacheMB.toFixed(0)} MB at the end, mIoU ${(100 * r.miou).toFixed(1)}`);
  console.log(`voc-scale: peak RSS ${r.peakRssMB.toFixed(0)} MB (target < 2048 MB: ${r.peakRssMB < 2048 ? 'met' : 'NOT MET'}; ${r.rssAfterMB.toFixed(0)} MB at the end); ` +
    `tf.memory().numTensors ${r.numTensorsStart} at the start, ${r.numTensorsEnd} at the end (${r.numTensorsStart === r.numTensorsEnd ? 'flat' : 'NOT FLAT'})`);
}

async function childMain(): Promise<void> {
  const [root, episodesS, sizeS, backboneId, cacheMbS, workersS] = process.argv.slice(process.argv.indexOf('--child') + 1);
  const be = await selectBackend({ log: () => undefined });
  const cpuLike = be.name === 'wasm' || be.name === 'cpu';
  const workers = Number(workersS) >= 0 ? Number(workersS) : cpuLike ? Math.min(4, os.availableParallelism()) : 0;
  const ds = await openDataset({ data: root, dataset: 'voc' });
  const backbone = await createBackbone({ id: backboneId as BackboneId, seed: 1 });
  const pool = workers > 1 && cpuLike ? await EncoderPool.create(workers, { id: backboneId as BackboneId, seed: 1 }, be.name as 'wasm' | 'cpu') : undefined;
  const settings: EvalSettings = {
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes: Number(episodesS), runs: 1,
    seed: 1234, size: Number(sizeS), list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
  };
  try {
    const numTensorsStart = tf.memory().numTensors;
    const r = await evaluate(ds, backbone, panetMethod, settings, be.name, {
      featureBytes: Number(cacheMbS) * 1024 * 1024,
      encode: pool ? (px, s) => pool.encode(px, s) : undefined,
      onProgress: (d, t) => {
        if (d % 100 === 0 || d === t) process.stderr.write(`voc-scale: ${d}/${t} episodes, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`);
      },
    });
    const numTensorsEnd = tf.memory().numTensors;
    const report: ChildReport = {
      episodes: r.episodesScored, seconds: r.timing.seconds, episodesPerSecond: r.timing.episodesPerSecond,
      imagesEncoded: r.timing.featureCache.misses, cacheHits: r.timing.featureCache.hits, evictions: r.timing.featureCache.evictions,
      cacheMB: r.timing.featureCache.bytes / 2 ** 20, miou: r.miou, numTensorsStart, numTensorsEnd,
      // ru_maxrss: the process's resident high-water mark in kB, all threads (the encoder workers) included
      peakRssMB: process.resourceUsage().maxRSS / 1024, rssAfterMB: process.memoryUsage().rss / 2 ** 20,
      backend: be.name, workers: pool?.size ?? 0,
    };
    process.stdout.write(JSON.stringify(report) + '\n');
  } finally {
    backbone.dispose();
    await pool?.close();
  }
}

if (require.main === module && process.argv.includes('--child')) {
  childMain().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}
