// The labeling view's grid pass: after every change of the supports (debounced), the engine predicts
// every image that lacks a current prediction (labelGrid), the open image first; one pass at a time,
// the newest wins (a new pass number makes an older pass's progress and end stale). Progress goes to
// the webview at most every PROGRESS_MS (a pass over 5,000 images reports every image), and always at
// the first image and at the end. Plain module (no vscode).
import type { ResultOf } from '../../shared/engineProtocol';
import type { LabelGridProgress } from '../../shared/webviewLabelProtocol';
import type { HostMessage } from '../../shared/webviewProtocol';
import { EngineError, type RequestHandle } from '../engineClient';
import type { EngineSession } from './engineSession';

/** Grid progress messages at most this often. */
const PROGRESS_MS = 100;

export interface GridOptions {
  folder: string;
  session: EngineSession;
  /** the image open in the view (the pass predicts it first) */
  openImage(): string | undefined;
  post(m: HostMessage): void;
  log(line: string): void;
  /** Start the pass this long after the last change (default 300 ms). */
  delayMs?: number;
}

export class GridScheduler {
  private grid?: { pass: number; handle: RequestHandle<ResultOf['labelGrid']> };
  private pass = 0;
  private progress?: LabelGridProgress;
  private lastProgress = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: GridOptions) {}

  /** The progress of the pass running now, if any (labelState carries it). */
  get running(): LabelGridProgress | undefined {
    return this.progress;
  }

  /** A new pass number: progress of anything else the view shows in the grid's bar (image tags) stales the pass running now. */
  nextPass(): number {
    return ++this.pass;
  }

  /** Start a pass after `delay` (a later call restarts the wait). */
  schedule(delay = this.o.delayMs ?? 300): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  /** The webview's Cancel of pass `pass` (a stale number cancels nothing). */
  async cancel(pass: number): Promise<void> {
    const g = this.grid;
    if (g && g.pass === pass) await g.handle.cancel();
  }

  /** The engine is gone and its pass with it. */
  forget(): void {
    this.grid = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.o.session.ensure();
    } catch {
      return; // said where the request failed
    }
    const pass = ++this.pass;
    const send = (p: LabelGridProgress & { cancelled?: boolean }, force = false) => {
      if (pass !== this.pass) return;
      const now = Date.now();
      if (!force && now - this.lastProgress < PROGRESS_MS) return;
      this.lastProgress = now;
      this.progress = p.done < p.total && !p.cancelled ? p : undefined;
      this.o.post({ type: 'labelGridProgress', ...p });
    };
    const open = this.o.openImage();
    const handle = this.o.session.current.request({ type: 'labelGrid', folder: this.o.folder, ...(open ? { order: [open] } : {}) }, (ev) => {
      if (ev.kind === 'progress') send({ pass, done: ev.done, total: ev.total, ...(ev.note ? { note: ev.note } : {}) }, ev.done === 1);
    });
    this.grid = { pass, handle };
    let r: ResultOf['labelGrid'] | undefined;
    try {
      r = await handle.result;
    } catch (e) {
      if (!(e instanceof EngineError && (e.kind === 'restarted' || e.kind === 'stopped' || e.kind === 'cancelled'))) this.o.log(`labeling: grid pass failed: ${(e as Error).message}`);
    }
    if (this.grid?.pass !== pass) return;
    this.grid = undefined;
    const n = r ? r.predicted + r.broken : 0;
    send({ pass, done: n, total: n, ...(r?.stopped === 'cancelled' ? { cancelled: true } : {}) }, true);
  }
}
