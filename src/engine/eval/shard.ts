// An evaluation cut into n shards that a cluster's scheduler runs side by side (DESIGN.md "more than one
// machine"), and the merge that puts them back together.
//
// Which episodes a shard scores: episode e of EVERY run belongs to shard e mod n. The episode list itself
// is the unsharded one (episode e of run r is drawn from its own stream, episodes.ts), so a shard only
// picks which of them it scores. Interleaving rather than contiguous blocks: every shard gets the same
// number of episodes of every run (± 1) whatever n and the run count are, a shard's share of a run does
// not depend on how long the run is, and a shard that dies early has spread its loss over all runs
// instead of losing the tail of each.
//
// A shard's file carries the evaluation's identity (every setting, the data fingerprint, the backbone and
// its weights hash, the backend), the episode indices it covered, per-run TP/FP/FN SUMS of the model and
// the baselines (never ratios: IoU of summed counts is not the mean of per-shard IoUs) and its episode
// records. Merging adds the sums (integers, so the order never matters) and computes the result with the
// same code as an unsharded run (evaluate.ts resultOf), so the numbers are identical, not close.
import * as fs from 'fs';
import { DataError, UsageError } from '../errors';
import { EpisodeSampler } from '../data/episodes';
import type { EpisodeOutcome, EvalIdentity, EvalResult, EvalRun, EvalTally } from './evaluate';
import { FewShotRunMetric, type RunSums } from './metrics';
import { shardEpisodes, SHARD_RULE, type ShardSpec } from './shardSpec';

export { parseShard, shardEpisodes, SHARD_RULE, type ShardSpec } from './shardSpec';

interface RunPart { model: RunSums; allBackground: RunSums; allForeground: RunSums; pseudo: RunSums }

/** What `protolab eval --shard i/n --json FILE` writes. */
export interface ShardFile {
  tool: 'protolab';
  kind: 'few-shot-eval-shard';
  version: 1;
  shard: ShardSpec & { rule: string };
  evaluation: EvalIdentity;
  /** The engine that ran this shard's encoder (a merge reports the first shard's; see EvalRun.encoder). */
  encoder?: EvalRun['encoder'];
  /** Fields the unsharded `--json` output adds to the result (e.g. backendDetails), from this shard. */
  extras: Record<string, unknown>;
  /** Per run: the episode indices this shard covered. */
  episodes: number[][];
  runs: RunPart[];
  skipped: EvalResult['skipped'];
  scored: number;
  complete: boolean;
  /** Every scored query, in episode order (what --records writes). */
  records: EpisodeOutcome[];
  timing: EvalResult['timing'];
  createdAt: string;
}

export function shardFile(run: EvalRun, shard: ShardSpec, records: EpisodeOutcome[], extras: Record<string, unknown>): ShardFile {
  const t = run.tally;
  const mine = shardEpisodes(run.identity.settings.episodes, shard);
  return {
    tool: 'protolab',
    kind: 'few-shot-eval-shard',
    version: 1,
    shard: { ...shard, rule: SHARD_RULE },
    evaluation: run.identity,
    encoder: run.encoder,
    extras,
    episodes: t.model.map(() => mine),
    runs: t.model.map((m, r) => ({ model: m.sums(), allBackground: t.allBackground[r].sums(), allForeground: t.allForeground[r].sums(), pseudo: t.pseudo[r].sums() })),
    skipped: t.skipped,
    scored: t.scored,
    complete: t.complete,
    records,
    timing: run.timing,
    createdAt: run.createdAt,
  };
}

/** The JSON `--json` writes for a result (the same bytes whether it came from one process or a merge). */
export function resultJson(result: EvalResult, extras: Record<string, unknown>): string {
  return JSON.stringify({ ...result, ...extras }, null, 2) + '\n';
}

export function readShardFile(file: string): ShardFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as Error).message})`);
  }
  let s: ShardFile;
  try {
    s = JSON.parse(text) as ShardFile;
  } catch (e) {
    throw new DataError(file, `not JSON (${(e as Error).message}); a shard result is written by protolab eval --shard i/n --json FILE`);
  }
  if (s?.kind !== 'few-shot-eval-shard') {
    const what = s && typeof s === 'object' && 'kind' in s ? `a '${String(s.kind)}' file` : 'not a ProtoLab file';
    throw new DataError(file, `${what}, not a shard result (protolab eval --shard i/n --json FILE writes those)`);
  }
  if (s.version !== 1) throw new DataError(file, `shard format version ${String(s.version)}; this ProtoLab reads version 1`);
  if (!Number.isInteger(s.shard?.index) || !Number.isInteger(s.shard?.count) || s.shard.index < 0 || s.shard.index >= s.shard.count) {
    throw new DataError(file, `no valid shard index i/n (${JSON.stringify(s.shard)})`);
  }
  if (!s.evaluation?.settings || !Array.isArray(s.runs) || !Array.isArray(s.episodes) || !Array.isArray(s.records) || !Array.isArray(s.skipped) || !s.timing?.featureCache) {
    throw new DataError(file, 'incomplete shard result (settings, runs, episodes, records, skipped or timing missing)');
  }
  return s;
}

/** The first place two JSON values differ, as a path (undefined: equal). */
function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return at || '(whole)';
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

function valueAt(x: unknown, p: string): string {
  const v = p.split(/\.|\[|\]/).filter(Boolean).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), x);
  return v === undefined ? 'absent' : JSON.stringify(v);
}

export interface Merged {
  run: EvalRun;
  extras: Record<string, unknown>;
  records: EpisodeOutcome[];
}

/**
 * Check that `shards` (file name → content) are all the shards of one evaluation, exactly once each,
 * complete, each covering the episodes its index stands for; then add them up.
 */
export function mergeShards(shards: Array<{ file: string; data: ShardFile }>): Merged {
  if (!shards.length) throw new UsageError('protolab merge: give the shard files (SHARD.json …)');
  const [first] = shards;
  const n = first.data.shard.count;
  const byIndex = new Map<number, string>();
  for (const { file, data } of shards) {
    if (data.shard.count !== n) throw new DataError(file, `is shard ${data.shard.index}/${data.shard.count}, but ${first.file} is one of ${n} shards`);
    const twin = byIndex.get(data.shard.index);
    if (twin) throw new DataError(file, `is shard ${data.shard.index}/${n} again (${twin} is too); give each shard once`);
    byIndex.set(data.shard.index, file);
    const d = firstDifference(first.data.evaluation, data.evaluation);
    if (d) {
      throw new DataError(file, `belongs to another evaluation than ${first.file}: ${d} is ${valueAt(data.evaluation, d)} here, ` +
        `${valueAt(first.data.evaluation, d)} there`);
    }
    if (!data.complete) {
      throw new DataError(file, `shard ${data.shard.index}/${n} was stopped before its end (${data.scored} episodes scored); run it again`);
    }
    const settings = data.evaluation.settings;
    const expected = shardEpisodes(settings.episodes, data.shard);
    if (data.runs.length !== settings.runs || data.episodes.length !== settings.runs) {
      throw new DataError(file, `holds ${data.runs.length} run(s), the evaluation has ${settings.runs}`);
    }
    data.episodes.forEach((got, r) => {
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new DataError(file, `run ${r} covers episodes other than shard ${data.shard.index}/${n}'s (${SHARD_RULE})`);
      }
    });
    const stray = data.records.find((rec) => rec.index % n !== data.shard.index || rec.run >= settings.runs);
    if (stray) throw new DataError(file, `holds the record of episode ${stray.id}, which is not shard ${data.shard.index}/${n}'s`);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new UsageError(`protolab merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing ` +
      `(given: ${[...byIndex].sort((a, b) => a[0] - b[0]).map(([i, f]) => `${i} = ${f}`).join(', ')})`);
  }

  const { settings, data } = first.data.evaluation;
  const classes = data.foldClasses.map((c) => c.cls);
  const numClasses = first.data.runs[0]?.model.counts.length - 1;
  const fresh = () => Array.from({ length: settings.runs }, () => new FewShotRunMetric(classes, numClasses, { keepRecords: false }));
  const tally: EvalTally = { model: fresh(), allBackground: fresh(), allForeground: fresh(), pseudo: fresh(), skipped: [], scored: 0, complete: true };
  const records: EpisodeOutcome[] = [];
  const timing: EvalResult['timing'] = {
    seconds: 0, episodesPerSecond: 0, backboneSeconds: 0,
    featureCache: { hits: 0, diskHits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0, damaged: 0 },
  };
  let createdAt = '';
  for (const { file, data: s } of shards) {
    s.runs.forEach((part, r) => {
      for (const k of ['model', 'allBackground', 'allForeground', 'pseudo'] as const) tally[k][r].addSums(part[k], `${file} (run ${r}, ${k})`);
    });
    tally.skipped.push(...s.skipped);
    tally.scored += s.scored;
    records.push(...s.records);
    // Machine time, summed over the shards (they ran side by side: wall clock was shorter).
    timing.seconds += s.timing.seconds;
    timing.backboneSeconds += s.timing.backboneSeconds;
    for (const k of Object.keys(timing.featureCache) as Array<keyof typeof timing.featureCache>) timing.featureCache[k] += s.timing.featureCache[k] ?? 0;
    if (s.createdAt > createdAt) createdAt = s.createdAt;
  }
  timing.episodesPerSecond = tally.scored / timing.seconds;
  // Episode order, as one process writes them (a stable sort keeps an episode's queries in their order).
  const order = (id: string) => EpisodeSampler.parseId(id.replace(/q\d+$/, ''));
  const byEpisode = <T>(key: (x: T) => { run: number; index: number }) => (a: T, b: T) => {
    const ka = key(a), kb = key(b);
    return ka.run - kb.run || ka.index - kb.index;
  };
  records.sort(byEpisode((x: EpisodeOutcome) => x));
  tally.skipped.sort(byEpisode((x: EvalResult['skipped'][number]) => order(x.episode)));
  const encoder = first.data.encoder ?? { engine: 'tfjs' as const, detail: 'not recorded in the shard', reason: [] };
  return { run: { identity: first.data.evaluation, encoder, tally, timing, createdAt }, extras: first.data.extras ?? {}, records };
}
