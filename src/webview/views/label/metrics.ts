// Stroke-end → new-mask-painted latency, measured in the webview with performance.now(). One sample
// per painted prediction: from the end of the edit whose generation the prediction answers to the
// moment the composed canvas holds the new mask (painting is synchronous on arrival, so the browser
// shows it at its next frame, ≤ 1 frame later). Kept in a small ring buffer that tests and benches
// read (debug hook) and reported to the host in `labelMetrics` batches.

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
  readonly samples = new RingBuffer(256);
  /** edits whose prediction has not been painted yet: generation → time the edit ended */
  private readonly started = new Map<number, number>();
  private unreported: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** @param report posts a batch to the host (debounced: 1 s after the last sample, or every 32) */
  constructor(private readonly report: (ms: number[]) => void, private readonly now: () => number = () => performance.now()) {}

  /** Forget pending edits (another image opened). */
  reset(): void {
    this.started.clear();
  }

  editEnded(generation: number, at = this.now()): void {
    this.started.set(generation, at);
  }

  /** The prediction for `generation` is on the canvas: one sample (edits up to it are settled). */
  painted(generation: number): number | undefined {
    const t0 = this.started.get(generation);
    for (const g of [...this.started.keys()]) if (g <= generation) this.started.delete(g);
    if (t0 === undefined) return undefined;
    const ms = this.now() - t0;
    this.samples.push(ms);
    this.unreported.push(ms);
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
    const batch = this.unreported;
    this.unreported = [];
    this.report(batch);
  }
}
