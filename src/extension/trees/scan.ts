// Finds checkpoints (*.safetensors) and training run folders in the workspace and in
// `protolab.checkpointPaths`. A run folder (engine/train/runDir.ts) holds config.json, metrics.jsonl,
// latest.json and checkpoints/step-*.safetensors. Reading is small and synchronous per file; the
// workspace search goes through vscode.workspace.findFiles (honours files.exclude).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from '../config';

export interface RunSummary {
  dir: string;
  name: string;
  method?: string;
  fold?: number;
  ways?: number;
  shots?: number;
  steps?: number;
  /** 'image-labels': weakly supervised (config.json's supervision); 'masks' or absent: dense masks */
  supervision?: 'masks' | 'image-labels';
  /** last step logged in metrics.jsonl */
  step?: number;
  lastLoss?: number;
  lastValMiou?: number;
  /** the run stopped because its loss diverged at `step` (a 'diverged' row ends metrics.jsonl) */
  diverged?: { step: number; reason: string; checkpointStep?: number };
  /** newest complete checkpoint (latest.json) */
  latest?: string;
  checkpoints: string[];
}

const EXCLUDE = '**/{node_modules,.git,dist,out}/**';
const isDir = (p: string) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };
const readJson = (f: string): Record<string, unknown> | undefined => {
  try {
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    return j && typeof j === 'object' ? j : undefined;
  } catch {
    return undefined;
  }
};

export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json')) && (fs.existsSync(path.join(dir, 'metrics.jsonl')) || fs.existsSync(path.join(dir, 'latest.json')) || isDir(path.join(dir, 'checkpoints')));
}

/** *.safetensors directly in dir or one level down (checkpointPaths entries are usually flat). */
function safetensorsIn(dir: string, depth = 2): string[] {
  if (depth < 0 || !isDir(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name.endsWith('.safetensors')) return [p];
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') return safetensorsIn(p, depth - 1);
    return [];
  });
}

/** Only the tail of metrics.jsonl matters for a status line: read the last 64 KiB. */
function lastRows(file: string): Array<Record<string, unknown>> {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const n = Math.min(size, 65536);
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, size - n);
      return buf.toString('utf8').split('\n').slice(size > n ? 1 : 0).flatMap((l) => {
        try { return l.trim() ? [JSON.parse(l)] : []; } catch { return []; }
      });
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

export function summarizeRun(dir: string): RunSummary {
  const cfg = readJson(path.join(dir, 'config.json')) ?? {};
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const rows = lastRows(path.join(dir, 'metrics.jsonl'));
  const train = rows.filter((r) => r.kind !== 'val');
  const val = rows.filter((r) => r.kind === 'val');
  const latest = readJson(path.join(dir, 'latest.json'));
  const end = rows.at(-1);
  const diverged = end?.kind === 'diverged' && num(end.step) !== undefined
    ? { step: end.step as number, reason: typeof end.reason === 'string' ? end.reason : 'diverged', checkpointStep: num(end.checkpointStep) }
    : undefined;
  const cfgObj = (cfg.config && typeof cfg.config === 'object' ? cfg.config : cfg) as Record<string, unknown>;
  return {
    dir,
    name: path.basename(dir),
    method: typeof cfgObj.method === 'string' ? cfgObj.method : undefined,
    fold: num(cfgObj.fold), ways: num(cfgObj.ways), shots: num(cfgObj.shots), steps: num(cfgObj.steps),
    supervision: cfgObj.supervision === 'image-labels' || cfgObj.supervision === 'masks' ? cfgObj.supervision : undefined,
    step: num(rows.at(-1)?.step),
    lastLoss: num(train.filter((r) => r.kind === 'train').at(-1)?.loss),
    lastValMiou: num(val.at(-1)?.miou),
    latest: typeof latest?.checkpoint === 'string' ? path.resolve(dir, latest.checkpoint) : undefined,
    checkpoints: safetensorsIn(path.join(dir, 'checkpoints'), 0).sort(),
    ...(diverged ? { diverged } : {}),
  };
}

export interface ScanResult {
  runs: RunSummary[];
  /** checkpoints outside run folders */
  files: string[];
}

export async function scanWorkspace(): Promise<ScanResult> {
  const s = readSettings();
  const runDirs = new Set<string>();
  const files = new Set<string>();
  if (vscode.workspace.workspaceFolders?.length) {
    const [markers, st] = await Promise.all([
      vscode.workspace.findFiles('**/{metrics.jsonl,latest.json}', EXCLUDE, 500),
      vscode.workspace.findFiles('**/*.safetensors', EXCLUDE, 1000),
    ]);
    for (const u of markers) if (isRunDir(path.dirname(u.fsPath))) runDirs.add(path.dirname(u.fsPath));
    for (const u of st) files.add(u.fsPath);
  }
  for (const p of s.checkpointPaths) {
    if (isRunDir(p)) runDirs.add(p);
    else if (isDir(p)) {
      for (const e of fs.readdirSync(p)) if (isRunDir(path.join(p, e))) runDirs.add(path.join(p, e));
      safetensorsIn(p).forEach((f) => files.add(f));
    } else if (p.endsWith('.safetensors') && fs.existsSync(p)) files.add(p);
  }
  const runs = [...runDirs].sort().map(summarizeRun);
  const inRuns = new Set(runs.flatMap((r) => r.checkpoints));
  return { runs, files: [...files].filter((f) => !inRuns.has(f) && !runs.some((r) => f.startsWith(r.dir + path.sep))).sort() };
}

/** Is this .safetensors a ProtoLab checkpoint (vs plain backbone weights)? Reads the header only. */
export function checkpointMeta(file: string): Record<string, unknown> | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(8);
      fs.readSync(fd, head, 0, 8, 0);
      const n = Number(head.readBigUInt64LE(0));
      if (n <= 0 || n > 100 * 1024 * 1024) return undefined;
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, 8);
      const meta = JSON.parse(buf.toString('utf8')).__metadata__;
      if (meta?.format !== 'protolab-checkpoint') return undefined;
      try { return JSON.parse(meta.config ?? '{}'); } catch { return {}; }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
