// The grid pass: a progressive pass over every image that lacks a current prediction (encoding those
// never seen), one image at a time so strokes are served in between. It stops at the next image when
// stopReason() says so (cancelled, closed, a newer request, a changed model): newest wins. The label
// service (service.ts) owns what it reads and starts it (requestGrid).
import { DataError } from '../errors';
import type { GridSummary, LabelEvent, PredictResult } from './events';
import type { ImageRecord } from './state';

export interface GridPassParts {
  /** The model generation the pass was started for. */
  generation: number;
  /** Why the pass must stop now, or undefined to go on. */
  stopReason(): string | undefined;
  /** Ids to take first. */
  order?: string[];
  /** The image's record now (a rescan may replace them). */
  record(id: string): ImageRecord | undefined;
  ids(): string[];
  modelKey(): string;
  fitted(): Promise<unknown>;
  /** How many images to encode ahead (an encoder pool's width; 1 = none). */
  encodeAhead: number;
  /** Decode (prefetch) an image's RGB. */
  decode(id: string): Promise<unknown>;
  /** Decode and encode (prefetch) an image's features. */
  encode(id: string): Promise<unknown>;
  predict(id: string): Promise<PredictResult | undefined>;
  emit(e: LabelEvent): void;
  onProgress?: (done: number, total: number, id: string) => void;
  pause?: () => Promise<void>;
}

export async function gridPass(p: GridPassParts): Promise<GridSummary> {
  const summary: GridSummary = { generation: p.generation, completed: false, predicted: 0, skipped: 0, broken: 0 };
  const first = (p.order ?? []).filter((id) => p.record(id));
  const ids = [...new Set([...first, ...p.ids()])];
  const key = p.modelKey();
  const todo = ids.filter((id) => {
    const r = p.record(id)!;
    const need = r.status !== 'broken' && r.status !== 'accepted' && r.status !== 'drawn' && r.prediction?.model !== key;
    if (!need) summary.skipped++;
    return need;
  });
  if (!(await p.fitted())) {
    summary.stopped = 'no supports';
    return summary;
  }
  for (let i = 0; i < todo.length; i++) {
    const why = p.stopReason();
    if (why) {
      summary.stopped = why;
      return summary;
    }
    const id = todo[i];
    // decode (and, with an encoder pool, encode) the next ones meanwhile
    const ahead = p.encodeAhead;
    if (i + 1 < todo.length) void p.decode(todo[i + 1]).catch(() => undefined);
    for (let j = 1; j < ahead && i + j < todo.length; j++) void p.encode(todo[i + j]).catch(() => undefined);
    try {
      const res = await p.predict(id);
      if (res) summary.predicted++;
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      summary.broken++;
    }
    p.emit({ type: 'grid', generation: p.generation, done: i + 1, total: todo.length, id });
    p.onProgress?.(i + 1, todo.length, id);
    await new Promise((r) => setImmediate(r)); // let strokes in between images
    await p.pause?.();
  }
  summary.completed = !p.stopReason();
  if (!summary.completed) summary.stopped = p.stopReason();
  return summary;
}
