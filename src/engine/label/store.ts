// Saving a labeling folder's state: state.json and the mask PNGs beside it (state.ts writes them
// atomically). Saves are coalesced: state.json is written `saveDelayMs` after the last change, but never
// later than MAX_SAVE_WAIT_MS (or that delay, if longer) after the first unsaved one, so a grid pass
// predicting an image every 100 ms cannot keep a stroke made meanwhile off the disk. A prediction's
// PNG is encoded and written with the next save, not when it is made (that would cost every stroke):
// until then its record's mask is PENDING and its labels wait here.
import { encodeIndexPng } from '../image/png';
import { collectMaskGarbage, saveState, storeMask, type LabelStateData } from './state';

/** prediction.mask of a prediction whose PNG is still waiting for the next save. */
export const PENDING = 'pending';
/** A state with unsaved changes is written at most this long after the first of them (coalescing aside). */
const MAX_SAVE_WAIT_MS = 1000;

export interface PendingMask {
  labels: Uint8Array;
  size: number;
}

export class LabelStore {
  private readonly pendingMasks = new Map<string, PendingMask>();
  private saveTimer?: NodeJS.Timeout;
  /** when the oldest change not yet on disk was made */
  private dirtySince?: number;

  constructor(
    readonly stateDir: string,
    readonly data: LabelStateData,
    private readonly saveDelayMs: number | undefined,
    private readonly closed: () => boolean,
    private readonly onSaved: () => void,
  ) {}

  /** Keep a prediction's labels (S×S) until the next save writes its PNG. */
  putPending(id: string, labels: Uint8Array, size: number): void {
    this.pendingMasks.set(id, { labels, size });
  }

  pending(id: string): PendingMask | undefined {
    return this.pendingMasks.get(id);
  }

  /** Write state.json now (saves are otherwise coalesced). */
  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.dirtySince = undefined;
    this.save();
  }

  /** Remove mask files no record points at (on close). */
  collectGarbage(): void {
    collectMaskGarbage(this.stateDir, this.data);
  }

  scheduleSave(): void {
    if (this.closed() && !this.saveTimer) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    // coalesced, but never postponed past MAX_SAVE_WAIT_MS after the first unsaved change: a grid pass
    // predicting an image every 100 ms must not keep a stroke made meanwhile off the disk
    const delay = this.saveDelayMs ?? 300;
    const now = Date.now();
    this.dirtySince ??= now;
    const wait = Math.max(0, Math.min(delay, this.dirtySince + Math.max(delay, MAX_SAVE_WAIT_MS) - now));
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.dirtySince = undefined;
      try {
        this.save();
      } catch (e) {
        process.stderr.write(`protolab: could not save the labeling state: ${(e as Error).message}\n`);
      }
    }, wait);
    this.saveTimer.unref?.();
  }

  /** Write the PNGs of predictions made since the last save and point their records at them. */
  private flushMasks(): void {
    for (const [id, m] of this.pendingMasks) {
      const r = this.data.images[id];
      if (r?.prediction?.mask === PENDING) r.prediction.mask = storeMask(this.stateDir, encodeIndexPng({ width: m.size, height: m.size, data: m.labels }));
    }
    this.pendingMasks.clear();
    // a record renamed by a rescan before its PNG was written: the prediction is simply made again later
    for (const r of Object.values(this.data.images)) if (r.prediction?.mask === PENDING) delete r.prediction;
  }

  private save(): void {
    this.flushMasks();
    saveState(this.stateDir, this.data);
    this.onSaved();
  }
}
