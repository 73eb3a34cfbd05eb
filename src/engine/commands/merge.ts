// protolab merge SHARD.json… — the shards of one evaluation (protolab eval --shard i/n) put back together:
// checked to be one evaluation, every shard once, then printed and written exactly as the unsharded
// `protolab eval` prints and writes it (the same table, the same JSON, the records in episode order).
import * as path from 'path';
import { parseArgs } from 'util';
import { UsageError } from '../errors';
import type { EpisodeOutcome, EvalResult, EvalRun } from '../eval/evaluate';
import { resultOf } from '../eval/evaluate';
import { evalHeader, evalTable } from './evalReport';
import { mergeShards, readShardFile, resultJson, shardEpisodes, shardFile, SHARD_RULE, type ShardSpec } from '../eval/shard';
import { writeFileAtomic } from '../fsutil';

export const mergeHelp = `protolab merge SHARD.json… [--json OUT] [--records OUT.jsonl]
  Combines the shard results of one evaluation (protolab eval … --shard i/n --json SHARD.json, i = 0…n−1)
  into the result the unsharded evaluation gives: the same table, and with --json the same JSON (timings
  are the shards' summed machine time). Refuses shards of different evaluations (any setting, the data
  fingerprint, the backbone or its weights, the backend), a shard given twice or missing, a shard that
  was stopped early. --records writes every episode record in episode order.`;

/**
 * `eval --shard`: write the shard's file and say what it holds (its numbers alone mean little). A shard
 * stopped early is NOT written: a scheduler (and the merge waiting on a shared folder) takes the file's
 * existence to mean the shard is done, and a part of a shard could never be merged anyway.
 */
export function writeShard(file: string, run: EvalRun, result: EvalResult, shard: ShardSpec, records: EpisodeOutcome[], extras: Record<string, unknown>): void {
  const s = run.identity.settings;
  console.log(evalHeader(result));
  console.log(`shard ${shard.index}/${shard.count}: ${shardEpisodes(s.episodes, shard).length} of ${s.episodes} episodes of each of ${s.runs} run(s) ` +
    `(${SHARD_RULE}); ${run.tally.scored} scored, ${run.tally.skipped.length} skipped, in ${run.timing.seconds.toFixed(1)} s`);
  if (!run.tally.complete) {
    console.log(`CANCELLED: the shard is incomplete and was not written to ${file}; run it again.`);
    return;
  }
  writeFileAtomic(file, JSON.stringify(shardFile(run, shard, records, extras)) + '\n');
  console.log(`shard result written to ${file}; merge all ${shard.count} with: protolab merge SHARD.json… --json RESULT.json`);
}

export async function mergeCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { json: { type: 'string' }, records: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`protolab merge: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}`);
  }
  const { values: v, positionals: files } = parsed;
  if (v.help) return console.log(mergeHelp), 0;
  if (!files.length) throw new UsageError('protolab merge: give the shard files (SHARD.json …)');
  const merged = mergeShards(files.map((f) => path.resolve(f)).map((file) => ({ file, data: readShardFile(file) })));
  const result = resultOf(merged.run);
  console.log(evalTable(result));
  if (typeof v.json === 'string') {
    writeFileAtomic(path.resolve(v.json), resultJson(result, merged.extras));
    console.log(`result written to ${path.resolve(v.json)}`);
  }
  if (typeof v.records === 'string') {
    writeFileAtomic(path.resolve(v.records), merged.records.map((r) => JSON.stringify(r) + '\n').join(''));
    console.log(`episode records written to ${path.resolve(v.records)}`);
  }
  return 0;
}
