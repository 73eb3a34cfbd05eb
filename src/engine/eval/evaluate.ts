// The papers' evaluation protocol (PANet §5.1; DESIGN.md "Data flow"): `runs` × `episodes` N-way K-shot
// episodes from the fold's classes (seed of run r = seed + r), per-class TP/FP/FN summed over each run,
// mIoU over the fold's classes and FB-IoU per run, then mean ± std over runs. The trivial baselines
// (all-background, all-foreground) are scored on the very same episodes so a result can be read against
// them. Every setting that produced a result is recorded in it.
// Weak supervision (Pixel-Level Meta-Learner, annotation 'pseudo'): each support image is known only by
// its image-level label, its annotation is the pseudo mask built from that label, and the pseudo masks'
// own IoU against the (resized) ground truth is scored alongside, per run, the same way (TP/FP/FN summed).
// An evaluation is computed in two steps: runEvaluation() scores episodes into per-run sums (an EvalRun,
// optionally only one shard's episodes, see shard.ts), resultOf() turns sums into the result. A merge of
// shards adds their sums and goes through the same resultOf(), so it prints what one process would.
import { protocolWarning } from './protocolWarning';
import type { DataProblem, ListName, SegDataset } from '../data/dataset';
import { EpisodeSampler, type Episode } from '../data/episodes';
import { foldClasses, type SplitConvention } from '../data/splits';
import { CancelledError, DataError, UsageError } from '../errors';
import { isStorageError } from '../storageError';
import { boxAnnotation, denseAnnotation, foregroundMap, scribbleAnnotation, type SupportAnnotation } from '../fewshot/annotations';
import type { FewShotMethod, SupportInput } from '../fewshot/method';
import type { PseudoMaskParts, PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import type { Backbone } from '../nets/backbone';
import type { EncoderReport } from '../features/frozenEncoder';
import { Rng } from '../prng';
import { FewShotRunMetric, summariseRuns, type EpisodeRecord, type RunsSummary } from './metrics';
import { shardEpisodes, type ShardSpec } from './shardSpec';
import { EpisodeInputs } from './episodeInputs';
import type { FeatureCache, FeatureCacheStats, FeatureEntry } from '../features/featureCache';

/** How the supports are annotated: dense masks, scribbles or boxes made from them (PANet §5.4), or
 *  'pseudo': image-level labels only, turned into pseudo masks (weak supervision). */
export type AnnotationKind = 'dense' | 'scribble' | 'box' | 'pseudo';

export interface EvalSettings {
  method: string;
  dataset: 'voc' | 'coco';
  split: SplitConvention;
  fold: number;
  ways: number;
  shots: number;
  episodes: number;
  runs: number;
  seed: number;
  size: number;
  list: ListName;
  annotation: AnnotationKind;
  /** Images "contain" a class from this many pixels (at native resolution). */
  minPixels: number;
  queriesPerClass: number;
}

export interface EvalHooks {
  onProgress?: (done: number, total: number) => void;
  /** Every scored episode, as soon as it is scored (for --records and the UI). */
  onEpisode?: (rec: EpisodeOutcome) => void;
  /** Every query's prediction (episode-local labels at the input size), keyed like its record. */
  onPrediction?: (id: string, pred: Uint8Array) => void;
  signal?: AbortSignal;
  /** Feature-cache budget (bytes) and optional disk folder. */
  featureBytes?: number;
  featureDir?: string;
  /** A feature cache shared with other evaluations (its own budget and folder apply). */
  featureCache?: FeatureCache;
  /** Off-thread encoder (EncoderPool.encode) and how many episodes ahead to prefetch for it. */
  encode?: (px: Float32Array, size: number) => Promise<FeatureEntry>;
  /** Which engine `encode` runs on and why (features/frozenEncoder.ts), for the result. */
  encoder?: EncoderReport;
  prefetchEpisodes?: number;
  /** Required for annotation 'pseudo': the pseudo-mask pipeline (weak/pseudoSource.ts). */
  pseudo?: PseudoMaskSource;
  /** Every support pseudo mask as it is used (image id, its class, the mask at the input size). */
  onPseudoMask?: (imageId: string, cls: number, mask: SupportAnnotation) => void;
  /** Score only this shard's episodes of every run (shard.ts); the episodes themselves do not change. */
  shard?: ShardSpec;
}

export interface EpisodeOutcome extends EpisodeRecord {
  run: number;
  index: number;
  key: string;
  supports: string[][];
  queries: string[];
  /** annotation 'pseudo': IoU of each support's pseudo mask with its class's truth, [way][shot]. */
  pseudoIoU?: Array<Array<number | null>>;
}

export interface RunResult {
  run: number;
  seed: number;
  miou: number | null;
  fbiou: number | null;
  classIoU: Array<{ cls: number; name: string; iou: number | null }>;
}

export interface BaselineResult {
  miou: number;
  fbiou: number;
}

export interface EvalResult {
  tool: 'protolab';
  kind: 'few-shot-eval';
  createdAt: string;
  complete: boolean;
  settings: EvalSettings;
  data: { root: string; fingerprint: string; foldClasses: Array<{ cls: number; name: string }> };
  /** `trainedOn`: what the backbone's weights were trained on, when that is not ImageNet classification. */
  backbone: { id: string; weightsHash: string; weightsSource: string; trainedOn?: string };
  /** Set when the numbers cannot stand beside the papers' (eval/protocolWarning.ts). */
  protocolWarning?: string;
  backend: string;
  /** The engine that computed the backbone features, and why that one (tfjs backend above otherwise). */
  encoder: EncoderReport;
  /** Mean over runs: the headline numbers. */
  miou: number;
  fbiou: number;
  summary: RunsSummary;
  runs: RunResult[];
  baselines: { allBackground: BaselineResult; allForeground: BaselineResult };
  episodesScored: number;
  skipped: Array<{ episode: string; error: string }>;
  /** Inputs the dataset reader left out or repaired while indexing the list (an unreadable mask's image is in no episode). */
  dataProblems?: DataProblem[];
  /** Fold classes with too few images to fill a way: no episode drew them. */
  classesLeftOut?: Array<{ cls: number; name: string; images: number; needed: number }>;
  /** annotation 'pseudo' only: what made the pseudo masks, and how good they were. */
  weak?: {
    supervision: 'image-labels';
    parts: PseudoMaskParts;
    /** The support pseudo masks scored as segmentations of their class (mean over runs). */
    pseudoMasks: { miou: number; fbiou: number; masks: number; classIoU: Array<{ cls: number; name: string; iou: number | null }> };
  };
  timing: { seconds: number; episodesPerSecond: number; backboneSeconds: number; featureCache: FeatureCacheStats };
}

/** What defines an evaluation apart from its numbers: shards of one evaluation agree on all of it. */
export type EvalIdentity = Pick<EvalResult, 'settings' | 'data' | 'backbone' | 'backend' | 'dataProblems' | 'classesLeftOut'> & { weakParts?: PseudoMaskParts };

/** Per-run sums of an evaluation (or of one shard of it), before any ratio is taken. */
export interface EvalTally {
  /** One per run, in run order (runs without a scored episode included). */
  model: FewShotRunMetric[];
  allBackground: FewShotRunMetric[];
  allForeground: FewShotRunMetric[];
  /** annotation 'pseudo': the support pseudo masks scored against their class's truth. */
  pseudo: FewShotRunMetric[];
  skipped: EvalResult['skipped'];
  scored: number;
  complete: boolean;
}

export interface EvalRun {
  identity: EvalIdentity;
  /** Which engine ran the encoder and why. Not part of the identity: shards of one evaluation may run
   *  on machines whose encoders differ (onnx here, tfjs there) and still merge; their features agree. */
  encoder: EncoderReport;
  tally: EvalTally;
  timing: EvalResult['timing'];
  createdAt: string;
}

/**
 * The support side of an episode: features and the annotation of each shot. Annotation randomness
 * (which instance's box, where the scribbles go) has its own stream per shot, so dense, box and
 * scribble evaluations draw identical episodes, and the UI rebuilds exactly what the evaluation used.
 */
export async function episodeSupport(ep: Episode, inputs: EpisodeInputs, kind: AnnotationKind, seed: number): Promise<SupportInput[][]> {
  const annRng = new Rng(seed + ep.run).fork(`annotation:${ep.index}`);
  const support: SupportInput[][] = [];
  for (let j = 0; j < ep.classes.length; j++) {
    const way: SupportInput[] = [];
    for (let k = 0; k < ep.supports[j].length; k++) {
      const id = ep.supports[j][k];
      way.push({
        features: await inputs.featuresOf(id),
        annotation: await supportAnnotation(kind, inputs, id, ep.classes[j], ep.classes, annRng.fork(`${j}:${k}`)),
        imageId: id,
      });
    }
    support.push(way);
  }
  return support;
}

function supportAnnotation(kind: AnnotationKind, inputs: EpisodeInputs, id: string, cls: number, classes: number[], rng: Rng): Promise<SupportAnnotation> {
  return (async () => {
    if (kind === 'pseudo') return (await inputs.pseudoOf(id, cls)).annotation; // no mask: the label alone
    const mask = await inputs.maskOf(id);
    if (kind === 'dense') return denseAnnotation(mask, cls, classes);
    if (kind === 'scribble') return scribbleAnnotation(mask, cls, rng, classes);
    return boxAnnotation(mask, await inputs.instancesOf(id), cls, rng);
  })();
}

export async function evaluate(
  ds: SegDataset,
  backbone: Backbone,
  method: FewShotMethod,
  settings: EvalSettings,
  backendName: string,
  hooks: EvalHooks = {},
): Promise<EvalResult> {
  return resultOf(await runEvaluation(ds, backbone, method, settings, backendName, hooks));
}

/** Score the episodes (all, or hooks.shard's) into per-run sums. */
export async function runEvaluation(
  ds: SegDataset,
  backbone: Backbone,
  method: FewShotMethod,
  settings: EvalSettings,
  backendName: string,
  hooks: EvalHooks = {},
): Promise<EvalRun> {
  const t0 = performance.now();
  if (settings.annotation === 'pseudo' && !hooks.pseudo) throw new UsageError('weak supervision (annotation pseudo) needs a pseudo-mask source');
  const numClasses = ds.classNames.length - 1;
  const classes = foldClasses(ds.kind, numClasses, settings.fold, settings.split);
  const index = await ds.index(settings.list);
  const sampler = new EpisodeSampler(
    {
      fold: settings.fold, classes, ways: settings.ways, shots: settings.shots, queriesPerClass: settings.queriesPerClass,
      seed: settings.seed, list: settings.list, minPixels: settings.minPixels,
    },
    index,
    ds.indexProblems?.(settings.list),
  );
  const inputs = new EpisodeInputs(ds, backbone, {
    size: settings.size,
    featureBytes: hooks.featureBytes ?? 2 * 1024 ** 3,
    featureDir: hooks.featureDir,
    encode: hooks.encode,
    cache: hooks.featureCache,
    pseudo: hooks.pseudo,
  });
  const statsAtStart = { ...inputs.features.stats };
  const ahead = hooks.encode ? (hooks.prefetchEpisodes ?? 4) : 0;
  const imagesOf = (e: Episode) => [...e.supports.flat(), ...e.queries];
  const out: [number, number] = [settings.size, settings.size];
  const metrics: FewShotRunMetric[] = [];
  const allBg: FewShotRunMetric[] = [];
  const allFg: FewShotRunMetric[] = [];
  const pseudo: FewShotRunMetric[] = [];
  const skipped: EvalResult['skipped'] = [];
  // The episode indices this process scores in every run: all of them, or one shard's.
  const mine = shardEpisodes(settings.episodes, hooks.shard);
  const total = settings.runs * mine.length;
  let done = 0, scored = 0, complete = true;

  outer: for (let run = 0; run < settings.runs; run++) {
    // Records are streamed through onEpisode; the model's metric keeps none (a 5 × 1000 run would hold them all).
    const m = new FewShotRunMetric(classes, numClasses, { keepRecords: false });
    const bg = new FewShotRunMetric(classes, numClasses, { keepRecords: false });
    const fg = new FewShotRunMetric(classes, numClasses, { keepRecords: false });
    const ps = new FewShotRunMetric(classes, numClasses, { keepRecords: false });
    metrics.push(m); allBg.push(bg); allFg.push(fg); pseudo.push(ps);
    for (let p = 0; p < mine.length; p++) {
      // Let queued events run (a cancel request, Ctrl-C, progress IPC): with every feature cached an
      // episode awaits only settled promises, and the loop would otherwise never give the event loop a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (hooks.signal?.aborted) {
        complete = false;
        break outer;
      }
      const ep = sampler.episode(run, mine[p]);
      // Keep the encoder workers busy with the next episodes' images while this one is scored.
      for (let a = 1; a <= ahead && p + a < mine.length; a++) inputs.prefetch(imagesOf(sampler.episode(run, mine[p + a])));
      try {
        const outcomes = await runEpisode(ep, inputs, method, settings, out, { m, bg, fg, ps }, hooks);
        scored++;
        outcomes.forEach((o) => hooks.onEpisode?.(o));
      } catch (e) {
        if (e instanceof CancelledError) throw e;
        // A full disk is no bad input file: the next episode would fail the same way.
        if (!(e instanceof DataError) || isStorageError(e)) throw e;
        // A bad file spoils this episode only: record it and go on (DESIGN.md "Errors").
        skipped.push({ episode: ep.id, error: e.message });
      }
      done++;
      hooks.onProgress?.(done, total);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const name = (c: number) => ds.classNames[c] ?? String(c);
  return {
    identity: {
      settings,
      data: { root: ds.root, fingerprint: ds.fingerprint, foldClasses: classes.map((cls) => ({ cls, name: name(cls) })) },
      backbone: { id: backbone.id, weightsHash: backbone.weightsHash, weightsSource: backbone.weightsSource, ...(backbone.trainedOn ? { trainedOn: backbone.trainedOn } : {}) },
      backend: backendName,
      ...(settings.annotation === 'pseudo' && hooks.pseudo ? { weakParts: hooks.pseudo.describe() } : {}),
      // what the data left out: the same for every shard of one evaluation
      dataProblems: [...(ds.indexProblems?.(settings.list) ?? [])],
      classesLeftOut: sampler.leftOut.map((c) => ({ ...c, name: name(c.cls) })),
    },
    encoder: hooks.encoder ?? { engine: 'tfjs', detail: `tfjs ${backendName}, ${hooks.encode ? 'off-thread' : 'in-process'}`, reason: [] },
    tally: { model: metrics, allBackground: allBg, allForeground: allFg, pseudo, skipped, scored, complete },
    timing: {
      seconds,
      episodesPerSecond: scored / seconds,
      backboneSeconds: inputs.backboneMs / 1000,
      // this evaluation's share of the (possibly shared) cache's counters
      featureCache: {
        ...inputs.features.stats,
        hits: inputs.features.stats.hits - statsAtStart.hits,
        diskHits: inputs.features.stats.diskHits - statsAtStart.diskHits,
        misses: inputs.features.stats.misses - statsAtStart.misses,
        evictions: inputs.features.stats.evictions - statsAtStart.evictions,
        damaged: inputs.features.stats.damaged - statsAtStart.damaged,
      },
    },
    createdAt: new Date().toISOString(),
  };
}

/** The result of an evaluation from its sums: per run mIoU / FB-IoU, mean ± std over runs, baselines. */
export function resultOf({ identity, encoder, tally, timing, createdAt }: EvalRun): EvalResult {
  const { settings, data } = identity;
  // A run cut short by cancel still reports what it scored; `complete` says so.
  const live = tally.model.filter((r) => r.episodes > 0);
  const summary = summariseRuns(live);
  const name = (c: number) => data.foldClasses.find((f) => f.cls === c)?.name ?? String(c);
  const base = (rs: FewShotRunMetric[]): BaselineResult => {
    const s = summariseRuns(rs.filter((r) => r.episodes > 0));
    return { miou: s.mIoU.mean, fbiou: s.fbIoU.mean };
  };
  const psLive = tally.pseudo.filter((r) => r.episodes > 0);
  const psSummary = summariseRuns(psLive);
  return {
    tool: 'protolab',
    kind: 'few-shot-eval',
    createdAt,
    complete: tally.complete,
    settings,
    data,
    backbone: identity.backbone,
    ...withWarning(protocolWarning(settings.dataset, identity.backbone.id, identity.backbone.trainedOn)),
    backend: identity.backend,
    encoder,
    miou: summary.mIoU.mean,
    fbiou: summary.fbIoU.mean,
    summary,
    runs: live.map((r, run) => ({
      run,
      seed: settings.seed + run,
      miou: r.mIoU(),
      fbiou: r.fbIoU(),
      classIoU: r.classIoU().map((c) => ({ ...c, name: name(c.cls) })),
    })),
    baselines: { allBackground: base(tally.allBackground), allForeground: base(tally.allForeground) },
    episodesScored: tally.scored,
    skipped: tally.skipped,
    dataProblems: identity.dataProblems ?? [],
    classesLeftOut: identity.classesLeftOut ?? [],
    weak: settings.annotation === 'pseudo' && identity.weakParts
      ? {
        supervision: 'image-labels',
        parts: identity.weakParts,
        pseudoMasks: {
          miou: psSummary.mIoU.mean,
          fbiou: psSummary.fbIoU.mean,
          masks: psLive.reduce((s, r) => s + r.episodes, 0),
          classIoU: meanClassIoU(psLive).map((c) => ({ ...c, name: name(c.cls) })),
        },
      }
      : undefined,
    timing,
  };
}

async function runEpisode(
  ep: Episode,
  inputs: EpisodeInputs,
  method: FewShotMethod,
  settings: EvalSettings,
  out: [number, number],
  { m, bg, fg, ps }: { m: FewShotRunMetric; bg: FewShotRunMetric; fg: FewShotRunMetric; ps: FewShotRunMetric },
  { onPseudoMask, onPrediction }: Pick<EvalHooks, 'onPseudoMask' | 'onPrediction'>,
): Promise<EpisodeOutcome[]> {
  const support = await episodeSupport(ep, inputs, settings.annotation, settings.seed);
  // Weak supervision: score each support's pseudo mask (1 = its class) against that class's truth.
  let pseudoIoU: Array<Array<number | null>> | undefined;
  if (settings.annotation === 'pseudo') {
    pseudoIoU = [];
    for (let j = 0; j < ep.classes.length; j++) {
      const row: Array<number | null> = [];
      for (let k = 0; k < ep.supports[j].length; k++) {
        const a = support[j][k].annotation;
        onPseudoMask?.(ep.supports[j][k], ep.classes[j], a);
        const gt = await inputs.maskOf(ep.supports[j][k]);
        row.push(ps.addEpisode({ id: `${ep.id}s${j}.${k}`, classes: [ep.classes[j]], gt: gt.data, pred: foregroundMap(a) }).fgIoU);
      }
      pseudoIoU.push(row);
    }
  }
  const outcomes: EpisodeOutcome[] = [];
  for (let q = 0; q < ep.queries.length; q++) {
    const qid = ep.queries[q];
    const gtMask = await inputs.maskOf(qid);
    const pred = await method.predict(support, await inputs.featuresOf(qid), out, qid);
    const id = ep.queries.length > 1 ? `${ep.id}q${q}` : ep.id;
    onPrediction?.(id, pred);
    const record = m.addEpisode({ id, classes: ep.classes, gt: gtMask.data, pred });
    bg.addEpisode({ id, classes: ep.classes, gt: gtMask.data, pred: new Uint8Array(pred.length) });
    // all-foreground: every pixel labelled with the class this query was drawn for
    fg.addEpisode({ id, classes: ep.classes, gt: gtMask.data, pred: new Uint8Array(pred.length).fill(ep.queryWay[q] + 1) });
    outcomes.push({ ...record, run: ep.run, index: ep.index, key: ep.key, supports: ep.supports, queries: [qid], ...(pseudoIoU ? { pseudoIoU } : {}) });
  }
  return outcomes;
}

/** Per-class IoU averaged over runs (a class absent from every run stays null). */
function meanClassIoU(runs: FewShotRunMetric[]): Array<{ cls: number; iou: number | null }> {
  if (!runs.length) return [];
  return runs[0].classIoU().map(({ cls }, i) => {
    const xs = runs.map((r) => r.classIoU()[i].iou).filter((x): x is number => x !== null);
    return { cls, iou: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null };
  });
}

function withWarning(w: string | undefined): { protocolWarning?: string } {
  return w ? { protocolWarning: w } : {};
}
