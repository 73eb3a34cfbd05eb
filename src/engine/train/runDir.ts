// A training run's folder:
//   RUNDIR/config.json                          the full TrainConfig + data fingerprint (written once)
//   RUNDIR/metrics.jsonl                        one JSON row per step / validation (log.ts)
//   RUNDIR/checkpoints/step-000100.safetensors  ProtoLab checkpoints (checkpoint.ts)
//   RUNDIR/latest.json                          { step, checkpoint }: the newest complete checkpoint
// latest.json is a small file replaced atomically after the checkpoint it names is in place, so a crash
// at any moment leaves it naming a whole checkpoint (no symlinks: they do not survive every filesystem).
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';
import { writeFileAtomic } from '../fsutil';

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LATEST_FILE = 'latest.json';
export const CHECKPOINT_DIR = 'checkpoints';
/** Held by the process training the run (lock.ts): one trainer per run folder. */
export const LOCK_FILE = '.lock';

export function checkpointPath(runDir: string, step: number): string {
  return path.join(runDir, CHECKPOINT_DIR, `step-${String(step).padStart(6, '0')}.safetensors`);
}

export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, CONFIG_FILE));
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new DataError(file, `not valid JSON (${(e as Error).message})`);
  }
}

export interface LatestPointer {
  step: number;
  /** Relative to the run dir. */
  checkpoint: string;
}

export function writeLatest(runDir: string, step: number, checkpointFile: string): void {
  writeJson(path.join(runDir, LATEST_FILE), { step, checkpoint: path.relative(runDir, checkpointFile) } satisfies LatestPointer);
}

/** The run's newest checkpoint (absolute path and step), or undefined when it has none yet. */
export function latestCheckpoint(runDir: string): { file: string; step: number } | undefined {
  const ptr = path.join(runDir, LATEST_FILE);
  if (fs.existsSync(ptr)) {
    const l = readJson<LatestPointer>(ptr);
    if (typeof l.checkpoint !== 'string' || !Number.isInteger(l.step)) throw new DataError(ptr, 'expected {"step": N, "checkpoint": "checkpoints/…"}');
    const file = path.resolve(runDir, l.checkpoint);
    if (!fs.existsSync(file)) throw new DataError(ptr, `names ${file}, which does not exist`);
    return { file, step: l.step };
  }
  // No pointer (e.g. copied without it): the highest-numbered checkpoint.
  return listCheckpoints(runDir).pop();
}

/** Every checkpoint file of a run, oldest step first. */
export function listCheckpoints(runDir: string): Array<{ file: string; step: number }> {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ file: path.join(dir, m[0]), step: Number(m[1]) }))
    .sort((a, b) => a.step - b.step);
}

/** A checkpoint argument: a .safetensors file, or a run dir (its latest checkpoint). */
export function resolveCheckpoint(p: string): string {
  const abs = path.resolve(p);
  if (!fs.existsSync(abs)) throw new DataError(abs, 'checkpoint path does not exist');
  if (!fs.statSync(abs).isDirectory()) return abs;
  const latest = latestCheckpoint(abs);
  if (!latest) throw new DataError(abs, `run dir has no checkpoint yet (no ${LATEST_FILE}, nothing in ${CHECKPOINT_DIR}/)`);
  return latest.file;
}

/** runs/<method>-<dataset>-fold<F>-<W>w<S>s-<UTC time>: sortable, and says what the run is. */
export function defaultRunDir(c: { method: string; dataset: string; fold: number; ways: number; shots: number }, parent = 'runs'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return path.join(parent, `${c.method}-${c.dataset}-fold${c.fold}-${c.ways}w${c.shots}s-${stamp}`);
}

/** Remove the temp files of atomic writes (".<name>.<pid>….tmp") in the run and its checkpoints folder,
 *  which only a writer killed mid-write leaves; call with the run's lock held. Returns what was removed. */
export function removeTempFiles(runDir: string): string[] {
  const out: string[] = [];
  for (const dir of [runDir, path.join(runDir, CHECKPOINT_DIR)]) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (/^\..+\.tmp$/.test(n)) {
        fs.rmSync(path.join(dir, n), { force: true });
        out.push(path.join(dir, n));
      }
    }
  }
  return out;
}
