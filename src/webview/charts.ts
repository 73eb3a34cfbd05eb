// Training curves with uPlot, coloured from the theme. One chart per quantity group: losses (total and
// the parts a run logs: segmentation, PAR, the pixel-level meta-learner's meta loss) and validation mIoU, which is sparse (only on validation
// steps). A series is drawn only when the run logs it (MetaSegNet and the pixel-level meta-learner
// have no PAR term); the chart is rebuilt when the set of series or the theme changes.
import uPlot from 'uplot';
import { themePalette, type Palette } from './colors';
import type { MetricsRow } from '../shared/webviewProtocol';

const cssVar = (name: string, fallback: string): string => getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim() || fallback;

export interface CurveSpec {
  key: keyof MetricsRow;
  label: string;
  /** the series' colour in the current theme */
  color: (p: Palette) => string;
  /** drawn even before any row has it (the chart's main quantity); otherwise only when some row logs it */
  always?: boolean;
  /** a marker (a large point, no line), e.g. the step where a run diverged */
  marker?: boolean;
}

export class Curve {
  readonly el = document.createElement('div');
  private plot: uPlot | null = null;
  private rows: MetricsRow[] = [];
  /** the specs drawn now (those the rows have) */
  private shown: CurveSpec[] = [];

  constructor(private readonly title: string, private readonly specs: CurveSpec[], private readonly yRange?: [number, number]) {
    this.el.className = 'chart';
    new ResizeObserver(() => {
      if (this.plot && this.el.clientWidth > 0) this.plot.setSize({ width: this.el.clientWidth, height: 220 });
    }).observe(this.el);
  }

  private make(): uPlot {
    const fg = cssVar('foreground', '#cccccc');
    const grid = cssVar('editorWidget-border', '#454545');
    const pal = themePalette();
    const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return new uPlot({
      title: this.title,
      width: Math.max(200, this.el.clientWidth || 400),
      height: 220,
      scales: { x: { time: false }, y: this.yRange ? { range: this.yRange } : {} },
      axes: [{ ...axis, label: 'step' }, axis],
      series: [{ label: 'step' }, ...this.shown.map((s) => (s.marker
        ? { label: s.label, stroke: s.color(pal), width: 0, paths: () => null, points: { show: true, size: 12, fill: s.color(pal), stroke: s.color(pal) } }
        : { label: s.label, stroke: s.color(pal), width: 2, spanGaps: true, points: { show: false } }))],
      legend: { show: true },
    }, this.data(), this.el);
  }

  private data(): uPlot.AlignedData {
    const xs = this.rows.map((r) => r.step);
    return [xs, ...this.shown.map((s) => this.rows.map((r) => {
      const v = r[s.key];
      return typeof v === 'number' ? v : null;
    }))] as uPlot.AlignedData;
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plot = this.make();
  }

  set(rows: MetricsRow[]): void {
    // one row per step (a resumed run may repeat steps): the latest wins
    const byStep = new Map<number, MetricsRow>();
    for (const r of rows) byStep.set(r.step, { ...byStep.get(r.step), ...r });
    this.rows = [...byStep.values()].sort((a, b) => a.step - b.step);
    const shown = this.specs.filter((s) => s.always || this.rows.some((r) => typeof r[s.key] === 'number'));
    const changed = shown.length !== this.shown.length || shown.some((s, i) => s !== this.shown[i]);
    this.shown = shown;
    if (!this.plot || changed) this.rebuild();
    else this.plot.setData(this.data());
  }

  /** Redraw with the theme's colours (after a theme change). */
  retheme(): void {
    if (this.plot) this.rebuild();
  }

  /** Points drawn so far (tests read it). */
  get length(): number {
    return this.rows.length;
  }

  /** Labels of the series drawn now. */
  get series(): string[] {
    return this.shown.map((s) => s.label);
  }
}

export function lossCurve(): Curve {
  return new Curve('Loss', [
    { key: 'loss', label: 'loss', color: (p) => p.css(1), always: true },
    { key: 'seg', label: 'seg', color: (p) => p.css(3) },
    { key: 'par', label: 'PAR', color: (p) => p.css(2) },
    // the pixel-level meta-learner's prototypical loss (its only part)
    { key: 'meta', label: 'meta', color: (p) => p.css(5) },
    // where the engine stopped a diverging run (its loss, or the last finite one)
    { key: 'divergedLoss', label: 'diverged', color: () => cssVar('errorForeground', '#f14c4c'), marker: true },
  ]);
}

export function valCurve(): Curve {
  return new Curve('Validation mIoU', [{ key: 'valMiou', label: 'val mIoU', color: (p) => p.css(4), always: true }], [0, 1]);
}
