// Training curves with uPlot, coloured from the theme. One chart per quantity group: losses (total,
// segmentation, PAR) and validation mIoU, which is sparse (only on validation steps).
import uPlot from 'uplot';
import { themePalette } from './colors';
import type { MetricsRow } from './protocol';

const cssVar = (name: string, fallback: string): string => getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim() || fallback;

export interface CurveSpec { key: keyof MetricsRow; label: string; color: string }

export class Curve {
  readonly el = document.createElement('div');
  private plot: uPlot | null = null;
  private rows: MetricsRow[] = [];

  constructor(private readonly title: string, private readonly specs: CurveSpec[], private readonly yRange?: [number, number]) {
    this.el.className = 'chart';
    new ResizeObserver(() => {
      if (this.plot && this.el.clientWidth > 0) this.plot.setSize({ width: this.el.clientWidth, height: 220 });
    }).observe(this.el);
  }

  private make(): uPlot {
    const fg = cssVar('foreground', '#cccccc');
    const grid = cssVar('editorWidget-border', '#454545');
    const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return new uPlot({
      title: this.title,
      width: Math.max(200, this.el.clientWidth || 400),
      height: 220,
      scales: { x: { time: false }, y: this.yRange ? { range: this.yRange } : {} },
      axes: [{ ...axis, label: 'step' }, axis],
      series: [{ label: 'step' }, ...this.specs.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: false } }))],
      legend: { show: true },
    }, this.data(), this.el);
  }

  private data(): uPlot.AlignedData {
    const xs = this.rows.map((r) => r.step);
    return [xs, ...this.specs.map((s) => this.rows.map((r) => {
      const v = r[s.key];
      return typeof v === 'number' ? v : null;
    }))] as uPlot.AlignedData;
  }

  set(rows: MetricsRow[]): void {
    // one row per step (a resumed run may repeat steps): the latest wins
    const byStep = new Map<number, MetricsRow>();
    for (const r of rows) byStep.set(r.step, { ...byStep.get(r.step), ...r });
    this.rows = [...byStep.values()].sort((a, b) => a.step - b.step);
    if (!this.plot) this.plot = this.make();
    else this.plot.setData(this.data());
  }

  /** Points drawn so far (tests read it). */
  get length(): number {
    return this.rows.length;
  }
}

export function lossCurve(): Curve {
  const p = themePalette();
  return new Curve('Loss', [
    { key: 'loss', label: 'loss', color: p.css(1) },
    { key: 'seg', label: 'seg', color: p.css(3) },
    { key: 'par', label: 'PAR', color: p.css(2) },
  ]);
}

export function valCurve(): Curve {
  return new Curve('Validation mIoU', [{ key: 'valMiou', label: 'val mIoU', color: themePalette().css(4) }], [0, 1]);
}
