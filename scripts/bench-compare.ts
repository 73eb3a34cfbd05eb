// `npm run bench:compare`: ProtoLab and PyTorch PANet on the same machine, in the same run, on the same
// data, weights and episodes.
//   1. Debian's python3-torch is installed with apt-get when missing (root only; else it says how).
//   2. One set of random VGG-16 weights (ProtoLab's seeded init) is written as a torchvision-layout
//      safetensors file; ProtoLab loads it with --weights, the PyTorch script reads it by hand.
//   3. Encoder ms/image (min and median of --runs after a warm-up), 1 image at a time: torch, and
//      ProtoLab per engine (onnxruntime; tfjs-wasm, which runs one image on one thread in Node).
//   4. End to end, 1-way 1-shot (--episodes) and 1-way 5-shot (--episodes-5shot) on the sample set (VOC
//      format, fold 0, val list): ProtoLab's evaluate() — what `protolab eval` runs — and
//      scripts/reference/panet_torch_eval.py (PANet's official test loop) on exactly the episodes
//      ProtoLab drew; episodes/s by wall clock, image decoding included, model loading excluded on
//      both sides. Pixel agreement of the two predictions over all those episodes.
//   5. The last line is one JSON object (speedup, speedup_5shot, encoder_ratio, agreement, settings,
//      machine). docs/benchmarks.md quotes it.
// Flags: --size 224 --threads 2 --episodes 300 --episodes-5shot 100 --runs 5 --data DIR (a VOC root;
// default: the built-in sample, written once under --work) --work DIR (default test-output/bench-compare)
// --engines onnx,tfjs (encoder timings) --eval-engine onnx|tfjs --onnx-workers N --skip-install
// --encoder-only (step 3 alone; the JSON then has encoder_ratio and no speedup)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/engine/backend';
import { openDataset } from '../src/engine/data/open';
import { writeSampleDataset } from '../src/engine/data/sample';
import { FeatureCache } from '../src/engine/features/featureCache';
import { evaluate, type EpisodeOutcome, type EvalSettings } from '../src/engine/eval/evaluate';
import { panetMethod } from '../src/engine/fewshot/method';
import { createBackbone, type Backbone } from '../src/engine/nets/backbone';
import { createEncoder, type Encoder, type InferenceEngine } from '../src/engine/features/frozenEncoder';
import { writeSafetensors, type TensorToWrite } from '../src/engine/nets/safetensors';
import { Vgg16, VGG16_CONVS } from '../src/engine/nets/vgg16';
import { tfToOihw } from '../src/engine/nets/onnx/vgg16Graph';

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string', default: '224' },
    threads: { type: 'string', default: '2' },
    episodes: { type: 'string', default: '300' },
    'episodes-5shot': { type: 'string', default: '100' },
    runs: { type: 'string', default: '5' },
    data: { type: 'string' },
    work: { type: 'string' },
    engines: { type: 'string', default: 'onnx,tfjs' },
    'eval-engine': { type: 'string', default: 'onnx' },
    'onnx-workers': { type: 'string', default: '1' },
    'skip-install': { type: 'boolean', default: false },
    'encoder-only': { type: 'boolean', default: false },
  },
});
const SIZE = Number(flags.size);
const THREADS = Number(flags.threads);
const RUNS = Math.max(5, Number(flags.runs));
const PY = '/usr/bin/python3';
const ROOT = path.resolve(__dirname, '..', '..');
const REF = path.join(ROOT, 'scripts', 'reference', 'panet_torch_eval.py');
const WORK = path.resolve(flags.work ?? path.join(ROOT, 'test-output', 'bench-compare'));
const say = (s: string) => console.log(s);

function ensureTorch(): string {
  const probe = () => spawnSync(PY, ['-c', 'import torch, numpy, PIL; print(torch.__version__)'], { encoding: 'utf8' });
  let p = probe();
  if (p.status === 0) return p.stdout.trim();
  if (flags['skip-install']) throw new Error(`${PY} cannot import torch/numpy/PIL and --skip-install was given: apt-get install python3-torch python3-pil`);
  if (process.getuid?.() !== 0) throw new Error(`${PY} cannot import torch (${p.stderr.trim().split('\n').pop()}); run as root or: sudo apt-get install -y python3-torch python3-pil`);
  say('installing Debian python3-torch (apt-get) …');
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!apt(['install', '-y', 'python3-torch', 'python3-pil', 'python3-numpy'])) {
    apt(['update']);
    if (!apt(['install', '-y', 'python3-torch', 'python3-pil', 'python3-numpy'])) throw new Error('apt-get install python3-torch failed');
  }
  p = probe();
  if (p.status !== 0) throw new Error(`python3-torch installed but ${PY} still cannot import it: ${p.stderr}`);
  return p.stdout.trim();
}

/** Run the reference script; its last stdout line is JSON. */
function python(args: string[]): Record<string, unknown> {
  const r = spawnSync(PY, [REF, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`panet_torch_eval.py ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Random VGG-16 (ProtoLab's seeded init, seed 1) as a torchvision state dict (features.N, OIHW). */
function exportWeights(file: string): void {
  if (fs.existsSync(file)) return;
  const arrays = Vgg16.randomArrays(1);
  const idx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
  const out: Record<string, TensorToWrite> = {};
  VGG16_CONVS.forEach((c, i) => {
    out[`features.${idx[i]}.weight`] = { shape: [c.cout, c.cin, 3, 3], data: tfToOihw(arrays[`${c.name}.weight`].data as Float32Array, 3, 3, c.cin, c.cout) };
    out[`features.${idx[i]}.bias`] = { shape: [c.cout], data: arrays[`${c.name}.bias`].data as Float32Array };
  });
  writeSafetensors(file, out, { source: 'protolab random-init(seed=1), torchvision vgg16 features layout' });
}

interface Timing { min_ms: number; median_ms: number; runs: number }

async function timeIt(fn: () => Promise<unknown>, runs: number): Promise<Timing & { all_ms: number[] }> {
  await fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return { min_ms: ts[0], median_ms: ts[Math.floor((ts.length - 1) / 2)], runs, all_ms: ts.map((t) => Math.round(t)) };
}

const image = () => Float32Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i * 37 + (i >> 7)) % 256);

async function encoderTimings(bb: Backbone, engines: InferenceEngine[], weights: string): Promise<Record<string, Timing>> {
  const out: Record<string, Timing> = {};
  const torch = () => python(['encoder', '--weights', weights, '--size', String(SIZE), '--threads', String(THREADS), '--warmup', '1', '--runs', String(RUNS)]) as unknown as Timing;
  const best = (a: Timing | undefined, b: Timing): Timing => (!a || b.min_ms < a.min_ms ? b : a);
  // Two rounds, torch and onnxruntime interleaved (the machine's load drifts); the better round counts.
  for (let round = 0; round < 2; round++) {
    const t = torch();
    out.torch = best(out.torch, t);
    say(`  round ${round + 1}: torch ${SIZE}²: min ${t.min_ms.toFixed(0)} ms, median ${t.median_ms.toFixed(0)} ms`);
    if (engines.includes('onnx')) {
      const enc = await createEncoder(bb, { inference: 'onnx', tfjs: { name: 'wasm' }, threads: THREADS, cacheDir: path.join(WORK, 'cache') });
      try {
        const o = await timeIt(() => enc.encode(image(), SIZE), RUNS);
        out.onnx = best(out.onnx, o);
        say(`  round ${round + 1}: onnx  ${SIZE}²: min ${o.min_ms.toFixed(0)} ms, median ${o.median_ms.toFixed(0)} ms (${enc.report.detail})`);
      } finally {
        await enc.close();
      }
    }
  }
  if (engines.includes('tfjs')) {
    // tfjs-wasm in Node: one image runs on one thread (the eval pool runs one worker per core).
    const x = tf.tensor4d(image(), [1, SIZE, SIZE, 3]);
    out['tfjs-wasm'] = await timeIt(async () => {
      const y = bb.features(x);
      await y.data();
      y.dispose();
    }, RUNS);
    x.dispose();
    say(`  tfjs-wasm ${SIZE}²: min ${out['tfjs-wasm'].min_ms.toFixed(0)} ms, median ${out['tfjs-wasm'].median_ms.toFixed(0)} ms (1 thread)`);
  }
  return out;
}

interface EndToEnd {
  shots: number;
  episodes: number;
  protolab: { seconds: number; episodesPerSecond: number; imagesEncoded: number; encoder: string; miou: number };
  reference: { seconds: number; episodesPerSecond: number };
  speedup: number;
  agreement: number;
}

async function endToEnd(dataRoot: string, bb: Backbone, encoder: Encoder, shots: number, episodes: number, weights: string): Promise<EndToEnd> {
  const ds = await openDataset({ data: dataRoot, dataset: 'voc', cacheDir: path.join(WORK, 'cache') });
  const settings: EvalSettings = {
    method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots, episodes, runs: 1, seed: 1234, size: SIZE,
    list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
  };
  const outcomes: EpisodeOutcome[] = [];
  const preds = new Map<string, Uint8Array>();
  const t0 = performance.now();
  const r = await evaluate(ds, bb, panetMethod, settings, 'wasm', {
    featureCache: new FeatureCache(4 * 1024 ** 3), // fresh: every image is decoded and encoded in this run
    encode: (px, n) => encoder.encode(px, n),
    encoder: encoder.report,
    onEpisode: (o) => outcomes.push(o),
    onPrediction: (id, p) => preds.set(id, p),
  });
  const seconds = (performance.now() - t0) / 1000;
  // The reference runs the very episodes ProtoLab drew, in the same order.
  const spec = {
    size: SIZE,
    root: ds.root,
    episodes: outcomes.map((o) => ({ id: o.id, classes: o.classes, supports: o.supports, query: o.queries[0] })),
  };
  const specFile = path.join(WORK, `episodes-${shots}shot.json`);
  const predFile = path.join(WORK, `torch-pred-${shots}shot.u8`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const ref = python(['eval', '--weights', weights, '--episodes', specFile, '--threads', String(THREADS), '--pred-out', predFile]);
  const torchPred = fs.readFileSync(predFile);
  let same = 0, total = 0;
  spec.episodes.forEach((e, k) => {
    const mine = preds.get(e.id);
    if (!mine) throw new Error(`no ProtoLab prediction for episode ${e.id}`);
    const theirs = torchPred.subarray(k * SIZE * SIZE, (k + 1) * SIZE * SIZE);
    for (let i = 0; i < mine.length; i++) same += mine[i] === theirs[i] ? 1 : 0;
    total += mine.length;
  });
  const refSeconds = ref.seconds as number;
  const mine = { seconds, episodesPerSecond: r.episodesScored / seconds, imagesEncoded: r.timing.featureCache.misses, encoder: `${r.encoder.engine}: ${r.encoder.detail}`, miou: r.miou };
  return {
    shots, episodes: r.episodesScored,
    protolab: mine,
    reference: { seconds: refSeconds, episodesPerSecond: spec.episodes.length / refSeconds },
    speedup: mine.episodesPerSecond / (spec.episodes.length / refSeconds),
    agreement: same / total,
  };
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

async function main(): Promise<void> {
  const t0 = Date.now();
  fs.mkdirSync(WORK, { recursive: true });
  const load0 = os.loadavg()[0];
  const torchVersion = ensureTorch();
  say(`torch ${torchVersion} (${PY}); machine: ${cpuModel()} × ${os.availableParallelism()} cores, load average ${load0.toFixed(1)}`);
  const be = await selectBackend({ prefer: 'wasm' });
  const dataRoot = flags.data ? path.resolve(flags.data) : path.join(WORK, 'sample');
  if (!flags.data && !fs.existsSync(path.join(dataRoot, 'VOCdevkit', 'VOC2012', 'ImageSets'))) {
    say(`writing the sample dataset to ${dataRoot} …`);
    await writeSampleDataset({ out: dataRoot, seed: 1 });
  }
  const weights = path.join(WORK, 'vgg16-random-seed1.safetensors');
  exportWeights(weights);
  const bb = await createBackbone({ id: 'vgg16', weights });
  const engines = flags.engines!.split(',').filter(Boolean) as InferenceEngine[];
  say(`\nencoder (PANet VGG-16, ${SIZE}², ms/image, 1 image at a time, min/median of ${RUNS} after a warm-up):`);
  const enc = await encoderTimings(bb, engines, weights);
  const ratio: Record<string, number> = {};
  for (const k of Object.keys(enc)) if (k !== 'torch') ratio[k] = enc[k].min_ms / enc.torch.min_ms;
  if (flags['encoder-only']) {
    bb.dispose();
    const encoder_ms = Object.fromEntries(Object.entries(enc).map(([k, v]) => [k, { min: +v.min_ms.toFixed(1), median: +v.median_ms.toFixed(1) }]));
    console.log(JSON.stringify({ bench: 'protolab-vs-pytorch-panet-encoder', encoder_ratio: ratio, encoder_ms, settings: { size: SIZE, threads: THREADS }, machine: { cpu: cpuModel(), cores: os.availableParallelism(), load_average_start: +load0.toFixed(2), load_average_end: +os.loadavg()[0].toFixed(2) } }));
    return;
  }

  const evalEngine = flags['eval-engine'] as InferenceEngine;
  const encoder = await createEncoder(bb, {
    inference: evalEngine, tfjs: be, backboneOptions: { id: 'vgg16', weights }, workers: THREADS,
    threads: evalEngine === 'onnx' ? Math.max(1, Math.floor(THREADS / Number(flags['onnx-workers']))) : undefined,
    onnxWorkers: Number(flags['onnx-workers']), cacheDir: path.join(WORK, 'cache'),
  });
  const e2e: EndToEnd[] = [];
  try {
    for (const [shots, n] of [[1, Number(flags.episodes)], [5, Number(flags['episodes-5shot'])]]) {
      say(`\nend to end, 1-way ${shots}-shot, ${n} episodes at ${SIZE}² (ProtoLab encoder: ${encoder.report.detail}) …`);
      const r = await endToEnd(dataRoot, bb, encoder, shots, n, weights);
      e2e.push(r);
      say(`  ProtoLab eval   ${r.protolab.seconds.toFixed(1)} s  ${r.protolab.episodesPerSecond.toFixed(2)} episodes/s  (${r.protolab.imagesEncoded} images encoded, mIoU ${(100 * r.protolab.miou).toFixed(1)} %)`);
      say(`  PyTorch loop    ${r.reference.seconds.toFixed(1)} s  ${r.reference.episodesPerSecond.toFixed(2)} episodes/s  (every episode encodes its ${shots + 1} images)`);
      say(`  speedup ${r.speedup.toFixed(2)}×, pixel agreement ${(100 * r.agreement).toFixed(3)} %`);
    }
  } finally {
    await encoder.close();
    bb.dispose();
  }
  const result = {
    bench: 'protolab-vs-pytorch-panet',
    speedup: e2e[0].speedup,
    speedup_5shot: e2e[1].speedup,
    encoder_ratio: ratio,
    agreement: Math.min(...e2e.map((r) => r.agreement)),
    encoder_ms: Object.fromEntries(Object.entries(enc).map(([k, v]) => [k, { min: +v.min_ms.toFixed(1), median: +v.median_ms.toFixed(1) }])),
    end_to_end: e2e,
    settings: {
      size: SIZE, threads: THREADS, episodes_1shot: e2e[0].episodes, episodes_5shot: e2e[1].episodes, fold: 0, list: 'val', ways: 1,
      data: flags.data ? dataRoot : 'built-in sample (seed 1)', weights: 'random VGG-16 (ProtoLab init, seed 1) via safetensors',
      protolab_encoder: encoder.report.detail, reference: `${path.relative(ROOT, REF)} (torch ${torchVersion}, bg mask without 255 pixels as ProtoLab)`,
    },
    machine: { cpu: cpuModel(), cores: os.availableParallelism(), load_average_start: +load0.toFixed(2), load_average_end: +os.loadavg()[0].toFixed(2), node: process.version },
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  say(`\n${markdown(result)}\n`);
  console.log(JSON.stringify(result));
}

/** The benchmarks table, made from the result (so docs/benchmarks.md quotes the script, not a hand copy). */
function markdown(r: {
  speedup: number; speedup_5shot: number; agreement: number; encoder_ms: Record<string, { min: number; median: number }>;
  encoder_ratio: Record<string, number>; end_to_end: EndToEnd[]; machine: { cpu: string; cores: number; load_average_start: number; load_average_end: number };
}): string {
  const rows = [
    `| ${r.machine.cpu}, ${r.machine.cores} cores, ${THREADS} threads each, ${SIZE}² (load average ${r.machine.load_average_start}→${r.machine.load_average_end}) | PyTorch (PANet's test loop) | ProtoLab | ratio |`,
    '|---|---|---|---|',
    ...Object.keys(r.encoder_ratio).map((k) =>
      `| encoder ms/image, ${k} (min / median) | ${r.encoder_ms.torch.min.toFixed(0)} / ${r.encoder_ms.torch.median.toFixed(0)} | ${r.encoder_ms[k].min.toFixed(0)} / ${r.encoder_ms[k].median.toFixed(0)} | ${r.encoder_ratio[k].toFixed(2)}× torch's time |`),
    ...r.end_to_end.map((e) =>
      `| 1-way ${e.shots}-shot, ${e.episodes} episodes, episodes/s (seconds) | ${e.reference.episodesPerSecond.toFixed(2)} (${e.reference.seconds.toFixed(1)} s) | ${e.protolab.episodesPerSecond.toFixed(2)} (${e.protolab.seconds.toFixed(1)} s) | **${e.speedup.toFixed(1)}× faster** |`),
    `| pixel agreement of the predictions (all episodes) | | | ${(100 * r.agreement).toFixed(3)} % |`,
  ];
  return rows.join('\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
