// Which episodes shard i of n scores (the rule and why: shard.ts). Its own file so that evaluate.ts and
// shard.ts both use it without importing each other.
import { UsageError } from '../errors';

export interface ShardSpec {
  /** 0-based, as SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX count. */
  index: number;
  count: number;
}

export const SHARD_RULE = 'episode e of every run is scored by shard e mod n';

/** "i/n" → { index: i, count: n }, with 0 ≤ i < n. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard must be i/n, e.g. 0/4 for the first of four shards (got '${text}')`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || count > 100000) throw new UsageError(`--shard ${text}: the shard count must be 1…100000`);
  if (index >= count) throw new UsageError(`--shard ${text}: shards are numbered 0…${count - 1}`);
  return { index, count };
}

/** The episode indices (of every run) that `shard` scores; all of 0…episodes−1 without one. */
export function shardEpisodes(episodes: number, shard?: ShardSpec): number[] {
  const all = Array.from({ length: episodes }, (_, e) => e);
  return shard ? all.filter((e) => e % shard.count === shard.index) : all;
}
