// protolab eval … — the papers' protocol on a dataset; prints the table, optionally writes JSON / JSONL.
import * as fs from 'fs';
import * as path from 'path';
import { int, oneOf, parse } from '../cli/args';
import { onInterrupt } from '../cli/interrupt';
import { progressBar } from '../cli/progress';
import { UsageError } from '../errors';
import { resultOf, runEvaluation, type EpisodeOutcome, type EvalSettings } from '../eval/evaluate';
import { parseShard, resultJson } from '../eval/shard';
import { writeShard } from './merge';
import { evalTable } from './evalReport';
import type { FewShotMethod } from '../fewshot/method';
import { createMethod, METHOD_IDS } from '../fewshot/registry';
import { createBackbone, type CreateBackboneOptions } from '../nets/backbone';
import { readTrainMeta, type TrainCheckpointMeta } from '../train/checkpoint';
import { checkpointBackboneOptions, methodFromCheckpoint } from '../train/load';
import { resolveCheckpoint } from '../train/runDir';
import { openAtomicLineFile, writeFileAtomic } from '../fsutil';
import { foregroundMap, type SupportAnnotation } from '../fewshot/annotations';
import { encodeIndexPng } from '../image/png';
import { createPseudoMaskSource, WEAK_DEFAULTS, type WeakConfig } from '../fewshot/weak/pseudoSource';
import type { Encoder } from '../features/frozenEncoder';
import {
  backboneOptionsFromFlags, backendFromFlags, datasetOptions, encoderFromFlags, episodeOptions, inferenceHelp, limitHelp, modelOptions,
  openDatasetFromFlags, weakConfigFromFlags, weakHelp, weakOptions,
} from './common';
import { qualityConfigFromFlags, qualityHelp, qualityOptions } from './qualityFlags';
import { qualityEvalSetup } from './evalQualitySetup';

export const evalHelp = `protolab eval --data DIR --dataset voc|coco [--split panet|fwb] --fold F --ways N --shots K
    [--episodes 1000] [--runs 5] [--seed 1234] [--size 417] [--list val|train|trainaug]
    [--backbone vgg16|mobilenetv2] [--weights FILE] [--annotation dense|scribble|box]
    [--supervision masks|image-labels [--vectors FILE] [--classifier MODEL.json --classifier-classes FILE]
     [--no-saliency] [--pseudo-threshold 0.25]]
    [--method panet|metasegnet|pixelmeta] [--checkpoint CKPT|RUNDIR]
    [--backend tensorflow|webgpu|wasm|cpu] [--inference auto|onnx|tfjs] [--json OUT] [--records OUT.jsonl]
    [--images DIR] [--crowd ignore|class] [--cache-dir DIR] [--feature-cache DIR] [--min-pixels 1]
    [--workers N] [--threads N] [--cache-mb 2048] [--shard i/n]
  --checkpoint: a ProtoLab training checkpoint, or a run dir (its latest checkpoint); the method, its
  settings and the backbone come from the checkpoint (and --size defaults to the training size).
  Evaluates a few-shot method (default PANet on the given backbone weights) by the papers' protocol:
  runs × episodes, per-class TP/FP/FN summed over each run, mIoU over the fold's classes, FB-IoU,
  mean ± std over runs, with trivial baselines on the same episodes.
${inferenceHelp}
  --data: the folder holding VOCdevkit/ and/or coco/, those folders themselves, or (coco) one JSON file.
${weakHelp}
    The report adds the pseudo masks' own IoU against the ground truth; --records gives it per support;
    --pseudo-out DIR writes each support pseudo mask as DIR/<image id>.<class ordinal>.png (an index PNG
    at the input size: the class where the mask says foreground, 0 elsewhere), once per image and class.
  --shard i/n: score only episodes e with e mod n = i of every run (0 ≤ i < n) and write the shard's sums
    and records to --json (required); protolab merge puts the n shard files together into the exact
    unsharded result. --feature-cache may be a folder all shards share (safe for concurrent writers).
  Ctrl-C stops at an episode boundary and still reports (and writes) what was scored (a shard: nothing).
${qualityHelp('panet')}
    (quality: the labeling predictor on the same episodes, scored the same way; the result records its settings)
${limitHelp}`;

export async function evalCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    {
      ...datasetOptions,
      ...modelOptions,
      ...weakOptions,
      ...episodeOptions,
      episodes: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' },
      list: { type: 'string' }, annotation: { type: 'string' }, json: { type: 'string' }, records: { type: 'string' },
      'feature-cache': { type: 'string' }, 'min-pixels': { type: 'string' }, method: { type: 'string' },
      'cache-mb': { type: 'string' }, workers: { type: 'string' }, checkpoint: { type: 'string' }, 'pseudo-out': { type: 'string' },
      shard: { type: 'string' },
      ...qualityOptions,
    },
    'eval',
  );
  if (v.help) return console.log(evalHelp), 0;
  if (v.fold === undefined) throw new UsageError('protolab eval: --fold is required (0-3)');
  // A checkpoint brings its own method, backbone and training size.
  const ckptFile = typeof v.checkpoint === 'string' ? resolveCheckpoint(v.checkpoint) : undefined;
  const ckpt = ckptFile ? readTrainMeta(ckptFile) : undefined;
  if (ckpt && ckptFile) checkpointFlagsAgree(v, ckptFile, ckpt);
  // A run trained from image-level labels is evaluated the same way unless the flags say otherwise.
  const weakFromCkpt = ckpt?.config.supervision === 'image-labels' && v.supervision === undefined && v.annotation === undefined;
  const trainedSize = typeof ckpt?.config.size === 'number' ? ckpt.config.size : 417;
  const settings: EvalSettings = {
    method: ckpt ? ckpt.method : oneOf(v, 'method', METHOD_IDS, 'panet'),
    dataset: oneOf(v, 'dataset', ['voc', 'coco'] as const, 'voc'),
    split: oneOf(v, 'split', ['panet', 'fwb'] as const, 'panet'),
    fold: int(v, 'fold', 0, 0, 3),
    ways: int(v, 'ways', 1, 1, 20),
    shots: int(v, 'shots', 1, 1, 100),
    episodes: int(v, 'episodes', 1000, 1),
    runs: int(v, 'runs', 5, 1, 100),
    seed: int(v, 'seed', 1234),
    size: int(v, 'size', trainedSize, 32, 2048),
    list: oneOf(v, 'list', ['val', 'train', 'trainaug'] as const, 'val'),
    annotation: v.supervision === 'image-labels' || weakFromCkpt ? 'pseudo' : oneOf(v, 'annotation', ['dense', 'scribble', 'box'] as const, 'dense'),
    minPixels: int(v, 'min-pixels', 1, 1),
    queriesPerClass: 1,
  };
  if (settings.dataset === 'voc' && v.split !== undefined && settings.split !== 'panet') {
    throw new UsageError('--split fwb applies to COCO-20i only; PASCAL-5i has one convention');
  }
  if (v.supervision === 'image-labels' && v.annotation !== undefined) {
    throw new UsageError('--annotation and --supervision image-labels exclude each other: weak supervision has no masks to draw scribbles or boxes from');
  }
  if (v['pseudo-out'] !== undefined && settings.annotation !== 'pseudo') throw new UsageError('--pseudo-out needs --supervision image-labels');
  const shard = typeof v.shard === 'string' ? parseShard(v.shard) : undefined;
  if (shard && typeof v.json !== 'string') throw new UsageError('--shard needs --json SHARD.json: a shard counts only once protolab merge has all n of them');
  const ds = await openDatasetFromFlags(v, 'eval');
  const backend = await backendFromFlags(v);
  const backboneOpts: CreateBackboneOptions = ckpt && ckptFile ? checkpointBackboneOptions(ckptFile, ckpt) : backboneOptionsFromFlags(v, 'vgg16');
  const quality = qualityConfigFromFlags(v, 'panet', backboneOpts.id, backboneOpts.id === 'vgg16' ? 8 : 16);
  if (quality && (ckpt || v.method !== undefined)) throw new UsageError('--predictor quality replaces the few-shot method: drop --checkpoint / --method');
  if (quality) settings.method = 'quality';
  if (weakFromCkpt) process.stderr.write('the checkpoint was trained from image-level labels: evaluating with them too (--supervision masks to use masks)\n');
  const weak = weakFromCkpt ? (ckpt!.config.weak as WeakConfig | undefined) ?? WEAK_DEFAULTS : weakConfigFromFlags(v);
  const pseudo = weak ? await createPseudoMaskSource(weak, ds.classNames) : undefined;
  const backbone = await createBackbone(backboneOpts).catch((e) => {
    pseudo?.dispose();
    throw e;
  });
  let method: FewShotMethod & { dispose?: () => void };
  try {
    method = quality ? await qualityEvalSetup(quality, ds, settings.size, backbone) : ckpt && ckptFile
      ? methodFromCheckpoint(ckptFile, ckpt, backbone.channels)
      : createMethod(settings.method, undefined, backbone.channels, int(v, 'init-seed', 1));
  } catch (e) {
    backbone.dispose();
    pseudo?.dispose();
    throw e;
  }
  let encoder: Encoder;
  try {
    encoder = await encoderFromFlags(v, backbone, backboneOpts, backend, v.workers === undefined ? undefined : int(v, 'workers', 0, 0, 64));
  } catch (e) {
    method.dispose?.();
    backbone.dispose();
    pseudo?.dispose();
    throw e;
  }

  // Records stream to a temp file renamed at the end: a crash never leaves a half file under the real name,
  // and a failed write (disk full, read-only folder) is a StorageError naming the file.
  const records = typeof v.records === 'string' ? openAtomicLineFile(path.resolve(v.records)) : undefined;

  const interrupt = onInterrupt('stopping after this episode');
  const bar = progressBar('eval');
  const shardRecords: EpisodeOutcome[] | undefined = shard ? [] : undefined;
  try {
    const run = await runEvaluation(ds, backbone, method, settings, backend.name, {
      signal: interrupt.signal,
      pseudo,
      onPseudoMask: typeof v['pseudo-out'] === 'string' ? pseudoWriter(path.resolve(v['pseudo-out'])) : undefined,
      featureBytes: int(v, 'cache-mb', 2048, 64) * 1024 * 1024,
      featureDir: v['feature-cache'] as string | undefined,
      encode: (px, size) => encoder.encode(px, size),
      encoder: encoder.report,
      onProgress: (d, t) => bar.update(d, t),
      onEpisode: !records && !shardRecords ? undefined : (rec) => {
        shardRecords?.push(rec);
        records?.write(JSON.stringify(rec) + '\n');
      },
      shard,
    });
    bar.done();
    const result = resultOf(run);
    // what --json adds to the result (a merge writes the same); the quality predictor's settings
    const extras = { backendDetails: backend, ...(quality ? { predictor: { id: 'quality', ...quality } } : {}) };
    if (shard && shardRecords) writeShard(path.resolve(v.json as string), run, result, shard, shardRecords, extras);
    else console.log(evalTable(result));
    if (typeof v.json === 'string' && !shard) {
      writeFileAtomic(path.resolve(v.json), resultJson(result, extras));
      console.log(`result written to ${path.resolve(v.json)}`);
    }
    if (records) {
      records.commit();
      console.log(`episode records written to ${records.file}`);
    }
    return result.complete ? 0 : 130;
  } catch (e) {
    records?.abort();
    throw e;
  } finally {
    interrupt.release();
    method.dispose?.();
    backbone.dispose();
    pseudo?.dispose();
    await encoder.close();
  }
}

/** --pseudo-out: each (image, class) pseudo mask once, as an index PNG in dataset ordinals, written atomically. */
function pseudoWriter(dir: string): (imageId: string, cls: number, mask: SupportAnnotation) => void {
  const done = new Set<string>();
  return (imageId, cls, mask) => {
    const file = path.join(dir, `${imageId.replace(/[\\/]/g, '_')}.${cls}.png`);
    if (done.has(file)) return;
    done.add(file);
    writeFileAtomic(file, encodeIndexPng({ width: mask.width, height: mask.height, data: foregroundMap(mask, cls) }));
  };
}

/**
 * A checkpoint brings its own method, backbone, weights and init seed. Flags that repeat what it says are
 * accepted; a flag that says otherwise is refused, naming both values.
 */
function checkpointFlagsAgree(v: Record<string, unknown>, file: string, meta: TrainCheckpointMeta): void {
  const initSeed = typeof meta.config.initSeed === 'number' ? meta.config.initSeed : 1;
  const own: Array<[flag: string, given: unknown, theirs: string, same: (x: string) => boolean]> = [
    ['method', v.method, meta.method, (x) => x === meta.method],
    ['backbone', v.backbone, meta.backbone, (x) => x === meta.backbone],
    // The checkpoint file is its own weights; another file would replace the trained backbone.
    ['weights', v.weights, file, (x) => path.resolve(x) === path.resolve(file)],
    ['init-seed', v['init-seed'], String(initSeed), (x) => Number(x) === initSeed],
  ];
  const clashes = own.filter(([, given, , same]) => given !== undefined && !same(String(given)));
  if (clashes.length) {
    throw new UsageError(clashes
      .map(([flag, given, theirs]) => `--${flag} ${String(given)} conflicts with the checkpoint's ${flag} (${theirs}); drop --${flag} or give another checkpoint`)
      .join('\n'));
  }
}
