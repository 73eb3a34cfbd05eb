// When is a training run diverging? A loss that is not finite, or one that explodes: more than `factor`
// times its reference level. The reference is the larger of
//   - the median loss of the run's first steps (the level a fresh model starts from), and
//   - the median of the recent losses,
// so the guard never fires on a loss that is merely back at its starting level (single-episode losses are
// noisy: a hard episode late in a run can be several times the running median), and still catches a run
// whose loss leaves every level it has ever had (MetaSegNet before its fix: 5.2, 2.7, 1.2, 28, 8·10⁶).
// The guard is rebuilt from metrics.jsonl on resume, so a resumed run judges its losses exactly as an
// uninterrupted one would.

/** Losses of the first steps that set the starting level. */
const FIRST_STEPS = 3;
/** Recent losses kept for the running median. */
const WINDOW = 50;

export class DivergenceGuard {
  private readonly first: number[] = [];
  private readonly recent: number[] = [];

  /** factor ≤ 0 turns the explosion test off (a non-finite loss still stops the run). */
  constructor(readonly factor: number) {}

  /** Why `loss` means the run diverged, or undefined when it does not. Does not record the loss. */
  check(loss: number): string | undefined {
    if (!Number.isFinite(loss)) return `the loss is ${loss}`;
    if (!(this.factor > 0) || this.first.length === 0) return undefined;
    const start = median(this.first), running = median(this.recent);
    const ref = Math.max(start, running);
    if (loss > this.factor * ref) {
      return `the loss exploded: ${fmt(loss)} is more than ${this.factor}× its level (${fmt(ref)}: the larger of the median of the first ` +
        `${this.first.length} losses, ${fmt(start)}, and of the last ${this.recent.length}, ${fmt(running)})`;
    }
    return undefined;
  }

  /** Record a loss that passed check(). */
  accept(loss: number): void {
    if (this.first.length < FIRST_STEPS) this.first.push(loss);
    this.recent.push(loss);
    if (this.recent.length > WINDOW) this.recent.shift();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4);
}
