// The metrics log, RUNDIR/metrics.jsonl: one JSON object per line, appended as training goes.
//   {"kind":"train","step":12,"loss":0.41,"parts":{"seg":0.3,"par":0.11},"lr":0.001,"ms":830,"episode":"r0e11"}
//   {"kind":"val","step":100,"miou":0.31,"fbiou":0.55,"episodes":50,"ms":9000}
//   {"kind":"diverged","step":4,"loss":28.0,"reason":"…","checkpoint":"checkpoints/step-000002.safetensors","checkpointStep":2}
//     (the last row of a run stopped by divergence.ts; `checkpoint` is the last good one, if any)
// `step` counts the updates done (1 = after the first). On resume the rows after the checkpoint's step
// are dropped (they will be produced again), so the file reads as one uninterrupted run.
import * as fs from 'fs';
import { appendLine, writeFileAtomic } from '../fsutil';

export interface TrainRow {
  kind: 'train';
  step: number;
  loss: number;
  parts: Record<string, number>;
  lr: number;
  ms: number;
  episode: string;
  /** Global L2 norm of the gradient over every trained parameter (absent in runs from before it was logged). */
  gradNorm?: number;
}

export interface ValRow {
  kind: 'val';
  step: number;
  miou: number;
  fbiou: number;
  episodes: number;
  ms: number;
}

/** A step whose episode could not be read (a bad image): no update, the run goes on (trainer.ts). */
export interface SkipRow {
  kind: 'skip';
  step: number;
  file: string;
  problem: string;
}

export interface DivergedRow {
  kind: 'diverged';
  /** The step whose loss diverged (its update was not applied). */
  step: number;
  /** null when the loss was not a finite number (JSON has no NaN); `reason` says what it was. */
  loss: number | null;
  reason: string;
  /** The last good checkpoint, relative to the run dir. */
  checkpoint?: string;
  checkpointStep?: number;
}

export type MetricsRow = TrainRow | ValRow | SkipRow | DivergedRow;

export class MetricsLog {
  constructor(readonly file: string) {}

  append(row: MetricsRow): void {
    appendLine(this.file, JSON.stringify(row) + '\n');
  }

  read(): MetricsRow[] {
    return readMetrics(this.file);
  }

  /** Keep only rows of steps ≤ step (atomically rewritten). */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const keep = this.read().filter((r) => r.step <= step);
    writeFileAtomic(this.file, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

/** Rows of a metrics file; a torn last line (a crash mid-append) is dropped. */
export function readMetrics(file: string): MetricsRow[] {
  if (!fs.existsSync(file)) return [];
  const rows: MetricsRow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as MetricsRow);
    } catch {
      /* torn line */
    }
  }
  return rows;
}
