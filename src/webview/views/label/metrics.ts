// Stroke-end → new-mask-painted latency, measured in the webview with performance.now(). One sample
// per painted prediction: from the end of the edit whose generation the prediction answers to the
// moment the composed canvas holds the new mask (painting is synchronous on arrival, so the browser
// shows it at its next frame, ≤ 1 frame later). Beside it, the webview's own share of that time
// (posting the edit + decoding and painting the reply), which is what the webview can be held to
// whatever the host does. Kept in small ring buffers that tests and benches read (debug hook) and
// reported to the host in `labelMetrics` batches.

export class RingBuffer {
  private readonly buf: Float64Array;
  private next = 0;
  private count = 0;
  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  push(v: number): void {
    this.buf[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** oldest first */
  values(): number[] {
    const out: number[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.capacity]);
    return out;
  }

  get size(): number {
    return this.count;
  }
}

/** The q-quantile (0..1) of xs by nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export class LatencyMeter {
  /** stroke end → new mask painted: the whole loop, host included */
  readonly samples = new RingBuffer(256);
  /** the webview's own share of each loop: building and posting the message, then decoding and painting the reply */
  readonly own = new RingBuffer(256);
  /** edits whose prediction has not been painted yet: generation → when the edit ended, what posting it took */
  private readonly started = new Map<number, { t0: number; post: number }>();
  private unreported: number[] = [];
  private unreportedOwn: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** @param report posts a batch to the host (debounced: 1 s after the last sample, or every 32) */
  constructor(private readonly report: (ms: number[], own: number[]) => void, private readonly now: () => number = () => performance.now()) {}

  /** Forget pending edits (another image opened). */
  reset(): void {
    this.started.clear();
  }

  editEnded(generation: number, at = this.now()): void {
    this.started.set(generation, { t0: at, post: 0 });
  }

  /** The edit's message is posted: what that took counts as the webview's own time. */
  posted(generation: number): void {
    const s = this.started.get(generation);
    if (s) s.post = this.now() - s.t0;
  }

  /**
   * The prediction for `generation` is on the canvas (`received`: when its message reached the view):
   * one sample; edits up to it are settled. Returns the loop's ms.
   */
  painted(generation: number, received = this.now()): number | undefined {
    const s = this.started.get(generation);
    for (const g of [...this.started.keys()]) if (g <= generation) this.started.delete(g);
    if (s === undefined) return undefined;
    const end = this.now(), ms = end - s.t0, own = s.post + (end - received);
    this.samples.push(ms);
    this.own.push(own);
    this.unreported.push(ms);
    this.unreportedOwn.push(own);
    if (this.unreported.length >= 32) this.flush();
    else {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), 1000);
    }
    return ms;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.unreported.length) return;
    const batch = this.unreported, own = this.unreportedOwn;
    this.unreported = [];
    this.unreportedOwn = [];
    this.report(batch, own);
  }
}
